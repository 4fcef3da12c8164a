// The PostgreSQL engine (see postgres_engine.hpp): connecting, statements
// over libpq, transactions and the advisory locks. The schema itself is in
// postgres_schema.cpp.
#include "roar/collector/store/postgres_engine.hpp"

#include "roar/collector/byte_text.hpp"
#include "roar/collector/lazy_library.hpp"

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
// postgres_schema.cpp: runs `settings` (statements setting up a session
// whose search_path is the project's schema) and reads the schema's
// version, in one round trip; 0 when there is no such project (and then
// the settings did not take).
Result<int> configure_and_read_version(pg_conn* conn, const std::string& settings);

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

// `sql` with each ?N placeholder outside quotes replaced by `spell(N)`
// (N is 0 when its digits do not fit a size_t).
template <typename Spell> std::string rewrite_placeholders(std::string_view sql, Spell spell)
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
            size_t n = 0;
            const auto [end, ec] = std::from_chars(sql.data() + i + 1, sql.data() + sql.size(), n);
            out += spell(ec == std::errc() ? n : 0);
            i = size_t(end - sql.data()) - 1;
            continue;
        }
        out += c;
    }
    return out;
}

// A double column's text (float8out's, Infinity included) as a double.
double double_of(std::string_view text)
{
    if (text == "Infinity" || text == "-Infinity") {
        return text.front() == '-' ? -HUGE_VAL : HUGE_VAL;
    }
    double value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
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

// A long read as COPY (SELECT ...) TO STDOUT: rows arrive while the
// server is still producing them, and each is parsed as it is stepped to,
// so neither side waits for the whole result (PQexecParams keeps every row
// of a result in memory before the first can be read). COPY takes no
// parameters: they are spliced into the text as quoted literals, which the
// server types from their context as it does an untyped parameter. Fields
// come in the text format (tab-separated, \N for NULL, backslash escapes)
// and text stored as bytes (stored_text) is decoded as column_view()
// decodes a statement's cells.
class PostgresCopyScan final : public SqlStatement {
public:
    PostgresCopyScan(pg_conn* conn, std::string sql) : m_conn(conn), m_sql(std::move(sql)) { }
    PostgresCopyScan(const PostgresCopyScan&) = delete;
    PostgresCopyScan& operator=(const PostgresCopyScan&) = delete;
    ~PostgresCopyScan() override { drain(); }

    using SqlStatement::bind;
    PostgresCopyScan& bind(int index, int64_t value) override { return set(index, fmt::format("'{}'", value)); }
    PostgresCopyScan& bind(int index, double value) override
    {
        std::string text = "'";
        append_double(text, value);
        return set(index, text + "'");
    }
    PostgresCopyScan& bind(int index, std::string_view value) override
    {
        const std::string stored = stored_text(value);
        char* quoted = PQescapeLiteral(m_conn, stored.data(), stored.size());
        if (!quoted) {
            throw FatalError(fmt::format("database error: {}", connection_error(m_conn)));
        }
        std::string literal(quoted);
        PQfreemem(quoted);
        return set(index, std::move(literal));
    }
    PostgresCopyScan& bind(int index, std::nullopt_t) override { return set(index, "NULL"); }

    bool step() override
    {
        if (!m_started) {
            start();
        }
        if (m_done) {
            return false;
        }
        char* line = nullptr;
        const int size = PQgetCopyData(m_conn, &line, 0);
        if (size < 0) {
            m_done = true;
            finish(size);
            return false;
        }
        try {
            parse(std::string_view(line, size_t(size)));
        } catch (...) {
            PQfreemem(line);
            throw;
        }
        PQfreemem(line);
        return true;
    }
    int64_t changes() const override { return 0; }
    void reset() override
    {
        drain();
        m_started = m_done = false;
        m_params.clear();
        m_fields.clear();
    }

    int64_t column_int(int index) const override
    {
        const std::string_view text = column_view(index);
        int64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size()) {
            return text == "t" ? 1 : int64_t(column_double(index)); // a boolean, or a double read as an integer
        }
        return value;
    }
    double column_double(int index) const override { return double_of(column_view(index)); }
    std::string_view column_view(int index) const override
    {
        if (index < 0 || size_t(index) >= m_fields.size() || m_fields[size_t(index)].null) {
            return {};
        }
        return m_fields[size_t(index)].text;
    }
    bool column_is_null(int index) const override
    {
        return index < 0 || size_t(index) >= m_fields.size() || m_fields[size_t(index)].null;
    }

private:
    struct Field {
        bool null = true;
        std::string text; // unescaped, and decoded when stored as bytes
    };

    PostgresCopyScan& set(int index, std::string literal)
    {
        if (index < 1) {
            throw FatalError(fmt::format("internal error: parameter {} of a statement", index));
        }
        if (m_params.size() < size_t(index)) {
            m_params.resize(size_t(index), "NULL");
        }
        m_params[size_t(index) - 1] = std::move(literal);
        return *this;
    }

    // The statement's text with its ?N placeholders replaced by the bound literals.
    std::string spliced() const
    {
        return rewrite_placeholders(m_sql, [this](size_t n) {
            if (n < 1 || n > m_params.size()) {
                throw FatalError(fmt::format("internal error: parameter ?{} is not bound", n));
            }
            return m_params[n - 1];
        });
    }

    void start()
    {
        m_started = true;
        const std::string copy = fmt::format("COPY ({}) TO STDOUT", spliced());
        pg_result* result = PQexec(m_conn, copy.c_str());
        const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
        const std::string msg = result ? PQresultErrorMessage(result) : "";
        PQclear(result);
        if (status != PGRES_COPY_OUT) {
            m_done = true;
            drain();
            throw FatalError(fmt::format("database error: {} (in: {})",
                                         msg.empty() ? connection_error(m_conn) : one_line(msg),
                                         one_line(m_sql.substr(0, 80))));
        }
    }

    // After the last row (or a failure of the stream): the command's own result.
    void finish(int size)
    {
        pg_result* result = PQgetResult(m_conn);
        const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
        const std::string msg = result ? PQresultErrorMessage(result) : "";
        PQclear(result);
        drain();
        if (size == -2 || status != PGRES_COMMAND_OK) {
            throw FatalError(fmt::format("database error: {} (in: {})",
                                         msg.empty() ? connection_error(m_conn) : one_line(msg),
                                         one_line(m_sql.substr(0, 80))));
        }
    }

    // Reads what is left of an unfinished COPY, so the connection can run
    // the next statement.
    void drain()
    {
        if (!m_started) {
            return;
        }
        if (!m_done) {
            m_done = true;
            char* line = nullptr;
            while (PQgetCopyData(m_conn, &line, 0) >= 0) {
                PQfreemem(line);
            }
        }
        while (pg_result* rest = PQgetResult(m_conn)) {
            PQclear(rest);
        }
    }

    // One row of COPY's text format, without its newline, into m_fields.
    void parse(std::string_view line)
    {
        if (!line.empty() && line.back() == '\n') {
            line.remove_suffix(1);
        }
        size_t column = 0;
        size_t at = 0;
        for (;;) {
            if (m_fields.size() <= column) {
                m_fields.resize(column + 1);
            }
            Field& f = m_fields[column];
            const size_t tab = std::min(line.find('\t', at), line.size());
            const std::string_view raw = line.substr(at, tab - at);
            f.null = raw == "\\N";
            f.text.clear();
            if (!f.null) {
                unescape(raw, f.text);
                if (std::string_view(f.text).substr(0, k_bytes_marker.size()) == k_bytes_marker) {
                    if (auto bytes = base64_decode(std::string_view(f.text).substr(k_bytes_marker.size()))) {
                        f.text = std::move(*bytes);
                    }
                }
            }
            ++column;
            if (tab == line.size()) {
                break;
            }
            at = tab + 1;
        }
        for (size_t i = column; i < m_fields.size(); ++i) {
            m_fields[i].null = true;
        }
    }

    // COPY's backslash escapes (\\ \b \f \n \r \t \v, octal \NNN and hex \xHH) undone.
    static void unescape(std::string_view raw, std::string& out)
    {
        if (raw.find('\\') == std::string_view::npos) {
            out.assign(raw);
            return;
        }
        out.reserve(raw.size());
        for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] != '\\' || i + 1 == raw.size()) {
                out += raw[i];
                continue;
            }
            const char c = raw[++i];
            switch (c) {
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'v': out += '\v'; break;
            case 'x': {
                unsigned value = 0;
                const size_t digits = std::min<size_t>(2, raw.size() - i - 1);
                const auto [end, ec] = std::from_chars(raw.data() + i + 1, raw.data() + i + 1 + digits, value, 16);
                if (ec != std::errc()) {
                    out += c;
                    break;
                }
                out += char(value);
                i = size_t(end - raw.data()) - 1;
                break;
            }
            default:
                if (c >= '0' && c <= '7') {
                    unsigned value = 0;
                    const size_t digits = std::min<size_t>(3, raw.size() - i);
                    const auto [end, ec] = std::from_chars(raw.data() + i, raw.data() + i + digits, value, 8);
                    out += char(value);
                    i = size_t(end - raw.data()) - 1;
                    (void)ec;
                } else {
                    out += c; // \\ and any other escaped character stand for themselves
                }
            }
        }
    }

    pg_conn* m_conn;
    std::string m_sql;
    std::vector<std::string> m_params; // SQL literals, "NULL" when unbound
    bool m_started = false, m_done = false;
    std::vector<Field> m_fields;
};

} // namespace

