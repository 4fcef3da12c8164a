// capture_job_environment end to end on fixture trees: a fake machine, a
// fake dpkg database, a base "Python" (this test program under the name
// python3.97, whose read-only data holds "3.97.5") with a venv and a conda
// environment, and footprints as the job session would hand them over.
#include "roar/collector/environment/job_environment.hpp"
#include "roar/collector/environment/linked_libraries.hpp"

#include "environment_fixtures.hpp"

#include <catch2/catch.hpp>

using namespace roar::collector;
using roar::test::put;
using roar::test::put_dist_info;
using roar::test::TempDir;

namespace {

const char* volatile g_fake_prefix = "/opt/fakepython/3.97.5";

struct Fixture {
    TempDir dir;
    std::string base, venv, site, python;
    EnvironmentOptions options;

    Fixture()
    {
        base = (dir / "base").string();
        venv = (dir / "venv").string();
        site = venv + "/lib/python3.97/site-packages";
        python = base + "/bin/python3.97";
        std::filesystem::create_directories(base + "/bin");
        std::filesystem::create_symlink(std::filesystem::read_symlink("/proc/self/exe"), python);
        put(venv + "/pyvenv.cfg", "home = " + base + "/bin\ninclude-system-site-packages = false\n");
        std::filesystem::create_directories(venv + "/bin");
        std::filesystem::create_symlink(python, venv + "/bin/python");
        put_dist_info(site, "numpy", "1.26.4", {"numpy/__init__.py", "numpy/core/multiarray.py"});
        put_dist_info(site, "six", "1.16.0", {"six.py"});
        put_dist_info(site, "requests", "2.31.0", {"requests/__init__.py"}); // installed, never imported
        put(base + "/lib/python3.97/os.py");

        put(dir / "dpkg/status", "Package: python3.11-minimal\nStatus: install ok installed\nArchitecture: amd64\n"
                                 "Version: 3.11.2-6\n\nPackage: libfake1\nStatus: install ok installed\n"
                                 "Architecture: amd64\nVersion: 1.2-3\n");
        put(dir / "dpkg/info/python3.11-minimal.list", "/usr/lib/python3.11/os.py\n/usr/bin/python3.11\n");
        put(dir / "dpkg/info/libfake1:amd64.list", "/lib/x86_64-linux-gnu/libfake.so.1\n");

        put(dir / "os-release", "PRETTY_NAME=\"Test OS 1\"\nID=test\nVERSION_ID=1\n");
        put(dir / "proc/cpuinfo", "model name\t: Test CPU\n");
        put(dir / "proc/meminfo", "MemTotal: 1024 kB\n");
        put(dir / "sys/devices/system/cpu/online", "0-1\n");
        options.machine.os_release = dir / "os-release";
        options.machine.proc = dir / "proc";
        options.machine.sys = dir / "sys";
        options.machine.nvidia_smi = dir / "no-nvidia-smi";
        options.dpkg_dir = dir / "dpkg";
        options.merged_usr = true;
        options.cache_dir = dir / "cache";
        options.linked_libraries = false;
    }

    // The venv's python: started as "python" from PATH, it read its
    // pyvenv.cfg, two numpy modules, six (compiled), the standard library,
    // a Debian-owned file, the project's data and one unexplained file, and
    // site bookkeeping that is no import: a .pth at start-up, metadata.
    size_t add_venv_python(JobFootprint& fp, uint32_t pid)
    {
        const size_t p = fp.add_process(pid, python, {"python", "train.py"}, (dir / "project").string());
        fp.add_read(p, venv + "/pyvenv.cfg", false);
        fp.add_read(p, site + "/numpy/__init__.py", true);
        fp.add_read(p, site + "/numpy/core/__pycache__/multiarray.cpython-397.pyc", true);
        fp.add_read(p, site + "/__pycache__/six.cpython-397.pyc", true);
        fp.add_read(p, site + "/numpy/__init__.py", true); // again
        fp.add_read(p, base + "/lib/python3.97/os.py", true);
        fp.add_read(p, "/usr/lib/python3.11/os.py", true);
        fp.add_read(p, (dir / "project/data.csv").string(), false);
        fp.add_read(p, "/opt/unknown/libthing.so", true);
        fp.add_read(p, site + "/distutils-precedence.pth", true);
        fp.add_read(p, site + "/requests-2.31.0.dist-info/METADATA", true);
        return p;
    }
};

std::vector<std::string> names_versions(const nlohmann::json& packages)
{
    std::vector<std::string> out;
    for (const auto& p : packages) {
        out.push_back(p.at("name").get<std::string>() + " " + p.at("version").get<std::string>());
    }
    return out;
}

} // namespace

