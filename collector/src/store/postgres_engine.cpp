// The PostgreSQL engine (see postgres_engine.hpp): connecting, statements
// over libpq, transactions and the advisory locks. The schema itself is in
// postgres_schema.cpp.
#include "roar/collector/store/postgres_engine.hpp"

#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace roar::collector {

// postgres_schema.cpp: brings project schema `schema` to
// k_postgres_schema_version under its advisory lock (creating it when
// `create`); returns the version found (0: no such project).
Result<int> migrate_postgres(pg_conn* conn, const std::string& schema, bool create);
// postgres_schema.cpp: the version of project schema `schema` (0: none).
Result<int> postgres_schema_version(pg_conn* conn, const std::string& schema);

namespace {

// `msg` on one line: libpq's messages span several.
std::string one_line(std::string msg)
{
    std::string out;
    for (const char c : msg) {
        if (c == '\n' || c == '\t' || c == '\r') {
            if (!out.empty() && out.back() != ' ') {
                out += ' ';
            }
        } else {
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') {
        out.pop_back();
    }
    return out;
}

// A UTF8 database refuses text that is not UTF-8, yet a Linux path,
// argument or name may hold any byte but NUL. Such text is stored as this
// marker followed by the base64 of its bytes, and column_view() gives the
// bytes back, so both engines keep exactly what the job used. Text that
// already starts with the marker is encoded too, so reading back is never
// ambiguous (U+0001 starts no name anyone types). Exact comparisons still
// match (a lookup's parameter is encoded the same way); such paths sort
// first and match no prefix pattern.
constexpr std::string_view k_bytes_marker = "\x01"
                                            "b64:";

std::string stored_text(std::string_view value)
{
    if (is_utf8(value) && value.substr(0, k_bytes_marker.size()) != k_bytes_marker) {
        return std::string(value);
    }
    return std::string(k_bytes_marker) + base64_encode(value);
}

// A double as PostgreSQL reads it back exactly.
void append_double(std::string& out, double value)
{
    if (std::isinf(value)) {
        out += value > 0 ? "Infinity" : "-Infinity";
    } else {
        fmt::format_to(std::back_inserter(out), "{}", value); // shortest text that reads back exactly
    }
}

std::string connection_error(pg_conn* conn)
{
    std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
        msg.pop_back();
    }
    // libpq's messages span lines ("connection to server ... failed: ...").
    for (auto& c : msg) {
        if (c == '\n') {
            c = ' ';
        }
    }
    return msg;
}

// COPY ... FROM STDIN in the text format: fields split by tabs, rows by
// newlines, NULL as \N, and backslash, tab, newline and carriage return
// escaped. Text is stored as a bound parameter would be (stored_text), so
// a streamed row reads back like an inserted one. Rows are sent 64 KiB at
// a time; a stream abandoned by an exception is ended with an error, so
// the server drops its rows with the transaction.
class PostgresRowStream final : public RowStream {
public:
    PostgresRowStream(pg_conn* conn, const std::string& sql) : m_conn(conn)
    {
        pg_result* result = PQexec(conn, sql.c_str());
        const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
        const std::string msg = result ? PQresultErrorMessage(result) : "";
        PQclear(result);
        if (status != PGRES_COPY_IN) {
            throw FatalError(fmt::format("database error: {} (in: {})",
                                         msg.empty() ? connection_error(conn) : one_line(msg), sql.substr(0, 80)));
        }
        m_open = true;
    }
    PostgresRowStream(const PostgresRowStream&) = delete;
    PostgresRowStream& operator=(const PostgresRowStream&) = delete;
    ~PostgresRowStream() override
    {
        if (m_open) {
            PQputCopyEnd(m_conn, "abandoned");
            drain();
        }
    }

