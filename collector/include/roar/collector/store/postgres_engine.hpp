// The PostgreSQL engine of the store, for a team whose jobs run on many
// machines: one libpq connection to a shared server, each project in a
// schema of its own (roar_<name>), created and migrated under an advisory
// lock, writers serialised by a per-project advisory lock (what SQLite's
// BEGIN IMMEDIATE gives on a laptop), readers in read-only REPEATABLE READ
// snapshots. Credentials come from the URL, PGPASSFILE/~/.pgpass or the
// PG* environment (libpq reads them); no message ever shows a password.
#pragma once

#include "roar/collector/store/engine.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

struct pg_conn;
struct pg_result;

namespace roar::collector {

// The schema version this build writes into a project's PostgreSQL schema.
inline constexpr int k_postgres_schema_version = 6;

// Whether `url` names a PostgreSQL store (postgresql:// or postgres://).
bool is_postgres_url(std::string_view url);

// `url` with any password replaced by "***", for messages.
std::string redact_store_url(std::string_view url);

// `url` without its password (what roar.toml may hold), and the password
// ("" when there is none), as percent-decoded text and as the URL writes it.
struct SplitStoreUrl {
    std::string url;
    std::string password;
    std::string written_password; // before percent-decoding (what a parser's message may quote)
};
SplitStoreUrl split_store_url_password(std::string_view url);

// The PostgreSQL schema holding project `name`, or an error when the name
// is not 1 to 48 of [a-z0-9_].
Result<std::string> postgres_schema_for(std::string_view name);

// SqlStatement over libpq: text parameters ($1, $2 ... rewritten from
// ?1, ?2 ...), run on the first step(), rows read from the whole result.
class PostgresStatement final : public SqlStatement {
public:
    PostgresStatement(pg_conn* conn, std::string sql);
    PostgresStatement(const PostgresStatement&) = delete;
    PostgresStatement& operator=(const PostgresStatement&) = delete;
    ~PostgresStatement() override;

    using SqlStatement::bind;
    PostgresStatement& bind(int index, int64_t value) override;
    PostgresStatement& bind(int index, double value) override;
    PostgresStatement& bind(int index, std::string_view value) override;
    PostgresStatement& bind(int index, std::nullopt_t) override;

    bool step() override;
    int64_t changes() const override;
    void reset() override;

    int64_t column_int(int index) const override;
    double column_double(int index) const override;
    std::string_view column_view(int index) const override;
    bool column_is_null(int index) const override;

private:
    void set(int index, std::optional<std::string> value);

    pg_conn* m_conn;
    std::string m_sql;
    std::vector<std::optional<std::string>> m_params;
    pg_result* m_result = nullptr;
    int m_row = -1;
    // Cells stored as bytes that are not UTF-8, decoded (row * columns +
    // column -> bytes); node-based, so views of them stay valid.
    mutable std::unordered_map<int64_t, std::string> m_decoded;
};

class PostgresEngine final : public StoreEngine {
public:
    // Connects to `url` (reading passwords from `passfile` when given) and
    // opens project `project` (its schema) for `access`. With `create`, a missing project is created (writers
    // only); otherwise a missing project is an error saying how to make it.
    // Writers migrate an older schema under the project's advisory lock.
    static Result<std::unique_ptr<PostgresEngine>> open(const std::string& url, const std::string& project,
                                                        Access access, bool create = false,
                                                        const std::string& passfile = {});
    // Connects to `url` for a component that keeps its own tables and
    // schema version in PostgreSQL schema `schema` (the gateway's
    // metadata; 1 to 63 of [a-z0-9_], not roar_*, which are projects'),
    // creating the schema when missing. No project and no lineage schema;
    // begin_write() serialises writers on `schema` as for a project.
    static Result<std::unique_ptr<PostgresEngine>> open_component(const std::string& url, const std::string& schema,
                                                                  const std::string& passfile = {});
    // Whether project `project` exists on the server at `url`.
    static Result<bool> project_exists(const std::string& url, const std::string& project,
                                       const std::string& passfile = {});

    PostgresEngine(const PostgresEngine&) = delete;
    PostgresEngine& operator=(const PostgresEngine&) = delete;
    ~PostgresEngine() override;

    int schema_version() const { return m_schema_version; }

    std::string describe() const override;
    Access access() const override { return m_access; }
    Dialect dialect() const override { return Dialect::postgresql; }
    std::unique_ptr<SqlStatement> prepare(std::string_view sql) override;
    std::unique_ptr<SqlStatement> prepare_scan(std::string_view sql) override;
    void exec(std::string_view sql) override;
    std::unique_ptr<RowStream> stream_rows(std::string_view table_columns) override;
    // A second connection with this one's settings; inside a read
    // transaction, it is opened in the same snapshot (pg_export_snapshot).
    Result<std::unique_ptr<StoreEngine>> open_reader() const override;
    void begin_write() override;
    void begin_read() override;
    void commit() override;
    void rollback() noexcept override;
    bool in_transaction() const override { return m_in_transaction; }
    int64_t last_insert_id() override;
    void set_lock_wait(std::chrono::milliseconds wait) override;

private:
    PostgresEngine(pg_conn* conn, std::string url, std::string project, std::string schema, Access access);
    // Writers: brings the project schema to this roar's version (creating it
    // when `create`), then check_version.
    Result<void> check_and_migrate(bool create);
    // Whether this roar can use a project schema at `version` (0: none).
    Result<void> check_version(int version);
    // The statements that set up a session (search_path, lock_timeout,
    // read-only for readers), as one text.
    std::string session_settings() const;
    // Re-establishes a connection the server dropped (restarted between
    // jobs); throws FatalError when the server is still unreachable.
    void ensure_connected();
    void configure_session();

    pg_conn* m_conn = nullptr;
    std::string m_url; // without password
    std::string m_project;
    std::string m_schema;
    Access m_access;
    bool m_in_transaction = false;
    int m_schema_version = 0;
    std::chrono::milliseconds m_lock_wait = k_store_lock_wait;
};

// Turns ?1, ?2 ... placeholders (outside quotes) into $1, $2 ...
std::string postgres_placeholders(std::string_view sql);

} // namespace roar::collector
