// A roar project: the directory holding .roar/ (found by walking up from
// the current directory), its database and its roar.toml.
#pragma once

#include "config.hpp"

#include "roar/collector/database.hpp"
#include "roar/collector/result.hpp"

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

    // Opens the database, or throws FatalError with the reason.
    collector::Database open_database() const;

    // `path` shown relative to the project root when it lies inside it.
    std::string display_path(const std::string& path) const;

private:
    Project(std::filesystem::path root, Config config) : m_root(std::move(root)), m_config(std::move(config)) { }
    std::filesystem::path m_root;
    Config m_config;
};

// One read transaction over `db` for as long as it lives: every query of a
// command then sees the same snapshot (a job finishing meanwhile does not
// show up half-way), and SQLite takes its shared lock once instead of once
// per statement, which is most of the cost of many small lookups.
class ReadSnapshot {
public:
    explicit ReadSnapshot(collector::Database& db);
    ~ReadSnapshot();
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

private:
    sqlite3* m_db;
};

} // namespace roar::cli
