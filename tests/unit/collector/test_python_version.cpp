// Finding a Python interpreter's version without running it.
#include "roar/collector/environment/elf_file.hpp"
#include "roar/collector/environment/python_version.hpp"

#include "environment_fixtures.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace roar::collector;
using roar::test::put;
using roar::test::TempDir;

namespace {

// This test program's read-only data holds this string, as a Python build
// holds its PY_VERSION at the end of its prefix: the test interpreter is
// this very executable under the name python3.97.
const char* volatile g_fake_prefix = "/opt/fakepython/3.97.5";

std::filesystem::path self_executable() { return std::filesystem::read_symlink("/proc/self/exe"); }

} // namespace

TEST_CASE("version strings are found whole, ending at a NUL, not inside longer numbers",
          "[collector][environment][pyversion]")
{
    using namespace std::string_literals;
    CHECK(version_strings_in("\0003.11.2\0"s) == std::vector<std::string>{"3.11.2"});
    CHECK(version_strings_in("/root/.pyenv/versions/3.11.7\0"s) == std::vector<std::string>{"3.11.7"});
    CHECK(version_strings_in("x3.13.0rc2\0y3.12.0a1\0 2.7.18+\0"s)
          == std::vector<std::string>{"3.13.0rc2", "3.12.0a1", "2.7.18+"});
    CHECK(version_strings_in("13.11.2\0"s) == std::vector<std::string>{"13.11.2"});
    CHECK(version_strings_in("1.3.11.2\0"s).empty()); // part of a longer dotted number
    CHECK(version_strings_in("3.11.2 (main)\0"s).empty());
    CHECK(version_strings_in("3.11\0"s).empty());
    CHECK(version_strings_in("3.11.2"s).empty()); // no NUL: not a whole string
    CHECK(version_strings_in("\0003.11.2\0\0003.11.2\0"s) == std::vector<std::string>{"3.11.2"});
}

TEST_CASE("major.minor comes from interpreter and library names", "[collector][environment][pyversion]")
{
    CHECK(major_minor_in_name("python3.11") == "3.11");
    CHECK(major_minor_in_name("libpython3.12.so.1.0") == "3.12");
    CHECK(major_minor_in_name("/usr/lib/python3.11/os.py") == "3.11");
    CHECK(major_minor_in_name("python3").empty());
    CHECK(major_minor_in_name("python").empty());
}

TEST_CASE("the version is read from the interpreter binary's read-only data", "[collector][environment][pyversion]")
{
    REQUIRE(std::string(g_fake_prefix).size() > 0);
    TempDir dir;
    std::filesystem::create_directories(dir / "bin");
    std::filesystem::create_symlink(self_executable(), dir / "bin/python3.97");
    FactsCache cache(dir / "facts.json");
    const PythonVersion v = find_python_version((dir / "bin/python3.97").string(), "", "", cache);
    CHECK(v.version == "3.97.5");
    CHECK(v.source == "binary");
}

TEST_CASE("a binary's answer is cached by its identity", "[collector][environment][pyversion]")
{
    TempDir dir;
    std::filesystem::create_directories(dir / "bin");
    std::filesystem::create_symlink(self_executable(), dir / "bin/python3.97");
    const std::string exe = (dir / "bin/python3.97").string();
    {
        FactsCache cache(dir / "facts.json");
        CHECK(find_python_version(exe, "", "", cache).version == "3.97.5");
        REQUIRE(cache.save());
    }
    // Prove the second answer comes from the file: doctor the stored fact
    // (with a value no scan could find, so it cannot come from the binary).
    FactsCache reread(dir / "facts.json");
    const auto id = identify_file(exe);
    REQUIRE(id);
    const std::string key = "python-version " + exe + " " + identity_key(*id);
    REQUIRE(reread.find(key));
    reread.put(key, {{"version", "doctored"}, {"source", "binary"}});
    CHECK(find_python_version(exe, "", "", reread).version == "doctored");
}

TEST_CASE("without a version in the binary: patchlevel.h, then pyvenv.cfg, then the name",
          "[collector][environment][pyversion]")
{
    TempDir dir;
    FactsCache cache(dir / "facts.json");
    put(dir / "py/bin/python3.96", "#!/bin/sh\n"); // not ELF
    put(dir / "py/include/python3.96/patchlevel.h", "#define PY_MINOR_VERSION 96\n#define PY_VERSION \"3.96.1\"\n");
    const PythonVersion from_header = find_python_version((dir / "py/bin/python3.96").string(), "", "", cache);
    CHECK(from_header.version == "3.96.1");
    CHECK(from_header.source == "patchlevel.h");

    put(dir / "bare/bin/python3.95", "#!/bin/sh\n");
    put(dir / "venv/pyvenv.cfg",
        "home = /x/bin\ninclude-system-site-packages = false\nversion_info = 3.95.2.final.0\n");
    const PythonVersion from_cfg =
        find_python_version((dir / "bare/bin/python3.95").string(), "", (dir / "venv/pyvenv.cfg").string(), cache);
    CHECK(from_cfg.version == "3.95.2");
    CHECK(from_cfg.source == "pyvenv.cfg");

    put(dir / "venv2/pyvenv.cfg", "home = /x/bin\nversion = 3.95.4\n");
    CHECK(find_python_version((dir / "bare/bin/python3.95").string(), "", (dir / "venv2/pyvenv.cfg").string(), cache)
              .version
          == "3.95.4");

    const PythonVersion from_name = find_python_version((dir / "bare/bin/python3.95").string(), "", "", cache);
    CHECK(from_name.version == "3.95");
    CHECK(from_name.source == "name");

    put(dir / "bare/bin/python", "#!/bin/sh\n");
    CHECK(find_python_version((dir / "bare/bin/python").string(), "3.94", "", cache).version == "3.94");
    CHECK(find_python_version((dir / "bare/bin/python").string(), "", "", cache).version.empty());
}

TEST_CASE("ELF facts: needed libraries of a real executable; a text file is not ELF",
          "[collector][environment][pyversion]")
{
    auto facts = read_elf_facts(self_executable().string());
    REQUIRE(facts);
    CHECK(facts->has_rodata);
    CHECK(std::find(facts->needed.begin(), facts->needed.end(), "libc.so.6") != facts->needed.end());

    TempDir dir;
    put(dir / "script", "#!/bin/sh\necho hi\n");
    CHECK_FALSE(read_elf_facts((dir / "script").string()));
    CHECK_FALSE(read_elf_facts((dir / "absent").string()));
}
