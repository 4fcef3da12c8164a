// Writing a job (see Store::store_job): the job row, its processes, its
// step (step_matching.hpp decides which), its artifacts found or created
// by digest, and its uses, in one transaction with the hash-cache entries
// its digests produced.
#include "roar/collector/store/store.hpp"

#include "roar/collector/store/step_matching.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>

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

namespace {

constexpr size_t k_rows_per_statement = 1000;

// Runs `head` VALUES (...), (...) `tail` for `rows` rows of `columns`
// values, k_rows_per_statement rows a statement; `bind_row(stmt, row,
// first)` binds row `row` from parameter `first` on.
template <class BindRow> void insert_rows(StoreEngine& engine, std::string_view head, std::string_view tail,
                                          int columns, size_t rows, BindRow bind_row)
{
    for (size_t start = 0; start < rows; start += k_rows_per_statement) {
        const size_t n = std::min(k_rows_per_statement, rows - start);
        std::string sql(head);
        sql += " VALUES ";
        int param = 1;
        for (size_t r = 0; r < n; ++r) {
            sql += r ? ", (" : "(";
            for (int c = 0; c < columns; ++c) {
                sql += fmt::format("{}?{}", c ? ", " : "", param++);
            }
            sql += ')';
        }
        sql += tail;
        auto stmt = engine.prepare(sql);
        for (size_t r = 0; r < n; ++r) {
            bind_row(*stmt, start + r, int(r) * columns + 1);
        }
        stmt->run();
    }
}

} // namespace

void Store::write_uses_in_bulk(int64_t job_id, const JobRecord& job)
{
    // The same artifacts artifact_for() finds or creates one use at a time:
    // an artifact is identified by BLAKE3, else the ETag, and the other
    // digests a use knows are added to it.
    struct Row {
        const ArtifactUse* use;
        const char* direction;
        int64_t artifact = 0;
    };
    std::vector<Row> rows;
    std::vector<std::string> digests;
    for (const auto* uses : {&job.inputs, &job.outputs, &job.deleted}) {
        const char* direction = uses == &job.inputs ? "in" : uses == &job.outputs ? "out" : "deleted";
        for (const auto& use : *uses) {
            rows.push_back({&use, direction});
            for (const auto& [alg, digest] : use.hashes) {
                digests.push_back(digest);
            }
        }
    }
    std::sort(digests.begin(), digests.end());
    digests.erase(std::unique(digests.begin(), digests.end()), digests.end());
    std::map<std::pair<std::string, std::string>, int64_t> known; // (algorithm, digest) -> artifact
    for (size_t start = 0; start < digests.size(); start += k_rows_per_statement) {
        const size_t n = std::min(k_rows_per_statement, digests.size() - start);
        std::string sql = "SELECT algorithm, digest, artifact_id FROM artifact_hashes WHERE digest IN (";
        for (size_t i = 0; i < n; ++i) {
            sql += fmt::format("{}?{}", i ? ", " : "", i + 1);
        }
        auto q = m_engine->prepare(sql + ")");
        for (size_t i = 0; i < n; ++i) {
            q->bind(int(i) + 1, digests[start + i]);
        }
        while (q->step()) {
            known[{q->column_text(0), q->column_text(1)}] = q->column_int(2);
        }
    }

    struct NewArtifact {
        const ArtifactUse* use;
        int64_t id = 0;
    };
    std::vector<NewArtifact> created;
    struct Hash {
        int64_t artifact;
        const std::string* algorithm;
        const std::string* digest;
    };
    std::vector<Hash> hashes;
    for (Row& row : rows) {
        const ArtifactUse& use = *row.use;
        if (use.hashes.empty()) {
            continue;
        }
        for (const char* algorithm : {"blake3", "etag"}) {
            auto it = use.hashes.find(algorithm);
            if (it != use.hashes.end()) {
                if (auto found = known.find({algorithm, it->second}); found != known.end()) {
                    row.artifact = found->second;
                    break;
                }
            }
        }
        if (row.artifact == 0) { // new: ids are drawn below; -k marks the k-th
            created.push_back({&use});
            row.artifact = -int64_t(created.size());
        }
        for (const auto& [alg, digest] : use.hashes) {
            known.emplace(std::make_pair(alg, digest), row.artifact); // later uses of the same bytes find it
            hashes.push_back({row.artifact, &alg, &digest});
        }
    }
    if (!created.empty()) {
        auto ids = m_engine->prepare("SELECT nextval(pg_get_serial_sequence('artifacts', 'id')) "
                                     "FROM generate_series(1, ?1)");
        ids->bind(1, int64_t(created.size()));
        for (auto& artifact : created) {
            if (!ids->step()) {
                throw FatalError("database error: too few artifact ids");
            }
            artifact.id = ids->column_int(0);
        }
        insert_rows(*m_engine, "INSERT INTO artifacts (id, kind, size, first_seen)", "", 4, created.size(),
                    [&](SqlStatement& q, size_t i, int p) {
                        const ArtifactUse& use = *created[i].use;
                        q.bind(p, created[i].id).bind(p + 1, use.kind);
                        q.bind(p + 2, use.size ? std::optional<int64_t>(int64_t(*use.size)) : std::nullopt);
                        q.bind(p + 3, job.ended_at);
                    });
    }
    auto real_id = [&](int64_t artifact) { return artifact < 0 ? created[size_t(-artifact - 1)].id : artifact; };
    insert_rows(*m_engine, "INSERT INTO artifact_hashes (artifact_id, algorithm, digest)", " ON CONFLICT DO NOTHING", 3,
                hashes.size(), [&](SqlStatement& q, size_t i, int p) {
                    q.bind(p, real_id(hashes[i].artifact)).bind(p + 1, *hashes[i].algorithm);
                    q.bind(p + 2, *hashes[i].digest);
                });
    insert_rows(*m_engine, "INSERT INTO job_io (job_id, direction, path, artifact_id, size, notes)",
                " ON CONFLICT DO NOTHING", 6, rows.size(), [&](SqlStatement& q, size_t i, int p) {
                    const Row& row = rows[i];
                    const ArtifactUse& use = *row.use;
                    q.bind(p, job_id).bind(p + 1, row.direction).bind(p + 2, use.path);
                    q.bind(p + 3, row.artifact ? std::optional<int64_t>(real_id(row.artifact)) : std::nullopt);
                    q.bind(p + 4, use.size ? std::optional<int64_t>(int64_t(*use.size)) : std::nullopt);
                    q.bind(p + 5, use.notes.empty() ? std::string("[]") : nlohmann::json(use.notes).dump());
                });
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
                  hostname, "user", git_commit, git_branch, git_remote, git_dirty, git_dirty_files, env,
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
        if (m_engine->dialect() == Dialect::postgresql) {
            // Each statement is a round trip to the server: many rows each.
            write_uses_in_bulk(job_id, job);
            m_engine->commit();
            flush_hash_cache(); // this machine's cache, in its own file
            return job_id;
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
