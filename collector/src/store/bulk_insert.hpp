// Multi-row INSERTs for the store's writers (job_writer.cpp, the hash
// cache): rows go k_rows_per_statement per statement, the full-size
// statement prepared once per RowInserter and reset between batches, so a
// job's rows cost one parse, never one per row (a writer may ask for fewer
// rows a statement). A writer whose rows cannot conflict with stored ones
// may let them stream instead (PostgreSQL's COPY: one round trip for any
// number of rows, no statement to parse). KeyLookup is the reading side:
// stored rows found by many text keys a statement. Internal to the store.
#pragma once

#include "roar/collector/store/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roar::collector::store_detail {

inline constexpr size_t k_rows_per_statement = 1000;

// Runs `head` VALUES (...), (...) `tail` with `columns` values a row,
// `rows_per_statement` rows a statement. SQLite (3.40) takes time
// quadratic in the parameters to prepare numbered ones (?N: each is looked
// up among those before it; 0.24 s for 1,000 rows of 14 values), so on
// SQLite the placeholders are plain `?`, numbered in order by SQLite itself
// (1,000 rows of 7 values: 6 ms to prepare and run instead of 39 ms);
// PostgreSQL, where a statement is a round trip, wants many rows a
// statement and gets ?N, which its engine spells $N.
//
// Whether a writer's rows may meet a stored row with the same key: only
// rows that cannot (the store's write lock is held and the writer left
// out what it found stored) may stream, since a stream has no ON CONFLICT.
enum class Conflicts { possible, impossible };

// Appends the placeholder of parameter `number` (the statement's next one)
// to `sql`, after ", " unless it is the list's `first`: `?` on SQLite,
// `?N` elsewhere.
inline void append_placeholder(const StoreEngine& engine, std::string& sql, bool first, int number)
{
    if (!first) {
        sql += ", ";
    }
    if (engine.dialect() == Dialect::sqlite) {
        sql += '?';
    } else {
        fmt::format_to(std::back_inserter(sql), "?{}", number);
    }
}

class RowInserter {
public:
    // `head` is the statement before VALUES ("INSERT INTO job_io (job_id,
    // path)"), `tail` what follows them (" ON CONFLICT DO NOTHING"). Rows
    // may stream only when they cannot conflict and `head` is a plain
    // INSERT INTO.
    RowInserter(StoreEngine& engine, std::string_view head, std::string_view tail, int columns,
                size_t rows_per_statement = k_rows_per_statement, Conflicts conflicts = Conflicts::possible)
        : m_engine(engine),
          m_head(head),
          m_tail(tail),
          m_columns(columns),
          m_rows(rows_per_statement),
          m_may_stream(conflicts == Conflicts::impossible && head.substr(0, k_insert.size()) == k_insert)
    { }
    RowInserter(const RowInserter&) = delete;
    RowInserter& operator=(const RowInserter&) = delete;
    ~RowInserter()
    {
        if (m_full) {
            m_full->reset(); // no statement stays open past the transaction
        }
    }

    // Inserts `rows` rows; `bind_row(stmt, row, first)` binds row `row`
    // from parameter `first` on.
    template <class BindRow> void insert(size_t rows, BindRow bind_row)
    {
        if (rows == 0) {
            return;
        }
        if (m_may_stream) {
            if (auto stream = m_engine.stream_rows(std::string_view(m_head).substr(k_insert.size()))) {
                for (size_t r = 0; r < rows; ++r) {
                    bind_row(*stream, r, 1);
                    stream->end_row();
                }
                stream->finish();
                return;
            }
        }
        for (size_t start = 0; start < rows; start += m_rows) {
            const size_t n = std::min(m_rows, rows - start);
            std::unique_ptr<SqlStatement> part;
            SqlStatement* stmt = nullptr;
            if (n == m_rows) {
                if (!m_full) {
                    m_full = prepare(n);
                }
                m_full->reset();
                stmt = m_full.get();
            } else {
                part = prepare(n);
                stmt = part.get();
            }
            for (size_t r = 0; r < n; ++r) {
                bind_row(*stmt, start + r, int(r) * m_columns + 1);
            }
            stmt->run();
            stmt->reset();
        }
    }

private:
    std::unique_ptr<SqlStatement> prepare(size_t n)
    {
        std::string sql = m_head;
        sql += " VALUES ";
        int param = 1;
        for (size_t r = 0; r < n; ++r) {
            sql += r ? ", (" : "(";
            for (int c = 0; c < m_columns; ++c) {
                append_placeholder(m_engine, sql, c == 0, param++);
            }
            sql += ')';
        }
        sql += m_tail;
        return m_engine.prepare(sql);
    }

