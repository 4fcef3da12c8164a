// The store's answers for show, log, `roar run @N` and the stale report
// (see store.hpp): a job's full record, an artifact and who made and read
// it, its upstream lineage, job summaries, and finding what a user's
// reference names.
#include "roar/collector/store/store.hpp"

#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace roar::collector {

namespace {

// A JSON column as stored (stored_json(): the exact bytes of every string).
nlohmann::json parse_json(std::string_view text, nlohmann::json fallback)
{
    return parse_stored_json(text, std::move(fallback));
}

// A JSON array of strings stored as text; what is not one reads as empty.
std::vector<std::string> string_list(std::string_view text)
{
    std::vector<std::string> out;
    const auto j = parse_json(text, nlohmann::json::array());
    if (j.is_array()) {
        for (const auto& item : j) {
            if (item.is_string()) {
                out.push_back(item.get<std::string>());
            }
        }
    }
    return out;
}

std::optional<int64_t> opt_int(const SqlStatement& q, int column) { return q.column_opt_int(column); }

} // namespace

std::optional<StepJob> Store::latest_job_of_step(int64_t number)
{
    const auto session = active_session();
    if (!session) {
        return std::nullopt;
    }
    auto q = m_engine->prepare(R"sql(
SELECT j.id, j.argv, j.cwd FROM jobs j JOIN steps st ON st.id = j.step_id
WHERE st.number = ?1 AND st.session_id = ?2
ORDER BY j.started_at DESC, j.id DESC LIMIT 1)sql");
    q->bind(1, number).bind(2, *session);
    if (!q->step()) {
        return std::nullopt;
    }
    return StepJob{q->column_int(0), string_list(q->column_view(1)), q->column_text(2)};
}

std::optional<int64_t> Store::artifact_at_path(const std::string& path)
{
    auto q = m_engine->prepare("SELECT artifact_id FROM job_io io JOIN jobs j ON j.id = io.job_id "
                               "WHERE io.path_id = (SELECT id FROM paths WHERE path = ?1) "
                               "AND io.artifact_id IS NOT NULL "
                               "ORDER BY (io.direction = 'out') DESC, j.ended_at DESC, j.id DESC, io.direction DESC "
                               "LIMIT 1");
    q->bind(1, path);
    if (!q->step()) {
        return std::nullopt;
    }
    return q->column_int(0);
}

PrefixMatches Store::match_prefix(const std::string& lower_hex)
{
    // Prefix ranges ('~' sorts after every hex digit) use the uid and digest
    // keys. Callers use how many matched (up to 2) and the match only when
    // it is the one, never which two of many.
    const std::string upper = lower_hex + "~";
    PrefixMatches out;
    auto jobs = m_engine->prepare("SELECT id FROM jobs WHERE uid >= ?1 AND uid < ?2 LIMIT 2");
    jobs->bind(1, lower_hex).bind(2, upper);
    while (jobs->step()) {
        out.jobs.push_back(jobs->column_int(0));
    }
    // The digests in key order, distinct artifacts taken here: an artifact
    // has one row per algorithm, far fewer than k_prefix_rows, so the rows
    // read hold two artifacts whenever two match. Ordered by the key, the
    // plan is a range scan of it even where the server has no statistics
    // yet (PostgreSQL before its first ANALYZE of a bulk-loaded table chose
    // a scan of the artifact_id index for DISTINCT: 0.2 s on 200,000
    // digests).
    constexpr int k_prefix_rows = 64;
    auto arts = m_engine->prepare(fmt::format(
        "SELECT artifact_id FROM artifact_hashes WHERE digest >= ?1 AND digest < ?2 ORDER BY digest LIMIT {}",
        k_prefix_rows));
    arts->bind(1, lower_hex).bind(2, upper);
    while (out.artifacts.size() < 2 && arts->step()) {
        const int64_t id = arts->column_int(0);
        if (std::find(out.artifacts.begin(), out.artifacts.end(), id) == out.artifacts.end()) {
            out.artifacts.push_back(id);
        }
    }
    return out;
}

