// The store on its SQLite engine, as tools and tests that look inside
// .roar/roar.db see it: a Store that can also hand out the raw connection
// and run SQL. roar's commands never use this; they open a Store
// (store/store.hpp) and ask it typed questions.
#pragma once

#include "roar/collector/store/sqlite_engine.hpp"
#include "roar/collector/store/step_matching.hpp"
#include "roar/collector/store/store.hpp"

#include <filesystem>
#include <string_view>

namespace roar::collector {

using Statement = SqliteStatement;

class Database : public Store {
public:
    // Creates a new database at `path` (which must not exist).
    static Result<Database> create(const std::filesystem::path& path);
    // Opens `path` for writing, migrating it forward (see SqliteEngine::open).
    static Result<Database> open(const std::filesystem::path& path);
    // Opens `path` for reading only.
    static Result<Database> open_read_only(const std::filesystem::path& path);

    // The raw connection, for tests of the on-disk format.
    sqlite3* handle() const;
    // Runs `sql` (no results), throwing FatalError on failure.
    void exec(std::string_view sql);

private:
    explicit Database(Store&& store) : Store(std::move(store)) { }
};

} // namespace roar::collector
