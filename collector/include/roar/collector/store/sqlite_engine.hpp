// The SQLite engine of the store: .roar/roar.db in WAL mode, its schema
// version (PRAGMA user_version) and forward migrations, and read-only
// connections for readers (including a read-only .roar, where SQLite
// cannot create the WAL index and the file is read as immutable).
#pragma once

#include "roar/collector/store/engine.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <sys/types.h>

namespace roar::collector {

// The page cache of every connection, in KiB: it holds a job of 100,000
// inputs' write transaction without spilling pages to the WAL twice, and a
// large history's indexes while it is read.
constexpr int64_t k_page_cache_kib = 64 * 1024;
// A write transaction of at least this many rows outgrows that cache and
// spills to the WAL either way: it gets a smaller one (prepare_write). Half
// the size: a smaller one costs more time than it saves memory (a first run
// of a job with a million inputs: 16 MiB, 12% slower; 32 MiB, 5%).
constexpr size_t k_large_write_rows = 250000;
constexpr int64_t k_large_write_cache_kib = 32 * 1024;

// The schema version this build writes; older databases are migrated
// forward by writers, newer ones are refused.
inline constexpr int k_schema_version = 10;

// SqlStatement over sqlite3_stmt. Also usable on a raw handle, which only
// tests of the on-disk format do.
class SqliteStatement final : public SqlStatement {
public:
    SqliteStatement(sqlite3* db, std::string_view sql);
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;
    ~SqliteStatement() override;

    using SqlStatement::bind;
    SqliteStatement& bind(int index, int64_t value) override;
    SqliteStatement& bind(int index, double value) override;
    SqliteStatement& bind(int index, std::string_view value) override;
    SqliteStatement& bind(int index, std::nullopt_t) override;

    bool step() override;
    int64_t changes() const override;
    void reset() override;

    int64_t column_int(int index) const override;
    double column_double(int index) const override;
    std::string_view column_view(int index) const override;
    bool column_is_null(int index) const override;

private:
    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

class SqliteEngine final : public StoreEngine {
public:
    // Creates a new database at `path` (which must not exist) with the
    // current schema, open for writing.
    static Result<std::unique_ptr<SqliteEngine>> create(const std::filesystem::path& path);

    // Opens the existing database at `path`. Never creates or overwrites a
    // file: a missing, unreadable or corrupt file is an error that says so
    // and leaves it untouched. For `Access::write` the file and its
    // directory must be writable (the error says a writer needs that), and
    // an older schema is migrated; for `Access::read` the file is opened
    // read-only and an older schema is left as it is (see schema_version()).
    static Result<std::unique_ptr<SqliteEngine>> open(const std::filesystem::path& path, Access access);

    // Opens `path` for writing, creating it when missing, for a component
    // that keeps its own tables and schema version in it (the gateway's
    // metadata): WAL mode and the store's lock wait, but no lineage schema
    // and no user_version check.
    static Result<std::unique_ptr<SqliteEngine>> open_component(const std::filesystem::path& path);

    SqliteEngine(const SqliteEngine&) = delete;
    SqliteEngine& operator=(const SqliteEngine&) = delete;
    ~SqliteEngine() override;

    // The raw connection: for the second reader and for tests of the file.
    sqlite3* handle() const { return m_db; }
    const std::filesystem::path& path() const { return m_path; }
    // The file's schema version: k_schema_version, or older for a reader
    // (which never migrates; 0 is a file no roar has written yet).
    int schema_version() const { return m_schema_version; }

    std::string describe() const override { return m_path.string(); }
    Access access() const override { return m_access; }
    Dialect dialect() const override { return Dialect::sqlite; }
    std::unique_ptr<SqlStatement> prepare(std::string_view sql) override;
    void exec(std::string_view sql) override;
    void begin_write() override;
    void begin_read() override;
    void commit() override;
    void rollback() noexcept override;
    bool in_transaction() const override;
    int64_t last_insert_id() override;
    void set_lock_wait(std::chrono::milliseconds wait) override;
    void prepare_bulk_read() override;
    void prepare_write(size_t rows) override;
    void begin_write_of_own_references() override;
    void release_memory() override;
    Result<std::unique_ptr<StoreEngine>> open_reader() const override;
    std::string moved() const override;

private:
    SqliteEngine(sqlite3* db, std::filesystem::path path, Access access, bool immutable);
    Result<void> check_and_migrate();
    Result<void> probe_read_only();
    // Runs one of the transaction statements, prepared on first use and
    // kept (a lookup that begins and commits a snapshot pays no parsing).
    void run_kept(sqlite3_stmt*& kept, const char* sql);
    // Foreign keys checked again after begin_write_of_own_references().
    void check_references_again() noexcept;

    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_begin_read = nullptr;
    sqlite3_stmt* m_begin_write = nullptr;
    sqlite3_stmt* m_commit = nullptr;
    sqlite3_stmt* m_references_off = nullptr;
    sqlite3_stmt* m_references_on = nullptr;
    bool m_references_unchecked = false; // in a begin_write_of_own_references() transaction
    std::filesystem::path m_path;
    Access m_access;
    bool m_immutable = false; // read-only .roar: no locks, no WAL index
    int m_schema_version = 0;
    int64_t m_cache_kib = 0; // the page cache's size prepare_write set (0: none yet)
    dev_t m_device = 0;      // the file opened, to notice it deleted or replaced
    ino_t m_inode = 0;
};

} // namespace roar::collector
