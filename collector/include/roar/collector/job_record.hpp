// What one `roar run` produced: the job, its processes, and the artifacts
// it read, wrote and deleted. Built by JobTracker, stored by Database.
#pragma once

#include "roar/collector/event_ring.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace roar::collector {

// A file or S3 object as one job saw it.
struct ArtifactUse {
    std::string path;          // absolute path, or s3://bucket/key
    std::string kind = "file"; // "file" or "s3"
    std::optional<uint64_t> size;
    std::map<std::string, std::string> hashes; // algorithm -> digest (blake3, etag)
    std::vector<std::string> notes;
    // The process it is attributed to (JobTracker's rules: the first
    // reader of an input, the writer of an output's content, the remover of
    // a deleted path; for S3 the process that made the call); none when
    // unknown.
    std::optional<uint32_t> pid;
};

struct ProcessRecord {
    uint32_t pid = 0;
    uint32_t ppid = 0;
    int parent = -1; // index of the parent's record, or -1
    std::string exe;
    std::vector<std::string> argv;
    std::string cwd;
    double started_at = 0;        // unix seconds
    std::optional<int> exit_code; // shell-style: 128+N when killed by N
    std::optional<int> signal;    // the killing signal, if any
    bool observed = true;         // the shim or the ptrace tracer ran in it
    // Who reported it: "shim", "ptrace" (roar run's tracer, for what the shim
    // cannot enter) or "shim+ptrace" (the shim, with its file syscalls seen
    // by the tracer); empty when not observed.
    std::string tracer;
    bool replaced_by_exec = false; // a later image took over this pid
    std::vector<std::string> notes;
};

struct GitState {
    std::string commit, branch, remote;
    bool dirty = false;
    std::vector<std::string> dirty_files;
    // The work tree's top directory, as found without running git ("" when
    // only GIT_DIR or GIT_WORK_TREE named the repository).
    std::string root;
    // A dirty tree's uncommitted changes to tracked files, `git diff
    // --binary HEAD` (for `roar reproduce`); empty when clean. When the
    // patch is over k_max_recorded_diff, `diff_too_large` is set and only
    // its size is kept; `diff_failed` when git could not produce it.
    std::string diff;
    uint64_t diff_bytes = 0;
    bool diff_too_large = false;
    bool diff_failed = false;
};

// The largest recorded diff of a dirty tree (4 MiB).
inline constexpr uint64_t k_max_recorded_diff = uint64_t(4) << 20;

struct JobRecord {
    std::string uid;
    std::vector<std::string> argv;
    std::string command; // argv joined for display
    std::string cwd;
    double started_at = 0;
    double ended_at = 0;
    int exit_code = 0;
    std::optional<int> signal;
    std::vector<ArtifactUse> inputs, outputs, deleted;
    std::vector<ProcessRecord> processes;
    std::vector<std::string> notes;
    RingCounters ring;
    std::string hostname, user;
    std::optional<GitState> git;
    nlohmann::json env = nlohmann::json::object(); // safe-to-show variables
    // The environment it ran in (environment/job_environment.hpp's
    // to_json: machine, python, system_packages ...); null when not captured.
    nlohmann::json environment;
};

} // namespace roar::collector
