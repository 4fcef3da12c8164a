// Reading a session for its pipeline (see Store::session_steps and
// friends): steps, jobs, and every job_io row in a handful of queries, so
// `roar dag` costs rows read, never round trips per job. A use is read as
// integers (job, path id, artifact); the paths a scan named are read once
// afterwards (path_names), not once per use. Past a few
// thousand jobs, the later half of a scan is stepped through on a second
// connection and thread (into a flat buffer) while the caller's sink takes
// the first half: stepping through SQLite is most of the cost of a long
// history. A stored job's rows never change, so both read transactions
// agree on every job the caller listed. A server engine streams the scan
// (prepare_scan), so rows are taken in while the server still reads them:
// both directions at once, or for a long history each on its own
// connection, the second in the first one's snapshot.
#include "roar/collector/store/store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <thread>

namespace roar::collector {

namespace {

// Sessions with at least this many jobs read job_io on two threads.
constexpr size_t k_parallel_scan_jobs = 2000;

std::string uses_sql(const char* op)
{
    return fmt::format("SELECT io.job_id, io.path_id, coalesce(io.artifact_id, 0) FROM jobs j "
                       "JOIN job_io io ON io.job_id = j.id AND io.direction = ?4 "
                       "WHERE j.session_id = ?1 AND (j.started_at, j.id) {} (?2, ?3)",
                       op);
}

// A scan's rows kept for later, in flat buffers: no allocation per row.
struct HeldUses {
    std::vector<int64_t> job, path, artifact;

    void add(int64_t job_row, int64_t path_id, int64_t artifact_id)
    {
        job.push_back(job_row);
        path.push_back(path_id);
        artifact.push_back(artifact_id);
    }
    void replay(const UseSink& sink) const
    {
        for (size_t i = 0; i < job.size(); ++i) {
            sink(job[i], path[i], artifact[i]);
        }
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

// One direction of a session's job_io rows to `sink`, on SQLite: the
// later half of a long history is stepped through on a second connection
// and thread (into a flat buffer) while `sink` takes the first half.
void scan_direction(StoreEngine& first, int64_t session, const std::vector<SessionJob>& jobs, bool outputs,
                    const UseSink& sink)
{
    const char* direction = outputs ? "out" : "in";
    const SessionJob* split = jobs.size() >= k_parallel_scan_jobs && std::thread::hardware_concurrency() > 1
                                  ? &jobs[jobs.size() / 2]
                                  : nullptr;
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
            auto second = first.open_reader();
            if (!second) {
                throw FatalError(second.error().message);
            }
            if (!*second) {
                throw FatalError("internal error: the engine gave no second reader");
            }
            StoreEngine& engine = **second;
            engine.prepare_bulk_read();
            engine.begin_read();
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
    while (q->step()) {
        sink(q->column_int(0), q->column_int(1), q->column_int(2));
    }
    reader.finish();
    later.replay(sink);
}

} // namespace

void Store::scan_session_uses(int64_t session, const std::vector<SessionJob>& jobs, const UseSink& outputs,
                              const UseSink& inputs)
{
    if (m_engine->dialect() == Dialect::sqlite) {
        scan_direction(*m_engine, session, jobs, true, outputs);
        scan_direction(*m_engine, session, jobs, false, inputs);
        return;
    }
    // A server streams each direction as it reads it: outputs to the
    // caller at once; inputs, for a long history on a second connection
    // in the same snapshot (both backends then work at once), into a flat
    // buffer handed over once the outputs are all in.
    constexpr const char* k_sql = "SELECT io.job_id, io.direction, io.path_id, coalesce(io.artifact_id, 0) FROM jobs j "
                                  "JOIN job_io io ON io.job_id = j.id AND io.direction IN (?2, ?3) "
                                  "WHERE j.session_id = ?1";
    HeldUses later;
    std::unique_ptr<StoreEngine> second;
    if (jobs.size() >= k_parallel_scan_jobs && std::thread::hardware_concurrency() > 1) {
        if (auto opened = m_engine->open_reader(); opened && *opened && (*opened)->in_transaction()) {
            second = std::move(*opened);
        }
    }
    ScanThread reader;
    if (second) {
        reader.start([&] {
            auto q = second->prepare_scan(k_sql);
            q->bind(1, session).bind(2, "in").bind(3, "in");
            while (q->step()) {
                later.add(q->column_int(0), q->column_int(2), q->column_int(3));
            }
        });
    }
    // Without a second connection, one scan of both directions.
    auto q = m_engine->prepare_scan(k_sql);
    q->bind(1, session).bind(2, "out").bind(3, second ? "out" : "in");
    while (q->step()) {
        if (q->column_view(1) == "out") {
            outputs(q->column_int(0), q->column_int(2), q->column_int(3));
        } else {
            later.add(q->column_int(0), q->column_int(2), q->column_int(3));
        }
    }
    reader.finish();
    later.replay(inputs);
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
    std::unordered_map<int64_t, ArtifactDigest> out;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::erase_if(ids, [](int64_t id) { return id <= 0; });
    if (ids.empty()) {
        return out;
    }
    auto remember = [&out](SqlStatement& q) {
        while (q.step()) {
            ArtifactDigest& info = out[q.column_int(0)];
            info.size = q.column_opt_int(3);
            if (q.column_is_null(1)) {
                continue;
            }
            const std::string_view algorithm = q.column_view(1);
            if (algorithm == "blake3" || info.algorithm.empty()
                || (algorithm == "etag" && info.algorithm != "blake3")) {
                info.algorithm = std::string(algorithm);
                info.digest = q.column_text(2);
            }
        }
    };
    if (ids.size() == 1) {
        SqlStatement& q = prepared("SELECT a.id, h.algorithm, h.digest, a.size FROM artifacts a LEFT JOIN "
                                   "artifact_hashes h ON h.artifact_id = a.id WHERE a.id = ?1");
        q.bind(1, ids.front());
        remember(q);
        return out;
    }
    SqlStatement& q = prepared(batch_sql.c_str());
    for (size_t start = 0; start < ids.size(); start += k_batch) {
        q.reset();
        for (size_t i = 0; i < k_batch; ++i) {
            q.bind(int(i + 1), ids[std::min(start + i, ids.size() - 1)]);
        }
        remember(q);
    }
    return out;
}

std::vector<std::optional<int64_t>> Store::artifacts_by_blake3(const std::vector<std::string>& digests)
{
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