std::vector<UseDetail> Store::uses_of(int64_t job, const char* direction)
{
    auto q = m_engine->prepare(R"sql(
SELECT p.path, io.size, io.notes, io.pid, h.algorithm, h.digest
FROM job_io io JOIN paths p ON p.id = io.path_id
LEFT JOIN artifact_hashes h ON h.artifact_id = io.artifact_id
WHERE io.job_id = ?1 AND io.direction = ?2
ORDER BY p.path, h.algorithm)sql");
    q->bind(1, job).bind(2, direction);
    std::vector<UseDetail> list;
    while (q->step()) {
        const std::string_view path = q->column_view(0);
        if (list.empty() || path != list.back().path) {
            UseDetail use;
            use.path = std::string(path);
            use.size = opt_int(*q, 1);
            use.notes = string_list(q->column_view(2));
            use.pid = opt_int(*q, 3);
            list.push_back(std::move(use));
        }
        if (!q->column_is_null(4)) {
            list.back().hashes[q->column_text(4)] = q->column_text(5);
        }
    }
    return list;
}

std::optional<JobDetail> Store::job(int64_t row)
{
    auto q = m_engine->prepare(R"sql(
SELECT j.uid, st.number, j.command, j.argv, j.cwd, j.exit_code, j.signal, j.started_at, j.ended_at,
       j.hostname, j.user, j.git_commit, j.git_branch, j.git_remote, j.git_dirty, j.git_dirty_files,
       j.env, j.dropped_events, j.notes, j.roar_version, j.session_id
FROM jobs j LEFT JOIN steps st ON st.id = j.step_id WHERE j.id = ?1)sql");
    q->bind(1, row);
    if (!q->step()) {
        return std::nullopt;
    }
    JobDetail j;
    j.row = row;
    j.uid = q->column_text(0);
    j.step = opt_int(*q, 1);
    j.session = q->column_int(20);
    j.command = q->column_text(2);
    j.argv = string_list(q->column_view(3));
    j.cwd = q->column_text(4);
    j.exit_code = q->column_int(5);
    j.signal = opt_int(*q, 6);
    j.started_at = q->column_double(7);
    j.ended_at = q->column_double(8);
    j.host = q->column_text(9);
    j.user = q->column_text(10);
    if (!q->column_is_null(11)) {
        j.git = GitDetail{q->column_text(11), q->column_text(12), q->column_text(13), q->column_int(14) != 0,
                          string_list(q->column_view(15))};
    }
    j.env = parse_json(q->column_view(16), nlohmann::json::object());
    j.dropped_events = q->column_int(17);
    j.notes = string_list(q->column_view(18));
    j.roar_version = q->column_text(19);
    j.inputs = uses_of(row, "in");
    j.outputs = uses_of(row, "out");
    j.deleted = uses_of(row, "deleted");
    // One row at most: job_id is the table's key.
    auto environment = m_engine->prepare("SELECT record FROM job_environments WHERE job_id = ?1");
    environment->bind(1, row);
    if (environment->step()) {
        j.environment = parse_json(environment->column_view(0), nlohmann::json());
    }

    auto p = m_engine->prepare("SELECT seq, pid, ppid, parent_seq, exe, argv, cwd, exit_code, signal, observed, "
                               "notes, tracer FROM processes WHERE job_id = ?1 ORDER BY seq, id");
    p->bind(1, row);
    while (p->step()) {
        ProcessDetail proc;
        proc.seq = p->column_int(0);
        proc.pid = p->column_int(1);
        proc.ppid = p->column_int(2);
        proc.parent = opt_int(*p, 3);
        proc.exe = p->column_text(4);
        proc.argv = string_list(p->column_view(5));
        proc.cwd = p->column_text(6);
        proc.exit_code = opt_int(*p, 7);
        proc.signal = opt_int(*p, 8);
        proc.observed = p->column_int(9) != 0;
        proc.notes = string_list(p->column_view(10));
        if (!p->column_is_null(11)) {
            proc.tracer = p->column_text(11);
        }
        if (proc.seq == 0 && proc.tracer == k_job_kind_proxy) {
            j.kind = k_job_kind_proxy; // the daemon's client process (proxy_daemon.hpp)
        }
        j.processes.push_back(std::move(proc));
    }
    return j;
}