TEST_CASE("the record has the interface's machine, python and system_packages shape",
          "[collector][environment][capture]")
{
    REQUIRE(std::string(g_fake_prefix).size() > 0);
    Fixture f;
    JobFootprint fp;
    f.add_venv_python(fp, 10);
    const size_t tool = fp.add_process(11, "/usr/bin/python3.11-not-python-tool", {"tool"}, "/");
    fp.add_read(tool, "/usr/lib/x86_64-linux-gnu/libfake.so.1", true);

    const nlohmann::json j = to_json(capture_job_environment(fp, f.options));
    const auto& machine = j.at("machine");
    CHECK(machine.at("os") == "Test OS 1");
    CHECK(machine.at("os_id") == "test");
    CHECK(machine.at("cpu") == "Test CPU");
    CHECK(machine.at("cpu_count") == 2);
    CHECK(machine.at("memory_bytes") == 1024 * 1024);
    CHECK(machine.at("kernel").get<std::string>().size() > 0);
    CHECK(machine.at("gpus") == nlohmann::json::array());

    REQUIRE(j.at("python").size() == 1);
    const auto& py = j.at("python")[0];
    CHECK(py.at("executable") == f.venv + "/bin/python");
    CHECK(py.at("real_executable") == f.python);
    CHECK(py.at("version") == "3.97.5");
    CHECK(py.at("version_source") == "binary");
    CHECK(py.at("kind") == "venv");
    CHECK(py.at("prefix") == f.venv);
    CHECK(py.at("base_prefix") == f.base);
    CHECK(py.at("site_dirs") == nlohmann::json::array({f.site}));
    CHECK(py.at("pids") == nlohmann::json::array({10}));
    CHECK(names_versions(py.at("packages")) == std::vector<std::string>{"numpy 1.26.4", "six 1.16.0"});
    CHECK(py.at("packages")[0].at("installer") == "pip");
    CHECK(py.at("module_files") == 3);
    CHECK(py.at("unattributed_files") == 0);
    CHECK_FALSE(py.contains("installed_packages"));

    CHECK(j.at("system_packages")
          == nlohmann::json::parse(R"([{"name": "libfake1", "version": "1.2-3", "architecture": "amd64", "files": 1},
            {"name": "python3.11-minimal", "version": "3.11.2-6", "architecture": "amd64", "files": 1}])"));
    CHECK(j.at("system_files") == nlohmann::json::parse(R"({"total": 9, "debian_packages": 2, "python_distributions": 5,
            "python_stdlib": 1, "other": 1, "other_examples": ["/opt/unknown/libthing.so"]})"));
    CHECK(j.at("notes") == nlohmann::json::array());
}

TEST_CASE("record_all_packages also lists every distribution the interpreter can import",
          "[collector][environment][capture]")
{
    Fixture f;
    f.options.record_all_packages = true;
    JobFootprint fp;
    f.add_venv_python(fp, 10);
    const nlohmann::json py = to_json(capture_job_environment(fp, f.options)).at("python")[0];
    CHECK(names_versions(py.at("packages")) == std::vector<std::string>{"numpy 1.26.4", "six 1.16.0"});
    CHECK(names_versions(py.at("installed_packages"))
          == std::vector<std::string>{"numpy 1.26.4", "requests 2.31.0", "six 1.16.0"});
}

