// roar-environment: prints the environment record (job_environment.hpp)
// of a job given what it did, without roar run. A developer's window into
// environment capture, and what its functional test drives:
//
//   roar-events --output ev.jsonl -- python3 train.py
//   roar-environment [--all-packages] [--no-libraries] [--cache-dir DIR] [--time] --events ev.jsonl
//   roar-environment [...] --footprint footprint.json
//
// --events reads roar-events' JSON lines: each proc_start is a process, each
// successful read-only or read-write open of a non-directory is a read.
// --footprint reads {"processes": [{"pid", "exe", "argv", "cwd", "reads":
// [paths]}]}. Paths the default path filter excludes count as system files.
// --time prints the capture's duration in microseconds on stderr.
#include "roar/collector/environment/job_environment.hpp"
#include "roar/collector/event_format.h"
#include "roar/collector/path_filter.hpp"
#include "roar/collector/path_resolver.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

using namespace roar;
using namespace roar::collector;

namespace {

[[noreturn]] void usage_error(const std::string& message)
{
    std::fprintf(stderr, "roar-environment: %s\n", message.c_str());
    std::fprintf(stderr, "usage: roar-environment [--all-packages] [--no-libraries] [--cache-dir DIR] [--time] "
                         "(--events FILE | --footprint FILE)\n");
    std::exit(2);
}

std::string read_all(const std::string& file)
{
    std::ifstream in(file);
    if (!in) {
        usage_error("cannot read " + file);
    }
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> string_list(const nlohmann::json& j)
{
    std::vector<std::string> out;
    if (j.is_array()) {
        for (const auto& s : j) {
            if (s.is_string()) {
                out.push_back(s.get<std::string>());
            }
        }
    }
    return out;
}

// The footprint of roar-events output: a minimal reading of the events
// (process images, working directories, successful opens for reading),
// paths named as the tracker names them (a ".." after a symbolic link goes
// up from its target), so the record is the one roar run would make.
JobFootprint footprint_from_events(const std::string& file, const PathFilter& filter)
{
    JobFootprint footprint;
    PathResolver resolver;
    std::map<uint32_t, std::pair<size_t, std::string>> procs; // pid -> (process number, cwd)
    std::istringstream lines(read_all(file));
    std::string line;
    while (std::getline(lines, line)) {
        const auto e = nlohmann::json::parse(line, nullptr, false);
        if (!e.is_object()) {
            continue;
        }
        const std::string op = e.value("op", "");
        const auto pid = e.value("pid", uint32_t(0));
        if (op == "proc_start" && e.contains("s1")) {
            const std::string cwd = e.value("s2", "/");
            procs[pid] = {
                footprint.add_process(pid, e.value("s1", ""), string_list(e.value("argv", nlohmann::json())), cwd),
                cwd};
            continue;
        }
        auto proc = procs.find(pid);
        if (proc == procs.end()) {
            continue;
        }
        const std::string s1 = e.value("s1", "");
        if ((op == "rename" || op == "unlink" || op == "symlink") && e.value("result", -1) == 0) {
            resolver.forget(); // as the tracker: a ".." looked up may name something else now
        }
        if (op == "chdir" && e.value("result", -1) >= 0 && !s1.empty()) {
            proc->second.second = resolver.resolve(proc->second.second, s1);
        }
        const int flags = e.value("flags", 0);
        const bool reads = (flags & O_ACCMODE) != O_WRONLY && !(flags & O_DIRECTORY);
        if (op != "open" || e.value("result", -1) < 0 || !reads || s1.empty()) {
            continue;
        }
        if (s1.front() != '/' && e.value("fd", 0) != ROAR_AT_FDCWD) {
            continue; // relative to a directory fd this reading does not follow
        }
        const std::string path = resolver.resolve(proc->second.second, s1);
        footprint.add_read(proc->second.first, path, !filter.accepts(path));
    }
    return footprint;
}

JobFootprint footprint_from_json(const std::string& file, const PathFilter& filter)
{
    const auto j = nlohmann::json::parse(read_all(file), nullptr, false);
    if (!j.is_object() || !j.contains("processes") || !j["processes"].is_array()) {
        usage_error(file + " is not a footprint ({\"processes\": [...]})");
    }
    JobFootprint footprint;
    for (const auto& p : j["processes"]) {
        const size_t n = footprint.add_process(p.value("pid", uint32_t(0)), p.value("exe", ""),
                                               string_list(p.value("argv", nlohmann::json())), p.value("cwd", "/"));
        for (const auto& path : string_list(p.value("reads", nlohmann::json()))) {
            footprint.add_read(n, path, !filter.accepts(path));
        }
    }
    return footprint;
}

} // namespace

int main(int argc, char** argv)
{
    EnvironmentOptions options;
    std::string events, footprint_file;
    bool timed = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                usage_error(arg + " needs a value");
            }
            return argv[++i];
        };
        if (arg == "--all-packages") {
            options.record_all_packages = true;
        } else if (arg == "--no-libraries") {
            options.linked_libraries = false;
        } else if (arg == "--cache-dir") {
            options.cache_dir = value();
        } else if (arg == "--time") {
            timed = true;
        } else if (arg == "--events") {
            events = value();
        } else if (arg == "--footprint") {
            footprint_file = value();
        } else {
            usage_error("unknown argument " + arg);
        }
    }
    if (events.empty() == footprint_file.empty()) {
        usage_error("give one of --events and --footprint");
    }
    const PathFilter filter(PathFilter::default_excludes(), {});
    const JobFootprint footprint =
        events.empty() ? footprint_from_json(footprint_file, filter) : footprint_from_events(events, filter);

    const auto start = std::chrono::steady_clock::now();
    const JobEnvironment environment = capture_job_environment(footprint, options);
    const auto took = std::chrono::steady_clock::now() - start;
    std::cout << to_json(environment).dump(2) << "\n";
    if (timed) {
        std::fprintf(stderr, "capture_us %lld\n",
                     static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
    }
    return 0;
}
