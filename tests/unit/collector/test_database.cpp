// The SQLite store: creation, refusal of corrupt or foreign files (left
// untouched), the hash cache, and storing a job.
#include "roar/collector/database.hpp"
#include "roar/collector/store/sqlite_engine.hpp"

#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <thread>
#include <sys/stat.h>
#include <utime.h>

using namespace roar::collector;
using roar::test::TempDir;

namespace {

int64_t count(const Database& db, const char* sql)
{
    Statement q(db.handle(), sql);
    q.step();
    return q.column_int(0);
}

constexpr struct utimbuf k_old_times {
    1600000000, 1600000000
};

// `n` files dir/old<i> holding "content <i>", dated 2020 (old enough for
// the hash cache to keep their digests).
std::vector<std::string> old_files(const TempDir& dir, int n)
{
    std::vector<std::string> paths;
    for (int i = 0; i < n; ++i) {
        const auto file = dir / ("old" + std::to_string(i));
        roar::test::write_file(file, "content " + std::to_string(i));
        utime(file.c_str(), &k_old_times);
        paths.push_back(file.string());
    }
    return paths;
}

} // namespace

TEST_CASE("create writes the current schema version; create refuses an existing file", "[collector][db]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    Statement v(db->handle(), "PRAGMA user_version");
    REQUIRE(v.step());
    CHECK(v.column_int(0) == k_schema_version);
    CHECK_FALSE(Database::create(dir / "roar.db"));
}

TEST_CASE("open refuses missing, corrupt and foreign files and leaves them as they were", "[collector][db]")
{
    TempDir dir;
    auto missing = Database::open(dir / "none.db");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("roar init") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "none.db"));

    const std::string garbage(8192, 'x');
    roar::test::write_file(dir / "corrupt.db", garbage);
    auto corrupt = Database::open(dir / "corrupt.db");
    REQUIRE_FALSE(corrupt);
    CHECK(corrupt.error().message.find("left untouched") != std::string::npos);
    CHECK(roar::test::read_file(dir / "corrupt.db") == garbage);

    {
        sqlite3* raw = nullptr;
        sqlite3_open((dir / "foreign.db").c_str(), &raw);
        sqlite3_exec(raw, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
        sqlite3_close(raw);
    }
    auto foreign = Database::open(dir / "foreign.db");
    REQUIRE_FALSE(foreign);
    CHECK(foreign.error().message.find("not a roar database") != std::string::npos);
}

TEST_CASE("the hash cache answers for an unchanged file and not for a changed one", "[collector][db][hash]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    const auto file = dir / "data.bin";
    roar::test::write_file(file, "first content");
    // Age the file so it is not "racily clean".
    utime(file.c_str(), &k_old_times);
    auto first = db->digest_file(file.string());
    REQUIRE(first);
    CHECK(first->blake3 == blake3_hex("first content"));
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 0); // kept until the next write
    db->flush_hash_cache();
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 1);

    // store_job writes pending entries in its own transaction.
    roar::test::write_file(dir / "second.bin", "second");
    utime((dir / "second.bin").c_str(), &k_old_times);
    REQUIRE(db->digest_file((dir / "second.bin").string()));
    JobRecord job;
    job.uid = "cache0000001";
    job.argv = {"true"};
    job.command = "true";
    job.cwd = "/";
    REQUIRE(db->store_job(job));
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 2);

    // Poison the cache entry: a hit must return the cached value.
    db->exec("UPDATE hash_cache SET digest = 'cached'");
    auto second = db->digest_file(file.string());
    REQUIRE(second);
    CHECK(second->blake3 == "cached");

    roar::test::write_file(file, "other content!");
    utime(file.c_str(), &k_old_times); // same mtime, different size: still a miss
    auto third = db->digest_file(file.string());
    REQUIRE(third);
    CHECK(third->blake3 == blake3_hex("other content!"));
}

namespace {

// How many of this process's descriptors are open on `file`.
int descriptors_on(const std::filesystem::path& file)
{
    int n = 0;
    for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        n += std::filesystem::read_symlink(fd.path(), ec) == file ? 1 : 0;
    }
    return n;
}

} // namespace

