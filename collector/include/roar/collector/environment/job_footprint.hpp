// JobFootprint: what a finished job did that tells which environment it ran
// in. Its processes (the image each ran, argv, working directory) and, per
// process, the files it opened for reading, including the system and
// interpreter files the path filter keeps out of the job's inputs (module
// files, site-packages, /usr). Paths are stored once per job and referred
// to by number, so a Python process that imports 2,000 modules costs 2,000
// integers, not 2,000 strings.
#pragma once

#include "roar/collector/text_arena.hpp"

#include <cstdint>
#include <string>
#include <string_view>
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

    // Each path the job read, once, by number; the views live as long as
    // the footprint.
    const std::vector<std::string_view>& paths() const { return m_paths; }
    bool contains(std::string_view path) const;
    bool filtered(uint32_t path) const { return m_filtered[path]; }
    const std::vector<FootprintProcess>& processes() const { return m_processes; }

private:
    // The slot of m_slots that holds `path`'s number, or the empty one where
    // it would go.
    size_t slot_of(std::string_view path) const;
    void grow_index();

    // Each path's bytes once (TextArena), viewed by number,
    // with an open-addressing index of numbers (number + 1 per slot, 0 for
    // empty, at most half full): about 30 bytes a path beside its text,
    // where a string and a hash-map node cost about 140 (a job of a million
    // inputs has a million paths here).
    TextArena m_text;
    std::vector<std::string_view> m_paths;
    std::vector<bool> m_filtered;
    std::vector<uint32_t> m_slots;
    std::vector<FootprintProcess> m_processes;
};

} // namespace roar::collector
