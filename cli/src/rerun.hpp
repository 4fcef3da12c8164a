// Re-running a recorded step (`roar run @N [--name=value ...]`) and telling
// the user, after any run, which later steps it made stale.
#pragma once

#include "roar/collector/store/store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roar::cli {

struct RerunPlan {
    std::vector<std::string> command; // what to run
    std::optional<int64_t> step;      // the step the job belongs to, for `@N`
};

// For `command` = {"@N", "--name=value"...}: step N's recorded argv with
// each --name=value replacing the recorded `--name=x` or `--name x`; the
// process changes into the step's recorded working directory, and (unless
// `quiet`) a note on stderr says when steps upstream of N are stale. Any
// other `command` is returned unchanged. Step N is looked up in `store`.
// Throws FatalError for an unknown step, a malformed override, or one
// naming an argument the step lacks.
RerunPlan plan_rerun(collector::Store& store, const std::vector<std::string>& command, bool quiet);

// `argv` with each override ("--name=value") applied (see plan_rerun);
// throws FatalError naming the step `label` when an override matches nothing.
std::vector<std::string> apply_overrides(std::vector<std::string> argv, const std::vector<std::string>& overrides,
                                         const std::string& label);

// After job `job_row` was stored: "Downstream steps are stale: @2, @3" on
// stderr when steps depending on its step are now stale.
void print_stale_downstream(collector::Store& store, int64_t job_row);

} // namespace roar::cli
