// Database: the SQLite-engine view of a Store (see database.hpp).
#include "roar/collector/database.hpp"

namespace roar::collector {

Result<Database> Database::create(const std::filesystem::path& path)
{
    auto store = Store::create({path});
    if (!store) {
        return tl::unexpected(store.error());
    }
    return Database(std::move(*store));
}

Result<Database> Database::open(const std::filesystem::path& path)
{
    auto store = Store::open({path}, Access::write);
    if (!store) {
        return tl::unexpected(store.error());
    }
    return Database(std::move(*store));
}

Result<Database> Database::open_read_only(const std::filesystem::path& path)
{
    auto store = Store::open({path}, Access::read);
    if (!store) {
        return tl::unexpected(store.error());
    }
    return Database(std::move(*store));
}

sqlite3* Database::handle() const { return static_cast<SqliteEngine&>(engine()).handle(); }

void Database::exec(std::string_view sql) { engine().exec(sql); }

} // namespace roar::collector