std::string postgres_placeholders(std::string_view sql)
{
    return rewrite_placeholders(sql, [](size_t n) { return fmt::format("${}", n); });
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

double PostgresStatement::column_double(int index) const { return double_of(column_view(index)); }

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

// `msg` (libpq's, which may quote the URI or a piece of it) with `url`'s
// password replaced, wherever it stands: the URL whole, the password as
// written in it, decoded.
std::string without_password(std::string msg, const std::string& url)
{
    const auto replace_all = [&msg](const std::string& from, const std::string& to) {
        if (from.empty()) {
            return;
        }
        for (size_t at = msg.find(from); at != std::string::npos; at = msg.find(from, at + to.size())) {
            msg.replace(at, from.size(), to);
        }
    };
    replace_all(url, redact_store_url(url));
    const SplitStoreUrl split = split_store_url_password(url);
    replace_all(split.password, "***");
    replace_all(split.written_password, "***"); // percent-encoded, or an escape libpq could not decode
    return msg;
}

// Connects to `url`: libpq reads the password from the URL, PGPASSFILE or
// ~/.pgpass, and every other unset setting from the PG* environment.
Result<pg_conn*> connect(const std::string& url, const std::string& passfile)
{
    if (auto loaded = load_libpq(); !loaded) {
        return fail("cannot connect to the store {}: {}", redact_store_url(url), loaded.error().message);
    }
    // Keywords before dbname are defaults the URL may override.
    const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr, nullptr};
    const char* values[] = {"10", "roar", url.c_str(), nullptr, nullptr};
    if (!passfile.empty()) {
        keys[3] = "passfile";
        values[3] = passfile.c_str();
    }
    pg_conn* conn = PQconnectdbParams(keys, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        std::string msg = without_password(connection_error(conn), url);
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
    if (access == Access::read) {
        // A reader's settings and the schema check go as one round trip
        // (`roar show` on a server across a network pays each one).
        auto version = configure_and_read_version(engine->m_conn, engine->session_settings());
        if (!version) {
            return fail("cannot use the store {}: {}", engine->describe(), version.error().message);
        }
        if (auto checked = engine->check_version(*version); !checked) {
            return tl::unexpected(checked.error());
        }
        return engine;
    }
    if (auto checked = engine->check_and_migrate(create); !checked) {
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
    auto version = migrate_postgres(m_conn, m_schema, create); // writers only: readers check at open
    if (!version) {
        return fail("cannot use the store {}: {}", describe(), version.error().message);
    }
    return check_version(*version);
}

Result<void> PostgresEngine::check_version(int version)
{
    if (version == 0) {
        return fail("the store {} has no project '{}' (run 'roar init --store URL --join {}' to create it)", m_url,
                    m_project, m_project);
    }
    if (version > k_postgres_schema_version) {
        return fail("project '{}' in the store {} has schema version {}, newer than this roar ({}); upgrade roar",
                    m_project, m_url, version, k_postgres_schema_version);
    }
    if (version < k_postgres_schema_version) {
        return fail("project '{}' in the store {} has schema version {} and this roar reads version {}: run any "
                    "recording roar command (roar run) once to upgrade it",
                    m_project, m_url, version, k_postgres_schema_version);
    }
    m_schema_version = version;
    return {};
}

std::string PostgresEngine::session_settings() const
{
    // The schema name was checked to be [a-z0-9_]: safe to splice.
    return fmt::format("SET search_path TO {}; SET lock_timeout = {}{}", m_schema, m_lock_wait.count(),
                       m_access == Access::read ? "; SET default_transaction_read_only = on" : "");
}

void PostgresEngine::configure_session()
{
    run(m_conn, session_settings()); // one round trip: several statements in one query
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

std::unique_ptr<SqlStatement> PostgresEngine::prepare_scan(std::string_view sql)
{
    return std::make_unique<PostgresCopyScan>(m_conn, std::string(sql));
}

Result<std::unique_ptr<StoreEngine>> PostgresEngine::open_reader() const
{
    // The parameters this connection was made with, password included
    // (from the URL, a passfile or the environment), so the second
    // connection reaches the same server as the same user.
    PQconninfoOption* options = PQconninfo(m_conn);
    if (!options) {
        return fail("cannot open a second connection to the store {}: out of memory", describe());
    }
    std::vector<const char*> keys, values;
    for (PQconninfoOption* o = options; o->keyword; ++o) {
        if (o->val && *o->val) {
            keys.push_back(o->keyword);
            values.push_back(o->val);
        }
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    pg_conn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
    PQconninfoFree(options);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        std::string msg = connection_error(conn);
        PQfinish(conn);
        return fail("cannot open a second connection to the store {}: {}", describe(), msg);
    }
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    std::unique_ptr<PostgresEngine> reader(new PostgresEngine(conn, m_url, m_project, m_schema, Access::read));
    reader->m_schema_version = m_schema_version;
    try {
        reader->configure_session();
        if (m_in_transaction) {
            PostgresStatement exported(m_conn, "SELECT pg_export_snapshot()");
            if (!exported.step()) {
                throw FatalError("database error: no snapshot to share");
            }
            run(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            reader->m_in_transaction = true;
            const std::string_view id = exported.column_view(0);
            if (id.empty() || id.find_first_not_of("0123456789ABCDEFabcdef-") != std::string_view::npos) {
                throw FatalError(fmt::format("database error: unexpected snapshot id '{}'", id));
            }
            run(conn, fmt::format("SET TRANSACTION SNAPSHOT '{}'", id));
        }
    } catch (const FatalError& e) {
        return fail("cannot open a second connection to the store {}: {}", describe(), e.what());
    }
    return std::unique_ptr<StoreEngine>(std::move(reader));
}

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
