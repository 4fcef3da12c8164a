// Re-running a recorded step (`roar run @N [--name=value ...]`) and telling
// the user, after any run, which later steps it made stale.
#pragma once

#include "roar/collector/store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roar::cli {

// One job to run: a command and the directory to run it in (empty: here).
struct RerunJob {
    std::vector<std::string> command;
    std::string cwd;
};

struct RerunPlan {
    std::vector<RerunJob> jobs;  // what to run, in order
    std::optional<int64_t> step; // the step the jobs belong to, for `@N`
    std::string label;           // "@N" or "@NAME" as the user gave it
};

// For `command` = {"@N" or "@NAME", overrides...}: one job per current
// execution of the step (the latest writer of one of its outputs; the
// step's latest execution when none is), oldest first, each its recorded
// argv with the overrides applied (see apply_overrides), to run in its
// recorded working directory. Unless `quiet`, a note on stderr says when
// steps upstream are stale, judged as `roar dag` does (`local_host`:
// LineageOptions::local_host, disk_host()). Any other `command` is one
// job, unchanged. Throws FatalError for an unknown step or a malformed
// override.
RerunPlan plan_rerun(collector::Store& store, const std::vector<std::string>& command, bool quiet,
                     const std::optional<std::string>& local_host);

// `argv` with each override applied: `--name=value` or `--name value`
// replaces the recorded `--name=x` or `--name x` (keeping its form), and is
// appended (in the form given) when the command has no --name; a lone
// `--name` is appended when absent. Throws FatalError naming the step
// `label` for an argument that is not an override.
std::vector<std::string> apply_overrides(std::vector<std::string> argv, const std::vector<std::string>& overrides,
                                         const std::string& label);

// After job `job_row` was stored: "Downstream steps are stale: @2, @3" on
// stderr when steps depending on its step are now stale (in the order to
// re-run them). `local_host`: LineageOptions::local_host (disk_host()), so
// that, as in `roar status`, only this machine's files are compared with
// this disk.
void print_stale_downstream(collector::Store& store, int64_t job_row, const std::optional<std::string>& local_host);

} // namespace roar::cli