    StoreEngine& m_engine;
    static constexpr std::string_view k_insert = "INSERT INTO ";

    std::string m_head, m_tail;
    int m_columns;
    size_t m_rows;
    bool m_may_stream;
    std::unique_ptr<SqlStatement> m_full;
};

// The view among `sorted` (sorted, each once) equal to `key`, or null: a
// stored row's key mapped back to the batch's own bytes, which outlive
// the row (a KeyLookup's column views do not).
inline const std::string_view* batch_view(const std::vector<std::string_view>& sorted, std::string_view key)
{
    const auto at = std::lower_bound(sorted.begin(), sorted.end(), key);
    return at != sorted.end() && *at == key ? &*at : nullptr;
}

// Finds stored rows by a text key, many keys a statement: `in_head` is the
// query up to its IN list ("SELECT id, path FROM paths WHERE path IN ("),
// run with k_rows_per_statement keys bound a statement (the full-size
// statement prepared once per KeyLookup). On PostgreSQL, when every key
// is printable ASCII (so stored as it is), the keys go instead as one
// array parameter to `array_sql` ("... WHERE path = ANY(?1::text[])"):
// one short statement for any number of keys.
class KeyLookup {
public:
    KeyLookup(StoreEngine& engine, std::string in_head, std::string array_sql)
        : m_engine(engine), m_in_head(std::move(in_head)), m_array_sql(std::move(array_sql))
    { }
    KeyLookup(const KeyLookup&) = delete;
    KeyLookup& operator=(const KeyLookup&) = delete;

    // Calls `on_row(stmt)` for each stored row matching one of `keys`.
    template <class OnRow> void run(const std::vector<std::string_view>& keys, OnRow on_row)
    {
        auto plain = [](std::string_view key) {
            return std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
        };
        if (m_engine.dialect() == Dialect::postgresql && std::all_of(keys.begin(), keys.end(), plain)) {
            if (keys.empty()) {
                return;
            }
            m_array = "{";
            for (const auto key : keys) {
                m_array += m_array.size() > 1 ? ",\"" : "\"";
                for (const char c : key) {
                    if (c == '"' || c == '\\') {
                        m_array += '\\';
                    }
                    m_array += c;
                }
                m_array += '"';
            }
            m_array += '}';
            if (!m_by_array) {
                m_by_array = m_engine.prepare(m_array_sql);
            }
            m_by_array->reset();
            m_by_array->bind(1, std::string_view(m_array));
            while (m_by_array->step()) {
                on_row(*m_by_array);
            }
            m_by_array->reset();
            return;
        }
        for (size_t start = 0; start < keys.size(); start += k_rows_per_statement) {
            const size_t n = std::min(k_rows_per_statement, keys.size() - start);
            std::unique_ptr<SqlStatement> part;
            SqlStatement* q = nullptr;
            if (n == k_rows_per_statement) {
                if (!m_full) {
                    m_full = prepare(n);
                }
                m_full->reset();
                q = m_full.get();
            } else {
                part = prepare(n);
                q = part.get();
            }
            for (size_t i = 0; i < n; ++i) {
                q->bind(int(i) + 1, keys[start + i]);
            }
            while (q->step()) {
                on_row(*q);
            }
            q->reset();
        }
    }

private:
    std::unique_ptr<SqlStatement> prepare(size_t n)
    {
        std::string sql = m_in_head;
        for (size_t i = 0; i < n; ++i) {
            append_placeholder(m_engine, sql, i == 0, int(i) + 1);
        }
        return m_engine.prepare(sql + ")");
    }

    StoreEngine& m_engine;
    std::string m_in_head, m_array_sql, m_array;
    std::unique_ptr<SqlStatement> m_full, m_by_array;
};

} // namespace roar::collector::store_detail
