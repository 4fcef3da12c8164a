// The store's promises beyond what test_database.cpp covers: a reader
// never writes (no cache entries, no migration it cannot make, no job),
// a database deleted or replaced under a writer is noticed, and a job that
// cannot be stored is saved to a recovery file and imported exactly once.
#include "roar/collector/database.hpp"
#include "roar/collector/job_session.hpp"
#include "roar/collector/store/recovery.hpp"

#include "temp_dir.hpp"
#include "use_lists.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <map>
#include <span>
#include <tuple>
#include <sys/stat.h>
#include <utime.h>

using namespace roar::collector;
using roar::test::TempDir;

namespace {

int64_t count(const std::filesystem::path& file, const char* sql)
{
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    int64_t n = -1;
    {
        Statement q(raw, sql);
        if (q.step()) {
            n = q.column_int(0);
        }
    }
    sqlite3_close(raw);
    return n;
}

// SQLite's plan for `sql`, its steps' details one per line.
std::string query_plan(const std::filesystem::path& file, const std::string& sql)
{
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    std::string out;
    {
        Statement q(raw, "EXPLAIN QUERY PLAN " + sql);
        while (q.step()) {
            out += q.column_text(3) + "\n";
        }
    }
    sqlite3_close(raw);
    return out;
}

// Undoes migration 8 -> 9: artifact_hashes keyed by (algorithm, digest)
// with a digest index beside, as a version 8 file had it.
constexpr const char* k_back_to_v8 = R"sql(
ALTER TABLE hash_cache DROP COLUMN ctime_ns;
CREATE TABLE artifact_hashes_v8 (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id),
    algorithm   TEXT NOT NULL,
    digest      TEXT NOT NULL,
    PRIMARY KEY (algorithm, digest)
);
INSERT INTO artifact_hashes_v8 SELECT artifact_id, algorithm, digest FROM artifact_hashes;
DROP TABLE artifact_hashes;
ALTER TABLE artifact_hashes_v8 RENAME TO artifact_hashes;
CREATE INDEX artifact_hashes_by_artifact ON artifact_hashes(artifact_id);
CREATE INDEX artifact_hashes_by_digest ON artifact_hashes(digest);
PRAGMA user_version = 8;
)sql";

// Undoes migrations 6 -> 7 ... 8 -> 9: uses carry their path's text again
// and the paths table goes, as a version 6 file had it.
constexpr const char* k_back_to_v6 = R"sql(
CREATE TABLE job_io_v6 AS SELECT io.job_id, io.direction, p.path, io.artifact_id, io.size, io.notes, io.pid
FROM job_io io JOIN paths p ON p.id = io.path_id;
DROP TABLE job_io;
DROP TABLE paths;
ALTER TABLE job_io_v6 RENAME TO job_io;
CREATE UNIQUE INDEX job_io_key ON job_io(job_id, direction, path);
CREATE INDEX job_io_by_artifact ON job_io(artifact_id);
CREATE INDEX job_io_by_path ON job_io(path);
DROP TABLE job_uses;
PRAGMA user_version = 6;
)sql";

// Every use a scan of the active session gives: (output, job row, path id,
// artifact), in the order they came.
std::vector<std::tuple<bool, int64_t, int64_t, int64_t>> scanned_uses(Store& store)
{
    std::vector<std::tuple<bool, int64_t, int64_t, int64_t>> out;
    const int64_t session = *store.active_session();
    auto take = [&out](bool output) {
        return [&out, output](int64_t job, std::span<const ScannedUse> uses) {
            for (const auto& use : uses) {
                out.emplace_back(output, job, use.path_id, use.artifact);
            }
        };
    };
    store.scan_session_uses(session, store.session_jobs(session), take(true), take(false));
    return out;
}

// Each job's stored use lists: job row -> (outputs, inputs).
std::map<int64_t, std::pair<std::string, std::string>> use_lists(const std::filesystem::path& file)
{
    std::map<int64_t, std::pair<std::string, std::string>> out;
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    {
        Statement q(raw, "SELECT job_id, outputs, inputs FROM job_uses");
        while (q.step()) {
            out[q.column_int(0)] = {q.column_text(1), q.column_text(2)};
        }
    }
    sqlite3_close(raw);
    return out;
}

