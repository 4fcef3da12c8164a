// The job's environment, in one place for every entry point that runs a
// job (roar run, roar-events): what the command runs with (ours plus the
// shim's variables), and what of ours is recorded with the job.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace roar::collector {

// This process's environment ("NAME=value") with LD_PRELOAD led by
// `preload` and the shim's variables naming ring `ring` and job `uid`
// (an enclosing job's are replaced). ROAR_KEEP_ENV, the names the shim
// restores when a child scrubs its environment, is kept.
std::vector<std::string> job_environment(const std::filesystem::path& preload, const std::string& ring,
                                         const std::string& uid);

// Puts each "NAME=value" of `entries` into `env`, replacing any NAME= already
// there; for ROAR_KEEP_ENV the names are added to those already listed.
void set_environment(std::vector<std::string>& env, const std::vector<std::string>& entries);

// This process's environment as recorded with a job, before redaction
// (JobSession::record applies the Redactor, the one list of secret names);
// noise such as LS_COLORS is left out.
nlohmann::json recorded_environment();

} // namespace roar::collector
