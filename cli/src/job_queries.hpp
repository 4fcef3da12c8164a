// What show and log print, built from the store's answers: resolving a
// user's reference (@N, job id prefix, path, digest prefix) and the JSON
// records the commands print (also the source of their text views).
#pragma once

#include "project.hpp"

#include "roar/collector/store/records.hpp"
#include "roar/collector/store/store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roar::cli {

struct Ref {
    enum class Kind { job, artifact } kind;
    int64_t id;       // the job's row or the artifact's id
    std::string path; // for artifacts: the path the user named, if any
};

// Resolves `text` to a job or an artifact of `store`, or throws FatalError
// saying what was not found or what is ambiguous.
Ref resolve_ref(collector::Store& store, const Project& project, const std::string& text);

// The records below are in the JSON form for bytes (collector/byte_text.hpp):
// a path, argument or value that is not UTF-8 is escaped, with its exact
// bytes in a sibling "<name>_b64"; text views print the escaped string.

// A job's full record in the `roar show --json` shape.
nlohmann::json job_json(const collector::JobDetail& job);

// One line saying what environment record `environment` (JobDetail::environment)
// holds: "Debian GNU/Linux 12 (bookworm) · Python 3.11.2 (2 packages) · 7
// Debian packages", plus "uncommitted changes" when the job ran in a dirty
// git tree; "" when it is null.
std::string environment_summary(const nlohmann::json& environment);

// An artifact: digests, size, paths seen, producers and consumers.
nlohmann::json artifact_json(const collector::ArtifactDetail& artifact);

// An artifact's upstream lineage, to the roots. Shape:
// {"produced_by": uid|null, "jobs": [...], "roots": [{path, digest}]}.
nlohmann::json upstream_json(const collector::Upstream& upstream);

// The `roar log --json` shape of `jobs`.
nlohmann::json job_summaries_json(const std::vector<collector::JobSummary>& jobs);

// Unix seconds as an ISO-8601 UTC timestamp with milliseconds.
std::string iso_time(double seconds);

} // namespace roar::cli
