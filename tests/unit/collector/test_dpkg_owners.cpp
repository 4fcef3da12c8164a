// DpkgOwners: Debian packages owning files, from a fake dpkg database.
#include "roar/collector/environment/dpkg_owners.hpp"

#include "environment_fixtures.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <thread>

using roar::collector::DpkgOwners;
using roar::collector::merged_usr_spelling;
using roar::collector::source_of_bytecode;
using roar::test::put;
using roar::test::TempDir;

namespace {

// A database with an installed multi-arch library, an installed Python,
// a removed package whose configuration files remain, and the list of a
// package that is not in status at all.
void fake_dpkg(const TempDir& dir, const std::string& python_version = "3.11.2-6+deb12u1")
{
    const auto root = dir.path().string();
    put(dir / "dpkg/status", "Package: libfake1\n"
                             "Status: install ok installed\n"
                             "Architecture: amd64\n"
                             "Multi-Arch: same\n"
                             "Version: 1.2-3\n"
                             "Description: a library\n"
                             " with a long description\n"
                             "\n"
                             "Package: python3.11-minimal\n"
                             "Status: install ok installed\n"
                             "Architecture: amd64\n"
                             "Version: "
                                 + python_version
                                 + "\n"
                                   "\n"
                                   "Package: oldtool\n"
                                   "Status: deinstall ok config-files\n"
                                   "Architecture: all\n"
                                   "Version: 0.9\n");
    put(dir / "dpkg/info/libfake1:amd64.list",
        "/.\n/lib\n/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu/libfake.so.1\n" + root + "/real/lib/libfake.so.1\n");
    put(dir / "dpkg/info/python3.11-minimal.list",
        "/.\n/usr/lib/python3.11\n/usr/lib/python3.11/os.py\n/usr/bin/python3.11\n/usr/share/doc\n");
    put(dir / "dpkg/info/oldtool.list", "/usr/bin/oldtool\n");
    put(dir / "dpkg/info/ghost.list", "/usr/bin/ghost\n");
    put(dir / "dpkg/info/libfake1:amd64.md5sums",
        "d41d8cd98f00b204e9800998ecf8427e  lib/x86_64-linux-gnu/libfake.so.1\n");
}

DpkgOwners::Options options_for(const TempDir& dir, bool merged = false)
{
    return {dir / "dpkg", dir / "cache", merged};
}

std::string owner_name(DpkgOwners& owners, const std::string& path)
{
    auto owner = owners.owner_of(path);
    return owner ? std::string(owners.package(*owner).name) : std::string("(none)");
}

} // namespace

TEST_CASE("files map to the installed package whose list names them, with its version",
          "[collector][environment][dpkg]")
{
    TempDir dir;
    fake_dpkg(dir);
    auto owners = DpkgOwners::open(options_for(dir));
    REQUIRE(owners);
    CHECK(owners->built());
    auto owner = owners->owner_of("/usr/lib/python3.11/os.py");
    REQUIRE(owner);
    const auto package = owners->package(*owner);
    CHECK(package.name == "python3.11-minimal");
    CHECK(package.version == "3.11.2-6+deb12u1");
    CHECK(package.architecture == "amd64");
    CHECK(owner_name(*owners, "/lib/x86_64-linux-gnu/libfake.so.1") == "libfake1"); // a name:arch list
    CHECK(owner_name(*owners, "/usr/lib/python3.11/json.py") == "(none)");
}

TEST_CASE("removed packages, unknown lists and directories own nothing", "[collector][environment][dpkg]")
{
    TempDir dir;
    fake_dpkg(dir);
    auto owners = DpkgOwners::open(options_for(dir));
    REQUIRE(owners);
    CHECK(owner_name(*owners, "/usr/bin/oldtool") == "(none)"); // config-files only
    CHECK(owner_name(*owners, "/usr/bin/ghost") == "(none)");   // not in status
    CHECK(owner_name(*owners, "/.") == "(none)");
}

TEST_CASE("the installed packages are listed with their versions, removed ones left out",
          "[collector][environment][dpkg]")
{
    TempDir dir;
    fake_dpkg(dir);
    for (int pass = 0; pass < 2; ++pass) { // built, then from the cache
        auto owners = DpkgOwners::open(options_for(dir));
        REQUIRE(owners);
        CHECK(owners->built() == (pass == 0));
        std::vector<std::string> listed;
        for (const auto& p : owners->packages()) {
            listed.push_back(fmt::format("{}:{} {}", p.name, p.architecture, p.version));
        }
        CHECK(listed == std::vector<std::string>{"libfake1:amd64 1.2-3", "python3.11-minimal:amd64 3.11.2-6+deb12u1"});
    }
}

