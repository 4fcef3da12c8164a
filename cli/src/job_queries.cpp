// Queries behind show/log (see job_queries.hpp).
#include "job_queries.hpp"

#include "roar/collector/path_resolver.hpp"

#include <fmt/format.h>

#include <cctype>
#include <map>
#include <set>
#include <ctime>

namespace fs = std::filesystem;
using roar::collector::Statement;

namespace roar::cli {

namespace {

bool is_hex(const std::string& s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit((unsigned char)c); });
}

nlohmann::json parse_json(const std::string& text, nlohmann::json fallback)
{
    auto j = nlohmann::json::parse(text, nullptr, false);
    return j.is_discarded() ? fallback : j;
}

nlohmann::json io_list(sqlite3* db, int64_t job_id, const char* direction)
{
    Statement q(db, R"sql(
SELECT io.path, io.size, io.notes, a.kind, h.algorithm, h.digest
FROM job_io io
LEFT JOIN artifacts a ON a.id = io.artifact_id
LEFT JOIN artifact_hashes h ON h.artifact_id = io.artifact_id
WHERE io.job_id = ?1 AND io.direction = ?2
ORDER BY io.path, h.algorithm)sql");
    q.bind(1, job_id).bind(2, direction);
    nlohmann::json list = nlohmann::json::array();
    std::string last;
    while (q.step()) {
        const std::string path = q.column_text(0);
        if (list.empty() || path != last) {
            nlohmann::json item = {{"path", path}, {"hashes", nlohmann::json::object()}};
            item["size"] = q.column_is_null(1) ? nlohmann::json(nullptr) : nlohmann::json(q.column_int(1));
            item["kind"] = path.rfind("s3://", 0) == 0 ? "s3" : "file"; // one artifact may live in both places
            auto notes = parse_json(q.column_text(2), nlohmann::json::array());
            if (!notes.empty()) {
                item["notes"] = notes;
            }
            list.push_back(std::move(item));
            last = path;
        }
        if (!q.column_is_null(4)) {
            list.back()["hashes"][q.column_text(4)] = q.column_text(5);
        }
    }
    return list;
}

nlohmann::json jobs_touching(sqlite3* db, int64_t artifact_id, const char* direction)
{
    Statement q(db, R"sql(
SELECT j.uid, st.number, j.command, j.started_at, io.path, j.exit_code
FROM job_io io JOIN jobs j ON j.id = io.job_id LEFT JOIN steps st ON st.id = j.step_id
WHERE io.artifact_id = ?1 AND io.direction = ?2
ORDER BY j.started_at, j.id)sql");
    q.bind(1, artifact_id).bind(2, direction);
    nlohmann::json list = nlohmann::json::array();
    while (q.step()) {
        list.push_back({{"job_id", q.column_text(0)},
                        {"step", q.column_is_null(1) ? nlohmann::json(nullptr) : nlohmann::json(q.column_int(1))},
                        {"command", q.column_text(2)},
                        {"started_at", iso_time(q.column_double(3))},
                        {"path", q.column_text(4)},
                        {"exit_code", q.column_int(5)}});
    }
    return list;
}

} // namespace

