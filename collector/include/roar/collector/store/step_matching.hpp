// Which executions are one step: a command's shape (argv and working
// directory with digit runs normalised) and the paths it read and wrote.
// Pure functions; the store applies them when it assigns a job its step.
#pragma once

#include "roar/collector/job_record.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

// The step signature of a command: the argv with run-number-like digit
// runs replaced by '#', so `train.py --seed 3` and `--seed 4` differ only
// in a digit and are one step.
std::string step_signature(const std::vector<std::string>& argv, std::string_view cwd);

// `text` with every run of decimal digits replaced by '#': the
// normalisation that makes run numbers, seeds and dates not matter.
std::string normalise_digits(std::string_view text);

// The input paths (exact) and output paths (digit-normalised) of a job, or
// their union over a step's executions; sorted, without duplicates.
struct StepPaths {
    std::vector<std::string> inputs, outputs;
};
StepPaths step_paths(const JobRecord& job);

// Whether a job with paths `job` can be another execution of a step whose
// executions used `step`: for inputs and for outputs, one set contains the
// other. Equal sets match; so does a failed run that stopped before
// writing (a subset) and its retry (a superset); variants writing
// different outputs do not.
bool step_io_compatible(const StepPaths& job, const StepPaths& step);

// `argv` quoted for a shell where needed and joined with spaces.
std::string join_command(const std::vector<std::string>& argv);

} // namespace roar::collector