TEST_CASE("a compiled module counts as its source file", "[collector][environment][dpkg]")
{
    CHECK(source_of_bytecode("/usr/lib/python3.11/__pycache__/os.cpython-311.pyc") == "/usr/lib/python3.11/os.py");
    CHECK(source_of_bytecode("/x/__pycache__/m.cpython-312.opt-1.pyc") == "/x/m.py");
    CHECK(source_of_bytecode("/x/legacy.pyc") == "/x/legacy.pyc");
    CHECK(source_of_bytecode("/x/data.csv") == "/x/data.csv");

    TempDir dir;
    fake_dpkg(dir);
    auto owners = DpkgOwners::open(options_for(dir));
    REQUIRE(owners);
    CHECK(owner_name(*owners, "/usr/lib/python3.11/__pycache__/os.cpython-311.pyc") == "python3.11-minimal");
}

TEST_CASE("on a merged-/usr system /lib and /usr/lib spellings meet", "[collector][environment][dpkg]")
{
    CHECK(merged_usr_spelling("/lib/x86_64-linux-gnu/libc.so.6") == "/usr/lib/x86_64-linux-gnu/libc.so.6");
    CHECK(merged_usr_spelling("/bin/sh") == "/usr/bin/sh");
    CHECK(merged_usr_spelling("/libexec/x") == "/libexec/x");
    CHECK(merged_usr_spelling("/usr/lib/x") == "/usr/lib/x");

    TempDir merged_dir;
    fake_dpkg(merged_dir);
    auto merged = DpkgOwners::open(options_for(merged_dir, true));
    REQUIRE(merged);
    CHECK(owner_name(*merged, "/usr/lib/x86_64-linux-gnu/libfake.so.1") == "libfake1");
    CHECK(owner_name(*merged, "/lib/x86_64-linux-gnu/libfake.so.1") == "libfake1");

    TempDir split_dir;
    fake_dpkg(split_dir);
    auto split = DpkgOwners::open(options_for(split_dir, false));
    REQUIRE(split);
    CHECK(owner_name(*split, "/usr/lib/x86_64-linux-gnu/libfake.so.1") == "(none)");
}

TEST_CASE("a file reached through a linked directory is found under its real name", "[collector][environment][dpkg]")
{
    TempDir dir;
    fake_dpkg(dir);
    put(dir / "real/lib/libfake.so.1", "ELF");
    std::filesystem::create_directory_symlink(dir / "real", dir / "alias");
    auto owners = DpkgOwners::open(options_for(dir));
    REQUIRE(owners);
    CHECK(owner_name(*owners, (dir / "alias/lib/libfake.so.1").string()) == "libfake1");
    CHECK(owner_name(*owners, (dir / "alias/lib/other.so").string()) == "(none)");
}

TEST_CASE("the database is read once, then taken from the cache until dpkg changes", "[collector][environment][dpkg]")
{
    TempDir dir;
    fake_dpkg(dir);
    REQUIRE(DpkgOwners::open(options_for(dir))->built());
    auto warm = DpkgOwners::open(options_for(dir));
    REQUIRE(warm);
    CHECK_FALSE(warm->built());
    CHECK(owner_name(*warm, "/usr/bin/python3.11") == "python3.11-minimal");

    // dpkg writes a new status file on every change.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    fake_dpkg(dir, "3.11.2-6+deb12u2");
    auto rebuilt = DpkgOwners::open(options_for(dir));
    REQUIRE(rebuilt);
    CHECK(rebuilt->built());
    CHECK(rebuilt->package(*rebuilt->owner_of("/usr/bin/python3.11")).version == "3.11.2-6+deb12u2");
}

TEST_CASE("no dpkg database is an error the caller can report", "[collector][environment][dpkg]")
{
    TempDir dir;
    auto owners = DpkgOwners::open(options_for(dir));
    REQUIRE_FALSE(owners);
    CHECK_THAT(owners.error().message, Catch::Contains("no dpkg database"));
}

TEST_CASE("an unwritable cache directory still answers, from an index built in memory",
          "[collector][environment][dpkg]")
{
    TempDir dir;
    fake_dpkg(dir);
    put(dir / "cache", "a file where the directory should be");
    auto owners = DpkgOwners::open(options_for(dir));
    REQUIRE(owners);
    CHECK(owner_name(*owners, "/usr/bin/python3.11") == "python3.11-minimal");
}