TEST_CASE("processes of one interpreter merge; the base interpreter and a conda one are their own entries",
          "[collector][environment][capture]")
{
    Fixture f;
    const std::string conda = (f.dir / "conda").string();
    std::filesystem::create_directories(conda + "/conda-meta");
    std::filesystem::create_directories(conda + "/bin");
    std::filesystem::create_symlink(std::filesystem::read_symlink("/proc/self/exe"), conda + "/bin/python3.97");
    put_dist_info(conda + "/lib/python3.97/site-packages", "pandas", "2.2.1", {"pandas/__init__.py"});

    JobFootprint fp;
    f.add_venv_python(fp, 10);
    // The same venv python again, started by its path this time.
    const size_t again = fp.add_process(12, f.python, {f.venv + "/bin/python", "-c", "import six"}, "/");
    fp.add_read(again, f.site + "/six.py", true);
    const size_t base = fp.add_process(13, f.python, {f.python, "-V"}, "/");
    fp.add_read(base, f.base + "/lib/python3.97/os.py", true);
    const size_t in_conda = fp.add_process(14, conda + "/bin/python3.97", {"python3.97"}, "/");
    fp.add_read(in_conda, conda + "/lib/python3.97/site-packages/pandas/__init__.py", true);
    fp.add_process(15, "/usr/bin/env", {"env"}, "/");

    const nlohmann::json python = to_json(capture_job_environment(fp, f.options)).at("python");
    REQUIRE(python.size() == 3);
    CHECK(python[0].at("kind") == "venv");
    CHECK(python[0].at("pids") == nlohmann::json::array({10, 12}));
    CHECK(python[1].at("kind") == "system");
    CHECK(python[1].at("executable") == f.python);
    CHECK(python[1].at("prefix") == f.base);
    CHECK(python[1].at("packages") == nlohmann::json::array());
    CHECK(python[2].at("kind") == "conda");
    CHECK(python[2].at("prefix") == conda);
    CHECK(names_versions(python[2].at("packages")) == std::vector<std::string>{"pandas 2.2.1"});
    for (const auto& p : python) {
        CHECK(p.at("version") == "3.97.5");
    }
}

TEST_CASE("a venv is found from argv[0] when its pyvenv.cfg read was not seen", "[collector][environment][capture]")
{
    Fixture f;
    JobFootprint fp;
    const size_t p = fp.add_process(20, f.python, {"../venv/bin/python", "x.py"}, (f.dir / "project").string());
    fp.add_read(p, "/usr/lib/python3.11/os.py", true);
    const nlohmann::json py = to_json(capture_job_environment(fp, f.options)).at("python")[0];
    CHECK(py.at("kind") == "venv");
    CHECK(py.at("executable") == f.venv + "/bin/python");
}

TEST_CASE("without a dpkg database the rest is still recorded, with a note", "[collector][environment][capture]")
{
    Fixture f;
    f.options.dpkg_dir = f.dir / "no-dpkg";
    JobFootprint fp;
    f.add_venv_python(fp, 10);
    const nlohmann::json j = to_json(capture_job_environment(fp, f.options));
    CHECK(j.at("system_packages") == nlohmann::json::array());
    CHECK(j.at("python").size() == 1);
    REQUIRE(j.at("notes").size() == 1);
    CHECK_THAT(j.at("notes")[0].get<std::string>(), Catch::Contains("no dpkg database"));
}

TEST_CASE("executables and the libraries they load count toward their packages", "[collector][environment][capture]")
{
    Fixture f;
    f.options.linked_libraries = true;
    f.options.merged_usr = false;
    FactsCache scratch(f.dir / "scratch.json");
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::string libc;
    for (const auto& lib : LinkedLibraries("/etc/ld.so.cache", scratch).of(self)) {
        if (lib.size() > 10 && lib.substr(lib.size() - 10) == "/libc.so.6") {
            libc = lib;
        }
    }
    REQUIRE_FALSE(libc.empty());
    put(f.dir / "dpkg/info/libc6:amd64.list", libc + "\n");
    put(f.dir / "dpkg/info/tool.list", "/usr/bin/x\n" + self + "\n");
    put(f.dir / "dpkg/status", "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n\n"
                               "Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7\n");
    JobFootprint fp;
    fp.add_process(30, self, {"tool"}, "/");
    const nlohmann::json j = to_json(capture_job_environment(fp, f.options));
    CHECK(names_versions(j.at("system_packages")) == std::vector<std::string>{"libc6 2.36-9", "tool 7"});
    CHECK(j.at("system_files").at("total") == 0); // nothing was read
}

TEST_CASE("interpreter names", "[collector][environment][capture]")
{
    CHECK(is_python_executable_name("python"));
    CHECK(is_python_executable_name("python3"));
    CHECK(is_python_executable_name("python3.11"));
    CHECK(is_python_executable_name("python3.13t"));
    CHECK(is_python_executable_name("python3.11d"));
    CHECK_FALSE(is_python_executable_name("python3-config"));
    CHECK_FALSE(is_python_executable_name("ipython"));
    CHECK_FALSE(is_python_executable_name("pythonw.exe"));
    CHECK_FALSE(is_python_executable_name("bash"));
}
