// Finding the project and opening its pieces.
#include "project.hpp"

#include "roar/collector/path_resolver.hpp"

namespace fs = std::filesystem;

namespace roar::cli {

Project Project::find(const fs::path& start)
{
    std::error_code ec;
    for (fs::path dir = fs::absolute(start, ec); !dir.empty(); dir = dir.parent_path()) {
        if (fs::is_directory(dir / ".roar", ec)) {
            auto config = Config::load(dir / "roar.toml");
            if (!config) {
                throw FatalError(config.error().message);
            }
            return Project(dir, std::move(*config));
        }
        if (dir == dir.root_path()) {
            break;
        }
    }
    throw FatalError("no roar project here or in any parent directory (run 'roar init' first)");
}

collector::Database Project::open_database() const
{
    auto db = collector::Database::open(db_path());
    if (!db) {
        throw FatalError(db.error().message);
    }
    return std::move(*db);
}

std::string Project::display_path(const std::string& path) const
{
    const std::string root = m_root.string();
    if (collector::path_is_within(path, root) && path.size() > root.size()) {
        return path.substr(root.size() + 1);
    }
    return path;
}

ReadSnapshot::ReadSnapshot(collector::Database& db) : m_db(db.handle())
{
    // Deferred: the snapshot starts at the first read, and nothing is locked
    // for writers (WAL readers never block them).
    if (sqlite3_exec(m_db, "BEGIN DEFERRED", nullptr, nullptr, nullptr) != SQLITE_OK) {
        m_db = nullptr; // already in a transaction: queries simply run in that one
    }
}

ReadSnapshot::~ReadSnapshot()
{
    if (m_db) {
        sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr);
    }
}

} // namespace roar::cli