    using SqlStatement::bind;
    PostgresRowStream& bind(int index, int64_t value) override
    {
        Field& f = field(index);
        f.null = false;
        f.text.clear();
        fmt::format_to(std::back_inserter(f.text), "{}", value);
        return *this;
    }
    PostgresRowStream& bind(int index, double value) override
    {
        Field& f = field(index);
        f.null = false;
        f.text.clear();
        append_double(f.text, value);
        return *this;
    }
    PostgresRowStream& bind(int index, std::string_view value) override
    {
        Field& f = field(index);
        f.null = false;
        if (is_utf8(value) && value.substr(0, k_bytes_marker.size()) != k_bytes_marker) {
            f.text.assign(value);
        } else {
            f.text = stored_text(value);
        }
        return *this;
    }
    PostgresRowStream& bind(int index, std::nullopt_t) override
    {
        field(index).null = true;
        return *this;
    }

    void end_row() override
    {
        for (size_t i = 0; i < m_fields.size(); ++i) {
            if (i) {
                m_buffer += '\t';
            }
            Field& f = m_fields[i];
            if (f.null) {
                m_buffer += "\\N";
                continue;
            }
            for (const char c : f.text) {
                switch (c) {
                case '\\': m_buffer += "\\\\"; break;
                case '\t': m_buffer += "\\t"; break;
                case '\n': m_buffer += "\\n"; break;
                case '\r': m_buffer += "\\r"; break;
                default: m_buffer += c;
                }
            }
            f.null = true;
        }
        m_buffer += '\n';
        ++m_rows;
        if (m_buffer.size() >= k_chunk) {
            flush();
        }
    }

    void finish() override
    {
        flush();
        m_open = false;
        if (PQputCopyEnd(m_conn, nullptr) != 1) {
            throw FatalError(fmt::format("database error: {}", connection_error(m_conn)));
        }
        pg_result* result = PQgetResult(m_conn);
        const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
        const std::string msg = result ? PQresultErrorMessage(result) : "";
        PQclear(result);
        drain();
        if (status != PGRES_COMMAND_OK) {
            throw FatalError(
                fmt::format("database error: {} (in: COPY)", msg.empty() ? connection_error(m_conn) : one_line(msg)));
        }
    }

private:
    static constexpr size_t k_chunk = 64 * 1024;
    struct Field {
        bool null = true;
        std::string text;
    };

    Field& field(int index)
    {
        if (index < 1) {
            throw FatalError(fmt::format("internal error: column {} of a row stream", index));
        }
        if (m_fields.size() < size_t(index)) {
            m_fields.resize(size_t(index));
        }
        return m_fields[size_t(index) - 1];
    }
    void flush()
    {
        if (!m_buffer.empty() && PQputCopyData(m_conn, m_buffer.data(), int(m_buffer.size())) != 1) {
            throw FatalError(fmt::format("database error: {}", connection_error(m_conn)));
        }
        m_buffer.clear();
    }
    void drain()
    {
        while (pg_result* rest = PQgetResult(m_conn)) {
            PQclear(rest);
        }
    }

    pg_conn* m_conn;
    bool m_open = false;
    std::vector<Field> m_fields;
    std::string m_buffer;
};

} // namespace

std::string postgres_placeholders(std::string_view sql)
{
    std::string out;
    out.reserve(sql.size());
    char quote = 0;
    for (size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (quote) {
            quote = c == quote ? 0 : quote;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9') {
            out += '$';
            continue;
        }
        out += c;
    }
    return out;
}

// -------------------------------------------------------- PostgresStatement

PostgresStatement::PostgresStatement(pg_conn* conn, std::string sql) : m_conn(conn), m_sql(postgres_placeholders(sql))
{ }

PostgresStatement::~PostgresStatement() { PQclear(m_result); }

void PostgresStatement::set(int index, std::optional<std::string> value)
{
    if (index < 1) {
        throw FatalError(fmt::format("internal error: parameter {} of a statement", index));
    }
    if (m_params.size() < size_t(index)) {
        m_params.resize(size_t(index));
    }
    m_params[size_t(index) - 1] = std::move(value);
}

