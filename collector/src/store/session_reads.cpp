// Reading a session for its pipeline (see Store::session_steps and
// friends): steps, jobs, and every job_io row in a handful of queries, so
// `roar dag` costs rows read, never round trips per job. A use is read as
// integers (job, path id, artifact); the paths a scan named are read once
// afterwards (path_names), not once per use. On SQLite a session holding
// most of the project's jobs is read as the whole job_io table in storage
// order and put back in the index's order (scan_table), a smaller one job
// by job through the index. Past a few thousand jobs, the later half of a
// scan is stepped through on a second connection and thread (into a flat
// buffer): stepping through SQLite is most of the cost of a long history.
// A stored job's rows never change, so both read transactions agree on
// every job the caller listed. A server engine streams the scan
// (prepare_scan), so rows are taken in while the server still reads them:
// both directions at once, or for a long history each on its own
// connection, the second in the first one's snapshot. Whatever the engine,
// the caller gets the rows in one order, the index's (jobs in the order
// listed, a job's rows by path id): what roar dag and status print follows
// it, so it must not follow where rows happen to lie on disk.
#include "roar/collector/store/store.hpp"
#include "roar/collector/huge_pages.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <thread>

namespace roar::collector {

namespace {

// Digest lookups of at least this many artifacts run on two connections.
constexpr size_t k_parallel_lookup_ids = 8192;
// A job not listed for a scan.
constexpr uint32_t k_unlisted = std::numeric_limits<uint32_t>::max();

// In the order session_jobs lists jobs, then by path id: the jobs_by_session
// index and job_io's primary key give it without a sort.
std::string uses_sql(const char* op)
{
    return fmt::format("SELECT io.job_id, io.path_id, coalesce(io.artifact_id, 0) FROM jobs j "
                       "JOIN job_io io ON io.job_id = j.id AND io.direction = ?4 "
                       "WHERE j.session_id = ?1 AND (j.started_at, j.id) {} (?2, ?3) "
                       "ORDER BY j.started_at, j.id, io.path_id",
                       op);
}

// Rows arriving job by job (an index scan's order) to `sink`, one call
// per job; finish() sends the last job's.
class JobBatches {
public:
    explicit JobBatches(const UseSink& sink) : m_sink(sink) { }
    void add(int64_t job_row, int64_t path_id, int64_t artifact)
    {
        if (job_row != m_job) {
            finish();
            m_job = job_row;
        }
        m_rows.push_back({path_id, artifact});
    }
    void finish()
    {
        if (!m_rows.empty()) {
            m_sink(m_job, m_rows);
            m_rows.clear();
        }
    }

private:
    const UseSink& m_sink;
    int64_t m_job = 0;
    std::vector<ScannedUse> m_rows;
};

// A scan's rows kept for later, in flat buffers: no allocation per row.
struct HeldUses {
    std::vector<int64_t> job;
    std::vector<ScannedUse> rows;

