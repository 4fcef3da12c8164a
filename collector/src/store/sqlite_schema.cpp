// The SQLite schema and its history: entry N of k_migrations upgrades a
// version-N database to N+1, and PRAGMA user_version records where a file
// stands. Only writers run this (SqliteEngine::create and open for writing).
#include "roar/collector/progress.hpp"
#include "roar/collector/store/sqlite_engine.hpp"

#include <fmt/format.h>

namespace fs = std::filesystem;

namespace roar::collector {

namespace {

const char* const k_migrations[] = {
    // 0 -> 1: the initial schema.
    R"sql(
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    created_at  REAL NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE steps (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions(id),
    number      INTEGER NOT NULL,
    signature   TEXT NOT NULL,
    command     TEXT NOT NULL,
    UNIQUE (session_id, number),
    UNIQUE (session_id, signature)
);
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    uid             TEXT NOT NULL UNIQUE,
    session_id      INTEGER REFERENCES sessions(id),
    step_id         INTEGER REFERENCES steps(id),
    command         TEXT NOT NULL,
    argv            TEXT NOT NULL,
    cwd             TEXT NOT NULL,
    started_at      REAL NOT NULL,
    ended_at        REAL NOT NULL,
    exit_code       INTEGER NOT NULL,
    signal          INTEGER,
    hostname        TEXT,
    user            TEXT,
    git_commit      TEXT,
    git_branch      TEXT,
    git_remote      TEXT,
    git_dirty       INTEGER,
    git_dirty_files TEXT,
    env             TEXT NOT NULL DEFAULT '{}',
    dropped_events  INTEGER NOT NULL DEFAULT 0,
    notes           TEXT NOT NULL DEFAULT '[]',
    roar_version    TEXT
);
CREATE INDEX jobs_by_step ON jobs(step_id);
CREATE TABLE processes (
    id          INTEGER PRIMARY KEY,
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    pid         INTEGER NOT NULL,
    ppid        INTEGER,
    parent_seq  INTEGER,
    exe         TEXT,
    argv        TEXT NOT NULL,
    cwd         TEXT,
    started_at  REAL,
    exit_code   INTEGER,
    signal      INTEGER,
    observed    INTEGER NOT NULL,
    notes       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX processes_by_job ON processes(job_id);
CREATE TABLE artifacts (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    size        INTEGER,
    first_seen  REAL NOT NULL
);
CREATE TABLE artifact_hashes (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
    algorithm   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (algorithm, digest)
);
CREATE INDEX artifact_hashes_by_artifact ON artifact_hashes(artifact_id);
CREATE TABLE job_io (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out', 'deleted')),
    path        TEXT NOT NULL,
    artifact_id INTEGER REFERENCES artifacts(id),
    size        INTEGER,
    notes       TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (job_id, direction, path)
);
CREATE INDEX job_io_by_artifact ON job_io(artifact_id);
CREATE INDEX job_io_by_path ON job_io(path);
CREATE TABLE hash_cache (
    device      INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    algorithm   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (device, inode, algorithm)
) WITHOUT ROWID;
)sql",
    // 1 -> 2: steps remember the (digit-normalised) paths their executions
    // used, so one command shape can be several steps (variants writing
    // different outputs); indexes for session-wide and digest-prefix reads.
    R"sql(
ALTER TABLE steps ADD COLUMN io_paths TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_session ON jobs(session_id, started_at);
CREATE INDEX artifact_hashes_by_digest ON artifact_hashes(digest);
)sql",
    // 2 -> 3: which tracer reported each process ("shim", "ptrace",
    // "shim+ptrace"; NULL when none did, and for jobs recorded before).
    R"sql(
ALTER TABLE processes ADD COLUMN tracer TEXT;
)sql",
    // 3 -> 4: steps a user named (`roar run -n NAME`); steps are now the
    // runs of one program writing the same outputs (new signatures start
    // with "p\x1f", older steps keep theirs and still match the old way).
    R"sql(
ALTER TABLE steps ADD COLUMN name TEXT;
CREATE UNIQUE INDEX steps_by_name ON steps(session_id, name) WHERE name IS NOT NULL;
)sql",
    // 4 -> 5: the environment each job ran in (machine, Python interpreters
    // and distributions, Debian packages), as the JSON record
    // environment/job_environment.hpp's to_json() makes; jobs recorded
    // before have none. A table of its own: `roar log` and the lineage
    // queries never read it.
    R"sql(