PostgresStatement& PostgresStatement::bind(int index, int64_t value)
{
    set(index, std::to_string(value));
    return *this;
}
PostgresStatement& PostgresStatement::bind(int index, double value)
{
    std::string text;
    append_double(text, value);
    set(index, std::move(text));
    return *this;
}
PostgresStatement& PostgresStatement::bind(int index, std::string_view value)
{
    set(index, stored_text(value));
    return *this;
}
PostgresStatement& PostgresStatement::bind(int index, std::nullopt_t)
{
    set(index, std::nullopt);
    return *this;
}

bool PostgresStatement::step()
{
    if (!m_result) {
        std::vector<const char*> values;
        values.reserve(m_params.size());
        for (const auto& p : m_params) {
            values.push_back(p ? p->c_str() : nullptr);
        }
        m_result = PQexecParams(m_conn, m_sql.c_str(), int(values.size()), nullptr, values.data(), nullptr, nullptr, 0);
        const ExecStatusType status = m_result ? PQresultStatus(m_result) : PGRES_FATAL_ERROR;
        if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
            const std::string msg = m_result ? PQresultErrorMessage(m_result) : connection_error(m_conn);
            PQclear(m_result);
            m_result = nullptr;
            throw FatalError(fmt::format("database error: {} (in: {})",
                                         msg.empty() ? connection_error(m_conn) : one_line(msg),
                                         one_line(m_sql.substr(0, 80))));
        }
        m_row = -1;
    }
    return ++m_row < PQntuples(m_result);
}

int64_t PostgresStatement::changes() const
{
    const char* text = m_result ? PQcmdTuples(m_result) : "";
    int64_t n = 0;
    std::from_chars(text, text + std::strlen(text), n);
    return n;
}

void PostgresStatement::reset()
{
    PQclear(m_result);
    m_result = nullptr;
    m_decoded.clear();
    m_row = -1;
    m_params.clear();
}

int64_t PostgresStatement::column_int(int index) const
{
    const std::string_view text = column_view(index);
    int64_t value = 0;
    if (text == "t" || text == "f") { // a boolean expression as a column
        return text == "t";
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) {
        if (!text.empty()) {
            // A double column read as an integer (SQLite truncates the same way).
            return int64_t(column_double(index));
        }
        return 0;
    }
    return value;
}

double PostgresStatement::column_double(int index) const
{
    const std::string_view text = column_view(index);
    if (text == "Infinity" || text == "-Infinity") {
        return text.front() == '-' ? -HUGE_VAL : HUGE_VAL;
    }
    double value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

std::string_view PostgresStatement::column_view(int index) const
{
    if (!m_result || m_row < 0 || m_row >= PQntuples(m_result) || index >= PQnfields(m_result)
        || PQgetisnull(m_result, m_row, index)) {
        return {};
    }
    const std::string_view text{PQgetvalue(m_result, m_row, index), size_t(PQgetlength(m_result, m_row, index))};
    if (text.substr(0, k_bytes_marker.size()) != k_bytes_marker) {
        return text;
    }
    // Decoded once per cell and kept until the result goes, as libpq keeps
    // the text of every row (callers may hold views of earlier rows).
    const int64_t cell = int64_t(m_row) * PQnfields(m_result) + index;
    auto it = m_decoded.find(cell);
    if (it == m_decoded.end()) {
        auto bytes = base64_decode(text.substr(k_bytes_marker.size()));
        it = m_decoded.emplace(cell, bytes ? std::move(*bytes) : std::string(text)).first;
    }
    return it->second;
}

bool PostgresStatement::column_is_null(int index) const
{
    return !m_result || m_row < 0 || m_row >= PQntuples(m_result) || PQgetisnull(m_result, m_row, index);
}

// ----------------------------------------------------------- PostgresEngine

namespace {

// Connects to `url`: libpq reads the password from the URL, PGPASSFILE or
// ~/.pgpass, and every other unset setting from the PG* environment.
Result<pg_conn*> connect(const std::string& url, const std::string& passfile)
{
    // Keywords before dbname are defaults the URL may override.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr, nullptr};
    const char* values[] = {"10", "roar", url.c_str(), nullptr, nullptr};
    if (!passfile.empty()) {
        keys[3] = "passfile";
        values[3] = passfile.c_str();
    }
    pg_conn* conn = PQconnectdbParams(keys, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        std::string msg = connection_error(conn);
        PQfinish(conn);
        return fail("cannot connect to the store {}: {}", redact_store_url(url), msg);
    }
    // The server's notices ("terminating connection ...") are not roar's output.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    return conn;
}

void run(pg_conn* conn, const std::string& sql)
{
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        std::string msg = r ? PQresultErrorMessage(r) : "";
        PQclear(r);
        throw FatalError(fmt::format("database error: {}", msg.empty() ? connection_error(conn) : one_line(msg)));
    }
    PQclear(r);
}

} // namespace

