// Read-side queries over roar.db used by show, log and friends: resolving
// a user's reference (@N, job id prefix, path, digest prefix) and building
// the JSON records the commands print.
#pragma once

#include "project.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace roar::cli {

struct Ref {
    enum class Kind { job, artifact } kind;
    int64_t id;       // jobs.id or artifacts.id
    std::string path; // for artifacts: the path the user named, if any
};

// Resolves `text` to a job or an artifact, or throws FatalError saying
// what was not found or what is ambiguous.
Ref resolve_ref(const collector::Database& db, const Project& project, const std::string& text);

// The full record of job `job_id` (the `roar show --json` shape).
nlohmann::json job_json(const collector::Database& db, int64_t job_id);

// An artifact: digests, size, paths seen, producers and consumers.
nlohmann::json artifact_json(const collector::Database& db, int64_t artifact_id);

// The full upstream lineage of `artifact_id`, to the roots: every job that
// (transitively) produced what led to it, each with its inputs and the job
// that produced each input (null for roots: sources no recorded job made).
// Shape: {"produced_by": uid|null, "jobs": [...], "roots": [{path, digest}]}.
nlohmann::json upstream_lineage(const collector::Database& db, int64_t artifact_id);

// Which jobs `roar log` lists.
struct LogFilter {
    std::optional<int64_t> session; // sessions.id; every session when empty
    std::optional<int64_t> last;    // only the newest N (still printed oldest first)
    bool failed_only = false;       // only jobs that exited non-zero or were killed
};

// The id of the active session, if a job or `roar reset` made one.
std::optional<int64_t> active_session(const collector::Database& db);

// One summary per job matching `filter`, oldest first (the `roar log --json` shape).
nlohmann::json job_summaries(const collector::Database& db, const LogFilter& filter = {});

// Unix seconds as an ISO-8601 UTC timestamp with milliseconds.
std::string iso_time(double seconds);

} // namespace roar::cli
