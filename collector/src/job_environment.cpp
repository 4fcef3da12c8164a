// The job's environment (see job_environment.hpp).
#include "roar/collector/job_environment.hpp"

#include "roar/collector/event_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

extern char** environ;

namespace fs = std::filesystem;

namespace roar::collector {

namespace {

bool env_named(const char* entry, const char* name)
{
    const size_t n = std::strlen(name);
    return std::strncmp(entry, name, n) == 0 && entry[n] == '=';
}

} // namespace

std::vector<std::string> job_environment(const fs::path& preload, const std::string& ring, const std::string& uid)
{
    std::vector<std::string> env;
    std::string ld_preload = preload.string();
    for (char** e = environ; *e; ++e) {
        if (env_named(*e, "LD_PRELOAD")) {
            std::string rest = *e + std::strlen("LD_PRELOAD=");
            if (!rest.empty() && rest.find(preload.string()) == std::string::npos) {
                ld_preload += ":" + rest;
            }
            continue;
        }
        // The names in ROAR_KEEP_ENV are the caller's to choose and stay.
        if (env_named(*e, ROAR_ENV_RING) || env_named(*e, ROAR_ENV_PRELOAD) || env_named(*e, ROAR_ENV_JOB)) {
            continue;
        }
        env.emplace_back(*e);
    }
    env.push_back("LD_PRELOAD=" + ld_preload);
    env.push_back(fmt::format("{}={}", ROAR_ENV_RING, ring));
    env.push_back(fmt::format("{}={}", ROAR_ENV_PRELOAD, preload.string()));
    env.push_back(fmt::format("{}={}", ROAR_ENV_JOB, uid));
    return env;
}

nlohmann::json recorded_environment()
{
    static const char* const k_noise[] = {"LS_COLORS", "LESSOPEN", "LESSCLOSE", "_", "OLDPWD", "SHLVL", "PS1"};
    nlohmann::json env = nlohmann::json::object();
    for (char** e = environ; *e; ++e) {
        const char* eq = std::strchr(*e, '=');
        if (!eq) {
            continue;
        }
        std::string name(*e, size_t(eq - *e));
        if (std::any_of(std::begin(k_noise), std::end(k_noise), [&](const char* n) { return name == n; })
            || name.rfind("ROAR_", 0) == 0 || name == "LD_PRELOAD") {
            continue;
        }
        env[name] = std::string(eq + 1); // secrets: Redactor::apply, before the record leaves the session
    }
    return env;
}

void set_environment(std::vector<std::string>& env, const std::vector<std::string>& entries)
{
    const std::string keep_prefix = std::string(ROAR_ENV_KEEP) + "=";
    for (const auto& entry : entries) {
        const std::string prefix = entry.substr(0, entry.find('=') + 1);
        std::string value = entry.substr(prefix.size());
        if (prefix == keep_prefix) {
            // A list of names: the caller's names stay, the new ones join them.
            for (const auto& e : env) {
                if (e.rfind(keep_prefix, 0) == 0 && e.size() > keep_prefix.size()) {
                    value = e.substr(keep_prefix.size()) + (value.empty() ? "" : ":" + value);
                }
            }
        }
        std::erase_if(env, [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
        env.push_back(prefix + value);
    }
}

} // namespace roar::collector
