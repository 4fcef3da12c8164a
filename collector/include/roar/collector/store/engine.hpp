// The engine layer under the store: one connection to one database engine
// (SQLite or PostgreSQL), prepared statements with positional parameters written
// ?1, ?2 ... (an engine with other placeholders rewrites them when
// preparing), transactions, and the few operations where engines truly
// differ. The store's queries (store.hpp) are written once against this;
// adding an engine means implementing StoreEngine and SqlStatement.
#pragma once

#include "roar/collector/result.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace roar::collector {

// How long a connection waits for another's write lock: a job's write
// queues behind concurrent `roar run`s rather than failing.
inline constexpr std::chrono::milliseconds k_store_lock_wait{60000};

// Whether a store is opened to record (run, reset, import) or only to read
// (show, log, dag, status). A reader never writes: no migration, no
// journal-mode switch, no hash-cache entries.
enum class Access { read, write };

// The SQL spelling an engine understands, for the few statements whose
// text differs between engines.
enum class Dialect { sqlite, postgresql };

// One statement's text per dialect; `postgresql` is null when the SQLite
// text is standard enough for both.
struct DialectSql {
    const char* sqlite;
    const char* postgresql = nullptr;
    const char* text(Dialect dialect) const
    {
        return dialect == Dialect::postgresql && postgresql ? postgresql : sqlite;
    }
};

// A prepared statement: positional binds (1-based) and typed columns
// (0-based). Throws FatalError on engine errors: those are bugs or a
// broken database, not conditions a caller can handle.
class SqlStatement {
public:
    virtual ~SqlStatement() = default;

    virtual SqlStatement& bind(int index, int64_t value) = 0;
    virtual SqlStatement& bind(int index, double value) = 0;
    virtual SqlStatement& bind(int index, std::string_view value) = 0;
    virtual SqlStatement& bind(int index, std::nullopt_t) = 0;
    SqlStatement& bind(int index, const std::optional<int64_t>& value)
    {
        return value ? bind(index, *value) : bind(index, std::nullopt);
    }
    SqlStatement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    SqlStatement& bind(int index, int value) { return bind(index, int64_t(value)); }
    SqlStatement& bind(int index, uint64_t value) { return bind(index, int64_t(value)); }

    virtual bool step() = 0; // true while a row is available
    // The rows an INSERT, UPDATE or DELETE changed, once step() has run it.
    virtual int64_t changes() const = 0;
    void run() // steps to completion
    {
        while (step()) {
        }
    }
    virtual void reset() = 0; // ready to run again, binds cleared

    virtual int64_t column_int(int index) const = 0;
    virtual double column_double(int index) const = 0;
    // The text of a column without copying; valid until the next step().
    virtual std::string_view column_view(int index) const = 0;
    std::string column_text(int index) const { return std::string(column_view(index)); }
    virtual bool column_is_null(int index) const = 0;
    std::optional<int64_t> column_opt_int(int index) const
    {
        return column_is_null(index) ? std::nullopt : std::optional<int64_t>(column_int(index));
    }
};

// Rows appended to one table as one stream (PostgreSQL's COPY), for
// writers whose rows cannot conflict with stored ones: bind a row's
// columns (1-based, as for a statement), then end_row(); finish() ends the
// stream. step() is not available. Throws FatalError on engine errors.
class RowStream : public SqlStatement {
public:
    virtual void end_row() = 0;
    virtual void finish() = 0;

    bool step() override { throw FatalError("internal error: step() on a row stream"); }
    void reset() override { }
    int64_t column_int(int) const override { return no_columns(); }
    double column_double(int) const override { return double(no_columns()); }
    std::string_view column_view(int) const override { return (void)no_columns(), std::string_view(); }
    bool column_is_null(int) const override { return no_columns() != 0; }
    int64_t changes() const override { return m_rows; }

protected:
    int64_t m_rows = 0; // rows ended so far

private:
    [[noreturn]] static int64_t no_columns() { throw FatalError("internal error: a row stream has no columns"); }
};

// One connection to a store's database. Methods throw FatalError on
// engine errors unless they return a Result.
class StoreEngine {
public:
    virtual ~StoreEngine() = default;

    // The database as messages name it: a path, or a URL without password.
    virtual std::string describe() const = 0;
    virtual Access access() const = 0;
    virtual Dialect dialect() const = 0;

    // A statement for `sql` (placeholders ?1, ?2 ...).
    virtual std::unique_ptr<SqlStatement> prepare(std::string_view sql) = 0;
    // A statement for a long read (one SELECT, placeholders as for
    // prepare) whose rows are handed over as they arrive rather than once
    // the whole result is in; no other statement may run on this
    // connection until its last row has been stepped to or it is reset.
    virtual std::unique_ptr<SqlStatement> prepare_scan(std::string_view sql) { return prepare(sql); }
    // Runs `sql` (one or more statements, no results).
    virtual void exec(std::string_view sql) = 0;

    // begin_write takes the write lock at once, so concurrent writers
    // queue instead of failing half-way; begin_read starts one snapshot
    // that every read until commit() sees.
    virtual void begin_write() = 0;
    virtual void begin_read() = 0;
    virtual void commit() = 0;
    virtual void rollback() noexcept = 0;
    virtual bool in_transaction() const = 0;
    // The row id the last INSERT on this connection created.
    virtual int64_t last_insert_id() = 0;
    // How long to wait for another connection's write lock before failing.
    virtual void set_lock_wait(std::chrono::milliseconds wait) = 0;

    // --- Where engines differ ---

    // A stream of rows into `table_columns` ("job_io (job_id, path)") in
    // this transaction; null when the engine has none (SQLite, where a
    // prepared multi-row INSERT costs no round trip).
    virtual std::unique_ptr<RowStream> stream_rows(std::string_view /*table_columns*/) { return nullptr; }
    // Large reads follow (SQLite maps the file instead of copying pages).
    virtual void prepare_bulk_read() { }
    // A write transaction of about `rows` rows follows: the engine sizes
    // what it keeps of it in memory (SQLite's page cache, which a very
    // large job's transaction outgrows and spills to the WAL either way).
    virtual void prepare_write(size_t /*rows*/) { }
    // begin_write() for a transaction whose rows reference only rows the
    // writer found or wrote inside it (a job's rows: its own id, the paths
    // it interned, the artifacts it found or made): the engine may leave
    // those references unchecked row by row, and checks again once the
    // transaction ends, committed or not. SQLite's foreign-key checks were
    // a tenth of storing a job of 100,000 new inputs (docs/benchmarks.md,
    // session 30); PostgreSQL checks them regardless.
    virtual void begin_write_of_own_references() { begin_write(); }
    // Gives back the memory of pages this connection keeps cached but is
    // not using (SQLite's page cache after a commit); the next statements
    // read those pages again.
    virtual void release_memory() { }
    // Another read-only connection to the same database, for reading one
    // scan on two threads; null when the engine has no use for one. An
    // engine that can share a snapshot (PostgreSQL) opens it inside this
    // connection's read transaction, if one is open (in_transaction() is
    // then true on it); otherwise the caller begins its own.
    virtual Result<std::unique_ptr<StoreEngine>> open_reader() const { return std::unique_ptr<StoreEngine>(); }
    // "" while this connection still reaches the database at its location;
    // otherwise what happened to it ("... was deleted", "... was replaced").
    virtual std::string moved() const { return {}; }
};

} // namespace roar::collector