    void add(int64_t job_row, int64_t path_id, int64_t artifact_id)
    {
        job.push_back(job_row);
        rows.push_back({path_id, artifact_id});
    }
    // The rows (held in order, job by job) to `sink`, a job per call.
    void replay(const UseSink& sink) const
    {
        JobBatches batches(sink);
        for (size_t i = 0; i < job.size(); ++i) {
            batches.add(job[i], rows[i].path_id, rows[i].artifact);
        }
        batches.finish();
    }
};

// A scan running on a thread of its own: whatever it throws is thrown
// again by finish(), and it is joined before its caller's frame (whose
// buffers it fills) goes, even when the caller's own scan throws.
class ScanThread {
public:
    ScanThread() = default;
    ScanThread(const ScanThread&) = delete;
    ScanThread& operator=(const ScanThread&) = delete;
    ~ScanThread()
    {
        if (m_thread.joinable()) {
            m_thread.join();
        }
    }
    template <typename F> void start(F read)
    {
        m_thread = std::thread([this, read] {
            try {
                read();
            } catch (...) {
                m_failed = std::current_exception();
            }
        });
    }
    void finish()
    {
        if (m_thread.joinable()) {
            m_thread.join();
        }
        if (m_failed) {
            std::rethrow_exception(m_failed);
        }
    }

private:
    std::thread m_thread;
    std::exception_ptr m_failed;
};

// A second SQLite connection to `first`'s store, in a read transaction
// of its own, for the later half of a scan.
std::unique_ptr<StoreEngine> open_second_reader(const StoreEngine& first)
{
    auto second = first.open_reader();
    if (!second) {
        throw FatalError(second.error().message);
    }
    if (!*second) {
        throw FatalError("internal error: the engine gave no second reader");
    }
    (*second)->prepare_bulk_read();
    (*second)->begin_read();
    return std::move(*second);
}

// A second connection to `first`'s store for reading part of a long scan or
// lookup on another thread: in `first`'s snapshot where the engine can
// share one (PostgreSQL), else (SQLite) in a read transaction of its own.
// Null when there is no second core or connection to be had; the caller
// then reads alone.
std::unique_ptr<StoreEngine> helper_reader(const StoreEngine& first)
{
    if (std::thread::hardware_concurrency() < 2) {
        return nullptr;
    }
    auto opened = first.open_reader();
    if (!opened || !*opened) {
        return nullptr;
    }
    if (first.dialect() == Dialect::sqlite) {
        (*opened)->prepare_bulk_read();
        (*opened)->begin_read();
        return std::move(*opened);
    }
    return (*opened)->in_transaction() ? std::move(*opened) : nullptr;
}

// One direction of a session's job_io rows to `sink`, on SQLite: the
// later half of a long history is stepped through on a second connection
// and thread (into a flat buffer) while `sink` takes the first half.
void scan_direction(StoreEngine& first, int64_t session, const std::vector<SessionJob>& jobs, bool outputs,
                    const UseSink& sink, size_t parallel_jobs)
{
    const char* direction = outputs ? "out" : "in";
    const SessionJob* split =
        jobs.size() >= parallel_jobs && std::thread::hardware_concurrency() > 1 ? &jobs[jobs.size() / 2] : nullptr;
    auto bind_part = [&](SqlStatement& q) {
        q.bind(1, session).bind(4, direction);
        if (split) {
            q.bind(2, split->started_at).bind(3, split->row);
        } else {
            q.bind(2, std::numeric_limits<double>::infinity()).bind(3, int64_t(0)); // every job
        }
    };
    HeldUses later;
    ScanThread reader;
    if (split) {
        reader.start([&] {
            const auto second = open_second_reader(first);
            StoreEngine& engine = *second;
            auto q = engine.prepare(uses_sql(">="));
            bind_part(*q);
            while (q->step()) {
                later.add(q->column_int(0), q->column_int(1), q->column_int(2));
            }
            q.reset();
            engine.commit();
        });
    }
    first.prepare_bulk_read();
    auto q = first.prepare(uses_sql("<"));
    bind_part(*q);
    JobBatches batches(sink);
    while (q->step()) {
        batches.add(q->column_int(0), q->column_int(1), q->column_int(2));
    }
    batches.finish();
    reader.finish();
    later.replay(sink);
}

// A part of job_io read in storage order (or a server's): each row of a
// listed job as its slot (the job's place in the list, twice, plus 1 for an
// input), path id and artifact.
struct TableRows {
    std::vector<uint32_t> slot;
    std::vector<int64_t> path, artifact;
};

// Each listed job's place in `jobs`, indexed by job row; k_unlisted for
// the rows of other jobs.
std::vector<uint32_t> places_of(const std::vector<SessionJob>& jobs)
{
    int64_t max_job = 0;
    for (const auto& job : jobs) {
        max_job = std::max(max_job, job.row);
    }
    std::vector<uint32_t> place_of(size_t(max_job) + 1, k_unlisted);
    for (size_t i = 0; i < jobs.size(); ++i) {
        if (jobs[i].row >= 0) {
            place_of[size_t(jobs[i].row)] = uint32_t(i);
        }
    }
    return place_of;
}

// The slot of a row of job `job` (an input when `input`) to `place_of`, or
// k_unlisted when the job is not listed.
uint32_t slot_of(const std::vector<uint32_t>& place_of, int64_t job, bool input)
{
    if (job < 0 || uint64_t(job) >= place_of.size() || place_of[size_t(job)] == k_unlisted) {
        return k_unlisted;
    }
    return place_of[size_t(job)] * 2 + uint32_t(input);
}

// The rows held in `parts` to `outputs` and `inputs` in the order the index
// gives: jobs as listed, outputs before inputs, a job's rows of one
// direction by path id. Placed by slot (a counting sort), then each slot's
// few rows by path id; `parts` are emptied. `expect`, when given, hears
// the number of rows before the first goes out.
void emit_in_index_order(const std::vector<SessionJob>& jobs, TableRows (&parts)[2], const UseSink& outputs,
                         const UseSink& inputs, const std::function<void(size_t)>& expect)
{
    std::vector<size_t> start(jobs.size() * 2 + 1, 0);
    for (const auto& part : parts) {
        for (uint32_t slot : part.slot) {
            ++start[slot + 1];
        }
    }
    for (size_t i = 1; i < start.size(); ++i) {
        start[i] += start[i - 1];
    }
    std::vector<ScannedUse> rows;
    rows.reserve(start.back());
    prefer_huge_pages_for(rows);
    rows.resize(start.back());
    {
        std::vector<size_t> next(start.begin(), start.end() - 1);
        for (auto& part : parts) {
            for (size_t i = 0; i < part.slot.size(); ++i) {
                rows[next[part.slot[i]]++] = {part.path[i], part.artifact[i]};
            }
            part = TableRows{};
        }
    }
    for (size_t slot = 0; slot + 1 < start.size(); ++slot) {
        const auto begin = rows.begin() + std::ptrdiff_t(start[slot]),
                   end = rows.begin() + std::ptrdiff_t(start[slot + 1]);
        if (!std::is_sorted(begin, end)) {
            std::sort(begin, end);
        }
    }
    if (expect) {
        expect(rows.size());
    }
    for (const bool output : {true, false}) {
        for (size_t i = 0; i < jobs.size(); ++i) {
            const size_t slot = i * 2 + (output ? 0 : 1);
            if (start[slot + 1] > start[slot]) {
                (output ? outputs : inputs)(jobs[i].row,
                                            std::span(rows).subspan(start[slot], start[slot + 1] - start[slot]));
            }
        }
    }
}

// The rows of job_io from rowid `low` (below `high`, when not 0) whose job
// has a place in `place_of` (indexed by job row) to `into`, which has room
// for about `expected` rows.
void read_table_part(StoreEngine& engine, const std::vector<uint32_t>& place_of, int64_t low, int64_t high,
                     size_t expected, TableRows& into)
{
    // Room reserved up front (untouched memory costs nothing): growing a
    // large buffer copies it and takes every page afresh. In huge pages
    // where the kernel offers them: a page fault per 2 MiB, not per 4 KiB.
    constexpr size_t k_max_reserved = size_t(1) << 26;
    into.slot.reserve(std::min(expected, k_max_reserved));
    into.path.reserve(std::min(expected, k_max_reserved));
    into.artifact.reserve(std::min(expected, k_max_reserved));
    prefer_huge_pages_for(into.slot);
    prefer_huge_pages_for(into.path);
    prefer_huge_pages_for(into.artifact);
    auto q = engine.prepare(high > 0 ? "SELECT job_id, direction = 'in', path_id, coalesce(artifact_id, 0) FROM job_io "
                                       "WHERE rowid >= ?1 AND rowid < ?2 AND direction IN ('in', 'out')"
                                     : "SELECT job_id, direction = 'in', path_id, coalesce(artifact_id, 0) FROM job_io "
                                       "WHERE rowid >= ?1 AND direction IN ('in', 'out')");
    q->bind(1, low);
    if (high > 0) {
        q->bind(2, high);
    }
    while (q->step()) {
        const uint32_t slot = slot_of(place_of, q->column_int(0), q->column_int(1) != 0);
        if (slot == k_unlisted) {
            continue;
        }
        into.slot.push_back(slot);
        into.path.push_back(q->column_int(2));
        into.artifact.push_back(q->column_int(3));
    }
}

// The rows of `jobs` read as the whole job_io table in storage order (for a
// long history, its later half on a second connection and thread), then
// put in the order the index gives (emit_in_index_order). Each row costs a
// step through the table instead of an index entry plus a table lookup.
void scan_table(StoreEngine& first, const std::vector<SessionJob>& jobs, const UseSink& outputs, const UseSink& inputs,
                const std::function<void(size_t)>& expect, size_t parallel_jobs)
{
    const std::vector<uint32_t> place_of = places_of(jobs);
    int64_t lowest = 0, middle = 0, highest = 0;
    if (jobs.size() >= parallel_jobs && std::thread::hardware_concurrency() > 1) {
        // Apart, so each is one step to an end of the table, not a scan.
        auto q = first.prepare("SELECT coalesce((SELECT min(rowid) FROM job_io), 0), "
                               "coalesce((SELECT max(rowid) FROM job_io), 0)");
        if (q->step()) {
            lowest = q->column_int(0);
            highest = q->column_int(1);
            middle = lowest + (highest - lowest) / 2;
        }
    }
    TableRows parts[2];
    ScanThread reader;
    if (middle > 0) {
        reader.start([&] {
            const auto second = open_second_reader(first);
            StoreEngine& engine = *second;
            read_table_part(engine, place_of, middle, 0, size_t(highest - middle) + 1, parts[1]);
            engine.commit();
        });
    }
    first.prepare_bulk_read();
    read_table_part(first, place_of, std::numeric_limits<int64_t>::min(), middle, size_t(middle - lowest), parts[0]);
    reader.finish();
    emit_in_index_order(jobs, parts, outputs, inputs, expect);
}

} // namespace

void Store::scan_session_uses(int64_t session, const std::vector<SessionJob>& jobs, const UseSink& outputs,
                              const UseSink& inputs, const std::function<void(size_t)>& expect)
{
    if (m_engine->dialect() == Dialect::sqlite) {
        // Most of the project's jobs (the usual case: one session): the
        // whole table in storage order; else each job's rows by the index.
        auto total = m_engine->prepare("SELECT count(*) FROM jobs");
        if (total->step() && uint64_t(total->column_int(0)) <= 2 * uint64_t(jobs.size())) {
            total.reset();
            scan_table(*m_engine, jobs, outputs, inputs, expect, m_parallel_scan_jobs);
            return;
        }
        total.reset();
        scan_direction(*m_engine, session, jobs, true, outputs, m_parallel_scan_jobs);
        scan_direction(*m_engine, session, jobs, false, inputs, m_parallel_scan_jobs);
        return;
    }
    // A server streams each direction as it reads it, for a long history
    // each on its own connection in the same snapshot (both backends then
    // work at once), into flat buffers put in the index's order once all
    // are in. The order is the C++ side's, not an ORDER BY: the server
    // answers by a hash join in heap order, and sorting there would spill
    // a long history to disk; placing the rows by job costs no more than
    // scan_table does on SQLite.
    constexpr const char* k_sql = "SELECT io.job_id, io.direction, io.path_id, coalesce(io.artifact_id, 0) FROM jobs j "
                                  "JOIN job_io io ON io.job_id = j.id AND io.direction IN (?2, ?3) "
                                  "WHERE j.session_id = ?1";
    const std::vector<uint32_t> place_of = places_of(jobs);
    auto take = [&place_of](SqlStatement& q, TableRows& into) {
        while (q.step()) {
            const uint32_t slot = slot_of(place_of, q.column_int(0), q.column_view(1) == "in");
            if (slot == k_unlisted) {
                continue;
            }
            into.slot.push_back(slot);
            into.path.push_back(q.column_int(2));
            into.artifact.push_back(q.column_int(3));
        }
    };
    std::unique_ptr<StoreEngine> second = jobs.size() >= m_parallel_scan_jobs ? helper_reader(*m_engine) : nullptr;
    TableRows parts[2];
    ScanThread reader;
    if (second) {
        reader.start([&] {
            auto q = second->prepare_scan(k_sql);
            q->bind(1, session).bind(2, "in").bind(3, "in");
            take(*q, parts[1]);
        });
    }
    // Without a second connection, one scan of both directions.
    auto q = m_engine->prepare_scan(k_sql);
    q->bind(1, session).bind(2, "out").bind(3, second ? "out" : "in");
    take(*q, parts[0]);
    reader.finish();
    emit_in_index_order(jobs, parts, outputs, inputs, expect);
}

std::vector<SessionStep> Store::session_steps(int64_t session)
{
    m_engine->prepare_bulk_read();
    std::vector<SessionStep> steps;
    auto s = m_engine->prepare(
        "SELECT id, number, command, coalesce(name, '') FROM steps WHERE session_id = ?1 ORDER BY number");
    s->bind(1, session);
    while (s->step()) {
        steps.push_back({s->column_int(0), s->column_int(1), s->column_text(2), s->column_text(3)});
    }
    return steps;
}

std::vector<SessionJob> Store::session_jobs(int64_t session)
{
    std::vector<SessionJob> jobs;
    auto s = m_engine->prepare("SELECT id, uid, step_id, command, cwd, started_at, ended_at, exit_code, signal, "
                               "hostname FROM jobs WHERE session_id = ?1 ORDER BY started_at, id");
    s->bind(1, session);
    while (s->step()) {
        SessionJob j;
        j.row = s->column_int(0);
        j.uid = s->column_text(1);
        j.step_row = s->column_int(2);
        j.command = s->column_text(3);
        j.cwd = s->column_text(4);
        j.started_at = s->column_double(5);
        j.ended_at = s->column_double(6);
        j.exit_code = int(s->column_int(7));
        j.killed = !s->column_is_null(8);
        j.host = s->column_text(9);
        jobs.push_back(std::move(j));
    }
    return jobs;
}

std::vector<std::string> Store::path_names(const std::vector<int64_t>& ids)
{
    // No ORDER BY: each row is placed by its id, so the order rows come in
    // does not show.
    std::vector<std::string> out(ids.size());
    if (ids.empty()) {
        return out;
    }
    const auto [lowest, highest] = std::minmax_element(ids.begin(), ids.end());
    const int64_t low = *lowest, high = *highest;
    if (uint64_t(high - low) / 4 < ids.size()) {
        // Dense (a long session names most of its range): one streamed
        // range read, each row placed through a table by id, rows not
        // asked for skipped.
        constexpr size_t k_none = std::numeric_limits<size_t>::max();
        std::vector<size_t> slot(size_t(high - low) + 1, k_none);
        for (size_t i = 0; i < ids.size(); ++i) {
            slot[size_t(ids[i] - low)] = i;
        }
        auto q = m_engine->prepare_scan("SELECT id, path FROM paths WHERE id >= ?1 AND id <= ?2");
        q->bind(1, low).bind(2, high);
        while (q->step()) {
            const int64_t id = q->column_int(0);
            if (id >= low && id <= high && slot[size_t(id - low)] != k_none) {
                out[slot[size_t(id - low)]] = std::string(q->column_view(1));
            }
        }
        return out;
    }
    // Sparse: batches of bound ids (the last padded with its last id),
    // each row placed by binary search over (id, index in `ids`).
    std::vector<std::pair<int64_t, size_t>> wanted(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
        wanted[i] = {ids[i], i};
    }
    std::sort(wanted.begin(), wanted.end());
    constexpr size_t k_batch = 256;
    static const std::string batch_sql = [] {
        std::string sql = "SELECT id, path FROM paths WHERE id IN (?1";
        for (size_t i = 2; i <= k_batch; ++i) {
            sql += fmt::format(", ?{}", i);
        }
        return sql + ")";
    }();
    SqlStatement& q = prepared(batch_sql.c_str());
    for (size_t start = 0; start < wanted.size(); start += k_batch) {
        q.reset();
        for (size_t i = 0; i < k_batch; ++i) {
            q.bind(int(i + 1), wanted[std::min(start + i, wanted.size() - 1)].first);
        }
        while (q.step()) {
            const int64_t id = q.column_int(0);
            auto at = std::lower_bound(wanted.begin(), wanted.end(), std::pair<int64_t, size_t>(id, 0));
            for (; at != wanted.end() && at->first == id; ++at) {
                out[at->second] = std::string(q.column_view(1));
            }
        }
    }
    q.reset();
    return out;
}

std::unordered_map<int64_t, ArtifactDigest> Store::artifact_digests(std::vector<int64_t> ids)
{
    // Batches of bound ids: one statement run per batch instead of per artifact.
    constexpr size_t k_batch = 256;
    static const std::string batch_sql = [] {
        std::string sql = "SELECT a.id, h.algorithm, h.digest, a.size FROM artifacts a LEFT JOIN artifact_hashes h "
                          "ON h.artifact_id = a.id WHERE a.id IN (?1";
        for (size_t i = 2; i <= k_batch; ++i) {
            sql += fmt::format(", ?{}", i);
        }
        return sql + ")";
    }();
    // No ORDER BY: each row goes to its artifact's entry, and of several
    // digests the one kept is chosen by algorithm (blake3, else etag, else
    // the first in byte order), not by the order rows come in.
    std::unordered_map<int64_t, ArtifactDigest> out;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::erase_if(ids, [](int64_t id) { return id <= 0; });
    if (ids.empty()) {
        return out;
    }
    auto remember = [](SqlStatement& q, std::unordered_map<int64_t, ArtifactDigest>& into) {
        while (q.step()) {
            ArtifactDigest& info = into[q.column_int(0)];
            info.size = q.column_opt_int(3);
            if (q.column_is_null(1)) {
                continue;
            }
            const std::string_view algorithm = q.column_view(1);
            auto rank = [](std::string_view a) { return a == "blake3" ? 0 : a == "etag" ? 1 : 2; };
            if (info.algorithm.empty() || rank(algorithm) < rank(info.algorithm)
                || (rank(algorithm) == rank(info.algorithm) && algorithm < info.algorithm)) {
                info.algorithm = std::string(algorithm);
                info.digest = q.column_text(2);
            }
        }
    };
    if (ids.size() == 1) {
        SqlStatement& q = prepared("SELECT a.id, h.algorithm, h.digest, a.size FROM artifacts a LEFT JOIN "
                                   "artifact_hashes h ON h.artifact_id = a.id WHERE a.id = ?1");
        q.bind(1, ids.front());
        remember(q, out);
        return out;
    }
    // The ids from `first` to `end` in batches, the last padded with its last id.
    auto look_up = [&](SqlStatement& q, size_t first, size_t end, std::unordered_map<int64_t, ArtifactDigest>& into) {
        for (size_t start = first; start < end; start += k_batch) {
            q.reset();
            for (size_t i = 0; i < k_batch; ++i) {
                q.bind(int(i + 1), ids[std::min(start + i, end - 1)]);
            }
            remember(q, into);
        }
    };
    // A long list (a whole session's artifacts, for `roar dag --json`):
    // its later half on a second connection and thread, each lookup being
    // a few index probes in a large file or a round trip to a server.
    size_t split = ids.size();
    std::unordered_map<int64_t, ArtifactDigest> later;
    ScanThread reader;
    if (ids.size() >= k_parallel_lookup_ids) {
        if (std::shared_ptr<StoreEngine> second = helper_reader(*m_engine)) {
            split = (ids.size() / 2 + k_batch - 1) / k_batch * k_batch;
            reader.start([&look_up, &later, second, split, end = ids.size()] {
                auto q = second->prepare(batch_sql);
                look_up(*q, split, end, later);
                q.reset();
                second->commit();
            });
        }
    }
    look_up(prepared(batch_sql.c_str()), 0, split, out);
    reader.finish();
    out.merge(later);
    return out;
}

std::vector<std::optional<int64_t>> Store::artifacts_by_blake3(const std::vector<std::string>& digests)
{
    // One row at most: (digest, algorithm) is the primary key.
    std::vector<std::optional<int64_t>> out;
    out.reserve(digests.size());
    SqlStatement& q = prepared("SELECT artifact_id FROM artifact_hashes WHERE algorithm = 'blake3' AND digest = ?1");
    for (const auto& digest : digests) {
        q.reset();
        q.bind(1, digest);
        out.push_back(q.step() ? std::optional<int64_t>(q.column_int(0)) : std::nullopt);
    }
    q.reset();
    return out;
}

} // namespace roar::collector