JobRecord sample_job(const std::string& uid)
{
    JobRecord job;
    job.uid = uid;
    job.argv = {"python3", "train.py", "--seed", "3"};
    job.command = join_command(job.argv);
    job.cwd = "/p";
    job.started_at = 1700000000.125;
    job.ended_at = 1700000001.5;
    job.exit_code = 3;
    job.signal = std::nullopt;
    job.inputs.push_back({"/p/data.csv", "file", 10, {{"blake3", "aa11"}}, {}, 42});
    job.inputs.push_back({"s3://bucket/key", "s3", 5, {{"blake3", "bb22"}, {"etag", "\"e1\""}}, {}, 43});
    job.outputs.push_back({"/p/model.bin", "file", 20, {{"blake3", "cc33"}}, {"a note"}, 42});
    job.deleted.push_back({"/p/tmp.txt", "file", std::nullopt, {}, {}}); // who removed it is unknown
    ProcessRecord proc;
    proc.pid = 42;
    proc.ppid = 1;
    proc.exe = "/usr/bin/python3";
    proc.argv = job.argv;
    proc.cwd = "/p";
    proc.exit_code = 3;
    proc.tracer = "shim";
    job.processes.push_back(proc);
    ProcessRecord traced; // a static program roar's ptrace tracer followed
    traced.pid = 43;
    traced.ppid = 42;
    traced.parent = 0;
    traced.exe = "/p/static-tool";
    traced.argv = {"static-tool"};
    traced.exit_code = 0;
    traced.tracer = "ptrace";
    job.processes.push_back(traced);
    ProcessRecord unobserved; // nobody could watch it (setuid): no tracer
    unobserved.pid = 44;
    unobserved.ppid = 42;
    unobserved.parent = 0;
    unobserved.exe = "/usr/bin/sudo";
    unobserved.observed = false;
    job.processes.push_back(unobserved);
    job.notes = {"1 events were dropped"};
    job.ring.dropped = 1;
    job.hostname = "host";
    job.user = "me";
    job.git = GitState{"abc", "main", "origin", true, {"train.py"}};
    job.env = {{"HOME", "/home/me"}, {"API_KEY", "<redacted>"}};
    job.environment = {{"machine", {{"os", "Debian GNU/Linux 12 (bookworm)"}, {"gpus", nlohmann::json::array()}}},
                       {"python",
                        {{{"executable", "/p/venv/bin/python"},
                          {"version", "3.11.2"},
                          {"packages", {{{"name", "numpy"}, {"version", "1.26.4"}}}}}}},
                       {"system_packages", {{{"name", "libc6"}, {"version", "2.36-9"}}}}};
    return job;
}

// Jobs whose uses exercise the use lists: several of each direction, paths
// shared between jobs and first recorded out of byte order, a use with no
// digest, a job with no uses at all.
void store_varied_jobs(Database& db)
{
    for (int i = 0; i < 4; ++i) {
        JobRecord job = sample_job(fmt::format("lists{:07}", i));
        job.started_at += 10 * i;
        job.ended_at += 10 * i;
        job.inputs.push_back(
            {fmt::format("/p/in/{}.csv", 9 - i), "file", 1, {{"blake3", fmt::format("{:04}", i)}}, {}});
        job.inputs.push_back({"/p/in/0.csv", "file", std::nullopt, {}, {}}); // no digest: no artifact
        job.outputs.push_back({fmt::format("/p/out/{}.bin", i), "file", 2, {{"blake3", fmt::format("f{:03}", i)}}, {}});
        REQUIRE(db.store_job(job));
    }
    JobRecord empty = sample_job("lists_empty");
    empty.started_at += 100;
    empty.ended_at += 100;
    empty.inputs.clear();
    empty.outputs.clear();
    empty.deleted.clear();
    REQUIRE(db.store_job(empty));
}

// sample_job(uid) with no uses, for a test to give it its own.
JobRecord job_without_uses(const std::string& uid)
{
    JobRecord job = sample_job(uid);
    job.inputs.clear();
    job.outputs.clear();
    job.deleted.clear();
    return job;
}

} // namespace

TEST_CASE("a reader looks up the hash cache but never writes it, and cannot store or start sessions",
          "[collector][store]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    REQUIRE(Database::create(file));
    const auto data = dir / "data.bin";
    roar::test::write_file(data, "content");
    struct utimbuf old_times {
        1600000000, 1600000000
    };
    utime(data.c_str(), &old_times);
    const std::string before = roar::test::read_file(file);
    {
        auto reader = Database::open_read_only(file);
        REQUIRE(reader);
        CHECK(reader->access() == Access::read);
        auto digest = reader->digest_file(data.string());
        REQUIRE(digest);
        CHECK(digest->blake3 == blake3_hex("content"));
        reader->flush_hash_cache();
        auto stored = reader->store_job(sample_job("reader000001"));
        REQUIRE_FALSE(stored);
        CHECK(stored.error().message.find("not open for writing") != std::string::npos);
        CHECK_THROWS_AS(reader->start_new_session(), roar::FatalError);
    }
    CHECK(count(file, "SELECT count(*) FROM hash_cache") == 0);
    CHECK(roar::test::read_file(file) == before);
    // SQLite may leave an empty WAL beside the file (for its read locks), never frames.
    CHECK(roar::test::read_file(dir / "roar.db-wal").empty());
}

TEST_CASE("a reader that can write an older database upgrades it; the upgrade is the only write", "[collector][store]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    {
        auto db = Database::create(file);
        REQUIRE(db);
        REQUIRE(db->store_job(sample_job("older0000001")));
        // Back to version 1: what migrations 1 -> 2 ... 8 -> 9 add.
        db->exec(k_back_to_v8);
        db->exec(k_back_to_v6);
        db->exec("ALTER TABLE job_io DROP COLUMN pid; "
                 "DROP TABLE job_environments; DROP INDEX steps_by_name; ALTER TABLE steps DROP COLUMN name; "
                 "DROP INDEX jobs_by_session; DROP INDEX artifact_hashes_by_digest; "
                 "ALTER TABLE steps DROP COLUMN io_paths; ALTER TABLE processes DROP COLUMN tracer; "
                 "PRAGMA user_version = 1");
    }
    auto reader = Database::open_read_only(file);
    REQUIRE(reader);
    CHECK(count(file, "PRAGMA user_version") == k_schema_version);
    CHECK(reader->job_summaries({}).size() == 1);
}

TEST_CASE("a newer or foreign database is refused by a reader too, untouched", "[collector][store]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    {
        auto db = Database::create(file);
        REQUIRE(db);
        db->exec("PRAGMA user_version = 99");
    }
    const std::string before = roar::test::read_file(file);
    auto newer = Database::open_read_only(file);
    REQUIRE_FALSE(newer);
    CHECK(newer.error().message.find("newer than this roar") != std::string::npos);
    CHECK(roar::test::read_file(file) == before);
    CHECK_FALSE(Database::open_read_only(dir / "missing.db"));
}

