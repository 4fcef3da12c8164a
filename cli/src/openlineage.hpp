// OpenLineage RunEvents from roar's job records (`roar export --format
// openlineage`): pure functions from a JobDetail to two events (START at
// the job's start, COMPLETE or FAIL at its end), the deterministic run ids
// that make re-exporting idempotent, and dataset naming (files under
// file://HOST, S3 objects under s3://BUCKET). No I/O: the command reads the
// store and prints or posts what these return.
//
// Facets: OpenLineage's own where one fits (parent, processing_engine,
// jobType, version, outputStatistics) and roar's custom ones (roar_content,
// roar_command, roar_host, roar_git), whose schemas are the files in
// docs/openlineage/facets/ named by their _schemaURL.
#pragma once

#include "roar/collector/store/records.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::cli::openlineage {

// The spec version the events follow (the schema kept in tests/).
inline constexpr const char* k_event_schema = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
// Where roar's custom facet schemas are, by default: the package installs
// docs/openlineage/facets/ of roar's source tree there, so the URL names
// a file on any machine with roar installed (the schema files' $id use it
// too). export.openlineage_schema_base in roar.toml names another place.
inline constexpr const char* k_default_schema_base = "file:///usr/share/roar/openlineage/facets";

// The `producer` of every event and facet unless export.openlineage_producer
// names another: https://roar.invalid/roar/releases/VERSION. `.invalid` is
// reserved (RFC 2606), so the URI identifies roar's release without
// pretending to be an address anyone serves.
std::string default_producer();

// The session a job belongs to: the parent run of its jobs.
struct SessionRun {
    int64_t id = 0;
    double created_at = 0; // unix seconds
};

struct EventOptions {
    std::string job_namespace;         // the namespace of jobs (and of the session's parent job)
    std::optional<SessionRun> session; // the job's session, when it has one
    // The base of roar's facets' _schemaURL: VERSION/FILE.json follows it.
    std::string schema_base = k_default_schema_base;
    // The URI of whatever produced the events (OpenLineage's `producer`).
    std::string producer = default_producer();
};

// A dataset's OpenLineage identity.
struct DatasetName {
    std::string namespace_, name;
};

// The dataset at `path` as job on `host` saw it: "s3://bucket/key" is
// namespace "s3://bucket", name "key"; a file is namespace "file://HOST"
// (just "file" when the host is unknown), name its absolute path.
DatasetName dataset_name(std::string_view path, std::string_view host);

// A UUIDv7 (RFC 9562) whose timestamp is `unix_seconds` (milliseconds) and
// whose other 74 bits come from BLAKE3 of `identity`: the same inputs give
// the same id, so events re-exported later name the same run.
std::string stable_uuid_v7(double unix_seconds, std::string_view identity);

// The run id of job `job` (from its uid and start time).
std::string job_run_id(const collector::JobDetail& job);
// The run id of session `session` (from its number and creation time).
std::string session_run_id(const SessionRun& session);

// The START and COMPLETE (exit status 0, no signal) or FAIL events of `job`.
std::vector<nlohmann::json> run_events(const collector::JobDetail& job, const EventOptions& options);

// `event` as one line of JSON (no newline). Strings holding bytes that are
// not UTF-8 (paths are bytes on Linux) get each such byte written as the
// four characters \xNN, so the line is always valid JSON.
std::string to_json_line(const nlohmann::json& event);

} // namespace roar::cli::openlineage
