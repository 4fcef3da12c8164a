// The SQLite engine (see sqlite_engine.hpp): connections, statements, and
// how a writer and a reader open the file. The schema itself is in
// sqlite_schema.cpp.
#include "roar/collector/store/sqlite_engine.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace roar::collector {

// sqlite_schema.cpp: brings the database on `db` to k_schema_version.
Result<void> migrate_sqlite(sqlite3* db, const fs::path& path, int from_version);

namespace {

std::string sqlite_message(sqlite3* db) { return db ? sqlite3_errmsg(db) : "out of memory"; }

// Every reader's connection settings: query_only, so that a reader cannot
// write even by mistake.
std::string reader_settings()
{
    return fmt::format("PRAGMA query_only=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-{}", k_page_cache_kib);
}

// `path` as an SQLite URI with `query` ("mode=ro", "immutable=1").
std::string file_uri(const fs::path& path, const char* query)
{
    std::string uri = "file:";
    for (const char c : fs::absolute(path).string()) {
        if (c == '%' || c == '?' || c == '#') {
            uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
        } else {
            uri += c;
        }
    }
    return uri + "?" + query;
}

Result<sqlite3*> open_handle(const std::string& name, int flags)
{
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = sqlite_message(db);
        sqlite3_close(db);
        return fail("{}", msg);
    }
    sqlite3_busy_timeout(db, int(k_store_lock_wait.count()));
    sqlite3_extended_result_codes(db, 1);
    return db;
}

// PRAGMA user_version, or the SQLite result code that prevented reading it.
struct VersionProbe {
    int rc = SQLITE_OK;
    int version = -1;
};
VersionProbe read_version(sqlite3* db)
{
    sqlite3_stmt* probe = nullptr;
    VersionProbe out;
    out.rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &probe, nullptr);
    if (out.rc == SQLITE_OK) {
        out.rc = sqlite3_step(probe);
        if (out.rc == SQLITE_ROW) {
            out.version = sqlite3_column_int(probe, 0);
            out.rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(probe);
    return out;
}

std::string unreadable(const fs::path& path, sqlite3* db)
{
    return fmt::format("{} is not a readable roar database ({}); it was left untouched: restore it from a backup, "
                       "or move it away and run 'roar init'",
                       path.string(), sqlite_message(db));
}

} // namespace

// ---------------------------------------------------------- SqliteStatement

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql) : m_db(db)
{
    if (sqlite3_prepare_v2(db, sql.data(), int(sql.size()), &m_stmt, nullptr) != SQLITE_OK) {
        throw FatalError(fmt::format("database error: {} (in: {})", sqlite_message(db), sql.substr(0, 80)));
    }
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(m_stmt); }

SqliteStatement& SqliteStatement::bind(int index, int64_t value)
{
    sqlite3_bind_int64(m_stmt, index, value);
    return *this;
}
SqliteStatement& SqliteStatement::bind(int index, double value)
{
    sqlite3_bind_double(m_stmt, index, value);
    return *this;
}
SqliteStatement& SqliteStatement::bind(int index, std::string_view value)
{
    sqlite3_bind_text(m_stmt, index, value.data(), int(value.size()), SQLITE_TRANSIENT);
    return *this;
}
SqliteStatement& SqliteStatement::bind(int index, std::nullopt_t)
{
    sqlite3_bind_null(m_stmt, index);
    return *this;
}

bool SqliteStatement::step()
{
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    throw FatalError(fmt::format("database error: {}", sqlite_message(m_db)));
}

int64_t SqliteStatement::changes() const { return sqlite3_changes64(m_db); }

void SqliteStatement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

int64_t SqliteStatement::column_int(int index) const { return sqlite3_column_int64(m_stmt, index); }
double SqliteStatement::column_double(int index) const { return sqlite3_column_double(m_stmt, index); }
std::string_view SqliteStatement::column_view(int index) const
{
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, index));
    return text ? std::string_view(text, size_t(sqlite3_column_bytes(m_stmt, index))) : std::string_view();
}
bool SqliteStatement::column_is_null(int index) const { return sqlite3_column_type(m_stmt, index) == SQLITE_NULL; }

// ------------------------------------------------------------- SqliteEngine

SqliteEngine::SqliteEngine(sqlite3* db, fs::path path, Access access, bool immutable)
    : m_db(db), m_path(std::move(path)), m_access(access), m_immutable(immutable)
{
    struct stat st;
    if (::stat(m_path.c_str(), &st) == 0) {
        m_device = st.st_dev;
        m_inode = st.st_ino;
    }
}

SqliteEngine::~SqliteEngine()
{
    sqlite3_finalize(m_begin_read);
    sqlite3_finalize(m_begin_write);
    sqlite3_finalize(m_commit);
    sqlite3_finalize(m_references_off);
    sqlite3_finalize(m_references_on);
    sqlite3_close_v2(m_db);
}

