// JobFootprint: what a finished job did that tells which environment it ran
// in. Its processes (the image each ran, argv, working directory) and, per
// process, the files it opened for reading, including the system and
// interpreter files the path filter keeps out of the job's inputs (module
// files, site-packages, /usr). Paths are stored once per job and referred
// to by number, so a Python process that imports 2,000 modules costs 2,000
// integers, not 2,000 strings.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace roar::collector {

struct FootprintProcess {
    uint32_t pid = 0;
    std::string exe;               // the running image (/proc/self/exe: links resolved)
    std::vector<std::string> argv; // argv[0] as the program was started (a venv's bin/python)
    std::string cwd;               // where a relative argv[0] is resolved from
    std::vector<uint32_t> reads;   // indexes into JobFootprint::paths() (repeats allowed)
};

class JobFootprint {
public:
    JobFootprint() = default;
    // Moved, never copied: the index refers to the stored paths' bytes.
    JobFootprint(JobFootprint&&) = default;
    JobFootprint& operator=(JobFootprint&&) = default;
    JobFootprint(const JobFootprint&) = delete;
    JobFootprint& operator=(const JobFootprint&) = delete;

    // Adds a process; returns its number for add_read().
    size_t add_process(uint32_t pid, std::string exe, std::vector<std::string> argv, std::string cwd);

    // Records that process `process` opened `path` (absolute, normalised)
    // for reading; `filtered`: the path filter kept it out of the job's
    // inputs (a system or interpreter file).
    void add_read(size_t process, std::string_view path, bool filtered);

    const std::deque<std::string>& paths() const { return m_paths; }
    bool contains(std::string_view path) const { return m_index.count(path) != 0; }
    bool filtered(uint32_t path) const { return m_filtered[path]; }
    const std::vector<FootprintProcess>& processes() const { return m_processes; }

private:
    // Each path once: a deque, whose strings never move, so the index keys
    // are views of them (a job of a million inputs has a million paths here).
    std::deque<std::string> m_paths;
    std::vector<bool> m_filtered;
    std::unordered_map<std::string_view, uint32_t> m_index;
    std::vector<FootprintProcess> m_processes;
};

} // namespace roar::collector