CREATE TABLE job_environments (
    job_id      INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    record      TEXT NOT NULL
);
)sql",
    // 5 -> 6: the process each input, output or deleted path is attributed
    // to (job_tracker.cpp's rules: the first reader, the writer, the
    // remover; for S3 the caller); NULL when unknown, and for jobs recorded
    // before.
    R"sql(
ALTER TABLE job_io ADD COLUMN pid INTEGER;
)sql",
    // 6 -> 7: paths are interned: each distinct path (its exact stored
    // bytes) is a row of `paths`, and a use names it by id. A use row and
    // its index entries then hold integers instead of the path's text
    // (most of a many-input job's write and of a dag scan's bytes). Paths
    // are never deleted (like artifacts, other jobs may name them).
    R"sql(
CREATE TABLE paths (
    id          INTEGER PRIMARY KEY,
    path        TEXT NOT NULL UNIQUE
);
INSERT INTO paths (path) SELECT DISTINCT path FROM job_io ORDER BY path;
CREATE TABLE job_io_interned (
    job_id      INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out', 'deleted')),
    path_id     INTEGER NOT NULL REFERENCES paths(id),
    artifact_id INTEGER REFERENCES artifacts(id),
    size        INTEGER,
    notes       TEXT NOT NULL DEFAULT '[]',
    pid         INTEGER,
    PRIMARY KEY (job_id, direction, path_id)
);
INSERT INTO job_io_interned (job_id, direction, path_id, artifact_id, size, notes, pid)
SELECT io.job_id, io.direction, p.id, io.artifact_id, io.size, io.notes, io.pid
FROM job_io io JOIN paths p ON p.path = io.path ORDER BY io.rowid;
DROP TABLE job_io;
ALTER TABLE job_io_interned RENAME TO job_io;
CREATE INDEX job_io_by_artifact ON job_io(artifact_id);
CREATE INDEX job_io_by_path ON job_io(path_id);
)sql",
    // 7 -> 8: each job's inputs and outputs also kept together, as one use
    // list per direction (use_lists.hpp), so `roar dag` and `roar status`
    // read a row per job, not a row per use. job_io keeps a row per use for
    // the questions asked of one path or artifact. Every job of at most
    // 65,536 uses (k_max_listed_uses) has a row.
    R"sql(
CREATE TABLE job_uses (
    job_id      INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
    outputs     TEXT NOT NULL,
    inputs      TEXT NOT NULL
);
INSERT INTO job_uses (job_id, outputs, inputs)
SELECT j.id,
    coalesce((SELECT group_concat(d || ':' || a, ',') FROM (
        SELECT path_id - lag(path_id, 1, 0) OVER (ORDER BY path_id) AS d, coalesce(artifact_id, 0) AS a
        FROM job_io WHERE job_id = j.id AND direction = 'out' ORDER BY path_id)), ''),
    coalesce((SELECT group_concat(d || ':' || a, ',') FROM (
        SELECT path_id - lag(path_id, 1, 0) OVER (ORDER BY path_id) AS d, coalesce(artifact_id, 0) AS a
        FROM job_io WHERE job_id = j.id AND direction = 'in' ORDER BY path_id)), '')
FROM jobs j
WHERE (SELECT count(*) FROM job_io WHERE job_id = j.id AND direction IN ('in', 'out')) <= 65536
ORDER BY j.id;
)sql",
    // 8 -> 9: artifact_hashes is keyed by (digest, algorithm), as on
    // PostgreSQL since its schema 4, so that lookups by digest (a job's
    // digests, a digest prefix) use the key and the separate digest index
    // goes: a new artifact's digest went into two B-trees at random places,
    // now one (storing a job with 100,000 new inputs: 1.0-1.1 s of writing
    // its uses became 0.88-0.90 s, and the file 15% smaller; docs/benchmarks.md).
    // SQLite cannot change a primary key in place: the table is rebuilt,
    // its rows keeping their rowids, so that an artifact's digests stay
    // near its neighbours' (`roar dag --json` reads those of every artifact
    // in view by artifact id: rebuilt in digest order instead, 0.69 s
    // became 0.83-0.91 s on the benchmark's history). On that history of
    // 1,000,000 artifacts this step takes about 12 s, once, and leaves the
    // old table's pages free in the file for later jobs.
    R"sql(
