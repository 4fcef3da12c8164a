// Writing a job (see Store::store_job): the job row, its processes, its
// step (step_matching.hpp decides which), its artifacts found or created
// by digest, and its uses, in one transaction with the hash-cache entries
// its digests produced.
#include "roar/collector/store/store.hpp"

#include "roar/collector/byte_text.hpp"
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

// What a step remembers of its executions' paths: since schema v4, the
// outputs (exact) under "v": 3; before, the inputs and digit-normalised
// outputs (StepPaths), or nothing (schema v1).
struct KnownPaths {
    bool v3 = false;
    std::vector<std::string> outputs; // v3
    std::optional<StepPaths> legacy;  // before v4; nullopt for v1 (matches on the command shape alone)
};

KnownPaths parse_paths(const std::string& text)
{
    KnownPaths known;
    auto j = parse_stored_json(text, nullptr);
    if (!j.is_object()) {
        return known;
    }
    if (j.value("v", 0) >= 3) {
        known.v3 = true;
        known.outputs = j.value("out", std::vector<std::string>{});
        return known;
    }
    StepPaths paths;
    paths.inputs = j.value("in", std::vector<std::string>{});
    paths.outputs = j.value("out", std::vector<std::string>{});
    known.legacy = std::move(paths);
    return known;
}

std::vector<std::string> merged(const std::vector<std::string>& a, const std::vector<std::string>& b)
{
    std::vector<std::string> out;
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

nlohmann::json v3_json(const std::vector<std::string>& outputs) { return {{"out", outputs}, {"v", 3}}; }

} // namespace