TEST_CASE("the hash cache look-up for another thread opens its connection on first use", "[collector][db][hash]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    const auto file = dir / "data.bin";
    roar::test::write_file(file, "cached content");
    utime(file.c_str(), &k_old_times);
    REQUIRE(db->digest_file(file.string()));
    db->flush_hash_cache();

    const int before = descriptors_on(dir / "roar.db");
    auto lookup = db->cache_lookup_for_thread();
    REQUIRE(lookup);
    CHECK(descriptors_on(dir / "roar.db") == before); // nothing opened until it is asked
    std::optional<std::string> hit, miss;
    std::thread tracer([&] {
        hit = lookup(*identify_file(file.string()));
        miss = lookup(FileIdentity{1, 2, 3, 4, 5, true});
    });
    tracer.join();
    CHECK(hit == blake3_hex("cached content"));
    CHECK_FALSE(miss);
    CHECK(descriptors_on(dir / "roar.db") == before + 1);
}

TEST_CASE("the hash cache look-up of a batch answers each identity in order, in one read transaction",
          "[collector][db][hash]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    std::vector<std::string> paths = old_files(dir, 3);
    std::vector<FileIdentity> ids;
    for (const auto& path : paths) {
        REQUIRE(db->digest_file(path));
        ids.push_back(*identify_file(path));
    }
    db->flush_hash_cache();
    ids.insert(ids.begin() + 1, FileIdentity{1, 2, 3, 4, 5, true}); // not in the cache

    auto lookup = db->cache_batch_lookup_for_thread();
    REQUIRE(lookup);
    std::vector<std::optional<std::string>> found{std::string("stale")}; // replaced, not appended to
    std::thread pool_thread([&] { lookup(ids, found); });
    pool_thread.join();
    REQUIRE(found.size() == 4);
    CHECK(found[0] == blake3_hex("content 0"));
    CHECK_FALSE(found[1]);
    CHECK(found[2] == blake3_hex("content 1"));
    CHECK(found[3] == blake3_hex("content 2"));

    // The transaction ended with the call: the next batch sees what was written since.
    const auto later = dir / "later.bin";
    roar::test::write_file(later, "later");
    utime(later.c_str(), &k_old_times);
    REQUIRE(db->digest_file(later.string()));
    db->flush_hash_cache();
    std::thread again([&] { lookup(std::vector<FileIdentity>{*identify_file(later.string())}, found); });
    again.join();
    REQUIRE(found.size() == 1);
    CHECK(found[0] == blake3_hex("later"));
}

TEST_CASE("digest_files answers from the cache, hashes the rest and refuses what is not a file",
          "[collector][db][hash]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    std::vector<std::string> paths = old_files(dir, 30);
    const auto recent = dir / "recent"; // modified just now: "racily clean", never cached
    roar::test::write_file(recent, "recent");
    paths.push_back(recent.string());
    const auto fifo = dir / "fifo"; // must not be opened: reading it would block
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    paths.push_back(fifo.string());
    paths.push_back((dir / "missing").string());

    HashPool pool(2);
    auto first = db->digest_files(paths, pool);
    REQUIRE(first.size() == paths.size());
    for (int i = 0; i < 30; ++i) {
        REQUIRE(first[size_t(i)]);
        CHECK(first[size_t(i)]->blake3 == blake3_hex("content " + std::to_string(i)));
    }
    REQUIRE(first[30]);
    CHECK(first[30]->blake3 == blake3_hex("recent"));
    CHECK_FALSE(first[31]);
    CHECK_FALSE(first[32]);
    db->flush_hash_cache();
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 30);

    // Hits come from the cache (poisoned here), misses are hashed again.
    db->exec("UPDATE hash_cache SET digest = 'cached-' || inode");
    roar::test::write_file(paths[3], "changed, longer");
    utime(paths[3].c_str(), &k_old_times);
    auto second = db->digest_files(paths, pool);
    for (int i = 0; i < 30; ++i) {
        REQUIRE(second[size_t(i)]);
        if (i == 3) {
            CHECK(second[3]->blake3 == blake3_hex("changed, longer"));
        } else {
            CHECK(second[size_t(i)]->blake3 == "cached-" + std::to_string(second[size_t(i)]->identity.inode));
        }
    }
    CHECK(second[30]->blake3 == blake3_hex("recent"));

    // Inside a transaction (as during store_job) it uses that transaction.
    db->exec("BEGIN");
    auto third = db->digest_files({paths[0]}, pool);
    db->exec("COMMIT");
    REQUIRE(third[0]);
    CHECK(third[0]->blake3 == second[0]->blake3);
}

