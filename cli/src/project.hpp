// A roar project: the directory holding .roar/ (found by walking up from
// the current directory), its lineage store and its roar.toml.
#pragma once

#include "config.hpp"

#include "roar/collector/result.hpp"
#include "roar/collector/store/recovery.hpp"
#include "roar/collector/store/store.hpp"

#include <filesystem>

namespace roar::cli {

class Project {
public:
    // The project containing `start` (or the current directory), or a
    // FatalError telling the user to run 'roar init'.
    static Project find(const std::filesystem::path& start = std::filesystem::current_path());

    const std::filesystem::path& root() const { return m_root; }
    std::filesystem::path roar_dir() const { return m_root / ".roar"; }
    std::filesystem::path db_path() const { return roar_dir() / "roar.db"; }
    std::filesystem::path config_path() const { return m_root / "roar.toml"; }
    const Config& config() const { return m_config; }
    // Where the lineage lives: .roar/roar.db, or the shared store named by
    // ROAR_STORE_URL or store.url (project store.project, else the
    // directory's name), with this machine's hash cache in .roar/.
    collector::StoreLocation store_location() const;
    // Where records that could not be stored are saved until imported.
    collector::RecoveryPlaces recovery_places() const { return collector::recovery_places(roar_dir()); }
    // The built-in redaction rules plus roar.toml's redact.extra_patterns
    // (checked when the config was loaded).
    collector::Redactor redactor() const;

    // Opens the lineage store for `access`, or throws FatalError with the
    // reason. Opening for writing first imports records saved earlier when
    // storing failed (unless `import_saved` is false), saying so on stderr.
    collector::Store open_store(collector::Access access, bool import_saved = true) const;

    // `dir`'s name as a shared store's project name: lower-case letters,
    // digits and '_' (what PostgreSQL schema names take unquoted).
    static std::string default_project_name(const std::filesystem::path& dir);
    // The file of a password given in `roar init --store` (pgpass format,
    // readable by this user only); libpq reads it when it exists.
    std::filesystem::path pgpass_path() const { return roar_dir() / "pgpass"; }

    // `path` shown relative to the project root when it lies inside it,
    // escaped for a terminal (collector::escaped_text: "a\xff").
    std::string display_path(const std::string& path) const;
    // display_path() for text views: control characters escaped (printable()).
    std::string shown_path(const std::string& path) const;

private:
    Project(std::filesystem::path root, Config config) : m_root(std::move(root)), m_config(std::move(config)) { }
    std::filesystem::path m_root;
    Config m_config;
};

} // namespace roar::cli
