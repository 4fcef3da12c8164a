// Recovery files: when a job's record cannot be stored (disk full, the
// database gone or unwritable; for a server engine, the server down), the
// record is written as JSON to a recovery file so nothing recorded is
// lost, and imported later by `roar import FILE` or by the next writer that
// opens the store. The file holds the JobRecord itself, so it does not
// depend on the engine that failed.
#pragma once

#include "roar/collector/job_record.hpp"
#include "roar/collector/redact.hpp"
#include "roar/collector/result.hpp"
#include "roar/collector/store/store.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace roar::collector {

// Where a project's recovery files go, most preferred first: .roar/recovery,
// then places that stay writable when the project's file system is full
// ($XDG_STATE_HOME or ~/.local/state, then $TMPDIR or /tmp, each in a
// directory named after the project).
struct RecoveryPlaces {
    std::vector<std::filesystem::path> dirs;
};
RecoveryPlaces recovery_places(const std::filesystem::path& roar_dir);

// A JobRecord as JSON and back (every field, so an import stores what the
// failed store would have), in the JSON form for bytes (byte_text.hpp):
// paths, arguments and environment values that are not UTF-8 round-trip.
nlohmann::json job_record_json(const JobRecord& job);
Result<JobRecord> job_record_from_json(const nlohmann::json& j);

// Writes `job` (to be stored as step `step` of the active session, when
// given) to `<uid>.json` in the first of `places` that takes it, readable
// by this user only; `reason` says why it was not stored. Returns the file,
// or an error naming every place that failed.
Result<std::filesystem::path> write_recovery_file(const RecoveryPlaces& places, const JobRecord& job,
                                                  std::optional<int64_t> step, const std::string& reason);

struct ImportedJob {
    std::string uid;
    std::optional<int64_t> row; // the stored job; empty when it was recorded already
};

// Stores the job in recovery file `file` into `store` (opened for writing)
// and removes the file; a job recorded already is not stored twice. The
// record is redacted by `redactor` first (a file written by an older roar,
// or before redact.extra_patterns grew, may still hold a secret).
Result<ImportedJob> import_recovery_file(Store& store, const std::filesystem::path& file,
                                         const Redactor& redactor = Redactor());

// Imports every recovery file waiting in `places`, oldest first; returns
// one line per file for the user (imported, or why not yet).
std::vector<std::string> import_pending_recovery_files(Store& store, const RecoveryPlaces& places,
                                                       const Redactor& redactor = Redactor());

} // namespace roar::collector