int64_t Store::step_for(int64_t session, const JobRecord& job, std::optional<int64_t> step_number)
{
    const std::vector<std::string> outputs = output_paths(job);
    // Adds this job's paths to what step `step` remembers.
    auto remember = [&](int64_t step, const KnownPaths& known) {
        std::string text;
        if (known.v3) {
            const auto all = merged(known.outputs, outputs);
            if (all == known.outputs) {
                return step;
            }
            text = stored_json(v3_json(all));
        } else {
            StepPaths all = step_paths(job);
            if (known.legacy) {
                all.inputs = merged(known.legacy->inputs, all.inputs);
                all.outputs = merged(known.legacy->outputs, all.outputs);
            }
            text = stored_json(paths_json(all));
        }
        SqlStatement& update = prepared("UPDATE steps SET io_paths = ?2 WHERE id = ?1");
        update.bind(1, step).bind(2, text).run();
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

    // Steps of this program: the one with the same outputs, else one whose
    // outputs contain or are contained in this job's (the same command
    // preferred: a failed run and its retry).
    const std::string key = "p\x1f" + step_program(job.argv, job.cwd, job.inputs) + '\x1e';
    {
        SqlStatement& find = prepared("SELECT id, io_paths, command FROM steps WHERE session_id = ?1 AND "
                                      "signature >= ?2 AND signature < ?3 ORDER BY number");
        find.bind(1, session).bind(2, key).bind(3, key.substr(0, key.size() - 1) + '\x1f');
        std::optional<std::pair<int64_t, KnownPaths>> nested;
        bool nested_same_command = false;
        while (find.step()) {
            auto known = parse_paths(find.column_text(1));
            if (known.v3 && known.outputs == outputs) {
                const int64_t step = find.column_int(0);
                find.reset();
                return step;
            }
            if (known.v3 && nested_paths(known.outputs, outputs)) {
                const bool same_command = find.column_text(2) == job.command;
                if (!nested || (same_command && !nested_same_command)) {
                    nested.emplace(find.column_int(0), std::move(known));
                    nested_same_command = same_command;
                }
            }
        }
        if (nested) {
            return remember(nested->first, nested->second);
        }
    }

    // Steps recorded before schema v4, by their command shape: a re-run
    // joins them as it did then.
    {
        const StepPaths paths = step_paths(job);
        const std::string shape = step_signature(job.argv, job.cwd);
        SqlStatement& find = prepared("SELECT id, io_paths FROM steps WHERE session_id = ?1 AND (signature = ?2 OR "
                                      "(signature >= ?3 AND signature < ?4)) ORDER BY number");
        find.bind(1, session).bind(2, shape).bind(3, shape + '\x1e').bind(4, shape + '\x1f');
        std::optional<std::pair<int64_t, KnownPaths>> compatible;
        while (find.step()) {
            auto known = parse_paths(find.column_text(1));
            if (known.v3) {
                continue;
            }
            if (!compatible && (!known.legacy || step_io_compatible(paths, *known.legacy))) {
                compatible.emplace(find.column_int(0), std::move(known));
            }
        }
        if (compatible) {
            return remember(compatible->first, compatible->second);
        }
    }

    std::string signature = key + stored_json(v3_json(outputs));
    for (int suffix = 2;; ++suffix) { // only reachable by odd histories: keep signatures unique
        SqlStatement& taken = prepared("SELECT 1 FROM steps WHERE session_id = ?1 AND signature = ?2");
        taken.bind(1, session).bind(2, signature);
        if (!taken.step()) {
            break;
        }
        taken.reset();
        signature = fmt::format("{}{}#{}", key, stored_json(v3_json(outputs)), suffix);
    }
    SqlStatement& create =
        prepared("INSERT INTO steps (session_id, number, signature, command, io_paths) VALUES (?1, "
                 "(SELECT coalesce(max(number), 0) + 1 FROM steps WHERE session_id = ?1), ?2, ?3, ?4)");
    create.bind(1, session).bind(2, signature).bind(3, job.command).bind(4, stored_json(v3_json(outputs))).run();
    return m_engine->last_insert_id();
}

void Store::name_job_step(int64_t row, const std::string& name)
{
    require_writer("naming a step");
    m_engine->begin_write();
    try {
        SqlStatement& find = prepared("SELECT st.id, coalesce(st.name, ''), st.session_id, j.command FROM jobs j "
                                      "JOIN steps st ON st.id = j.step_id WHERE j.id = ?1");
        find.bind(1, row);
        if (!find.step()) {
            throw FatalError(fmt::format("job {} has no step to name", row));
        }
        const int64_t step = find.column_int(0);
        const std::string current = find.column_text(1);
        const int64_t session = find.column_int(2);
        const std::string command = find.column_text(3);
        find.reset();
        SqlStatement& taken = prepared("SELECT id FROM steps WHERE session_id = ?1 AND name = ?2");
        taken.bind(1, session).bind(2, name);
        const bool exists = taken.step();
        const int64_t holder = exists ? taken.column_int(0) : 0;
        taken.reset();
        if (exists && holder != step) {
            throw FatalError(fmt::format("another step is already named '{}'", name));
        }
        if (current.empty()) {
            SqlStatement& set = prepared("UPDATE steps SET name = ?2 WHERE id = ?1");
            set.bind(1, step).bind(2, name).run();
        } else if (current != name) {
            SqlStatement& create =
                prepared("INSERT INTO steps (session_id, number, signature, command, io_paths, name) VALUES (?1, "
                         "(SELECT coalesce(max(number), 0) + 1 FROM steps WHERE session_id = ?1), ?2, ?3, ?4, ?5)");
            create.bind(1, session).bind(2, "n\x1f" + name).bind(3, command).bind(4, v3_json({}).dump());
            create.bind(5, name).run();
            const int64_t named = m_engine->last_insert_id();
            SqlStatement& move = prepared("UPDATE jobs SET step_id = ?2 WHERE id = ?1");
            move.bind(1, row).bind(2, named).run();
        }
        m_engine->commit();
    } catch (const FatalError&) {
        m_engine->rollback();
        throw;
    }
}

void Store::delete_job(int64_t row)
{
    require_writer("removing a job");
    m_engine->begin_write();
    try {
        SqlStatement& step = prepared("SELECT step_id FROM jobs WHERE id = ?1");
        step.bind(1, row);
        int64_t step_id = 0; // 0: none
        if (step.step()) {
            step_id = step.column_int(0);
        }
        step.reset();
        SqlStatement& uses = prepared("DELETE FROM job_io WHERE job_id = ?1");
        uses.bind(1, row).run();
        SqlStatement& processes = prepared("DELETE FROM processes WHERE job_id = ?1");
        processes.bind(1, row).run();
        SqlStatement& job = prepared("DELETE FROM jobs WHERE id = ?1");
        job.bind(1, row).run();
        if (step_id != 0) {
            SqlStatement& empty =
                prepared("DELETE FROM steps WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM jobs WHERE step_id = ?1)");
            empty.bind(1, step_id).run();
        }
        m_engine->commit();
    } catch (const FatalError&) {
        m_engine->rollback();
        throw;
    }
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
        insert.bind(5, stored_json(job.argv)).bind(6, job.cwd).bind(7, job.started_at);
        insert.bind(8, job.ended_at).bind(9, job.exit_code);
        insert.bind(10, job.signal ? std::optional<int64_t>(*job.signal) : std::nullopt);
        insert.bind(11, job.hostname).bind(12, job.user);
        if (job.git) {
            insert.bind(13, job.git->commit).bind(14, job.git->branch).bind(15, job.git->remote);
            insert.bind(16, int64_t(job.git->dirty)).bind(17, stored_json(job.git->dirty_files));
        } else {
            for (int i = 13; i <= 17; ++i) {
                insert.bind(i, std::nullopt);
            }
        }
        insert.bind(18, stored_json(job.env)).bind(19, job.ring.dropped);
        insert.bind(20, stored_json(job.notes)).bind(21, ROAR_VERSION_STRING);
        insert.run();
        const int64_t job_id = m_engine->last_insert_id();
        if (!job.environment.is_null()) {
            SqlStatement& environment = prepared("INSERT INTO job_environments (job_id, record) VALUES (?1, ?2)");
            // A path in it that is not UTF-8 (an odd site directory) must not cost the job.
            environment.bind(1, job_id);
            environment.bind(2, stored_json(job.environment)); // exact bytes of every path in it
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
            proc.bind(6, p.exe).bind(7, stored_json(p.argv)).bind(8, p.cwd).bind(9, p.started_at);
            proc.bind(10, p.exit_code ? std::optional<int64_t>(*p.exit_code) : std::nullopt);
            proc.bind(11, p.signal ? std::optional<int64_t>(*p.signal) : std::nullopt);
            proc.bind(12, int64_t(p.observed)).bind(13, stored_json(p.notes));
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
            use_stmt.bind(6, use.notes.empty() ? std::string("[]") : stored_json(use.notes));
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
