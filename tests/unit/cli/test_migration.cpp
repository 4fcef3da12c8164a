// Upgrading a database written by the first schema (user_version 1) to
// the current one: the file is migrated in place on open, its jobs keep
// their steps, the pipeline reads the same, and new runs join the old steps.
// The v1 schema below is frozen as roar 0.1 created it; do not edit it.
#include "lineage.hpp"

#include "roar/collector/database.hpp"
#include "roar/collector/file_hasher.hpp"

#include "../collector/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

using namespace roar;
using namespace roar::cli;

namespace {

const char* const k_schema_v1 = R"sql(
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
)sql";

// Runs `sql` on the raw file, outside roar's Database.
void exec(sqlite3* db, const std::string& sql)
{
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
}

int64_t scalar(sqlite3* db, const std::string& sql)
{
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    const int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

std::string quoted(const std::string& text)
{
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("''") : std::string(1, c);
    }
    return out + "'";
}

// A v1 database holding what roar 0.1 recorded for
// `python3 prep.py data.csv features.csv` then `python3 train.py features.csv model.bin`.
void write_v1_project(const std::filesystem::path& file, const std::string& dir)
{
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
    exec(db, k_schema_v1);
    exec(db, "PRAGMA user_version = 1");
    exec(db, "INSERT INTO sessions (id, created_at, active) VALUES (1, 1000, 1)");
    const std::vector<std::string> prep{"python3", "prep.py", "data.csv", "features.csv"};
    const std::vector<std::string> train{"python3", "train.py", "features.csv", "model.bin"};
    exec(db, "INSERT INTO steps (id, session_id, number, signature, command) VALUES (1, 1, 1, "
                 + quoted(collector::step_signature(prep, dir)) + ", 'python3 prep.py data.csv features.csv')");
    exec(db, "INSERT INTO steps (id, session_id, number, signature, command) VALUES (2, 1, 2, "
                 + quoted(collector::step_signature(train, dir)) + ", 'python3 train.py features.csv model.bin')");
    exec(db, "INSERT INTO jobs (id, uid, session_id, step_id, command, argv, cwd, started_at, ended_at, exit_code) "
             "VALUES (1, 'aaaaaaaaaaaa', 1, 1, 'python3 prep.py data.csv features.csv', "
             "'[\"python3\",\"prep.py\",\"data.csv\",\"features.csv\"]', "
                 + quoted(dir) + ", 1000, 1001, 0)");
    exec(db, "INSERT INTO jobs (id, uid, session_id, step_id, command, argv, cwd, started_at, ended_at, exit_code) "
             "VALUES (2, 'bbbbbbbbbbbb', 1, 2, 'python3 train.py features.csv model.bin', "
             "'[\"python3\",\"train.py\",\"features.csv\",\"model.bin\"]', "
                 + quoted(dir) + ", 1010, 1011, 0)");
    const std::vector<std::pair<std::string, std::string>> contents{
        {"data.csv", "d"}, {"prep.py", "p"}, {"features.csv", "f"}, {"train.py", "t"}, {"model.bin", "m"}};
    for (size_t i = 0; i < contents.size(); ++i) {
        const auto id = std::to_string(i + 1);
        exec(db, "INSERT INTO artifacts (id, kind, size, first_seen) VALUES (" + id + ", 'file', 1, 1000)");
        exec(db, "INSERT INTO artifact_hashes (artifact_id, algorithm, digest) VALUES (" + id + ", 'blake3', "
                     + quoted(collector::blake3_hex(contents[i].second)) + ")");
    }
    auto io = [&](int job, const char* direction, const std::string& name, int artifact) {
        exec(db, "INSERT INTO job_io (job_id, direction, path, artifact_id, size) VALUES (" + std::to_string(job)
                     + ", '" + direction + "', " + quoted(dir + "/" + name) + ", " + std::to_string(artifact) + ", 1)");
    };
    io(1, "in", "data.csv", 1);
    io(1, "in", "prep.py", 2);
    io(1, "out", "features.csv", 3);
    io(2, "in", "features.csv", 3);
    io(2, "in", "train.py", 4);
    io(2, "out", "model.bin", 5);
    sqlite3_close(db);
}

} // namespace

