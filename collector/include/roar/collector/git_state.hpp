// The git state of the directory a job runs in: commit, branch, remote,
// and whether tracked files were modified (with their names).
#pragma once

#include "roar/collector/job_record.hpp"

#include <optional>
#include <string>

namespace roar::collector {

// Runs git (if installed) in `dir`; nullopt outside a work tree.
std::optional<GitState> read_git_state(const std::string& dir);

} // namespace roar::collector