std::vector<ArtifactUseByJob> Store::jobs_touching(int64_t artifact, const char* direction)
{
    auto q = m_engine->prepare(R"sql(
SELECT j.uid, st.number, j.command, j.started_at, p.path, j.exit_code, io.pid
FROM job_io io JOIN paths p ON p.id = io.path_id JOIN jobs j ON j.id = io.job_id
LEFT JOIN steps st ON st.id = j.step_id
WHERE io.artifact_id = ?1 AND io.direction = ?2
ORDER BY j.started_at, j.id, p.path)sql");
    q->bind(1, artifact).bind(2, direction);
    std::vector<ArtifactUseByJob> list;
    while (q->step()) {
        list.push_back({q->column_text(0), opt_int(*q, 1), q->column_text(2), q->column_double(3), q->column_text(4),
                        q->column_int(5), opt_int(*q, 6)});
    }
    return list;
}

std::optional<ArtifactDetail> Store::artifact(int64_t id)
{
    auto a = m_engine->prepare("SELECT kind, size, first_seen FROM artifacts WHERE id = ?1");
    a->bind(1, id);
    if (!a->step()) {
        return std::nullopt;
    }
    ArtifactDetail out;
    out.id = id;
    out.kind = a->column_text(0);
    out.size = opt_int(*a, 1);
    out.first_seen = a->column_double(2);
    auto h = m_engine->prepare("SELECT algorithm, digest FROM artifact_hashes WHERE artifact_id = ?1 ORDER BY "
                               "algorithm");
    h->bind(1, id);
    while (h->step()) {
        out.hashes[h->column_text(0)] = h->column_text(1);
    }
    auto p = m_engine->prepare("SELECT DISTINCT p.path FROM job_io io JOIN paths p ON p.id = io.path_id "
                               "WHERE io.artifact_id = ?1 ORDER BY p.path");
    p->bind(1, id);
    while (p->step()) {
        out.paths.push_back(p->column_text(0));
    }
    out.produced_by = jobs_touching(id, "out");
    out.consumed_by = jobs_touching(id, "in");
    return out;
}

Upstream Store::upstream(int64_t id)
{
    // The job that wrote `artifact` most recently before `before` (a consumer's start).
    auto producer = m_engine->prepare(R"sql(
SELECT j.id, j.uid, st.number, j.command, j.started_at, j.exit_code, j.session_id
FROM job_io io JOIN jobs j ON j.id = io.job_id LEFT JOIN steps st ON st.id = j.step_id
WHERE io.artifact_id = ?1 AND io.direction = 'out' AND j.started_at < ?2
ORDER BY j.started_at DESC, j.id DESC LIMIT 1)sql");
    auto inputs = m_engine->prepare(R"sql(
SELECT p.path, io.artifact_id, h.algorithm, h.digest FROM job_io io JOIN paths p ON p.id = io.path_id
LEFT JOIN artifact_hashes h ON h.artifact_id = io.artifact_id AND h.algorithm IN ('blake3', 'etag')
WHERE io.job_id = ?1 AND io.direction = 'in' ORDER BY p.path, h.algorithm)sql");

    Upstream out;
    std::map<int64_t, std::string> seen; // job row -> uid
    std::set<std::pair<std::string, int64_t>> seen_roots;

    // Returns the uid of the producing job (visiting it), or "" for a root.
    auto visit = [&](auto&& self, int64_t artifact, double before, const std::string& path,
                     const std::string& digest) -> std::string {
        producer->reset();
        producer->bind(1, artifact).bind(2, before);
        if (artifact == 0 || !producer->step()) {
            if (seen_roots.insert({path, artifact}).second) {
                out.roots.push_back({path, digest, artifact});
            }
            return "";
        }
        const int64_t row = producer->column_int(0);
        const std::string uid = producer->column_text(1);
        if (seen.count(row)) {
            return uid;
        }
        seen[row] = uid;
        UpstreamJob job{uid,
                        opt_int(*producer, 2),
                        producer->column_text(3),
                        producer->column_double(4),
                        producer->column_int(5),
                        producer->column_int(6),
                        {}};
        const double started = job.started_at;
        std::vector<UpstreamInput> ins;
        inputs->reset();
        inputs->bind(1, row);
        while (inputs->step()) {
            std::string p = inputs->column_text(0);
            std::string d = inputs->column_is_null(3) ? "" : inputs->column_text(3);
            if (!ins.empty() && ins.back().path == p) {
                continue; // blake3 sorts before etag: keep it
            }
            ins.push_back({p, d, inputs->column_is_null(1) ? 0 : inputs->column_int(1), std::nullopt});
        }
        const size_t index = out.jobs.size();
        out.jobs.push_back(std::move(job));
        for (auto& in : ins) {
            const std::string from = self(self, in.artifact, started, in.path, in.digest);
            if (!from.empty()) {
                in.producer = from;
            }
        }
        out.jobs[index].inputs = std::move(ins);
        return uid;
    };
    auto top = m_engine->prepare("SELECT h.digest FROM artifact_hashes h WHERE h.artifact_id = ?1 "
                                 "AND h.algorithm IN ('blake3', 'etag') ORDER BY h.algorithm LIMIT 1");
    top->bind(1, id);
    const std::string digest = top->step() ? top->column_text(0) : "";
    const std::string from = visit(visit, id, 1e300, "", digest);
    if (from.empty()) {
        out.roots.clear(); // the artifact itself: nothing recorded produced it
    } else {
        out.produced_by = from;
    }
    return out;
}

