// Which executions are one step: runs of the same program (in the same
// directory) that write the same output paths. `train.py data.csv
// model.pkl --lr 0.1` and `... --lr 0.5` (or `--opt adam` and `--opt
// sgd`) are one step; `... model_1.pkl` and `... model_3.pkl` are two.
// A run that wrote a subset or superset of a step's outputs (a failed run
// that stopped early, its retry) joins that step. Steps recorded before
// schema v4 keep the older rule (step_signature and step_paths below).
// The store applies these when it assigns a job its step; they look at
// nothing but their arguments, except step_program's ".." after a
// symbolic link, looked up on the file system as the job's paths were.
#pragma once

#include "roar/collector/job_record.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

// The program a job ran, as a step key: the working directory, argv[0],
// and what says which code it ran: the first non-option argument (the
// script; digit runs normalised unless the job read that file, so
// step_1.py and step_2.py differ) or the text after -c/-e/-m (digit runs
// normalised). The script's path is `cwd` joined with it, its ".."
// applied as the kernel does (PathResolver). Other options and arguments
// are left out.
std::string step_program(const std::vector<std::string>& argv, std::string_view cwd,
                         const std::vector<ArtifactUse>& inputs);

// The paths a job wrote, exactly, sorted and without duplicates.
std::vector<std::string> output_paths(const JobRecord& job);

// Whether one of two sorted path sets contains the other.
bool nested_paths(const std::vector<std::string>& a, const std::vector<std::string>& b);

// Before schema v4: the step signature of a command: the argv with run-number-like digit
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