PostgresEngine::PostgresEngine(pg_conn* conn, std::string url, std::string project, std::string schema, Access access)
    : m_conn(conn), m_url(std::move(url)), m_project(std::move(project)), m_schema(std::move(schema)), m_access(access)
{ }

PostgresEngine::~PostgresEngine()
{
    if (m_in_transaction) {
        rollback();
    }
    PQfinish(m_conn);
}

Result<std::unique_ptr<PostgresEngine>> PostgresEngine::open(const std::string& url, const std::string& project,
                                                             Access access, bool create, const std::string& passfile)
{
    auto schema = postgres_schema_for(project);
    if (!schema) {
        return tl::unexpected(schema.error());
    }
    auto conn = connect(url, passfile);
    if (!conn) {
        return tl::unexpected(conn.error());
    }
    std::unique_ptr<PostgresEngine> engine(
        new PostgresEngine(*conn, split_store_url_password(url).url, project, *schema, access));
    if (auto checked = engine->check_and_migrate(create && access == Access::write); !checked) {
        return tl::unexpected(checked.error());
    }
    try {
        engine->configure_session();
    } catch (const FatalError& e) {
        return fail("cannot use the store {}: {}", engine->describe(), e.what());
    }
    return engine;
}

Result<std::unique_ptr<PostgresEngine>> PostgresEngine::open_component(const std::string& url,
                                                                       const std::string& schema,
                                                                       const std::string& passfile)
{
    const bool valid = !schema.empty() && schema.size() <= 63 && schema.rfind("roar_", 0) != 0
                       && std::all_of(schema.begin(), schema.end(), [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                          });
    if (!valid) {
        return fail("'{}' is not a schema a component may use (1 to 63 of [a-z0-9_], not starting roar_)", schema);
    }
    auto conn = connect(url, passfile);
    if (!conn) {
        return tl::unexpected(conn.error());
    }
    std::unique_ptr<PostgresEngine> engine(
        new PostgresEngine(*conn, split_store_url_password(url).url, "", schema, Access::write));
    try {
        // Two instances starting at once: the lock makes one create it.
        run(engine->m_conn, "BEGIN");
        run(engine->m_conn, fmt::format("SELECT pg_advisory_xact_lock(hashtext('{}'))", schema));
        run(engine->m_conn, fmt::format("CREATE SCHEMA IF NOT EXISTS {}", schema));
        run(engine->m_conn, "COMMIT");
        engine->configure_session();
    } catch (const FatalError& e) {
        return fail("cannot use schema {} of {}: {}", schema, engine->describe(), e.what());
    }
    return engine;
}

Result<bool> PostgresEngine::project_exists(const std::string& url, const std::string& project,
                                            const std::string& passfile)
{
    auto schema = postgres_schema_for(project);
    if (!schema) {
        return tl::unexpected(schema.error());
    }
    auto conn = connect(url, passfile);
    if (!conn) {
        return tl::unexpected(conn.error());
    }
    auto version = postgres_schema_version(*conn, *schema);
    PQfinish(*conn);
    if (!version) {
        return tl::unexpected(version.error());
    }
    return *version > 0;
}

