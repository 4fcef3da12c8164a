// Cost of environment capture per job (issue 13), timed in-process on a
// synthetic 2,000-file Python job:
//   bench_environment [--rounds N] [--work DIR] [--python PATH] [--profile N]
// builds a venv-shaped tree whose site-packages holds numpy-, scipy-,
// pandas-, torch-like distributions (large RECORDs) and 30 small ones, a
// footprint of 1,700 compiled modules read from eight of them plus 300 files
// of the real interpreter's standard library (owned by Debian packages),
// and times capture_job_environment with
//   cold   an empty cache: dpkg's database, the site directory, the binary
//          and its libraries are all read;
//   sites  only the site directory's index missing (after a pip install);
//   warm   everything cached: what every later job pays;
// interleaved over the rounds, next to the subprocess it avoids: starting
// the interpreter once to ask its version (python -c 'import platform').
// Prints a table and one JSON object; the load average is part of both.
// --profile N runs N warm captures and nothing else (for perf record).
#include "roar/collector/environment/job_environment.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

using namespace roar::collector;
namespace fs = std::filesystem;

struct Dist {
    std::string name, top, version;
    int files;    // modules in RECORD (each also listed with its .pyc)
    int imported; // of which the job reads this many
};

const std::vector<Dist>& distributions()
{
    static const std::vector<Dist> dists = [] {
        std::vector<Dist> d = {
            {"numpy", "numpy", "1.26.4", 1500, 450},
            {"scipy", "scipy", "1.12.0", 2000, 350},
            {"pandas", "pandas", "2.2.1", 1200, 400},
            {"torch", "torch", "2.2.1", 8000, 0},
            {"scikit-learn", "sklearn", "1.4.1", 1000, 200},
            {"matplotlib", "matplotlib", "3.8.3", 900, 200},
            {"pillow", "PIL", "10.2.0", 300, 60},
            {"requests", "requests", "2.31.0", 40, 40},
        };
        for (int i = 0; i < 30; ++i) {
            d.push_back({"small" + std::to_string(i), "small" + std::to_string(i), "1.0." + std::to_string(i), 20, 0});
        }
        return d;
    }();
    return dists;
}

std::string module_path(const Dist& d, int j)
{
    return d.top + "/sub" + std::to_string(j / 50) + "/mod" + std::to_string(j);
}

void write(const fs::path& p, const std::string& content)
{
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
}

// The venv and its site-packages (RECORDs and directories; module files
// need not exist for the capture, their directories do for realpath).
std::string build_site(const fs::path& venv, const std::string& python, const std::string& major_minor)
{
    const fs::path site = venv / ("lib/python" + major_minor) / "site-packages";
    write(venv / "pyvenv.cfg", "home = " + fs::path(python).parent_path().string() + "\n");
    fs::create_directories(venv / "bin");
    fs::create_symlink(python, venv / "bin/python");
    const std::string tag = "cpython-" + major_minor.substr(0, 1) + major_minor.substr(2);
    for (const auto& d : distributions()) {
        const std::string info = d.name + "-" + d.version + ".dist-info";
        std::string record;
        for (int j = 0; j < d.files; ++j) {
            const std::string mod = module_path(d, j);
            record += mod + ".py,sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,1234\n";
            const std::string dir = mod.substr(0, mod.rfind('/'));
            record += dir + "/__pycache__" + mod.substr(mod.rfind('/')) + "." + tag + ".pyc,,\n";
            if (j % 50 == 0) {
                fs::create_directories(site / dir / "__pycache__");
            }
        }
        write(site / info / "METADATA", "Metadata-Version: 2.1\nName: " + d.name + "\nVersion: " + d.version + "\n");
        write(site / info / "INSTALLER", "pip\n");
        write(site / info / "RECORD", record + info + "/RECORD,,\n");
    }
    return site.string();
}

JobFootprint build_footprint(const fs::path& venv, const std::string& site, const std::string& python,
                             const std::string& major_minor, size_t* reads)
{
    JobFootprint fp;
    const size_t p = fp.add_process(100, python, {(venv / "bin/python").string(), "train.py"}, venv.parent_path());
    fp.add_read(p, (venv / "pyvenv.cfg").string(), false);
    const std::string tag = "cpython-" + major_minor.substr(0, 1) + major_minor.substr(2);
    for (const auto& d : distributions()) {
        for (int j = 0; j < d.imported; ++j) {
            const std::string mod = module_path(d, j);
            fp.add_read(p,
                        site + "/" + mod.substr(0, mod.rfind('/')) + "/__pycache__" + mod.substr(mod.rfind('/')) + "."
                            + tag + ".pyc",
                        true);
        }
    }
    // The standard library as Python reads it: compiled modules.
    const fs::path stdlib = fs::path(python).parent_path().parent_path() / "lib" / ("python" + major_minor);
    std::vector<std::string> compiled;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(stdlib, ec)) {
        if (e.path().extension() == ".pyc" && e.path().string().find("site-packages") == std::string::npos
            && e.path().string().find("dist-packages") == std::string::npos) {
            compiled.push_back(e.path().string());
        }
    }
    std::sort(compiled.begin(), compiled.end());
    for (size_t i = 0; i < compiled.size() && i < 300; ++i) {
        fp.add_read(p, compiled[i], true);
    }
    *reads = fp.paths().size();
    return fp;
}

