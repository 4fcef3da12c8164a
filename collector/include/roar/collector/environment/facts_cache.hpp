// What environment capture remembers about this machine between jobs, so
// that a job pays lookups, not scans: where the cache lives
// ($XDG_CACHE_HOME/roar/environment, else ~/.cache/roar/environment), and
// FactsCache, a small JSON file of facts keyed by the identity of the file
// they were read from (a Python binary's version, a GPU query's answer).
// The big tables (dpkg's owners, site directories) are OwnerIndex files in
// the same directory.
#pragma once

#include "roar/collector/file_hasher.hpp"
#include "roar/collector/result.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace roar::collector {

// The cache directory from the environment variables XDG_CACHE_HOME and
// HOME (neither set: a directory under /tmp named after the user id).
std::filesystem::path default_environment_cache_dir();

// "device:inode:size:mtime_ns": a cache key that changes whenever the file
// is replaced or modified.
std::string identity_key(const FileIdentity& id);

// A short, stable name for `text` (64-bit FNV-1a as hex), used to name
// per-directory cache files.
std::string short_name(std::string_view text);

class FactsCache {
public:
    // Reads `file` if it exists (an unreadable or damaged file counts as
    // empty: every fact can be found again).
    explicit FactsCache(std::filesystem::path file);

    // The fact stored under `key`, or nullptr.
    const nlohmann::json* find(const std::string& key) const;

    // Stores `value` under `key`; save() writes it.
    void put(const std::string& key, nlohmann::json value);

    // Writes the facts if put() changed them (temporary file, then rename),
    // leaving out facts about a file that has since changed: those stored
    // under "libraries PATH IDENTITY" or "python-version PATH IDENTITY"
    // (identity_key) whose PATH is gone or has another identity now.
    Result<void> save();

private:
    std::filesystem::path m_file;
    nlohmann::json m_facts = nlohmann::json::object();
    bool m_dirty = false;
};

} // namespace roar::collector
