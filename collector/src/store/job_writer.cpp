// Writing a job (see Store::store_job): the job row, its processes, its
// step (step_matching.hpp decides which), its artifacts found or created
// by digest, and its uses, in one transaction with the hash-cache entries
// its digests produced.
#include "roar/collector/store/store.hpp"

#include "roar/collector/store/step_matching.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace roar::collector {

namespace {

// INSERT OR IGNORE needs no statement journal where INSERT OR REPLACE
// would; (direction, path) is unique within a job, so nothing is ignored.
constexpr DialectSql k_add_artifact_hash{
    "INSERT OR IGNORE INTO artifact_hashes (artifact_id, algorithm, digest) VALUES (?1, ?2, ?3)",
    "INSERT INTO artifact_hashes (artifact_id, algorithm, digest) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"};
constexpr DialectSql k_add_use{
    "INSERT OR IGNORE INTO job_io (job_id, direction, path, artifact_id, size, notes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    "INSERT INTO job_io (job_id, direction, path, artifact_id, size, notes) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT DO NOTHING"};

} // namespace

namespace {

nlohmann::json paths_json(const StepPaths& paths) { return {{"in", paths.inputs}, {"out", paths.outputs}}; }

// A step's recorded paths; nullopt for steps from schema v1, which match
// on the command shape alone.
std::optional<StepPaths> parse_paths(const std::string& text)
{
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return std::nullopt;
    }
    StepPaths paths;
    paths.inputs = j.value("in", std::vector<std::string>{});
    paths.outputs = j.value("out", std::vector<std::string>{});
    return paths;
}

std::vector<std::string> merged(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
    std::vector<std::string> out;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

} // namespace

int64_t Store::step_for(int64_t session, const JobRecord& job, std::optional<int64_t> step_number)
{
    const StepPaths paths = step_paths(job);
    auto remember = [&](int64_t step, const std::optional<StepPaths>& known) {
        StepPaths all = paths;
        if (known) {
            all.inputs = merged(known->inputs, paths.inputs);
            all.outputs = merged(known->outputs, paths.outputs);
        }
        SqlStatement& update = prepared("UPDATE steps SET io_paths = ?2 WHERE id = ?1");
        update.bind(1, step).bind(2, paths_json(all).dump()).run();
        return step;
    };
    if (step_number) {
        SqlStatement& find = prepared("SELECT id, io_paths FROM steps WHERE session_id = ?1 AND number = ?2");
        find.bind(1, session).bind(2, *step_number);
        if (!find.step()) {
            throw FatalError(fmt::format("no step @{} in the active session", *step_number));
        }
        const int64_t step = find.column_int(0);
        const auto known = parse_paths(find.column_text(1));
        find.reset(); // no statement stays open past this transaction
        return remember(step, known);
    }

    // Candidates: steps with this command shape. Signatures are the shape,
    // then '\x1e' and what tells its steps apart (v1 steps: the shape alone).
    const std::string shape = step_signature(job.argv, job.cwd);
    SqlStatement& find = prepared("SELECT id, io_paths FROM steps WHERE session_id = ?1 AND (signature = ?2 OR "
                                  "(signature >= ?3 AND signature < ?4)) ORDER BY number");
    find.bind(1, session).bind(2, shape).bind(3, shape + '\x1e').bind(4, shape + '\x1f');
    std::optional<std::pair<int64_t, std::optional<StepPaths>>> compatible;
    while (find.step()) {
        auto known = parse_paths(find.column_text(1));
        if (known && known->inputs == paths.inputs && known->outputs == paths.outputs) {
            const int64_t step = find.column_int(0);
            find.reset();
            return step; // the usual re-run: nothing new to remember
        }
        if (!compatible && (!known || step_io_compatible(paths, *known))) {
            compatible.emplace(find.column_int(0), known);
        }
    }
    if (compatible) {
        return remember(compatible->first, compatible->second);
    }

    std::string signature = shape + '\x1e' + paths_json(paths).dump();
    for (int suffix = 2;; ++suffix) { // only reachable by odd histories: keep signatures unique
        SqlStatement& taken = prepared("SELECT 1 FROM steps WHERE session_id = ?1 AND signature = ?2");
        taken.bind(1, session).bind(2, signature);
        if (!taken.step()) {
            break;
        }
        signature = fmt::format("{}\x1e{}#{}", shape, paths_json(paths).dump(), suffix);
    }
    SqlStatement& create =
        prepared("INSERT INTO steps (session_id, number, signature, command, io_paths) VALUES (?1, "
                 "(SELECT coalesce(max(number), 0) + 1 FROM steps WHERE session_id = ?1), ?2, ?3, ?4)");
    create.bind(1, session).bind(2, signature).bind(3, job.command).bind(4, paths_json(paths).dump()).run();
    return m_engine->last_insert_id();
}

int64_t Store::artifact_for(const ArtifactUse& use, double when)
{
    // An artifact is identified by its strongest digest: BLAKE3 when known
    // (files, and S3 bodies the proxy saw whole), else the S3 ETag.
    SqlStatement& add = prepared(k_add_artifact_hash);
    auto add_hashes = [&](int64_t id, std::string_view known) {
        for (const auto& [alg, digest] : use.hashes) {
            if (alg == known) {
                continue; // how the artifact was just found: already there
            }
            add.reset();
            add.bind(1, id).bind(2, alg).bind(3, digest).run();
        }
    };
    for (const char* algorithm : {"blake3", "etag"}) {
        auto it = use.hashes.find(algorithm);
        if (it == use.hashes.end()) {
            continue;
        }
        SqlStatement& find = prepared("SELECT artifact_id FROM artifact_hashes WHERE algorithm = ?1 AND digest = ?2");
        find.bind(1, algorithm).bind(2, it->second);
        if (find.step()) {
            const int64_t id = find.column_int(0);
            find.reset();
            add_hashes(id, algorithm);
            return id;
        }
        find.reset();
    }
    if (use.hashes.empty()) {
        return 0;
    }
    SqlStatement& create = prepared("INSERT INTO artifacts (kind, size, first_seen) VALUES (?1, ?2, ?3)");
    create.bind(1, use.kind).bind(2, use.size ? std::optional<int64_t>(int64_t(*use.size)) : std::nullopt);
    create.bind(3, when).run();
    const int64_t id = m_engine->last_insert_id();
    add_hashes(id, {});
    return id;
}

Result<int64_t> Store::store_job(const JobRecord& job, std::optional<int64_t> step_number)
{
    if (!m_engine || m_engine->access() != Access::write) {
        return fail("could not store job {}: {} is not open for writing", job.uid, describe());
    }
    try {
        m_engine->begin_write();
        const int64_t session = active_session_for_writing();
        const int64_t step = step_for(session, job, step_number);
        SqlStatement& insert = prepared(R"sql(
INSERT INTO jobs (uid, session_id, step_id, command, argv, cwd, started_at, ended_at, exit_code, signal,
                  hostname, user, git_commit, git_branch, git_remote, git_dirty, git_dirty_files, env,
                  dropped_events, notes, roar_version)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21))sql");
        insert.bind(1, job.uid).bind(2, session).bind(3, step).bind(4, job.command);
        insert.bind(5, nlohmann::json(job.argv).dump()).bind(6, job.cwd).bind(7, job.started_at);
        insert.bind(8, job.ended_at).bind(9, job.exit_code);
        insert.bind(10, job.signal ? std::optional<int64_t>(*job.signal) : std::nullopt);
        insert.bind(11, job.hostname).bind(12, job.user);
        if (job.git) {
            insert.bind(13, job.git->commit).bind(14, job.git->branch).bind(15, job.git->remote);
            insert.bind(16, int64_t(job.git->dirty)).bind(17, nlohmann::json(job.git->dirty_files).dump());
        } else {
            for (int i = 13; i <= 17; ++i) {
                insert.bind(i, std::nullopt);
            }
        }
        insert.bind(18, job.env.dump()).bind(19, job.ring.dropped);
        insert.bind(20, nlohmann::json(job.notes).dump()).bind(21, ROAR_VERSION_STRING);
        insert.run();
        const int64_t job_id = m_engine->last_insert_id();
        if (!job.environment.is_null()) {
            SqlStatement& environment = prepared("INSERT INTO job_environments (job_id, record) VALUES (?1, ?2)");
            // A path in it that is not UTF-8 (an odd site directory) must not cost the job.
            environment.bind(1, job_id);
            environment.bind(2, job.environment.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
            environment.run();
        }

        SqlStatement& proc = prepared(R"sql(
INSERT INTO processes (job_id, seq, pid, ppid, parent_seq, exe, argv, cwd, started_at, exit_code, signal, observed, notes,
                       tracer)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14))sql");
        for (size_t i = 0; i < job.processes.size(); ++i) {
            const ProcessRecord& p = job.processes[i];
            proc.reset();
            proc.bind(1, job_id).bind(2, int64_t(i)).bind(3, int64_t(p.pid)).bind(4, int64_t(p.ppid));
            proc.bind(5, p.parent >= 0 ? std::optional<int64_t>(p.parent) : std::nullopt);
            proc.bind(6, p.exe).bind(7, nlohmann::json(p.argv).dump()).bind(8, p.cwd).bind(9, p.started_at);
            proc.bind(10, p.exit_code ? std::optional<int64_t>(*p.exit_code) : std::nullopt);
            proc.bind(11, p.signal ? std::optional<int64_t>(*p.signal) : std::nullopt);
            proc.bind(12, int64_t(p.observed)).bind(13, nlohmann::json(p.notes).dump());
            if (p.tracer.empty()) {
                proc.bind(14, std::nullopt);
            } else {
                proc.bind(14, std::string_view(p.tracer));
            }
            proc.run();
        }

        // Artifacts are resolved in digest order, so that creating many
        // walks the digest indexes forwards instead of hitting random pages;
        // the uses are then written in path order. (direction, path) is
        // unique within a job, so no use replaces another: INSERT OR IGNORE
        // needs no statement journal, INSERT OR REPLACE would.
        struct Row {
            const ArtifactUse* use;
            const char* direction;
            std::string_view digest; // the identifying one: BLAKE3, else the ETag
            int64_t artifact = 0;
        };
        auto identity_digest = [](const ArtifactUse& use) -> std::string_view {
            for (const char* algorithm : {"blake3", "etag"}) {
                if (auto it = use.hashes.find(algorithm); it != use.hashes.end()) {
                    return it->second;
                }
            }
            return {};
        };
        std::vector<Row> rows;
        rows.reserve(job.inputs.size() + job.outputs.size() + job.deleted.size());
        for (const auto* uses : {&job.inputs, &job.outputs, &job.deleted}) {
            const char* direction = uses == &job.inputs ? "in" : uses == &job.outputs ? "out" : "deleted";
            for (const auto& use : *uses) {
                rows.push_back({&use, direction, identity_digest(use)});
            }
        }
        std::vector<Row*> by_digest;
        by_digest.reserve(rows.size());
        for (auto& row : rows) {
            by_digest.push_back(&row);
        }
        std::sort(by_digest.begin(), by_digest.end(), [](const Row* a, const Row* b) { return a->digest < b->digest; });
        for (Row* row : by_digest) {
            row->artifact = artifact_for(*row->use, job.ended_at);
        }
        SqlStatement& use_stmt = prepared(k_add_use);
        for (const Row& row : rows) {
            const ArtifactUse& use = *row.use;
            use_stmt.reset();
            use_stmt.bind(1, job_id).bind(2, row.direction).bind(3, use.path);
            use_stmt.bind(4, row.artifact ? std::optional<int64_t>(row.artifact) : std::nullopt);
            use_stmt.bind(5, use.size ? std::optional<int64_t>(int64_t(*use.size)) : std::nullopt);
            use_stmt.bind(6, use.notes.empty() ? std::string("[]") : nlohmann::json(use.notes).dump());
            use_stmt.run();
        }
        use_stmt.reset();
        write_pending_cache(); // the digests taken for this job, in the same transaction
        m_engine->commit();
        return job_id;
    } catch (const std::exception& e) { // FatalError from the engine, or anything else: never half a job
        m_engine->rollback();
        return fail("could not store job {}: {}", job.uid, e.what());
    }
}

} // namespace roar::collector
