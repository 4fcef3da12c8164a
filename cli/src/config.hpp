// roar.toml: the known keys with their types, defaults and descriptions,
// parsed with toml++. Unknown keys are rejected with the list of valid
// ones; `roar config set` edits the file in place so comments survive.
#pragma once

#include "roar/collector/result.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace roar::cli {

struct ConfigKey {
    const char* name; // "section.key"
    const char* type; // "bool", "int", "string", "string-list"
    const char* default_toml;
    const char* description;
    // For "int" keys, the valid range (inclusive); a value outside it is
    // rejected with this range, by Config::load and `roar config set`.
    int64_t min = 0;
    int64_t max = 0;
};

// Every key roar.toml may hold.
const std::vector<ConfigKey>& config_keys();

struct Config {
    uint64_t ring_size_mb = 64;
    uint32_t sync_timeout_ms = 10000;
    std::string tracer = "auto"; // run.tracer: "auto", "complete" or "off"
    bool capture_environment = true;
    bool record_all_packages = false;
    std::vector<std::string> hash; // run.hash: digests besides BLAKE3 ("sha256")
    std::vector<std::string> filter_exclude;
    std::vector<std::string> filter_include;
    bool filter_defaults = true;
    bool proxy_enabled = false;
    int proxy_port = 9090;
    uint32_t proxy_daemon_idle_seconds = 60;   // the daemon stores a quiet client's job after this long
    uint32_t proxy_daemon_exit_check_ms = 250; // how often the daemon looks for clients that exited
    std::string proxy_upstream;
    bool proxy_forward_checksums = false;           // the proxy passes verified trailing checksums upstream
    std::vector<std::string> redact_extra_patterns; // checked by Redactor::create when loaded
    std::vector<std::string> proxy_s3_hosts;        // more destinations routed to the job's proxy (s3_route.h syntax)
    bool proxy_intercept_tls = false;               // route TLS destinations too
    std::string store_url;                          // "" for the project's SQLite file
    std::string store_project;                      // the project's name in a shared store
    std::string openlineage_schema_base;            // export.openlineage_schema_base; "" for the default
    std::string openlineage_producer;               // export.openlineage_producer; "" for the default

    // Reads `path`; a missing file gives the defaults. Errors name the
    // file, the key and what is wrong.
    static Result<Config> load(const std::filesystem::path& path);
};

// The commented roar.toml that `roar init` writes.
std::string default_config_text();

// The current value of `key` in `path` as TOML text (the default if unset).
Result<std::string> config_get(const std::filesystem::path& path, const std::string& key);

// Sets `key` to `value` (parsed per the key's type) in `path`, keeping
// the rest of the file as it is.
Result<void> config_set(const std::filesystem::path& path, const std::string& key, const std::string& value);

} // namespace roar::cli