std::string iso_time(double seconds)
{
    const auto whole = static_cast<time_t>(seconds);
    const int millis = static_cast<int>((seconds - double(whole)) * 1000.0);
    struct tm tm;
    gmtime_r(&whole, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return fmt::format("{}.{:03d}Z", buf, millis);
}

Ref resolve_ref(const collector::Database& database, const Project& project, const std::string& text)
{
    sqlite3* db = database.handle();
    if (text.empty()) {
        throw FatalError("empty reference: give @N, a job id, a path or a digest prefix");
    }
    if (text.front() == '@') {
        const std::string number = text.substr(1);
        if (number.empty() || !std::all_of(number.begin(), number.end(), ::isdigit)) {
            throw FatalError(fmt::format("'{}' is not a step reference (expected @N, e.g. @2)", text));
        }
        Statement q(db, R"sql(
SELECT j.id FROM jobs j JOIN steps st ON st.id = j.step_id
WHERE st.number = ?1 AND st.session_id = (SELECT id FROM sessions WHERE active = 1 ORDER BY id DESC LIMIT 1)
ORDER BY j.started_at DESC, j.id DESC LIMIT 1)sql");
        q.bind(1, int64_t(std::stoll(number)));
        if (q.step()) {
            return {Ref::Kind::job, q.column_int(0), ""};
        }
        throw FatalError(fmt::format("no step {} in this session ('roar log' lists the jobs)", text));
    }
    // A path: as given, relative to the current directory.
    std::error_code ec;
    const std::string abs = collector::resolve_path(fs::current_path(ec).string(), text);
    {
        Statement q(db, "SELECT artifact_id FROM job_io io JOIN jobs j ON j.id = io.job_id "
                        "WHERE io.path = ?1 AND io.artifact_id IS NOT NULL "
                        "ORDER BY (io.direction = 'out') DESC, j.ended_at DESC LIMIT 1");
        q.bind(1, text.rfind("s3://", 0) == 0 ? text : abs);
        if (q.step()) {
            return {Ref::Kind::artifact, q.column_int(0), text.rfind("s3://", 0) == 0 ? text : abs};
        }
    }
    std::string key = text;
    if (auto colon = key.find(':'); colon != std::string::npos) {
        key = key.substr(colon + 1); // "blake3:abcd" -> "abcd"
    }
    if (is_hex(key)) {
        std::string lower = key;
        std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
        // Prefix ranges ('~' sorts after every hex digit) use the uid and digest indexes.
        const std::string upper = lower + "~";
        Statement jobs(db, "SELECT id FROM jobs WHERE uid >= ?1 AND uid < ?2 LIMIT 2");
        jobs.bind(1, lower).bind(2, upper);
        std::vector<int64_t> job_ids;
        while (jobs.step()) {
            job_ids.push_back(jobs.column_int(0));
        }
        Statement arts(db, "SELECT DISTINCT artifact_id FROM artifact_hashes WHERE digest >= ?1 AND digest < ?2 "
                           "LIMIT 2");
        arts.bind(1, lower).bind(2, upper);
        std::vector<int64_t> artifact_ids;
        while (arts.step()) {
            artifact_ids.push_back(arts.column_int(0));
        }
        if (job_ids.size() + artifact_ids.size() > 1) {
            throw FatalError(fmt::format("'{}' is ambiguous: it matches more than one job or artifact; give more "
                                         "characters",
                                         text));
        }
        if (job_ids.size() == 1) {
            return {Ref::Kind::job, job_ids.front(), ""};
        }
        if (artifact_ids.size() == 1) {
            return {Ref::Kind::artifact, artifact_ids.front(), ""};
        }
    }
    if (fs::exists(abs, ec)) {
        throw FatalError(fmt::format("{} is not recorded in any job", project.display_path(abs)));
    }
    throw FatalError(fmt::format("no job, step, path or digest matches '{}' ('roar log' lists the jobs)", text));
}

nlohmann::json job_json(const collector::Database& database, int64_t job_id)
{
    sqlite3* db = database.handle();
    Statement q(db, R"sql(
SELECT j.uid, st.number, j.command, j.argv, j.cwd, j.exit_code, j.signal, j.started_at, j.ended_at,
       j.hostname, j.user, j.git_commit, j.git_branch, j.git_remote, j.git_dirty, j.git_dirty_files,
       j.env, j.dropped_events, j.notes, j.roar_version, j.session_id
FROM jobs j LEFT JOIN steps st ON st.id = j.step_id WHERE j.id = ?1)sql");
    q.bind(1, job_id);
    if (!q.step()) {
        throw FatalError(fmt::format("job {} vanished from the database", job_id));
    }
    nlohmann::json j;
    j["job_id"] = q.column_text(0);
    j["step"] = q.column_is_null(1) ? nlohmann::json(nullptr) : nlohmann::json(q.column_int(1));
    j["session"] = q.column_int(20);
    j["command"] = q.column_text(2);
    j["argv"] = parse_json(q.column_text(3), nlohmann::json::array());
    j["cwd"] = q.column_text(4);
    j["exit_code"] = q.column_int(5);
    j["signal"] = q.column_is_null(6) ? nlohmann::json(nullptr) : nlohmann::json(q.column_int(6));
    j["status"] = q.column_int(5) == 0 ? "ok" : (q.column_is_null(6) ? "failed" : "killed");
    j["started_at"] = iso_time(q.column_double(7));
    j["ended_at"] = iso_time(q.column_double(8));
    j["duration_s"] = std::round((q.column_double(8) - q.column_double(7)) * 1000.0) / 1000.0;
    j["host"] = q.column_text(9);
    j["user"] = q.column_text(10);
    if (!q.column_is_null(11)) {
        j["git"] = {{"commit", q.column_text(11)},
                    {"branch", q.column_text(12)},
                    {"remote", q.column_text(13)},
                    {"dirty", q.column_int(14) != 0},
                    {"dirty_files", parse_json(q.column_text(15), nlohmann::json::array())}};
    } else {
        j["git"] = nullptr;
    }
    j["env"] = parse_json(q.column_text(16), nlohmann::json::object());
    j["dropped_events"] = q.column_int(17);
    j["notes"] = parse_json(q.column_text(18), nlohmann::json::array());
    j["roar_version"] = q.column_text(19);
    j["inputs"] = io_list(db, job_id, "in");
    j["outputs"] = io_list(db, job_id, "out");
    j["deleted"] = io_list(db, job_id, "deleted");

    Statement p(db, "SELECT seq, pid, ppid, parent_seq, exe, argv, cwd, exit_code, signal, observed, notes "
                    "FROM processes WHERE job_id = ?1 ORDER BY seq");
    p.bind(1, job_id);
    nlohmann::json procs = nlohmann::json::array();
    while (p.step()) {
        procs.push_back({
            {"seq", p.column_int(0)},
            {"pid", p.column_int(1)},
            {"ppid", p.column_int(2)},
            {"parent", p.column_is_null(3) ? nlohmann::json(nullptr) : nlohmann::json(p.column_int(3))},
            {"exe", p.column_text(4)},
            {"argv", parse_json(p.column_text(5), nlohmann::json::array())},
            {"cwd", p.column_text(6)},
            {"exit_code", p.column_is_null(7) ? nlohmann::json(nullptr) : nlohmann::json(p.column_int(7))},
            {"signal", p.column_is_null(8) ? nlohmann::json(nullptr) : nlohmann::json(p.column_int(8))},
            {"observed", p.column_int(9) != 0},
            {"notes", parse_json(p.column_text(10), nlohmann::json::array())},
        });
    }
    j["processes"] = procs;
    return j;
}

nlohmann::json artifact_json(const collector::Database& database, int64_t artifact_id)
{
    sqlite3* db = database.handle();
    Statement a(db, "SELECT kind, size, first_seen FROM artifacts WHERE id = ?1");
    a.bind(1, artifact_id);
    if (!a.step()) {
        throw FatalError(fmt::format("artifact {} vanished from the database", artifact_id));
    }
    nlohmann::json j;
    j["artifact_id"] = artifact_id;
    j["kind"] = a.column_text(0);
    j["size"] = a.column_is_null(1) ? nlohmann::json(nullptr) : nlohmann::json(a.column_int(1));
    j["first_seen"] = iso_time(a.column_double(2));
    nlohmann::json hashes = nlohmann::json::object();
    Statement h(db, "SELECT algorithm, digest FROM artifact_hashes WHERE artifact_id = ?1 ORDER BY algorithm");
    h.bind(1, artifact_id);
    while (h.step()) {
        hashes[h.column_text(0)] = h.column_text(1);
    }
    j["hashes"] = hashes;
    nlohmann::json paths = nlohmann::json::array();
    Statement p(db, "SELECT DISTINCT path FROM job_io WHERE artifact_id = ?1 ORDER BY path");
    p.bind(1, artifact_id);
    while (p.step()) {
        paths.push_back(p.column_text(0));
    }
    j["paths"] = paths;
    j["produced_by"] = jobs_touching(db, artifact_id, "out");
    j["consumed_by"] = jobs_touching(db, artifact_id, "in");
    return j;
}

nlohmann::json upstream_lineage(const collector::Database& database, int64_t artifact_id)
{
    sqlite3* db = database.handle();
    // The job that wrote `artifact` most recently before `before` (a consumer's start).
    Statement producer(db, R"sql(
SELECT j.id, j.uid, st.number, j.command, j.started_at, j.exit_code, j.session_id
FROM job_io io JOIN jobs j ON j.id = io.job_id LEFT JOIN steps st ON st.id = j.step_id
WHERE io.artifact_id = ?1 AND io.direction = 'out' AND j.started_at < ?2
ORDER BY j.started_at DESC, j.id DESC LIMIT 1)sql");
    Statement inputs(db, R"sql(
SELECT io.path, io.artifact_id, h.algorithm, h.digest FROM job_io io
LEFT JOIN artifact_hashes h ON h.artifact_id = io.artifact_id AND h.algorithm IN ('blake3', 'etag')
WHERE io.job_id = ?1 AND io.direction = 'in' ORDER BY io.path, h.algorithm)sql");

    nlohmann::json jobs = nlohmann::json::array();
    nlohmann::json roots = nlohmann::json::array();
    std::map<int64_t, std::string> seen; // job row -> uid
    std::set<std::pair<std::string, int64_t>> seen_roots;

    // Returns the uid of the producing job (visiting it), or "" for a root.
    auto visit = [&](auto&& self, int64_t artifact, double before, const std::string& path,
                     const std::string& digest) -> std::string {
        producer.reset();
        producer.bind(1, artifact).bind(2, before);
        if (artifact == 0 || !producer.step()) {
            if (seen_roots.insert({path, artifact}).second) {
                roots.push_back({{"path", path}, {"digest", digest}, {"artifact_id", artifact}});
            }
            return "";
        }
        const int64_t row = producer.column_int(0);
        const std::string uid = producer.column_text(1);
        if (seen.count(row)) {
            return uid;
        }
        seen[row] = uid;
        nlohmann::json job = {
            {"job_id", uid},
            {"step", producer.column_is_null(2) ? nlohmann::json(nullptr) : nlohmann::json(producer.column_int(2))},
            {"command", producer.column_text(3)},
            {"started_at", iso_time(producer.column_double(4))},
            {"exit_code", producer.column_int(5)},
            {"session", producer.column_int(6)},
        };
        const double started = producer.column_double(4);
        struct Input {
            std::string path, digest;
            int64_t artifact;
        };
        std::vector<Input> ins;
        inputs.reset();
        inputs.bind(1, row);
        while (inputs.step()) {
            std::string p = inputs.column_text(0);
            std::string d = inputs.column_is_null(3) ? "" : inputs.column_text(3);
            if (!ins.empty() && ins.back().path == p) {
                continue; // blake3 sorts before etag: keep it
            }
            ins.push_back({p, d, inputs.column_is_null(1) ? 0 : inputs.column_int(1)});
        }
        const size_t index = jobs.size();
        jobs.push_back(job);
        nlohmann::json in_list = nlohmann::json::array();
        for (const auto& in : ins) {
            const std::string from = self(self, in.artifact, started, in.path, in.digest);
            in_list.push_back({{"path", in.path},
                               {"digest", in.digest},
                               {"artifact_id", in.artifact},
                               {"producer_job", from.empty() ? nlohmann::json(nullptr) : nlohmann::json(from)}});
        }
        jobs[index]["inputs"] = in_list;
        return uid;
    };
    Statement top(db, "SELECT h.digest FROM artifact_hashes h WHERE h.artifact_id = ?1 "
                      "AND h.algorithm IN ('blake3', 'etag') ORDER BY h.algorithm LIMIT 1");
    top.bind(1, artifact_id);
    const std::string digest = top.step() ? top.column_text(0) : "";
    const std::string from = visit(visit, artifact_id, 1e300, "", digest);
    if (from.empty()) {
        roots.clear(); // the artifact itself: nothing recorded produced it
    }
    return {{"produced_by", from.empty() ? nlohmann::json(nullptr) : nlohmann::json(from)},
            {"jobs", jobs},
            {"roots", roots}};
}

std::optional<int64_t> active_session(const collector::Database& database)
{
    Statement q(database.handle(), "SELECT id FROM sessions WHERE active = 1 ORDER BY id DESC LIMIT 1");
    if (!q.step()) {
        return std::nullopt;
    }
    return q.column_int(0);
}

nlohmann::json job_summaries(const collector::Database& database, const LogFilter& filter)
{
    // The newest N are picked in descending order, then listed oldest first.
    Statement q(database.handle(), R"sql(
SELECT * FROM (
  SELECT j.uid, st.number, j.command, j.exit_code, j.signal, j.started_at, j.ended_at, j.session_id, j.id
  FROM jobs j LEFT JOIN steps st ON st.id = j.step_id
  WHERE (?1 IS NULL OR j.session_id = ?1) AND (?2 = 0 OR j.exit_code != 0 OR j.signal IS NOT NULL)
  ORDER BY j.started_at DESC, j.id DESC LIMIT ?3)
ORDER BY started_at, id)sql");
    if (filter.session) {
        q.bind(1, *filter.session);
    }
    q.bind(2, int64_t(filter.failed_only ? 1 : 0));
    q.bind(3, filter.last ? *filter.last : int64_t(-1));
    nlohmann::json list = nlohmann::json::array();
    while (q.step()) {
        list.push_back({
            {"job_id", q.column_text(0)},
            {"step", q.column_is_null(1) ? nlohmann::json(nullptr) : nlohmann::json(q.column_int(1))},
            {"command", q.column_text(2)},
            {"exit_code", q.column_int(3)},
            {"status",
             q.column_int(3) == 0 && q.column_is_null(4) ? "ok" : (q.column_is_null(4) ? "failed" : "killed")},
            {"started_at", iso_time(q.column_double(5))},
            {"duration_s", std::round((q.column_double(6) - q.column_double(5)) * 1000.0) / 1000.0},
            {"session", q.column_is_null(7) ? nlohmann::json(nullptr) : nlohmann::json(q.column_int(7))},
        });
    }
    return list;
}

} // namespace roar::cli