double cpu_seconds()
{
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

// Wall-clock seconds of one capture; its CPU seconds go to `cpu`.
double capture_seconds(const JobFootprint& fp, const EnvironmentOptions& options, std::vector<double>& cpu,
                       nlohmann::json* out = nullptr)
{
    const double c0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    JobEnvironment env = capture_job_environment(fp, options);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu.push_back(cpu_seconds() - c0);
    if (out) {
        *out = to_json(env);
    }
    return s;
}

double spawn_seconds(const std::vector<std::string>& argv)
{
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid;
    if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
        return -1;
    }
    int status;
    waitpid(pid, &status, 0);
    posix_spawn_file_actions_destroy(&actions);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> xs)
{
    std::sort(xs.begin(), xs.end());
    return xs.empty() ? 0 : xs[xs.size() / 2];
}

std::string load_average()
{
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

} // namespace

int main(int argc, char** argv)
{
    int rounds = 5;
    int profile = 0; // --profile N: N warm captures only, for perf
    fs::path work;
    std::string python = "/usr/bin/python3";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--rounds") {
            rounds = std::max(1, std::atoi(argv[i + 1]));
        } else if (arg == "--work") {
            work = argv[i + 1];
        } else if (arg == "--profile") {
            profile = std::max(1, std::atoi(argv[i + 1]));
        } else if (arg == "--python") {
            python = argv[i + 1];
        }
    }
    std::error_code ec;
    python = fs::canonical(python, ec).string();
    if (ec) {
        std::fprintf(stderr, "bench_environment: no interpreter at %s (use --python)\n", python.c_str());
        return 2;
    }
    const std::string name = fs::path(python).filename().string(); // python3.11
    const std::string major_minor = name.substr(6);
    const bool own_work = work.empty();
    if (own_work) {
        char pattern[] = "/tmp/roar-bench-env.XXXXXX";
        work = mkdtemp(pattern);
    }
    const fs::path venv = work / "venv";
    fs::remove_all(venv);
    const std::string site = build_site(venv, python, major_minor);
    size_t reads = 0;
    const JobFootprint fp = build_footprint(venv, site, python, major_minor, &reads);

    EnvironmentOptions options;
    options.cache_dir = work / "cache";
    auto drop_site_indexes = [&] {
        for (const auto& e : fs::directory_iterator(options.cache_dir, ec)) {
            if (e.path().filename().string().rfind("python-site-", 0) == 0) {
                fs::remove(e.path(), ec);
            }
        }
    };
    std::vector<double> cold, sites, warm, subprocess;
    if (profile > 0) {
        std::vector<double> cpu;
        capture_seconds(fp, options, cpu);
        for (int i = 0; i < profile; ++i) {
            warm.push_back(capture_seconds(fp, options, cpu));
        }
        std::printf("%d warm captures: median %.2f ms wall, %.2f ms cpu\n", profile, median(warm) * 1e3,
                    median(cpu) * 1e3);
        return 0;
    }
    std::vector<double> cold_cpu, sites_cpu, warm_cpu;
    nlohmann::json record;
    for (int r = 0; r < rounds; ++r) {
        fs::remove_all(options.cache_dir, ec);
        cold.push_back(capture_seconds(fp, options, cold_cpu));
        warm.push_back(capture_seconds(fp, options, warm_cpu, &record));
        drop_site_indexes();
        sites.push_back(capture_seconds(fp, options, sites_cpu));
        subprocess.push_back(spawn_seconds({python, "-c", "import platform; print(platform.python_version())"}));
        warm.push_back(capture_seconds(fp, options, warm_cpu));
    }
    const auto& py = record.at("python").at(0);
    const double w = median(warm), s = median(subprocess);
    std::printf("environment capture, %zu files read (%zu imported distributions of %zu installed), %d rounds, "
                "load average %s\n",
                reads, py.at("packages").size(), distributions().size(), rounds, load_average().c_str());
    std::printf("                                       wall ms     cpu ms\n");
    std::printf("  cold cache (dpkg + site + binary)  %8.1f   %8.1f\n", median(cold) * 1e3, median(cold_cpu) * 1e3);
    std::printf("  site index missing                 %8.1f   %8.1f\n", median(sites) * 1e3, median(sites_cpu) * 1e3);
    std::printf("  warm cache (every later job)       %8.2f   %8.2f\n", w * 1e3, median(warm_cpu) * 1e3);
    std::printf("  python -c 'platform' (avoided)     %8.1f ms   warm / subprocess = %.3f\n", s * 1e3, w / s);
    std::printf("  recorded: python %s, %zu system packages\n", py.at("version").get<std::string>().c_str(),
                record.at("system_packages").size());
    const nlohmann::json result = {
        {"files", reads},
        {"rounds", rounds},
        {"load_average", load_average()},
        {"cold_ms", median(cold) * 1e3},
        {"site_cold_ms", median(sites) * 1e3},
        {"warm_ms", w * 1e3},
        {"cold_cpu_ms", median(cold_cpu) * 1e3},
        {"site_cold_cpu_ms", median(sites_cpu) * 1e3},
        {"warm_cpu_ms", median(warm_cpu) * 1e3},
        {"subprocess_ms", s * 1e3},
        {"warm_over_subprocess", w / s},
        {"python_version", py.at("version")},
        {"packages_imported", py.at("packages").size()},
        {"system_packages", record.at("system_packages").size()},
    };
    std::printf("%s\n", result.dump().c_str());
    fs::remove_all(own_work ? work : venv, ec);
    fs::remove_all(options.cache_dir, ec);
    return 0;
}
