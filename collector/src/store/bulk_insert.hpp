// Multi-row INSERTs for the store's writers (job_writer.cpp, the hash
// cache): rows go k_rows_per_statement per statement, the full-size
// statement prepared once per RowInserter and reset between batches, so a
// job's rows cost one parse, never one per row (a writer may ask for fewer
// rows a statement). A writer whose rows cannot conflict with stored ones
// may let them stream instead (PostgreSQL's COPY: one round trip for any
// number of rows, no statement to parse). Internal to the store.
#pragma once

#include "roar/collector/store/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>

namespace roar::collector::store_detail {

inline constexpr size_t k_rows_per_statement = 1000;

// Runs `head` VALUES (...), (...) `tail` with `columns` values a row,
// `rows_per_statement` rows a statement. SQLite (3.40) takes time
// quadratic in the rows to prepare a multi-row VALUES (0.24 s for 1,000
// rows of 14 values), so a writer whose rows are cheap one at a time there
// asks for fewer; PostgreSQL, where a statement is a round trip, wants many.
//
// Whether a writer's rows may meet a stored row with the same key: only
// rows that cannot (the store's write lock is held and the writer left
// out what it found stored) may stream, since a stream has no ON CONFLICT.
enum class Conflicts { possible, impossible };

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
                sql += fmt::format("{}?{}", c ? ", " : "", param++);
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

} // namespace roar::collector::store_detail
