// Reading a session for its pipeline (see Store::session_steps and
// friends): steps, jobs, and every job's inputs and outputs in a handful of
// queries, so `roar dag` costs rows read, never round trips per job. A
// job's uses are read as its two use lists (job_uses, use_lists.hpp): a row
// per job, not per use, which on a long history is most of what `roar dag`
// reads. A use is a pair of integers (path id, artifact); the paths a scan
// named are read once afterwards (path_names), not once per use. A job
// without lists (more uses than a list holds) or whose lists do not parse
// is read from job_io by its index instead, so a damaged row costs time,
// never uses. Whatever the engine, the caller gets the uses in one order
// (jobs as listed, a job's uses by path id): what roar dag and status print
// follows it, so it must not follow where rows happen to lie on disk.
#include "roar/collector/store/store.hpp"
#include "roar/collector/huge_pages.hpp"
#include "use_lists.hpp"

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

// A lookup running on a thread of its own: whatever it throws is thrown
// again by finish(), and it is joined before its caller's frame (whose
// buffers it fills) goes, even when the caller's own lookup throws.
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

// A second connection to `first`'s store for reading part of a long lookup
// on another thread: in `first`'s snapshot where the engine can share one
// (PostgreSQL), else (SQLite) in a read transaction of its own. Null when
// there is no second core or connection to be had; the caller then reads
// alone.
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

// Each listed job's place in `jobs`, indexed by job row; k_unlisted for
// other jobs.
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

// A scan's uses, in blocks that never move once made, so no use is
// copied while the scan grows (a long session's are tens of MB, and moving
// them to a larger buffer cost as much as parsing them). A job's uses lie
// in one block; blocks grow with what was read before them, up to 1 Mi
// uses (16 MiB), and ask for huge pages where the kernel offers them.
class UseBlocks {
public:
    // The last block, with room made for `more` uses (in a new block when
    // the last has less).
    std::vector<ScannedUse>& room_for(size_t more)
    {
        if (m_blocks.empty() || m_blocks.back().capacity() - m_blocks.back().size() < more) {
            constexpr size_t k_first = 4096, k_largest = size_t(1) << 20;
            m_blocks.emplace_back().reserve(std::max(more, std::clamp(size(), k_first, k_largest)));
            prefer_huge_pages_for(m_blocks.back());
        }
        return m_blocks.back();
    }
    size_t size() const
    {
        size_t n = 0;
        for (const auto& block : m_blocks) {
            n += block.size();
        }
        return n;
    }

private:
    std::vector<std::vector<ScannedUse>> m_blocks;
};

// Where a listed job's uses lie once read: its outputs from `at`, then its
// inputs (a block never moves, so the pointer holds).
struct ListedUses {
    bool read = false;
    const ScannedUse* at = nullptr;
    size_t outputs = 0, inputs = 0;
};

// The use lists of the jobs of `session`, read on `engine` into `into`:
// each listed job's place in `found` says where. A job with no row or
// whose text is not a use list is left unread.
void read_use_lists(StoreEngine& engine, int64_t session, const std::vector<uint32_t>& place_of, UseBlocks& into,
                    std::vector<ListedUses>& found)
{
    auto q = engine.prepare_scan("SELECT j.id, u.outputs, u.inputs FROM jobs j LEFT JOIN job_uses u ON u.job_id = j.id "
                                 "WHERE j.session_id = ?1");
    q->bind(1, session);
    while (q->step()) {
        const int64_t job = q->column_int(0);
        if (job < 0 || uint64_t(job) >= place_of.size() || place_of[size_t(job)] == k_unlisted || q->column_is_null(1)
            || q->column_is_null(2)) {
            continue;
        }
        const std::string_view listed[2] = {q->column_view(1), q->column_view(2)};
        // n items take at least 4n - 1 characters ("1:0,1:0").
        auto& block = into.room_for((listed[0].size() + 1) / 4 + (listed[1].size() + 1) / 4);
        const size_t start = block.size();
        if (!store_detail::parse_use_list(listed[0], block)) {
            continue;
        }
        const size_t middle = block.size();
        if (!store_detail::parse_use_list(listed[1], block)) {
            block.resize(start);
            continue;
        }
        found[place_of[size_t(job)]] = {true, block.data() + start, middle - start, block.size() - middle};
    }
}

} // namespace

void Store::scan_session_uses(int64_t session, const std::vector<SessionJob>& jobs, const UseSink& outputs,
                              const UseSink& inputs, const std::function<void(size_t)>& expect)
{
    const std::vector<uint32_t> place_of = places_of(jobs);
    std::vector<ListedUses> found(jobs.size());
    // One connection and thread: reading the later half on a second
    // connection took longer (its start, and two parsers on two cores the
    // rest of roar also uses), on SQLite and on PostgreSQL alike.
    UseBlocks uses;
    m_engine->prepare_bulk_read();
    read_use_lists(*m_engine, session, place_of, uses, found);
    // Jobs the scan gave no lists for: their rows of job_io, by the index.
    std::vector<ScannedUse> rows;
    for (size_t i = 0; i < jobs.size(); ++i) {
        if (found[i].read) {
            continue;
        }
        SqlStatement& q = prepared("SELECT direction = 'in', path_id, coalesce(artifact_id, 0) FROM job_io "
                                   "WHERE job_id = ?1 AND direction IN ('out', 'in') ORDER BY direction DESC, path_id");
        q.bind(1, jobs[i].row);
        rows.clear();
        size_t outputs_end = rows.max_size();
        while (q.step()) {
            if (q.column_int(0) != 0 && outputs_end == rows.max_size()) {
                outputs_end = rows.size();
            }
            rows.push_back({q.column_int(1), q.column_int(2)});
        }
        q.reset();
        auto& block = uses.room_for(rows.size());
        const size_t start = block.size();
        block.insert(block.end(), rows.begin(), rows.end());
        outputs_end = std::min(outputs_end, rows.size());
        found[i] = {true, block.data() + start, outputs_end, rows.size() - outputs_end};
    }
    if (expect) {
        expect(uses.size());
    }
    for (const bool output : {true, false}) {
        for (size_t i = 0; i < jobs.size(); ++i) {
            const ListedUses& f = found[i];
            const size_t n = output ? f.outputs : f.inputs;
            if (n > 0) {
                (output ? outputs : inputs)(jobs[i].row, std::span(output ? f.at : f.at + f.outputs, n));
            }
        }
    }
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