TEST_CASE("digest_files writes the pending hash-cache entries once the limit is reached, not at the job's end",
          "[collector][db][hash]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    db->set_pending_cache_limit(8);
    const std::vector<std::string> paths = old_files(dir, 12);
    HashPool pool(2);
    // Under the limit: kept for the job's transaction.
    const std::vector<std::string> first_five(paths.begin(), paths.begin() + 5);
    db->digest_files(first_five, pool);
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 0);
    // Past it: all ten pending entries are written by the call itself.
    const std::vector<std::string> next_five(paths.begin() + 5, paths.begin() + 10);
    db->digest_files(next_five, pool);
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 10);
    auto last = db->digest_files({paths[10], paths[11]}, pool);
    REQUIRE(last[1]);
    CHECK(last[1]->blake3 == blake3_hex("content 11"));
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 10);
    db->flush_hash_cache();
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 12);
}

TEST_CASE("a write of pending hash-cache entries gives the page cache back", "[collector][db][hash]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    db->set_pending_cache_limit(200);
    const std::vector<std::string> paths = old_files(dir, 400);
    HashPool pool(2);
    const auto cache_bytes = [&db] {
        int used = 0, highest = 0;
        sqlite3_db_status(db->handle(), SQLITE_DBSTATUS_CACHE_USED, &used, &highest, 0);
        return used;
    };
    db->digest_files(std::vector<std::string>(paths.begin(), paths.begin() + 150), pool);
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 0);
    const int loaded = cache_bytes(); // the pages that count read
    // 250 more take the pending entries (400) past the limit: the call
    // writes them, then lets their pages go (a job of a million files
    // would hold 64 MiB).
    db->digest_files(std::vector<std::string>(paths.begin() + 150, paths.end()), pool);
    const int after_write = cache_bytes();
    CHECK(loaded > 16384);
    CHECK(after_write < loaded / 2);
    CHECK(count(*db, "SELECT count(*) FROM hash_cache") == 400);
}

TEST_CASE("a write of very many rows gets a smaller page cache, and the next write the usual one", "[collector][db]")
{
    TempDir dir;
    auto engine = roar::collector::SqliteEngine::create(dir / "roar.db");
    REQUIRE(engine);
    const auto cache_kib = [&engine] {
        auto q = (*engine)->prepare("PRAGMA cache_size");
        REQUIRE(q->step());
        return -q->column_int(0); // negative: KiB
    };
    CHECK(cache_kib() == roar::collector::k_page_cache_kib);
    (*engine)->prepare_write(roar::collector::k_large_write_rows);
    CHECK(cache_kib() == roar::collector::k_large_write_cache_kib);
    CHECK(roar::collector::k_large_write_cache_kib < roar::collector::k_page_cache_kib);
    (*engine)->prepare_write(1000);
    CHECK(cache_kib() == roar::collector::k_page_cache_kib);
}

TEST_CASE("a write of the writer's own references goes unchecked, and checking resumes when it ends", "[collector][db]")
{
    TempDir dir;
    auto engine = roar::collector::SqliteEngine::create(dir / "roar.db");
    REQUIRE(engine);
    auto& db = **engine;
    db.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (p INTEGER REFERENCES parent(id))");
    const auto add_orphan = [&db] { db.prepare("INSERT INTO child (p) VALUES (7)")->run(); };
    const auto checking = [&db] {
        auto q = db.prepare("PRAGMA foreign_keys");
        REQUIRE(q->step());
        return q->column_int(0) == 1;
    };
    REQUIRE(checking());
    SECTION("committed")
    {
        db.begin_write_of_own_references();
        CHECK_FALSE(checking());
        CHECK_NOTHROW(add_orphan());
        db.exec("DELETE FROM child");
        db.commit();
    }
    SECTION("rolled back")
    {
        db.begin_write_of_own_references();
        CHECK_NOTHROW(add_orphan());
        db.rollback();
    }
    CHECK(checking());
    db.begin_write();
    CHECK_THROWS_AS(add_orphan(), roar::FatalError);
    db.rollback();
}