std::vector<JobSummary> Store::job_summaries(const JobFilter& filter)
{
    // The newest N are picked in descending order, then listed oldest first.
    auto q = m_engine->prepare(R"sql(
SELECT * FROM (
  SELECT j.uid, st.number, j.command, j.exit_code, j.signal, j.started_at, j.ended_at, j.session_id, j.id,
         j.hostname,
         (SELECT COUNT(*) FROM processes p WHERE p.job_id = j.id AND p.seq = 0 AND p.tracer = 'proxy') AS by_proxy
  FROM jobs j LEFT JOIN steps st ON st.id = j.step_id
  WHERE (CAST(?1 AS BIGINT) IS NULL OR j.session_id = ?1) AND (?2 = 0 OR j.exit_code != 0 OR j.signal IS NOT NULL)
  ORDER BY j.started_at DESC, j.id DESC LIMIT ?3) newest
ORDER BY started_at, id)sql");
    if (filter.session) {
        q->bind(1, *filter.session);
    } else {
        q->bind(1, std::nullopt);
    }
    q->bind(2, int64_t(filter.failed_only ? 1 : 0));
    q->bind(3, filter.last ? *filter.last : std::numeric_limits<int64_t>::max());
    std::vector<JobSummary> list;
    while (q->step()) {
        JobSummary s;
        s.uid = q->column_text(0);
        s.step = opt_int(*q, 1);
        s.command = q->column_text(2);
        s.exit_code = q->column_int(3);
        s.killed = !q->column_is_null(4);
        s.started_at = q->column_double(5);
        s.ended_at = q->column_double(6);
        s.session = opt_int(*q, 7);
        s.row = q->column_int(8);
        s.host = q->column_text(9);
        s.kind = q->column_int(10) > 0 ? k_job_kind_proxy : k_job_kind_run;
        list.push_back(std::move(s));
    }
    return list;
}

std::optional<int64_t> Store::step_number_named(const std::string& name)
{
    const auto session = active_session();
    if (!session) {
        return std::nullopt;
    }
    auto q = m_engine->prepare("SELECT number FROM steps WHERE session_id = ?1 AND name = ?2");
    q->bind(1, *session).bind(2, name);
    if (!q->step()) {
        return std::nullopt;
    }
    return q->column_int(0);
}

std::optional<int64_t> Store::step_number_of_job(int64_t row)
{
    auto q = m_engine->prepare("SELECT st.number FROM jobs j JOIN steps st ON st.id = j.step_id WHERE j.id = ?1");
    q->bind(1, row);
    if (!q->step()) {
        return std::nullopt;
    }
    return q->column_int(0);
}

bool Store::outputs_read_in_session(int64_t row)
{
    auto q = m_engine->prepare(R"sql(
SELECT 1 FROM job_io o
JOIN job_io i ON i.path_id = o.path_id AND i.direction = 'in' AND i.job_id != o.job_id
JOIN jobs j ON j.id = i.job_id AND j.session_id = (SELECT session_id FROM jobs WHERE id = ?1)
WHERE o.job_id = ?1 AND o.direction = 'out' LIMIT 1)sql");
    q->bind(1, row);
    return q->step();
}

} // namespace roar::collector