CREATE TABLE artifact_hashes_v9 (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
    algorithm   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (digest, algorithm)
);
INSERT INTO artifact_hashes_v9 (rowid, artifact_id, algorithm, digest)
SELECT rowid, artifact_id, algorithm, digest FROM artifact_hashes ORDER BY rowid;
DROP TABLE artifact_hashes;
ALTER TABLE artifact_hashes_v9 RENAME TO artifact_hashes;
CREATE INDEX artifact_hashes_by_artifact ON artifact_hashes(artifact_id);
)sql",
    // 9 -> 10: the hash cache keys on each file's ctime as well, so that a
    // file whose bytes changed in place while its size and mtime were put
    // back (`cp -p` onto it, `tar x` of an archive made with `--mtime`) is
    // hashed again. Entries from before cannot say their ctime: they go,
    // and the files they named are hashed once more: the table is made anew.
    R"sql(
DROP TABLE hash_cache;
CREATE TABLE hash_cache (
    device      INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    algorithm   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    ctime_ns    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (device, inode, algorithm)
) WITHOUT ROWID;
)sql",
};
static_assert(sizeof k_migrations / sizeof k_migrations[0] == k_schema_version);

void exec(sqlite3* db, const std::string& sql)
{
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(db);
        sqlite3_free(err);
        throw FatalError(fmt::format("database error: {}", msg));
    }
}

} // namespace

// Puts a writer's connection in WAL mode with roar's settings and brings the
// file from `from_version` to k_schema_version, one transaction per step
// (another process may migrate the same file at the same time).
Result<void> migrate_sqlite(sqlite3* db, const fs::path& path, int from_version)
{
    try {
        char* err = nullptr;
        if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : "";
            sqlite3_free(err);
            return fail("cannot use {}: {} (it was left untouched)", path.string(), msg);
        }
        // Statement journals (INSERT OR REPLACE, foreign keys) stay in memory:
        // once one spills to a temp file, every later statement of the job's
        // transaction writes its pages there too. While migrating, temporary
        // files: a step that rebuilds a table (6 -> 7, 8 -> 9) sorts its rows
        // for new indexes, and in memory that sort of a million-artifact
        // store took 400 MB, in temporary files 110 MB, in the same time.
        const bool migrating = from_version < k_schema_version;
        exec(db, fmt::format("PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA temp_store={}; "
                             "PRAGMA cache_size=-{}",
                             migrating ? "FILE" : "MEMORY", k_page_cache_kib));
        // A step that rebuilds a table runs for seconds on a large history
        // (8 -> 9 on a million artifacts: about 12 s here): a person at a
        // terminal sees what the command is waiting for. Shown after the
        // usual second, on stderr only, and erased when the upgrade ends.
        ProgressLine progress(
            from_version > 0 && migrating && stderr_shows_progress(),
            fmt::format("roar: upgrading {} (schema {} to {}, once)", path.string(), from_version, k_schema_version), 2,
            progress_delay(), "steps");
        progress.set_total(uint64_t(k_schema_version - from_version));
        for (int v = from_version; v < k_schema_version; ++v, progress.add(1)) {
            exec(db, "BEGIN IMMEDIATE");
            int found = 0;
            {
                // Finished before the step runs: DROP TABLE fails while a
                // statement is still open on the connection.
                SqliteStatement again(db, "PRAGMA user_version");
                again.step();
                found = again.column_int(0);
            }
            if (found != v) { // another process migrated meanwhile
                exec(db, "ROLLBACK");
                continue;
            }
            exec(db, k_migrations[v]);
            exec(db, fmt::format("PRAGMA user_version = {}", v + 1));
            exec(db, "COMMIT");
        }
        if (migrating) {
            exec(db, "PRAGMA temp_store=MEMORY");
        }
    } catch (const FatalError& e) {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        return fail("cannot use {}: {}", path.string(), e.what());
    }
    return {};
}

} // namespace roar::collector
