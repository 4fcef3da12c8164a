// What the store answers: typed rows for show, log, dag, status, `roar run
// @N`, the stale report after a run, and `roar reset`. Plain values; the
// CLI formats them (text or JSON) and never sees SQL.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

// One input, output or deleted path of a job, with its artifact's digests.
struct UseDetail {
    std::string path;
    std::optional<int64_t> size;
    std::map<std::string, std::string> hashes; // algorithm -> digest
    std::vector<std::string> notes;
    std::optional<int64_t> pid; // ArtifactUse::pid; none when unknown or recorded before schema 6
};

struct ProcessDetail {
    int64_t seq = 0, pid = 0, ppid = 0;
    std::optional<int64_t> parent; // seq of the parent's record
    std::string exe, cwd;
    std::vector<std::string> argv;
    std::optional<int64_t> exit_code, signal;
    bool observed = true;
    std::optional<std::string> tracer; // ProcessRecord::tracer; none for jobs recorded before schema 3
    std::vector<std::string> notes;
};

struct GitDetail {
    std::string commit, branch, remote;
    bool dirty = false;
    std::vector<std::string> dirty_files;
};

// What recorded a job: "run" (`roar run`, `roar-events`) or "proxy" (the
// standalone proxy daemon, proxy_daemon.hpp: its processes have tracer
// "proxy").
inline constexpr const char* k_job_kind_run = "run";
inline constexpr const char* k_job_kind_proxy = "proxy";

// A job's full record (what `roar show JOB` prints).
struct JobDetail {
    int64_t row = 0;
    std::string uid;
    std::string kind = k_job_kind_run;
    std::optional<int64_t> step; // its step's number
    int64_t session = 0;
    std::string command, cwd;
    std::vector<std::string> argv;
    int64_t exit_code = 0;
    std::optional<int64_t> signal;
    double started_at = 0, ended_at = 0; // unix seconds
    std::string host, user, roar_version;
    std::optional<GitDetail> git;
    nlohmann::json env = nlohmann::json::object();
    nlohmann::json environment; // the environment record (JobRecord::environment); null when none
    int64_t dropped_events = 0;
    std::vector<std::string> notes;
    std::vector<UseDetail> inputs, outputs, deleted;
    std::vector<ProcessDetail> processes;
};

// A job as a line of `roar log`.
struct JobSummary {
    int64_t row = 0;
    std::string uid;
    std::string kind = k_job_kind_run;
    std::optional<int64_t> step;
    std::string command;
    int64_t exit_code = 0;
    bool killed = false; // ended by a signal
    double started_at = 0, ended_at = 0;
    std::optional<int64_t> session;
    std::string host; // where it ran
};

// Which jobs `roar log` lists.
struct JobFilter {
    std::optional<int64_t> session; // sessions.id; every session when empty
    std::optional<int64_t> last;    // only the newest N (still listed oldest first)
    bool failed_only = false;       // only jobs that exited non-zero or were killed
};

// A job that produced or consumed an artifact, at the path it used.
struct ArtifactUseByJob {
    std::string uid;
    std::optional<int64_t> step;
    std::string command;
    double started_at = 0;
    std::string path;
    int64_t exit_code = 0;
    std::optional<int64_t> pid; // the process the use is attributed to (UseDetail::pid)
};

// An artifact (one content): digests, size, where it was seen, who made and read it.
struct ArtifactDetail {
    int64_t id = 0;
    std::string kind;
    std::optional<int64_t> size;
    double first_seen = 0;
    std::map<std::string, std::string> hashes;
    std::vector<std::string> paths;
    std::vector<ArtifactUseByJob> produced_by, consumed_by;
};

// The upstream lineage of an artifact, to the roots (`roar show --lineage`).
struct UpstreamInput {
    std::string path, digest;
    int64_t artifact = 0;
    std::optional<std::string> producer; // uid of the job that wrote what was read
};
struct UpstreamJob {
    std::string uid;
    std::optional<int64_t> step;
    std::string command;
    double started_at = 0;
    int64_t exit_code = 0;
    int64_t session = 0;
    std::vector<UpstreamInput> inputs;
};
struct UpstreamRoot {
    std::string path, digest;
    int64_t artifact = 0;
};
struct Upstream {
    std::optional<std::string> produced_by; // uid; empty for a source
    std::vector<UpstreamJob> jobs;          // in visiting order
    std::vector<UpstreamRoot> roots;        // sources no recorded job made
};

// The newest job of a step of the active session (`roar run @N`, `roar show @N`).
struct StepJob {
    int64_t row = 0;
    std::vector<std::string> argv;
    std::string cwd;
};

// Jobs and artifacts whose id or digest starts with a prefix (at most two of each).
struct PrefixMatches {
    std::vector<int64_t> jobs, artifacts;
};

// The rows a session's pipeline is built from (dag, status, stale reports).
struct SessionStep {
    int64_t row = 0, number = 0;
    std::string command;
    std::string name; // empty when unnamed
};
struct SessionJob {
    int64_t row = 0;
    std::string uid;
    int64_t step_row = 0;
    std::string command, cwd;
    double started_at = 0, ended_at = 0;
    int exit_code = 0;
    bool killed = false;
    std::string host; // where it ran
};

// An artifact's identifying digest (BLAKE3, else the S3 ETag) and size.
struct ArtifactDigest {
    std::string algorithm, digest; // empty when unknown
    std::optional<int64_t> size;
};

} // namespace roar::collector