TEST_CASE("store_job records every use, shares artifacts, and adds an S3 object's other hashes", "[collector][db]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    JobRecord job;
    job.uid = "many00000001";
    job.argv = {"cp", "-r", "a", "b"};
    job.command = "cp -r a b";
    job.cwd = "/p";
    for (int i = 0; i < 500; ++i) {
        // Digests in an order unlike the paths', shared pairwise between input and output.
        const std::string digest = std::to_string((i * 7919) % 500);
        job.inputs.push_back({"/p/a/" + std::to_string(i), "file", 1, {{"blake3", digest}}, {}});
        job.outputs.push_back({"/p/b/" + std::to_string(i), "file", 1, {{"blake3", digest}}, {"a note"}});
    }
    job.deleted.push_back({"/p/gone", "file", std::nullopt, {}, {}});
    job.inputs.push_back({"s3://bucket/key", "s3", 5, {{"blake3", "0"}, {"etag", "\"e1\""}}, {}});
    auto id = db->store_job(job);
    REQUIRE(id);
    CHECK(count(*db, "SELECT count(*) FROM job_io WHERE direction = 'in'") == 501);
    CHECK(count(*db, "SELECT count(*) FROM job_io WHERE direction = 'out'") == 500);
    CHECK(count(*db, "SELECT count(*) FROM job_io WHERE direction = 'deleted' AND artifact_id IS NULL") == 1);
    CHECK(count(*db, "SELECT count(*) FROM artifacts") == 500);
    CHECK(count(*db, "SELECT count(*) FROM job_io a JOIN job_io b ON a.artifact_id = b.artifact_id "
                     "JOIN paths pa ON pa.id = a.path_id JOIN paths pb ON pb.id = b.path_id "
                     "WHERE a.direction = 'in' AND b.direction = 'out' AND substr(pa.path, 6) = substr(pb.path, 6)")
          == 500);
    CHECK(count(*db, "SELECT count(*) FROM job_io WHERE notes = '[\"a note\"]'") == 500);
    CHECK(count(*db, "SELECT count(*) FROM job_io WHERE notes = '[]'") == 502);
    // The S3 object was found by its BLAKE3 (the file "0") and gained its ETag.
    CHECK(count(*db, "SELECT count(*) FROM artifact_hashes WHERE algorithm = 'etag' AND artifact_id = "
                     "(SELECT artifact_id FROM artifact_hashes WHERE algorithm = 'blake3' AND digest = '0')")
          == 1);
}

TEST_CASE("a stored job links artifacts by digest across jobs and assigns steps", "[collector][db]")
{
    TempDir dir;
    auto db = Database::create(dir / "roar.db");
    REQUIRE(db);
    JobRecord a;
    a.uid = "aaaa00000001";
    a.argv = {"python3", "prep.py"};
    a.command = "python3 prep.py";
    a.cwd = "/p";
    a.started_at = 1;
    a.ended_at = 2;
    a.outputs.push_back({"/p/features.csv", "file", 10, {{"blake3", "ff00"}}, {}});
    REQUIRE(db->store_job(a));

    JobRecord b = a;
    b.uid = "bbbb00000002";
    b.argv = {"python3", "train.py"};
    b.command = "python3 train.py";
    b.outputs.clear();
    b.inputs.push_back({"/p/features.csv", "file", 10, {{"blake3", "ff00"}}, {}});
    REQUIRE(db->store_job(b));

    JobRecord c = b;
    c.uid = "cccc00000003"; // a re-run of train.py: same step
    REQUIRE(db->store_job(c));

    CHECK(count(*db, "SELECT count(*) FROM artifacts") == 1);
    CHECK(count(*db, "SELECT count(DISTINCT artifact_id) FROM job_io") == 1);
    CHECK(count(*db, "SELECT count(*) FROM steps") == 2);
    CHECK(count(*db, "SELECT count(*) FROM jobs WHERE step_id = (SELECT id FROM steps WHERE number = 2)") == 2);
}

TEST_CASE("step signatures ignore digit runs but not words", "[collector][db]")
{
    CHECK(step_signature({"python3", "train.py", "--seed", "3"}, "/p")
          == step_signature({"python3", "train.py", "--seed", "42"}, "/p"));
    CHECK(step_signature({"python3", "train.py"}, "/p") != step_signature({"python3", "eval.py"}, "/p"));
    CHECK(join_command({"echo", "a b", "it's"}) == "echo 'a b' 'it'\\''s'");
}
