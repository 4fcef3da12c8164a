// What one `roar run` produced: the job, its processes, and the artifacts
// it read, wrote and deleted. Built by JobTracker, stored by Database.
#pragma once

#include "roar/collector/digests.hpp"
#include "roar/collector/event_ring.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

// What a use is: "file", "s3", or "dataset" (a directory or prefix the job
// read as a whole). A pointer to one shared copy of the name: a job with a
// million inputs holds a million of these.
class ArtifactKind {
public:
    ArtifactKind() = default;            // "file"
    ArtifactKind(std::string_view name); // NOLINT: converts as the string it replaced did
    ArtifactKind(const char* name) : ArtifactKind(std::string_view(name)) { }
    ArtifactKind(const std::string& name) : ArtifactKind(std::string_view(name)) { }

    std::string_view view() const { return m_name; }
    explicit operator std::string() const { return m_name; }
    bool operator==(const ArtifactKind& o) const { return view() == o.view(); }
    bool operator==(std::string_view o) const { return view() == o; }
    bool operator==(const char* o) const { return view() == o; }
    bool operator==(const std::string& o) const { return view() == o; }

private:
    const char* m_name = "file";
};

std::ostream& operator<<(std::ostream& out, const ArtifactKind& kind);
void to_json(nlohmann::json& j, const ArtifactKind& kind);
void from_json(const nlohmann::json& j, ArtifactKind& kind);

// A file or S3 object as one job saw it.
struct ArtifactUse {
    std::string path;  // absolute path, or s3://bucket/key
    ArtifactKind kind; // "file", "s3" or "dataset"
    std::optional<uint64_t> size;
    Digests hashes; // algorithm -> digest (blake3, etag)
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