TEST_CASE("a writer notices its database deleted or replaced, and reopen stores into the file now there",
          "[collector][store]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    auto db = Database::create(file);
    REQUIRE(db);
    REQUIRE(db->store_job(sample_job("first0000001")));
    CHECK(db->moved().empty());

    std::filesystem::remove(file);
    CHECK(db->moved().find("was deleted") != std::string::npos);
    REQUIRE(db->reopen(true));
    CHECK(db->moved().empty());
    REQUIRE(db->store_job(sample_job("second000001")));
    CHECK(count(file, "SELECT count(*) FROM jobs") == 1);

    // Replaced: another roar database renamed over the path.
    const auto other = dir / "other.db";
    {
        auto replacement = Database::create(other);
        REQUIRE(replacement);
        REQUIRE(replacement->store_job(sample_job("other0000001")));
    }
    std::filesystem::rename(other, file);
    CHECK(db->moved().find("was replaced") != std::string::npos);
    REQUIRE(db->reopen(false));
    REQUIRE(db->store_job(sample_job("third0000001")));
    CHECK(count(file, "SELECT count(*) FROM jobs") == 2);
}

TEST_CASE("a job record round-trips through a recovery file and is imported exactly once", "[collector][store]")
{
    TempDir dir;
    RecoveryPlaces places;
    roar::test::write_file(dir / "blocked", "a file where a directory should be");
    places.dirs = {dir / "blocked" / "recovery", dir / "fallback"};
    const JobRecord job = sample_job("recover00001");
    auto saved = write_recovery_file(places, job, std::nullopt, "disk full");
    REQUIRE(saved);
    CHECK(saved->parent_path() == dir / "fallback"); // the first place could not take it
    struct stat st;
    REQUIRE(stat(saved->c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    auto back = job_record_from_json(job_record_json(job));
    REQUIRE(back);
    CHECK(job_record_json(*back) == job_record_json(job));

    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    const auto lines = import_pending_recovery_files(*db, places);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("stored job recover00001") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(*saved));
    auto row = db->latest_job_of_step(1);
    REQUIRE(row);
    auto detail = db->job(row->row);
    REQUIRE(detail);
    CHECK(detail->exit_code == 3);
    CHECK(detail->inputs.size() == 2);
    CHECK(detail->outputs[0].notes == std::vector<std::string>{"a note"});
    REQUIRE(detail->git);
    CHECK(detail->git->dirty_files == std::vector<std::string>{"train.py"});
    // Which tracer reported each process survives the file and the store.
    REQUIRE(detail->processes.size() == 3);
    CHECK(detail->processes[0].tracer == "shim");
    CHECK(detail->processes[1].tracer == "ptrace");
    CHECK_FALSE(detail->processes[2].tracer);
    CHECK(detail->environment == job.environment);
    // So does the process each use is attributed to, and "unknown".
    CHECK(back->inputs[1].pid == 43u);
    CHECK_FALSE(back->deleted[0].pid);
    CHECK(detail->inputs[0].pid == 42);
    CHECK(detail->inputs[1].pid == 43);
    CHECK(detail->outputs[0].pid == 42);
    CHECK_FALSE(detail->deleted[0].pid);

    // The same record again (a second copy): not stored twice, file removed.
    saved = write_recovery_file(places, job, std::nullopt, "disk full");
    REQUIRE(saved);
    auto again = import_recovery_file(*db, *saved);
    REQUIRE(again);
    CHECK_FALSE(again->row);
    CHECK(count(dir / "roar.db", "SELECT count(*) FROM jobs") == 1);
    CHECK_FALSE(std::filesystem::exists(*saved));

    roar::test::write_file(dir / "junk.json", "{\"not\": \"ours\"}");
    CHECK_FALSE(import_recovery_file(*db, dir / "junk.json"));
}

TEST_CASE("a job the store refuses keeps its record in a recovery file and the note says where", "[collector][store]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    db->exec("PRAGMA query_only = ON"); // every write now fails, as on a full disk
    RecoveryPlaces places{{dir / "recovery"}};
    const StoredJob stored = JobSession::store(*db, sample_job("refused00001"), std::nullopt, places);
    CHECK_FALSE(stored.row);
    REQUIRE(stored.notes.size() == 1);
    CHECK(stored.notes[0].find("could not store job refused00001") != std::string::npos);
    CHECK(stored.notes[0].find((dir / "recovery" / "refused00001.json").string()) != std::string::npos);
    CHECK(std::filesystem::exists(dir / "recovery" / "refused00001.json"));

    db->exec("PRAGMA query_only = OFF");
    auto imported = import_recovery_file(*db, dir / "recovery" / "refused00001.json");
    REQUIRE(imported);
    CHECK(imported->row);
}

TEST_CASE("a recovery file holding a secret (an older roar, a new extra pattern) is stored redacted",
          "[collector][store][redact]")
{
    TempDir dir;
    RecoveryPlaces places{{dir / "recovery"}};
    JobRecord job = sample_job("secret00001");
    job.argv = {"mysql", "--password=hunter2", "-e", "select project_code_ZX81"};
    job.command = join_command(job.argv);
    job.processes[0].argv = job.argv;
    job.env = {{"HOME", "/home/me"}, {"DB_PASSWORD", "hunter2"}};
    job.notes.push_back("fetched https://user:hunter2@example.com/x");
    auto saved = write_recovery_file(places, job, std::nullopt, "disk full");
    REQUIRE(saved);

    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    auto redactor = Redactor::create({"project_code_(ZX[0-9]+)"});
    REQUIRE(redactor);
    const auto lines = import_pending_recovery_files(*db, places, *redactor);
    REQUIRE(lines.size() == 1);
    auto row = db->latest_job_of_step(1);
    REQUIRE(row);
    const std::string stored = roar::test::read_file(dir / "roar.db") + roar::test::read_file(dir / "roar.db-wal");
    CHECK(stored.find("hunter2") == std::string::npos);
    CHECK(stored.find("ZX81") == std::string::npos);
    auto detail = db->job(row->row);
    REQUIRE(detail);
    CHECK(detail->argv
          == std::vector<std::string>{"mysql", "--password=<redacted>", "-e", "select project_code_<redacted>"});
}

TEST_CASE("paths, arguments, cwd and environment values that are not UTF-8 are stored and read back exactly",
          "[collector][store][byte_text]")
{
    TempDir dir;
    JobRecord job = sample_job("bytes0000001");
    job.argv = {"true", "\xff", "a\xc3"};
    job.command = join_command(job.argv);
    job.cwd = "/p/d\xfe";
    job.inputs[0].path = "/p/in\xff.csv";
    job.outputs[0].path = "/p/d\xfe/out\x80";
    job.outputs[0].notes = {"note \xff"};
    job.processes[0].argv = job.argv;
    job.processes[0].cwd = job.cwd;
    job.processes[0].exe = "/bin/tr\xffue";
    job.env["FOO"] = "v\xff";
    job.notes = {"dropped \xfe"};
    job.git->dirty_files = {"f\xff"};

    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    auto row = db->store_job(job);
    REQUIRE(row);
    auto detail = db->job(*row);
    REQUIRE(detail);
    CHECK(detail->argv == job.argv);
    CHECK(detail->command == job.command);
    CHECK(detail->cwd == job.cwd);
    CHECK(detail->inputs[0].path == "/p/in\xff.csv");
    CHECK(detail->outputs[0].path == job.outputs[0].path);
    CHECK(detail->outputs[0].notes == job.outputs[0].notes);
    CHECK(detail->processes[0].argv == job.argv);
    CHECK(detail->processes[0].cwd == job.cwd);
    CHECK(detail->processes[0].exe == job.processes[0].exe);
    CHECK(detail->env["FOO"] == "v\xff");
    CHECK(detail->notes == job.notes);
    CHECK(detail->git->dirty_files == job.git->dirty_files);
    CHECK(db->artifact_at_path("/p/d\xfe/out\x80").has_value());
    const auto step = db->latest_job_of_step(1);
    REQUIRE(step);
    CHECK(step->argv == job.argv);
    CHECK(step->cwd == job.cwd);
    // The same job shape again joins the same step (the signature is stable).
    JobRecord again = job;
    again.uid = "bytes0000002";
    REQUIRE(db->store_job(again));
    CHECK(count(dir / "roar.db", "SELECT count(*) FROM steps") == 1);
}

TEST_CASE("a recovery file keeps bytes that are not UTF-8 exactly and is valid JSON", "[collector][store][byte_text]")
{
    TempDir dir;
    JobRecord job = sample_job("bytes0000003");
    job.argv = {"true", "\xff"};
    job.cwd = "/p/d\xfe";
    job.outputs[0].path = "/p/out\xff";
    job.env["FOO"] = "v\xff";
    RecoveryPlaces places;
    places.dirs = {dir / "recovery"};
    auto saved = write_recovery_file(places, job, std::nullopt, "disk full");
    REQUIRE(saved);
    const auto doc = nlohmann::json::parse(roar::test::read_file(*saved)); // throws when not valid JSON
    CHECK(doc["job"]["outputs"][0]["path"] == R"(/p/out\xff)");
    CHECK(doc["job"]["outputs"][0]["path_b64"] == "L3Avb3V0/w==");
    auto back = job_record_from_json(doc["job"]);
    REQUIRE(back);
    CHECK(back->argv == job.argv);
    CHECK(back->cwd == job.cwd);
    CHECK(back->outputs[0].path == job.outputs[0].path);
    CHECK(back->env["FOO"] == "v\xff");

    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    auto imported = import_recovery_file(*db, *saved);
    REQUIRE(imported);
    REQUIRE(imported->row);
    CHECK(db->job(*imported->row)->outputs[0].path == "/p/out\xff");
}

TEST_CASE("a job's environment record is stored with it and read back, and a job without one reads as null",
          "[collector][store]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    const JobRecord with = sample_job("environ00001");
    JobRecord without = sample_job("environ00002");
    without.environment = nullptr;
    auto first = db->store_job(with);
    auto second = db->store_job(without);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(db->job(*first)->environment == with.environment);
    CHECK(db->job(*second)->environment.is_null());
    CHECK(count(dir / "roar.db", "SELECT count(*) FROM job_environments") == 1);

    // A path that is not UTF-8 in the record does not cost the job, and
    // reads back as the same bytes.
    JobRecord odd = sample_job("environ00003");
    odd.environment["python"][0]["executable"] = std::string("/p/v\xff/bin/python");
    auto third = db->store_job(odd);
    REQUIRE(third);
    CHECK(db->job(*third)->environment["python"][0]["executable"] == std::string("/p/v\xff/bin/python"));
}

TEST_CASE("a version 4 database gains the environment table, and its jobs have no environment record",
          "[collector][store]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    int64_t old_row = 0;
    {
        auto db = Database::create(file);
        REQUIRE(db);
        JobRecord job = sample_job("version40001");
        job.environment = nullptr;
        old_row = *db->store_job(job);
        db->exec(k_back_to_v8);
        db->exec(k_back_to_v6);
        db->exec("ALTER TABLE job_io DROP COLUMN pid; DROP TABLE job_environments; PRAGMA user_version = 4");
    }
    auto db = Database::open(file);
    REQUIRE(db);
    CHECK(count(file, "PRAGMA user_version") == k_schema_version);
    CHECK(db->job(old_row)->environment.is_null());
    auto row = db->store_job(sample_job("version50001"));
    REQUIRE(row);
    CHECK(db->job(*row)->environment["python"][0]["version"] == "3.11.2");
}

TEST_CASE("a version 5 database gains job_io.pid: its jobs' uses have none, new jobs' uses theirs",
          "[collector][store][attribution]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    int64_t old_row = 0;
    {
        auto db = Database::create(file);
        REQUIRE(db);
        old_row = *db->store_job(sample_job("version50002"));
        db->exec(k_back_to_v8);
        db->exec(k_back_to_v6);
        db->exec("ALTER TABLE job_io DROP COLUMN pid; PRAGMA user_version = 5");
    }
    auto db = Database::open(file);
    REQUIRE(db);
    CHECK(count(file, "PRAGMA user_version") == k_schema_version);
    const auto old_job = db->job(old_row);
    REQUIRE(old_job);
    REQUIRE(old_job->inputs.size() == 2);
    CHECK_FALSE(old_job->inputs[0].pid);
    CHECK_FALSE(old_job->outputs[0].pid);
    auto row = db->store_job(sample_job("version60001"));
    REQUIRE(row);
    const auto job = db->job(*row);
    REQUIRE(job);
    CHECK(job->inputs[0].pid == 42);
    CHECK(job->inputs[1].pid == 43);
    CHECK(job->outputs[0].pid == 42);
    CHECK_FALSE(job->deleted[0].pid);
    // The old job's four uses, and the new job's deletion (whose remover is unknown).
    CHECK(count(file, "SELECT count(*) FROM job_io WHERE pid IS NULL") == 4 + 1);
}

TEST_CASE("a version 6 database gains the paths table: its uses keep their exact paths, new jobs share them",
          "[collector][store]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    const std::string odd = "/p/caf\xe9.csv"; // Latin-1, not UTF-8: stored as its bytes
    int64_t old_row = 0, other_row = 0;
    {
        auto db = Database::create(file);
        REQUIRE(db);
        JobRecord job = sample_job("version60002");
        job.inputs.push_back({odd, "file", 3, {{"blake3", "dd44"}}, {}, 42});
        old_row = *db->store_job(job);
        JobRecord other = sample_job("version60003"); // the same paths as the first
        other.started_at += 10;
        other.ended_at += 10;
        other_row = *db->store_job(other);
        db->exec(k_back_to_v8);
        db->exec(k_back_to_v6);
    }
    REQUIRE(count(file, "SELECT count(*) FROM sqlite_master WHERE name = 'paths'") == 0);
    auto db = Database::open(file);
    REQUIRE(db);
    CHECK(count(file, "PRAGMA user_version") == k_schema_version);
    // data.csv, the S3 key, model.bin, tmp.txt and the odd one, each once.
    CHECK(count(file, "SELECT count(*) FROM paths") == 5);
    CHECK(count(file, "SELECT count(*) FROM job_io") == 5 + 4);
    CHECK(count(file, "SELECT count(*) FROM pragma_table_info('job_io') WHERE name = 'path'") == 0);
    const auto old_job = db->job(old_row);
    REQUIRE(old_job);
    REQUIRE(old_job->inputs.size() == 3);
    CHECK(old_job->inputs[0].path == odd);
    CHECK(old_job->inputs[0].pid == 42);
    CHECK(old_job->inputs[1].path == "/p/data.csv");
    CHECK(old_job->inputs[1].hashes.at("blake3") == "aa11");
    CHECK(old_job->outputs.at(0).notes == std::vector<std::string>{"a note"});
    CHECK(old_job->deleted.at(0).path == "/p/tmp.txt");
    CHECK(db->job(other_row)->inputs.size() == 2);
    CHECK(db->artifact_at_path(odd).has_value());
    // A new job's paths are found, not added again; a new path gets the next id.
    JobRecord next = sample_job("version70001");
    next.outputs.push_back({"/p/new.bin", "file", 1, {{"blake3", "ee55"}}, {}, 42});
    next.inputs.push_back({odd, "file", 3, {{"blake3", "dd44"}}, {}, 42});
    REQUIRE(db->store_job(next));
    CHECK(count(file, "SELECT count(*) FROM paths") == 6);
    CHECK(count(file, "SELECT max(id) FROM paths") == 6);
    CHECK(count(file, "SELECT count(DISTINCT path_id) FROM job_io") == 6);
}

TEST_CASE("a version 7 database gains each job's use lists, the same text a new job's are written with",
          "[collector][store][use_lists]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    std::map<int64_t, std::pair<std::string, std::string>> written;
    std::vector<std::tuple<bool, int64_t, int64_t, int64_t>> before;
    {
        auto db = Database::create(file);
        REQUIRE(db);
        store_varied_jobs(*db);
        written = use_lists(file);
        before = scanned_uses(*db);
        db->exec(k_back_to_v8);
        db->exec("DROP TABLE job_uses; PRAGMA user_version = 7");
    }
    REQUIRE(written.size() == 5);
    CHECK(written.rbegin()->second == std::pair<std::string, std::string>("", "")); // the job with no uses
    REQUIRE(before.size() == 4 * (4 + 2)); // four jobs of four inputs and two outputs
    auto db = Database::open(file);
    REQUIRE(db);
    CHECK(count(file, "PRAGMA user_version") == k_schema_version);
    CHECK(use_lists(file) == written);
    CHECK(scanned_uses(*db) == before);
}

TEST_CASE("a digest prefix counts artifacts, not digests: one artifact's digests of several algorithms are one match",
          "[collector][store]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    JobRecord job = sample_job("prefix000001");
    job.inputs = {{"/p/a.bin", "file", 1, {{"blake3", "ab01"}, {"sha256", "ab02"}, {"etag", "ab03"}}, {}, 42},
                  {"/p/b.bin", "file", 2, {{"blake3", "ab11"}}, {}, 42}};
    job.outputs.clear();
    job.deleted.clear();
    REQUIRE(db->store_job(job));
    const auto a = db->match_prefix("ab0").artifacts;
    REQUIRE(a.size() == 1); // three digests, one artifact
    CHECK(db->match_prefix("ab01").artifacts == a);
    CHECK(db->match_prefix("ab03").artifacts == a);
    const auto both = db->match_prefix("ab").artifacts; // four digests, two artifacts
    REQUIRE(both.size() == 2);
    CHECK(both[0] != both[1]);
    CHECK(std::find(both.begin(), both.end(), a[0]) != both.end());
    CHECK(db->match_prefix("ab1").artifacts.size() == 1);
    CHECK(db->match_prefix("ac").artifacts.empty());
}

TEST_CASE("a version 8 database's digests are keyed by digest first: the same artifacts found by digest and prefix",
          "[collector][store]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    const std::vector<std::string> digests{"aa11", "bb22", "cc33", "ffff"};
    std::vector<std::optional<int64_t>> by_digest;
    PrefixMatches by_prefix;
    int64_t hashes = 0;
    {
        auto db = Database::create(file);
        REQUIRE(db);
        REQUIRE(db->store_job(sample_job("version80001")));
        by_digest = db->artifacts_by_blake3(digests);
        by_prefix = db->match_prefix("cc");
        hashes = count(file, "SELECT count(*) FROM artifact_hashes");
        db->exec(k_back_to_v8);
    }
    REQUIRE(by_digest[0]);
    REQUIRE_FALSE(by_digest[3]);
    REQUIRE(by_prefix.artifacts.size() == 1);
    REQUIRE(count(file, "SELECT count(*) FROM sqlite_master WHERE name = 'artifact_hashes_by_digest'") == 1);
    auto db = Database::open(file);
    REQUIRE(db);
    CHECK(count(file, "PRAGMA user_version") == k_schema_version);
    CHECK(count(file, "SELECT count(*) FROM sqlite_master WHERE name = 'artifact_hashes_by_digest'") == 0);
    // The key's first column is the digest.
    CHECK(count(file, "SELECT count(*) FROM pragma_index_info('sqlite_autoindex_artifact_hashes_1') "
                      "WHERE seqno = 0 AND name = 'digest'")
          == 1);
    CHECK(count(file, "SELECT count(*) FROM artifact_hashes") == hashes);
    CHECK(db->artifacts_by_blake3(digests) == by_digest);
    CHECK(db->match_prefix("cc").artifacts == by_prefix.artifacts);
    // A new job finds the old artifacts by digest: no second artifact for the same bytes.
    const int64_t artifacts = count(file, "SELECT count(*) FROM artifacts");
    REQUIRE(db->store_job(sample_job("version90001")));
    CHECK(count(file, "SELECT count(*) FROM artifacts") == artifacts);
    // The lookups by digest and by prefix search the key.
    for (const char* lookup :
         {"SELECT algorithm, digest, artifact_id FROM artifact_hashes WHERE digest IN ('aa11')",
          "SELECT artifact_id FROM artifact_hashes WHERE digest >= 'cc' AND digest < 'cc~' ORDER BY digest LIMIT 64"}) {
        INFO(lookup);
        const std::string plan = query_plan(file, lookup);
        CHECK(plan.find("SEARCH artifact_hashes USING INDEX sqlite_autoindex_artifact_hashes_1") != std::string::npos);
        CHECK(plan.find("TEMP B-TREE") == std::string::npos); // the key gives the order
    }
}

TEST_CASE("a job whose use lists are missing or damaged is read from job_io: the same uses in the same order",
          "[collector][store][use_lists]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    auto db = Database::create(file);
    REQUIRE(db);
    store_varied_jobs(*db);
    const auto before = scanned_uses(*db);
    REQUIRE(before.size() == 4 * (4 + 2)); // four jobs of four inputs and two outputs
    const auto rows = use_lists(file);
    auto row = rows.begin();
    const int64_t first = row->first, second = (++row)->first, third = (++row)->first, fourth = (++row)->first;
    db->exec(fmt::format("DELETE FROM job_uses WHERE job_id = {}; "
                         "UPDATE job_uses SET inputs = '3:1,0:2' WHERE job_id = {}; "
                         "UPDATE job_uses SET outputs = 'x' WHERE job_id = {}; "
                         "UPDATE job_uses SET inputs = '' WHERE job_id = {}",
                         first, second, third, fourth));
    auto after = scanned_uses(*db);
    // The fourth job's inputs were emptied: it has none now, as far as the
    // lists say, and that is what a reader believes.
    std::erase_if(after, [&](const auto& use) { return std::get<1>(use) == fourth && !std::get<0>(use); });
    auto expected = before;
    std::erase_if(expected, [&](const auto& use) { return std::get<1>(use) == fourth && !std::get<0>(use); });
    CHECK(after == expected);
    CHECK(scanned_uses(*db).size() == before.size() - 4);
}

TEST_CASE("a job of more uses than a use list holds has none, and a session read takes its rows from job_io",
          "[collector][store][use_lists]")
{
    TempDir dir;
    const auto file = dir / "roar.db";
    auto db = Database::create(file);
    REQUIRE(db);
    store_varied_jobs(*db); // four jobs with lists, one without uses
    JobRecord big = sample_job("lists_big");
    big.started_at += 1000;
    big.ended_at += 1000;
    big.inputs.clear();
    const size_t limit = roar::collector::store_detail::k_max_listed_uses;
    for (size_t i = 0; i < limit; ++i) { // with the output: one use past the limit
        big.inputs.push_back(
            {fmt::format("/p/big/{:06}", limit - i), "file", 1, {{"blake3", fmt::format("{:x}", i)}}, {}});
    }
    const int64_t big_row = *db->store_job(big);
    CHECK(count(file, fmt::format("SELECT count(*) FROM job_uses WHERE job_id = {}", big_row).c_str()) == 0);
    CHECK(count(file, "SELECT count(*) FROM job_uses") == 5);
    const auto uses = scanned_uses(*db);
    std::vector<int64_t> big_inputs;
    for (const auto& [output, job, path, artifact] : uses) {
        if (job == big_row && !output) {
            big_inputs.push_back(path);
        }
    }
    CHECK(big_inputs.size() == limit);
    CHECK(std::is_sorted(big_inputs.begin(), big_inputs.end()));
    CHECK(uses.size() == 4 * (4 + 2) + limit + 1);
}

TEST_CASE("a job with more uses than one write batch: every use stored, repeated content is one artifact",
          "[collector][store]")
{
    // Uses are written 1,000 a statement: content met in an earlier batch
    // of the same job, or in an earlier job, is found, never duplicated.
    TempDir dir;
    const auto file = dir / "roar.db";
    auto db = Database::create(file);
    REQUIRE(db);
    JobRecord job = job_without_uses("0000000000000b01");
    constexpr int k_inputs = 2500;
    for (int i = 0; i < k_inputs; ++i) {
        // 2,500 inputs holding 1,250 distinct contents: path i and path
        // i + 1,250 hold the same bytes, one batch apart or more.
        const std::string digest = fmt::format("{:064x}", i % 1250);
        job.inputs.push_back({fmt::format("/p/in/{:05}", i), "file", uint64_t(i % 1250), {{"blake3", digest}}, {}});
    }
    job.outputs.push_back({"/p/out.bin", "file", 7, {{"blake3", fmt::format("{:064x}", 1249)}}, {"same as an input"}});
    job.deleted.push_back({"/p/gone", "file", std::nullopt, {}, {}});
    REQUIRE(db->store_job(job));
    CHECK(count(file, "SELECT count(*) FROM job_io") == k_inputs + 2);
    CHECK(count(file, "SELECT count(*) FROM artifacts") == 1250);
    CHECK(count(file, "SELECT count(*) FROM artifact_hashes") == 1250);
    CHECK(count(file, "SELECT count(DISTINCT artifact_id) FROM job_io WHERE direction = 'in'") == 1250);
    CHECK(count(file, "SELECT count(*) FROM job_io a JOIN job_io b ON a.artifact_id = b.artifact_id "
                      "WHERE a.path_id = (SELECT id FROM paths WHERE path = '/p/in/00010') "
                      "AND b.path_id = (SELECT id FROM paths WHERE path = '/p/in/01260')")
          == 1);
    CHECK(count(file, "SELECT count(*) FROM job_io o JOIN job_io i ON o.artifact_id = i.artifact_id "
                      "WHERE o.direction = 'out' AND i.path_id = (SELECT id FROM paths WHERE path = '/p/in/01249')")
          == 1);
    // Each path once, its id the row's; the uses name them by id.
    CHECK(count(file, "SELECT count(*) FROM paths") == k_inputs + 2);
    CHECK(count(file, "SELECT max(id) FROM paths") == k_inputs + 2);
    CHECK(count(file, "SELECT count(*) FROM job_io WHERE direction = 'deleted' AND artifact_id IS NULL") == 1);
    CHECK(count(file, "SELECT count(*) FROM job_io WHERE notes = '[\"same as an input\"]'") == 1);

    // A second job reading the same contents creates no artifact; new
    // content gets the next ids.
    JobRecord again = job;
    again.uid = "0000000000000b02";
    again.outputs = {{"/p/out2.bin", "file", 8, {{"blake3", std::string(64, 'f')}, {"etag", "\"x\""}}, {}}};
    REQUIRE(db->store_job(again));
    CHECK(count(file, "SELECT count(*) FROM artifacts") == 1251);
    CHECK(count(file, "SELECT count(*) FROM artifact_hashes") == 1252);
    CHECK(count(file, "SELECT max(id) FROM artifacts") == 1251);
    CHECK(count(file, "SELECT count(*) FROM job_io") == 2 * (k_inputs + 2));
    // Its paths are the first job's, but one: only the new output is a new path.
    CHECK(count(file, "SELECT count(*) FROM paths") == k_inputs + 3);
    CHECK(count(file, "SELECT count(DISTINCT path_id) FROM job_io") == k_inputs + 3);
    // The writer leaves its own references unchecked as it writes: every
    // one names a stored row.
    CHECK(count(file, "SELECT count(*) FROM pragma_foreign_key_check") == 0);
}

TEST_CASE("a job with more processes than one write batch reads every process back exactly", "[collector][store]")
{
    // Processes are written many a statement (50 on SQLite, 1,000 on
    // PostgreSQL); each names its parent by seq, so the links must survive
    // whatever ids the rows get.
    TempDir dir;
    const auto file = dir / "roar.db";
    auto db = Database::create(file);
    REQUIRE(db);
    JobRecord job = sample_job("0000000000000c01");
    job.processes.clear();
    constexpr int k_processes = 2525; // full statements and a partial one, whatever the rows a statement
    for (int i = 0; i < k_processes; ++i) {
        ProcessRecord p;
        p.pid = uint32_t(1000 + i);
        p.ppid = i == 0 ? 1 : uint32_t(1000 + (i - 1) / 2);
        p.parent = i == 0 ? -1 : (i - 1) / 2;
        p.exe = fmt::format("/bin/t\xff{}", i);
        p.argv = {"t", fmt::format("a\xfe{}", i), ""};
        p.cwd = fmt::format("/p/{}", i % 7);
        p.started_at = 1700000000.5 + i;
        if (i % 3 == 0) {
            p.exit_code = i % 256;
        } else if (i % 3 == 1) {
            p.exit_code = 128 + 9;
            p.signal = 9;
        }
        p.observed = i % 11 != 0;
        p.tracer = p.observed ? (i % 2 ? "shim" : "ptrace") : "";
        if (i % 5 == 0) {
            p.notes = {fmt::format("note \xff{}", i)};
        }
        job.processes.push_back(std::move(p));
    }
    auto row = db->store_job(job);
    REQUIRE(row);
    CHECK(count(file, "SELECT count(*) FROM processes") == k_processes);
    CHECK(count(file, "SELECT count(*) FROM processes WHERE started_at = 1700000000.5 + seq") == k_processes);
    auto detail = db->job(*row);
    REQUIRE(detail);
    REQUIRE(detail->processes.size() == size_t(k_processes));
    int mismatched = 0;
    for (int i = 0; i < k_processes; ++i) {
        const ProcessRecord& want = job.processes[size_t(i)];
        const ProcessDetail& got = detail->processes[size_t(i)];
        // -1 stands for none (no value here is negative).
        const bool same = got.seq == i && got.pid == int64_t(want.pid) && got.ppid == int64_t(want.ppid)
                          && got.parent.value_or(-1) == want.parent && got.exe == want.exe && got.argv == want.argv
                          && got.cwd == want.cwd && got.exit_code.value_or(-1) == want.exit_code.value_or(-1)
                          && got.signal.value_or(-1) == want.signal.value_or(-1) && got.observed == want.observed
                          && got.tracer.value_or("") == want.tracer && got.tracer.has_value() == !want.tracer.empty()
                          && got.notes == want.notes;
        if (!same) {
            UNSCOPED_INFO("process " << i << " differs");
            ++mismatched;
        }
    }
    CHECK(mismatched == 0);
    // A second job's processes keep to their own job.
    JobRecord again = sample_job("0000000000000c02");
    auto second = db->store_job(again);
    REQUIRE(second);
    auto other = db->job(*second);
    REQUIRE(other);
    CHECK(other->processes.size() == again.processes.size());
    CHECK(count(file, "SELECT count(*) FROM processes") == k_processes + int64_t(again.processes.size()));
}

TEST_CASE("the digests of many artifacts, looked up on two connections, are each artifact's own", "[collector][store]")
{
    // Enough artifacts that the lookup splits; each has a digest of its
    // own, some an ETag only, some both (blake3 is the one given).
    constexpr int k_inputs = 20000;
    JobRecord job = job_without_uses("0000000000000c01");
    for (int i = 0; i < k_inputs; ++i) {
        std::map<std::string, std::string> hashes;
        if (i % 5 != 0) {
            hashes["blake3"] = fmt::format("{:064x}", i);
        }
        if (i % 3 == 0 || i % 5 == 0) {
            hashes["etag"] = fmt::format("\"etag-{}\"", i);
        }
        job.inputs.push_back({fmt::format("/p/in/{:05}", i), "file", uint64_t(i), hashes, {}});
    }
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    REQUIRE(db->store_job(job));
    Store& store = *db;
    std::vector<int64_t> ids;
    for (int64_t id = 1; id <= k_inputs + 1; ++id) { // the last names no artifact
        ids.push_back(id);
    }
    const auto found = store.artifact_digests(ids);
    REQUIRE(found.size() == size_t(k_inputs));
    CHECK(found.count(k_inputs + 1) == 0);
    // Artifact ids follow the inputs' order: input i is artifact i + 1.
    int wrong = 0;
    for (int i = 0; i < k_inputs; ++i) {
        const ArtifactDigest& got = found.at(i + 1);
        const bool blake3 = i % 5 != 0;
        const std::string digest = blake3 ? fmt::format("{:064x}", i) : fmt::format("\"etag-{}\"", i);
        if ((got.algorithm != (blake3 ? "blake3" : "etag") || got.digest != digest || got.size != i) && ++wrong <= 5) {
            FAIL_CHECK(
                fmt::format("artifact {}: {} {} size {}", i + 1, got.algorithm, got.digest, got.size.value_or(-1)));
        }
    }
    CHECK(wrong == 0);
}