TEST_CASE("a version-1 database is migrated on open and its pipeline reads the same", "[cli][migration]")
{
    test::TempDir dir;
    std::filesystem::create_directories(dir / ".roar");
    const auto file = dir / ".roar" / "roar.db";
    write_v1_project(file, dir.path().string());

    auto opened = collector::Database::open(file);
    REQUIRE(opened);
    collector::Database& db = *opened;
    CHECK(scalar(db.handle(), "PRAGMA user_version") == collector::k_schema_version);
    CHECK(scalar(db.handle(), "SELECT count(*) FROM pragma_table_info('steps') WHERE name = 'io_paths'") == 1);
    CHECK(scalar(db.handle(), "SELECT count(*) FROM sqlite_master WHERE name = 'jobs_by_session'") == 1);
    // 2 -> 3: which tracer reported each process.
    CHECK(scalar(db.handle(), "SELECT count(*) FROM pragma_table_info('processes') WHERE name = 'tracer'") == 1);
    CHECK(scalar(db.handle(), "SELECT count(*) FROM jobs") == 2);
    CHECK(scalar(db.handle(), "SELECT count(*) FROM job_io") == 6);
    // 6 -> 7: each of the five paths once, the uses naming them by id.
    CHECK(scalar(db.handle(), "SELECT count(*) FROM paths") == 5);
    CHECK(scalar(db.handle(), "SELECT count(DISTINCT path_id) FROM job_io") == 5);

    {
        const Lineage g = Lineage::load(db);
        REQUIRE(g.steps.size() == 2);
        CHECK(g.steps[1].dependencies == std::vector<int>{0});
        CHECK(g.stale_count() == 0);
        CHECK(g.executions[0].job_id == "aaaaaaaaaaaa");
    }

    // A new run of the old first step (same command, new content) joins @1
    // instead of making a step @3, and makes the old @2 stale.
    collector::JobRecord job;
    job.uid = "cccccccccccc";
    job.argv = {"python3", "prep.py", "data.csv", "features.csv"};
    job.command = collector::join_command(job.argv);
    job.cwd = dir.path().string();
    job.started_at = 2000;
    job.ended_at = 2001;
    auto use = [&](const std::string& name, const std::string& content) {
        return collector::ArtifactUse{
            (dir / name).string(), "file", content.size(), {{"blake3", collector::blake3_hex(content)}}, {}};
    };
    job.inputs = {use("data.csv", "d2"), use("prep.py", "p")};
    job.outputs = {use("features.csv", "f2")};
    REQUIRE(db.store_job(job));

    const Lineage g = Lineage::load(db);
    REQUIRE(g.steps.size() == 2);
    CHECK(g.steps[0].executions.size() == 2);
    CHECK(g.steps[1].stale);
    REQUIRE(g.steps[1].stale_reasons.size() == 1);
    CHECK(g.steps[1].stale_reasons[0].kind == StaleReason::Kind::reproduced);
    CHECK(g.steps[1].stale_reasons[0].step == 1);

    // Opening again finds nothing to migrate and loses nothing.
    auto again = collector::Database::open(file);
    REQUIRE(again);
    CHECK(scalar(again->handle(), "SELECT count(*) FROM jobs") == 3);
    CHECK(scalar(again->handle(), "PRAGMA user_version") == collector::k_schema_version);
}

TEST_CASE("a database newer than this roar is refused and left untouched", "[cli][migration]")
{
    test::TempDir dir;
    const auto file = dir / "roar.db";
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        exec(db, k_schema_v1);
        exec(db, "PRAGMA user_version = " + std::to_string(collector::k_schema_version + 1));
        sqlite3_close(db);
    }
    const auto before = std::filesystem::file_size(file);
    auto opened = collector::Database::open(file);
    REQUIRE_FALSE(opened);
    CHECK(opened.error().message.find("newer than this roar understands") != std::string::npos);
    CHECK(std::filesystem::file_size(file) == before);
}

TEST_CASE("a version-2 database is migrated to named steps; old steps keep matching the old way", "[cli][migration]")
{
    test::TempDir dir;
    std::filesystem::create_directories(dir / ".roar");
    const auto file = dir / ".roar" / "roar.db";
    write_v1_project(file, dir.path().string());
    {
        // The 1 -> 2 migration as roar 0.2 ran it, frozen, and the paths it recorded for @2.
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
        exec(db, "ALTER TABLE steps ADD COLUMN io_paths TEXT NOT NULL DEFAULT ''; "
                 "CREATE INDEX jobs_by_session ON jobs(session_id, started_at); "
                 "CREATE INDEX artifact_hashes_by_digest ON artifact_hashes(digest); PRAGMA user_version = 2");
        // v2 recorded inputs exactly and outputs with digit runs replaced.
        const std::string in = dir.path().string();
        const std::string out = collector::normalise_digits(in);
        exec(db, "UPDATE steps SET io_paths = "
                     + quoted(R"({"in":[")" + in + R"(/features.csv",")" + in + R"(/train.py"],"out":[")" + out
                              + R"(/model.bin"]})")
                     + " WHERE id = 2");
        sqlite3_close(db);
    }

    auto opened = collector::Database::open(file);
    REQUIRE(opened);
    collector::Database& db = *opened;
    CHECK(scalar(db.handle(), "PRAGMA user_version") == collector::k_schema_version);
    CHECK(scalar(db.handle(), "SELECT count(*) FROM pragma_table_info('steps') WHERE name = 'name'") == 1);
    {
        const Lineage g = Lineage::load(db);
        REQUIRE(g.steps.size() == 2);
        CHECK(g.steps[1].name.empty());
        CHECK(g.steps[1].dependencies == std::vector<int>{0});
    }

    // A re-run of the v2 step joins it; naming it makes @train refer to it.
    collector::JobRecord job;
    job.uid = "dddddddddddd";
    job.argv = {"python3", "train.py", "features.csv", "model.bin"};
    job.command = collector::join_command(job.argv);
    job.cwd = dir.path().string();
    job.started_at = 2000;
    job.ended_at = 2001;
    auto use = [&](const std::string& name, const std::string& content) {
        return collector::ArtifactUse{
            (dir / name).string(), "file", content.size(), {{"blake3", collector::blake3_hex(content)}}, {}};
    };
    job.inputs = {use("features.csv", "f"), use("train.py", "t")};
    job.outputs = {use("model.bin", "m2")};
    auto stored = db.store_job(job);
    REQUIRE(stored);
    db.name_job_step(*stored, "train");
    CHECK(db.step_number_named("train") == std::optional<int64_t>(2));
    const Lineage g = Lineage::load(db);
    REQUIRE(g.steps.size() == 2);
    CHECK(g.steps[1].executions.size() == 2);
    CHECK(g.steps[1].name == "train");
    CHECK(g.step_ref(1) == "@train");
}