Result<void> PostgresEngine::check_and_migrate(bool create)
{
    auto version = m_access == Access::write ? migrate_postgres(m_conn, m_schema, create)
                                             : postgres_schema_version(m_conn, m_schema);
    if (!version) {
        return fail("cannot use the store {}: {}", describe(), version.error().message);
    }
    if (*version == 0) {
        return fail("the store {} has no project '{}' (run 'roar init --store URL --join {}' to create it)", m_url,
                    m_project, m_project);
    }
    if (*version > k_postgres_schema_version) {
        return fail("project '{}' in the store {} has schema version {}, newer than this roar ({}); upgrade roar",
                    m_project, m_url, *version, k_postgres_schema_version);
    }
    if (*version < k_postgres_schema_version) {
        return fail("project '{}' in the store {} has schema version {} and this roar reads version {}: run any "
                    "recording roar command (roar run) once to upgrade it",
                    m_project, m_url, *version, k_postgres_schema_version);
    }
    m_schema_version = *version;
    return {};
}

void PostgresEngine::configure_session()
{
    // The schema name was checked to be [a-z0-9_]: safe to splice.
    run(m_conn, fmt::format("SET search_path TO {}", m_schema));
    run(m_conn, fmt::format("SET lock_timeout = {}", m_lock_wait.count()));
    if (m_access == Access::read) {
        run(m_conn, "SET default_transaction_read_only = on");
    }
}

void PostgresEngine::ensure_connected()
{
    if (PQstatus(m_conn) == CONNECTION_OK) {
        return;
    }
    PQreset(m_conn);
    if (PQstatus(m_conn) != CONNECTION_OK) {
        throw FatalError(fmt::format("lost the connection to the store {}: {}", describe(), connection_error(m_conn)));
    }
    configure_session();
}

std::string PostgresEngine::describe() const
{
    return m_project.empty() ? fmt::format("{} (schema {})", m_url, m_schema)
                             : fmt::format("{} (project {})", m_url, m_project);
}

std::unique_ptr<SqlStatement> PostgresEngine::prepare(std::string_view sql)
{
    return std::make_unique<PostgresStatement>(m_conn, std::string(sql));
}

void PostgresEngine::exec(std::string_view sql) { run(m_conn, postgres_placeholders(sql)); }

std::unique_ptr<RowStream> PostgresEngine::stream_rows(std::string_view table_columns)
{
    return std::make_unique<PostgresRowStream>(m_conn, fmt::format("COPY {} FROM STDIN", table_columns));
}

void PostgresEngine::begin_write()
{
    if (!m_in_transaction) {
        ensure_connected();
    }
    run(m_conn, "BEGIN");
    m_in_transaction = true;
    // One writer per project at a time, like SQLite's BEGIN IMMEDIATE: the
    // step numbering and the active session are read, then written.
    run(m_conn, fmt::format("SELECT pg_advisory_xact_lock(hashtext('{}'))", m_schema));
}

void PostgresEngine::begin_read()
{
    if (!m_in_transaction) {
        ensure_connected();
    }
    run(m_conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    m_in_transaction = true;
}

void PostgresEngine::commit()
{
    m_in_transaction = false;
    run(m_conn, "COMMIT");
}

void PostgresEngine::rollback() noexcept
{
    m_in_transaction = false;
    if (PQstatus(m_conn) == CONNECTION_OK) {
        PQclear(PQexec(m_conn, "ROLLBACK"));
    }
}

int64_t PostgresEngine::last_insert_id()
{
    // Every table with a generated id draws it from its own sequence;
    // lastval() is the one this connection used last.
    PostgresStatement q(m_conn, "SELECT lastval()");
    if (!q.step()) {
        throw FatalError("database error: no row id after an insert");
    }
    return q.column_int(0);
}

void PostgresEngine::set_lock_wait(std::chrono::milliseconds wait)
{
    m_lock_wait = wait;
    if (PQstatus(m_conn) == CONNECTION_OK) {
        run(m_conn, fmt::format("SET lock_timeout = {}", wait.count()));
    }
}

} // namespace roar::collector