Result<std::unique_ptr<SqliteEngine>> SqliteEngine::create(const fs::path& path)
{
    std::error_code ec;
    if (fs::exists(path, ec)) {
        return fail("{} already exists; refusing to overwrite it", path.string());
    }
    auto handle = open_handle(path.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!handle) {
        return fail("cannot open {}: {}", path.string(), handle.error().message);
    }
    std::unique_ptr<SqliteEngine> engine(new SqliteEngine(*handle, path, Access::write, false));
    if (auto migrated = engine->check_and_migrate(); !migrated) {
        return tl::unexpected(migrated.error());
    }
    return engine;
}

Result<std::unique_ptr<SqliteEngine>> SqliteEngine::open_component(const fs::path& path)
{
    auto handle = open_handle(path.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (!handle) {
        return fail("cannot open {}: {}", path.string(), handle.error().message);
    }
    std::unique_ptr<SqliteEngine> engine(new SqliteEngine(*handle, path, Access::write, false));
    try {
        engine->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
    } catch (const FatalError& e) {
        return fail("cannot use {}: {}", path.string(), e.what());
    }
    return engine;
}

Result<std::unique_ptr<SqliteEngine>> SqliteEngine::open(const fs::path& path, Access access)
{
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        return fail("{} is missing (run 'roar init' to create a project here)", path.string());
    }
    if (access == Access::write) {
        auto handle = open_handle(path.string(), SQLITE_OPEN_READWRITE);
        if (!handle) {
            return fail("cannot open {}: {} (check its permissions; it was left untouched)", path.string(),
                        handle.error().message);
        }
        std::unique_ptr<SqliteEngine> engine(new SqliteEngine(*handle, path, Access::write, false));
        // SQLite opens a file it may not write read-only without a word;
        // the WAL beside it needs a writable directory.
        const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
        if (sqlite3_db_readonly(engine->m_db, "main") == 1 || ::access(dir.c_str(), W_OK | X_OK) != 0) {
            return fail("cannot record into {}: it is read-only for this user (recording needs write access to it "
                        "and to {}; 'roar log', 'show', 'dag' and 'status' only read it and work as they are)",
                        path.string(), dir.string());
        }
        if (auto migrated = engine->check_and_migrate(); !migrated) {
            return tl::unexpected(migrated.error());
        }
        return engine;
    }
    auto handle = open_handle(file_uri(path, "mode=ro"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
    if (!handle) {
        return fail("cannot open {}: {} (check its permissions; it was left untouched)", path.string(),
                    handle.error().message);
    }
    std::unique_ptr<SqliteEngine> engine(new SqliteEngine(*handle, path, Access::read, false));
    if (auto probed = engine->probe_read_only(); !probed) {
        return tl::unexpected(probed.error());
    }
    return engine;
}

Result<void> SqliteEngine::probe_read_only()
{
    VersionProbe probe = read_version(m_db);
    const int primary = probe.rc & 0xff;
    std::error_code ec;
    if ((primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN) && !fs::exists(m_path.string() + "-wal", ec)) {
        // A WAL database whose directory this user cannot write: SQLite
        // cannot create the shared WAL index. With no WAL file, everything
        // committed is in the main file, which is then read as immutable.
        auto handle = open_handle(file_uri(m_path, "immutable=1"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
        if (handle) {
            sqlite3_close_v2(m_db);
            m_db = *handle;
            m_immutable = true;
            probe = read_version(m_db);
        }
    }
    if (probe.rc != SQLITE_OK || probe.version < 0) {
        return tl::unexpected(Error{unreadable(m_path, m_db)});
    }
    if (probe.version > k_schema_version) {
        return fail("{} has schema version {}, newer than this roar understands ({}); upgrade roar", m_path.string(),
                    probe.version, k_schema_version);
    }
    if (probe.version == 0) {
        SqliteStatement tables(m_db, "SELECT count(*) FROM sqlite_master");
        tables.step();
        if (tables.column_int(0) != 0) {
            return fail("{} is a SQLite file but not a roar database; it was left untouched", m_path.string());
        }
    }
    m_schema_version = probe.version;
    exec(reader_settings());
    return {};
}

Result<void> SqliteEngine::check_and_migrate()
{
    // The first read tells a corrupt or foreign file apart from a database.
    const VersionProbe probe = read_version(m_db);
    if (probe.rc != SQLITE_OK || probe.version < 0) {
        return tl::unexpected(Error{unreadable(m_path, m_db)});
    }
    if (probe.version > k_schema_version) {
        return fail("{} has schema version {}, newer than this roar understands ({}); upgrade roar", m_path.string(),
                    probe.version, k_schema_version);
    }
    if (probe.version == 0) {
        // Version 0 is a brand-new file, or something that is not ours.
        SqliteStatement tables(m_db, "SELECT count(*) FROM sqlite_master");
        tables.step();
        if (tables.column_int(0) != 0) {
            return fail("{} is a SQLite file but not a roar database; it was left untouched", m_path.string());
        }
    }
    if (auto migrated = migrate_sqlite(m_db, m_path, probe.version); !migrated) {
        return migrated;
    }
    m_schema_version = k_schema_version;
    return {};
}

std::unique_ptr<SqlStatement> SqliteEngine::prepare(std::string_view sql)
{
    return std::make_unique<SqliteStatement>(m_db, sql);
}

void SqliteEngine::exec(std::string_view sql)
{
    char* err = nullptr;
    if (sqlite3_exec(m_db, std::string(sql).c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : sqlite_message(m_db);
        sqlite3_free(err);
        throw FatalError(fmt::format("database error: {}", msg));
    }
}

void SqliteEngine::run_kept(sqlite3_stmt*& kept, const char* sql)
{
    if (!kept && sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &kept, nullptr) != SQLITE_OK) {
        throw FatalError(fmt::format("database error: {}", sqlite_message(m_db)));
    }
    const int rc = sqlite3_step(kept);
    if (rc != SQLITE_DONE) {
        std::string msg = sqlite_message(m_db);
        sqlite3_reset(kept);
        throw FatalError(fmt::format("database error: {}", msg));
    }
    sqlite3_reset(kept);
}

void SqliteEngine::begin_write() { run_kept(m_begin_write, "BEGIN IMMEDIATE"); }
void SqliteEngine::begin_read() { run_kept(m_begin_read, "BEGIN DEFERRED"); }
void SqliteEngine::commit()
{
    run_kept(m_commit, "COMMIT");
    check_references_again();
}

void SqliteEngine::rollback() noexcept
{
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    check_references_again();
}

void SqliteEngine::begin_write_of_own_references()
{
    // The setting is ignored inside a transaction: it changes before BEGIN
    // and after COMMIT or ROLLBACK.
    run_kept(m_references_off, "PRAGMA foreign_keys = OFF");
    m_references_unchecked = true;
    try {
        begin_write();
    } catch (...) {
        check_references_again();
        throw;
    }
}

void SqliteEngine::check_references_again() noexcept
{
    if (!m_references_unchecked || !sqlite3_get_autocommit(m_db)) {
        return;
    }
    try {
        run_kept(m_references_on, "PRAGMA foreign_keys = ON");
        m_references_unchecked = false;
    } catch (const FatalError&) {
        // Left off until the next commit or rollback tries again; a
        // connection that cannot run a PRAGMA fails its next write too.
    }
}

bool SqliteEngine::in_transaction() const { return sqlite3_get_autocommit(m_db) == 0; }
int64_t SqliteEngine::last_insert_id() { return sqlite3_last_insert_rowid(m_db); }

void SqliteEngine::set_lock_wait(std::chrono::milliseconds wait) { sqlite3_busy_timeout(m_db, int(wait.count())); }

void SqliteEngine::prepare_bulk_read()
{
    // Reading a large history through the page cache's mapping saves
    // copying every page (a quarter of the time at 1M job_io rows). Only
    // address space: SQLite maps what it reads, up to this size.
    sqlite3_exec(m_db, "PRAGMA mmap_size = 4294967296", nullptr, nullptr, nullptr);
}

void SqliteEngine::prepare_write(size_t rows)
{
    // A job of a million inputs: 38 MiB less at its peak (row 1d in
    // docs/benchmarks.md), for 5% more time when its artifacts are new.
    const int64_t kib = rows >= k_large_write_rows ? k_large_write_cache_kib : k_page_cache_kib;
    if (kib != m_cache_kib) {
        exec(fmt::format("PRAGMA cache_size=-{}", kib));
        m_cache_kib = kib;
    }
}

void SqliteEngine::release_memory() { sqlite3_db_release_memory(m_db); }

Result<std::unique_ptr<StoreEngine>> SqliteEngine::open_reader() const
{
    auto handle =
        open_handle(file_uri(m_path, m_immutable ? "immutable=1" : "mode=ro"), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
    if (!handle) {
        return fail("cannot open {} a second time: {}", m_path.string(), handle.error().message);
    }
    std::unique_ptr<SqliteEngine> reader(new SqliteEngine(*handle, m_path, Access::read, m_immutable));
    reader->m_schema_version = m_schema_version;
    reader->exec(reader_settings());
    return std::unique_ptr<StoreEngine>(std::move(reader));
}

std::string SqliteEngine::moved() const
{
    struct stat st;
    if (::stat(m_path.c_str(), &st) != 0) {
        return fmt::format("{} was deleted", m_path.string());
    }
    if (st.st_dev != m_device || st.st_ino != m_inode) {
        return fmt::format("{} was replaced by another file", m_path.string());
    }
    return {};
}

} // namespace roar::collector
