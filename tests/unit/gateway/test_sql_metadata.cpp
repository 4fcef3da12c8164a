// The metadata model on SQLite: quota reservations that never over-allocate
// (also from concurrent connections), objects and copies changing with the
// counters in one transaction, multipart state, the job queue's leases, and
// tenants, keys, policies and namespaces.
#include "gateway_test_support.hpp"

#include "roar/collector/store/postgres_engine.hpp"
#include "roar/collector/store/sqlite_engine.hpp"

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

using namespace roar::test;
using namespace roar::proxy::gateway;

namespace {

const BucketRef k_data{"default", "data"};

BackendUsage usage_of(MetadataStore& s, const std::string& name)
{
    auto all = s.backend_usage();
    REQUIRE(all);
    for (const auto& u : *all) {
        if (u.name == name) {
            return u;
        }
    }
    FAIL("no backend " << name);
    return {};
}

Reservation reserve_ok(MetadataStore& s, const std::string& backend, std::uint64_t bytes, Millis now = 1000)
{
    auto r = s.reserve(backend, bytes, now, now + 60000);
    REQUIRE(r);
    REQUIRE(*r);
    return **r;
}

PutResult put(MetadataStore& s, const std::string& key, std::uint64_t size, const std::string& backend = "a",
              unsigned replicas = 1, Millis now = 1000)
{
    const Reservation r = reserve_ok(s, backend, size, now);
    NewObject o;
    o.bucket = k_data;
    o.key = key;
    o.size = size;
    o.etag = "\"etag-" + key + "\"";
    o.version = new_id(now);
    o.location = {backend, "store-" + backend, "data/" + key + "~" + o.version};
    o.reservation = r;
    o.replicas = replicas;
    o.now = now;
    o.delete_at = now;
    auto result = s.commit_object(o);
    REQUIRE(result);
    return *result;
}

void register_abc(MetadataStore& s) { REQUIRE(s.register_backends({{"a", 1000}, {"b", 2000}, {"c", std::nullopt}})); }

// gw_uploads as versions 1 and 2 had it, frozen for the upgrade tests.
#define GW_V1_UPLOADS                                                                                                  \
    "CREATE TABLE gw_uploads (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, bucket TEXT NOT NULL,"                        \
    " object_key TEXT NOT NULL, backend TEXT NOT NULL, backend_bucket TEXT NOT NULL,"                                  \
    " backend_key TEXT NOT NULL, backend_upload_id TEXT NOT NULL,"                                                     \
    " content_type TEXT NOT NULL DEFAULT '', created_at BIGINT NOT NULL);"

// Writes an old metadata file at `path` made by the statements `sql`, then
// opens it with today's code (which upgrades it).
std::unique_ptr<MetadataStore> open_frozen(const std::filesystem::path& path, const char* sql)
{
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    auto s = open_sqlite_metadata(path);
    REQUIRE(s);
    return std::move(*s);
}

// Another gateway's write transaction on `where`, holding the metadata's
// write lock (SQLite's, or the schema's advisory lock on PostgreSQL) until
// it is rolled back or closed.
std::unique_ptr<roar::collector::StoreEngine> hold_write_lock(const TestMetadata& where)
{
    std::unique_ptr<roar::collector::StoreEngine> engine;
    if (const std::string url = test_postgres_url(); url.empty()) {
        auto opened = roar::collector::SqliteEngine::open_component(where.dir / "gw.db");
        REQUIRE(opened);
        engine = std::move(*opened);
    } else {
        auto opened = roar::collector::PostgresEngine::open_component(url, where.schema);
        REQUIRE(opened);
        engine = std::move(*opened);
    }
    engine->begin_write();
    return engine;
}

} // namespace

TEST_CASE("a reservation succeeds only while used + reserved + bytes fits the quota", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const Reservation r1 = reserve_ok(*s, "a", 600);
    CHECK(usage_of(*s, "a").reserved_bytes == 600);
    auto r2 = s->reserve("a", 401, 1000, 61000);
    REQUIRE(r2);
    CHECK_FALSE(*r2); // 600 + 401 > 1000
    CHECK(usage_of(*s, "a").reserved_bytes == 600);
    reserve_ok(*s, "a", 400); // exactly full
    CHECK(usage_of(*s, "a").available() == std::optional<std::uint64_t>(0));
    REQUIRE(s->release(r1));
    REQUIRE(s->release(r1)); // a second release changes nothing
    CHECK(usage_of(*s, "a").reserved_bytes == 400);
    // Unlimited backends always have room.
    reserve_ok(*s, "c", 1ull << 40);
    CHECK_FALSE(usage_of(*s, "c").available());
    // Unknown backends never do.
    auto none = s->reserve("zzz", 1, 1000, 2000);
    REQUIRE(none);
    CHECK_FALSE(*none);
}

TEST_CASE("registering backends again keeps their counters and updates their quota", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    put(*s, "k", 100);
    REQUIRE(s->register_backends({{"a", 5000}}));
    CHECK(usage_of(*s, "a").used_bytes == 100);
    CHECK(usage_of(*s, "a").quota_bytes == std::optional<std::uint64_t>(5000));
}

TEST_CASE("lapsed reservations are released", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    auto r = s->reserve("a", 500, 1000, 2000);
    REQUIRE(r);
    auto early = s->expire_reservations(1999);
    REQUIRE(early);
    CHECK(*early == 0);
    auto late = s->expire_reservations(2001);
    REQUIRE(late);
    CHECK(*late == 1);
    CHECK(usage_of(*s, "a").reserved_bytes == 0);
}

TEST_CASE("concurrent connections to one metadata never over-allocate a quota", "[gateway][metadata]")
{
    TestMetadata where;
    {
        auto first = where.open();
        REQUIRE(first);
        REQUIRE((*first)->register_backends({{"a", 1000}}));
    }
    // Four gateways (connections) race to reserve 100 bytes each, 10 times.
    std::atomic<int> granted{0};
    std::vector<std::thread> threads;
    std::atomic<bool> failed{false};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            auto store = where.open();
            if (!store) {
                failed = true;
                return;
            }
            for (int i = 0; i < 10; ++i) {
                auto r = (*store)->reserve("a", 100, 1000, 100000);
                if (!r) {
                    failed = true;
                    return;
                }
                granted += r->has_value() ? 1 : 0;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    REQUIRE_FALSE(failed);
    CHECK(granted == 10);
    auto check = where.open();
    REQUIRE(check);
    CHECK(usage_of(**check, "a").reserved_bytes == 1000);
}

TEST_CASE("lookups are answered while a write waits for another gateway's lock", "[gateway][metadata]")
{
    using namespace std::chrono_literals;
    TestMetadata where;
    auto opened = where.open();
    REQUIRE(opened);
    MetadataStore& s = **opened;
    register_abc(s);
    const PutResult p = put(s, "k", 10);
    auto other = hold_write_lock(where);
    // This gateway's write queues behind the other's lock...
    auto write = std::async(std::launch::async, [&] { return s.reserve("a", 1, 1000, 61000); });
    const bool write_waits = write.wait_for(300ms) == std::future_status::timeout;
    // ...and its lookups, which only read, do not queue behind the write.
    auto lookup = std::async(std::launch::async, [&] { return s.find_object(k_data, "k"); });
    auto key = std::async(std::launch::async, [&] { return s.find_key("AKIANOSUCHKEY"); });
    const bool answered =
        lookup.wait_for(10s) == std::future_status::ready && key.wait_for(10s) == std::future_status::ready;
    other->rollback();
    other.reset();
    CHECK(write_waits);
    CHECK(answered);
    auto reserved = write.get();
    REQUIRE(reserved);
    CHECK(*reserved);
    auto found = lookup.get();
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->id == p.id);
    CHECK((*found)->copies.size() == 1);
    auto no_key = key.get();
    REQUIRE(no_key);
    CHECK_FALSE(*no_key);
}

TEST_CASE("lookups are answered on the writing connection when no reader can be opened", "[gateway][metadata]")
{
    if (!test_postgres_url().empty()) {
        return; // the file trick below is SQLite's
    }
    TestMetadata where;
    auto opened = where.open();
    REQUIRE(opened);
    MetadataStore& s = **opened;
    register_abc(s);
    const PutResult p = put(s, "k", 10);
    // Readers are opened by name on first need: with the file moved away
    // none can be, while the open writing connection still reads it.
    std::filesystem::rename(where.dir / "gw.db", where.dir / "moved.db");
    for (int i = 0; i < 3; ++i) {
        auto found = s.find_object(k_data, "k");
        REQUIRE(found);
        REQUIRE(*found);
        CHECK((*found)->id == p.id);
    }
    auto missing = s.find_key("AKIANOSUCHKEY");
    REQUIRE(missing);
    CHECK_FALSE(*missing);
}

TEST_CASE("lookups in a read scope read one snapshot; after it they see later writes", "[gateway][metadata]")
{
    TestMetadata where;
    auto opened = where.open();
    REQUIRE(opened);
    MetadataStore& s = **opened;
    register_abc(s);
    const PutResult before = put(s, "before", 10);
    {
        auto scope = s.read_scope();
        REQUIRE(scope);
        CHECK_FALSE(s.read_scope()); // one open scope per thread
        auto seen = s.find_object(k_data, "before");
        REQUIRE(seen);
        REQUIRE(*seen);
        CHECK((*seen)->id == before.id);
        put(s, "during", 10); // on the writing connection, committed
        auto during = s.find_object(k_data, "during");
        REQUIRE(during);
        CHECK_FALSE(*during); // the scope's snapshot was taken before it
        auto policy = s.find_bucket_policy(k_data);
        REQUIRE(policy);
        // Another thread's lookups are not part of this thread's scope.
        auto elsewhere = std::async(std::launch::async, [&s] {
            auto found = s.find_object(k_data, "during");
            return found && *found;
        });
        CHECK(elsewhere.get());
    }
    auto after = s.find_object(k_data, "during");
    REQUIRE(after);
    CHECK(*after);
    CHECK(s.read_scope()); // the reader went back; a new scope opens
}

TEST_CASE("committing an object records it, its copy and its bytes in one step", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const PutResult p = put(*s, "dir/file", 300);
    CHECK(p.replaced.empty());
    const BackendUsage a = usage_of(*s, "a");
    CHECK(a.used_bytes == 300);
    CHECK(a.reserved_bytes == 0);
    CHECK(a.objects == 1);
    auto o = s->find_object(k_data, "dir/file");
    REQUIRE(o);
    REQUIRE(*o);
    CHECK((*o)->id == p.id);
    CHECK((*o)->size == 300);
    CHECK((*o)->etag == "\"etag-dir/file\"");
    REQUIRE((*o)->copies.size() == 1);
    CHECK((*o)->copies[0].backend == "a");
    CHECK((*o)->copies[0].key == "data/dir/file~" + p.id);
    auto by_id = s->find_object_by_id(p.id);
    REQUIRE(by_id);
    REQUIRE(*by_id);
    CHECK((*by_id)->key == "dir/file");
    // Another tenant's bucket of the same name does not see it.
    auto other = s->find_object({"other", "data"}, "dir/file");
    REQUIRE(other);
    CHECK_FALSE(*other);
}

namespace {

// A create-only (If-None-Match: *) object `key` of 10 bytes on backend a
// with ETag `etag`, its bytes reserved on `s`.
NewObject create_only(MetadataStore& s, const std::string& key, const std::string& etag)
{
    NewObject o;
    o.bucket = k_data;
    o.key = key;
    o.size = 10;
    o.etag = etag;
    o.version = new_id(1000);
    o.location = {"a", "store-a", "data/" + key + "~" + o.version};
    o.reservation = reserve_ok(s, "a", 10);
    o.now = 1000;
    o.delete_at = 1000;
    o.condition.if_none_match_any = true;
    return o;
}

} // namespace

TEST_CASE("a conditional commit is checked against the current object in its own transaction", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const NewObject first = create_only(*s, "lock", "\"one\"");
    auto won = s->commit_object(first);
    REQUIRE(won);
    CHECK(won->condition == ConditionCheck::met);
    // A second create-only write of the key changes nothing.
    const NewObject second = create_only(*s, "lock", "\"two\"");
    auto lost = s->commit_object(second);
    REQUIRE(lost);
    CHECK(lost->condition == ConditionCheck::failed);
    CHECK((*s->find_object(k_data, "lock"))->etag == "\"one\"");
    CHECK(usage_of(*s, "a").used_bytes == 10);
    CHECK(usage_of(*s, "a").reserved_bytes == 10); // the loser's, for the caller to abandon
    // If-Match: the current ETag replaces, another is refused, a missing key is no_object.
    NewObject replace = create_only(*s, "lock", "\"three\"");
    replace.condition = {.if_none_match_any = false, .if_match = "\"two\""};
    CHECK(s->commit_object(replace)->condition == ConditionCheck::failed);
    replace.condition.if_match = "\"one\"";
    CHECK(s->commit_object(replace)->condition == ConditionCheck::met);
    CHECK((*s->find_object(k_data, "lock"))->etag == "\"three\"");
    NewObject missing = create_only(*s, "nothing-here", "\"x\"");
    missing.condition = {.if_none_match_any = false, .if_match = "*"};
    CHECK(s->commit_object(missing)->condition == ConditionCheck::no_object);
    CHECK_FALSE(*s->find_object(k_data, "nothing-here"));
}

TEST_CASE("concurrent create-only commits of one key on several connections: exactly one wins", "[gateway][metadata]")
{
    TestMetadata where;
    {
        auto first = where.open();
        REQUIRE(first);
        REQUIRE((*first)->register_backends({{"a", std::nullopt}}));
    }
    std::atomic<int> won{0};
    std::atomic<int> lost{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            auto store = where.open();
            if (!store) {
                failed = true;
                return;
            }
            for (int i = 0; i < 5; ++i) {
                auto r = (*store)->reserve("a", 10, 1000, 100000);
                if (!r || !*r) {
                    failed = true;
                    return;
                }
                NewObject o;
                o.bucket = k_data;
                o.key = "race-" + std::to_string(i);
                o.size = 10;
                o.etag = "\"writer-" + std::to_string(t) + "\"";
                o.version = new_id(1000);
                o.location = {"a", "store-a", o.key + "~" + o.version};
                o.reservation = **r;
                o.now = 1000;
                o.delete_at = 1000;
                o.condition.if_none_match_any = true;
                auto c = (*store)->commit_object(o);
                if (!c) {
                    failed = true;
                    return;
                }
                (c->condition == ConditionCheck::met ? won : lost) += 1;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    REQUIRE_FALSE(failed);
    CHECK(won == 5); // one per key
    CHECK(lost == 15);
}

TEST_CASE("an object and an upload keep the standard headers they were written with", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"Cache-Control", "max-age=5"}, {"Content-Disposition", "attachment; filename=\"x: y.bin\""}};
    NewObject o = create_only(*s, "with-headers", "\"h\"");
    o.object_headers = headers;
    REQUIRE(s->commit_object(o));
    CHECK((*s->find_object(k_data, "with-headers"))->object_headers == headers);
    UploadRecord u;
    u.id = new_id(1000);
    u.bucket = k_data;
    u.key = "mp-headers";
    u.location = {"a", "store-a", "data/mp-headers~" + u.id};
    u.backend_upload_id = "x";
    u.object_headers = headers;
    u.created_at = 1000;
    REQUIRE(s->create_upload(u));
    REQUIRE(*s->record_part(u.id, 1, 5, "\"p1\"", reserve_ok(*s, "a", 5), 1100));
    auto done =
        s->complete_upload({.upload_id = u.id, .parts = {1}, .etag = "\"m-1\"", .now = 2000, .delete_at = 2000});
    REQUIRE(done);
    CHECK((*s->find_object(k_data, "mp-headers"))->object_headers == headers);
}

TEST_CASE("a conditional completion that fails removes the upload and queues its joined bytes for removal",
          "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    REQUIRE(s->commit_object(create_only(*s, "taken", "\"first\"")));
    UploadRecord u;
    u.id = new_id(1000);
    u.bucket = k_data;
    u.key = "taken";
    u.location = {"b", "store-b", "data/taken~" + u.id};
    u.backend_upload_id = "x";
    u.created_at = 1000;
    REQUIRE(s->create_upload(u));
    REQUIRE(*s->record_part(u.id, 1, 50, "\"p1\"", reserve_ok(*s, "b", 50), 1100));
    CompleteUpload c{.upload_id = u.id, .parts = {1}, .etag = "\"m-1\"", .now = 2000, .delete_at = 2000};
    c.condition.if_none_match_any = true;
    auto done = s->complete_upload(c);
    REQUIRE(done);
    CHECK(done->condition == ConditionCheck::failed);
    CHECK((*s->find_object(k_data, "taken"))->etag == "\"first\"");
    CHECK_FALSE(*s->find_upload(u.id));
    const BackendUsage b = usage_of(*s, "b");
    CHECK(b.reserved_bytes == 0);
    CHECK(b.used_bytes == 50); // until the removal job has deleted them
    auto job = s->claim_job("w", 2000, 3000);
    REQUIRE(job);
    REQUIRE(*job);
    CHECK((*job)->kind == JobKind::remove);
    CHECK((*job)->location == u.location);
}

TEST_CASE("an object keeps the user metadata and the verified checksum it was written with", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const Reservation r = reserve_ok(*s, "a", 10);
    NewObject o;
    o.bucket = k_data;
    o.key = "with-meta";
    o.size = 10;
    o.etag = "\"e\"";
    o.user_metadata = {{"origin", "lab: bench 3"}, {"empty", ""}};
    o.checksum_header = "x-amz-checksum-crc32c";
    o.checksum_value = "yZRlqg==";
    o.version = new_id(1000);
    o.location = {"a", "store-a", "data/with-meta~" + o.version};
    o.reservation = r;
    o.now = 1000;
    o.delete_at = 1000;
    REQUIRE(s->commit_object(o));
    auto found = s->find_object(k_data, "with-meta");
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->user_metadata == o.user_metadata);
    CHECK((*found)->checksum_header == "x-amz-checksum-crc32c");
    CHECK((*found)->checksum_value == "yZRlqg==");
    const auto by_id = *s->find_object_by_id(o.version);
    CHECK(by_id->user_metadata == o.user_metadata);
    CHECK(by_id->checksum_value == "yZRlqg==");
    put(*s, "without", 5);
    CHECK((*s->find_object(k_data, "without"))->user_metadata.empty());
    CHECK((*s->find_object(k_data, "without"))->checksum_header.empty());
}

TEST_CASE("a version-1 metadata file is upgraded in place, its objects without user metadata", "[gateway][metadata]")
{
    TempDir dir;
    // The tables version 1 had that the upgrade and the read touch, frozen here.
    const char* v1 = "CREATE TABLE gw_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "INSERT INTO gw_settings VALUES ('schema_version', '1');"
                     "CREATE TABLE gw_objects (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, bucket TEXT NOT NULL,"
                     " object_key TEXT NOT NULL, size BIGINT NOT NULL, etag TEXT NOT NULL,"
                     " blake3 TEXT NOT NULL DEFAULT '', content_type TEXT NOT NULL DEFAULT '',"
                     " last_modified BIGINT NOT NULL, UNIQUE (tenant, bucket, object_key));"
                     "CREATE TABLE gw_copies (object_id TEXT NOT NULL, backend TEXT NOT NULL,"
                     " backend_bucket TEXT NOT NULL, backend_key TEXT NOT NULL, created_at BIGINT NOT NULL,"
                     " PRIMARY KEY (object_id, backend), UNIQUE (backend, backend_bucket, backend_key));" GW_V1_UPLOADS
                     "INSERT INTO gw_objects VALUES ('v1', 'default', 'data', 'old', 3, '\"e\"', '', '', 5);"
                     "INSERT INTO gw_objects VALUES ('v1mp', 'default', 'data', 'old-mp', 9, '\"e-2\"', '', '', 5);";
    auto s = open_frozen(dir / "gw.db", v1);
    CHECK(*s->setting("schema_version") == std::optional<std::string>("6"));
    auto old = s->find_object({"default", "data"}, "old");
    REQUIRE(old);
    REQUIRE(*old);
    CHECK((*old)->size == 3);
    CHECK((*old)->user_metadata.empty());
    CHECK((*old)->checksum_header.empty());
    CHECK((*old)->checksum_value.empty());
    // An ETag without "-N" was one PUT (one part); a multipart one's part
    // sizes were never kept.
    CHECK((*old)->parts_count == std::optional<unsigned>(0));
    auto old_mp = s->find_object({"default", "data"}, "old-mp");
    REQUIRE(*old_mp);
    CHECK_FALSE((*old_mp)->parts_count);
    CHECK(s->object_parts("v1mp")->empty());
}

TEST_CASE("a version-2 metadata file is upgraded in place, an upload in progress without user metadata",
          "[gateway][metadata]")
{
    TempDir dir;
    // Version 2's gw_objects and gw_uploads, frozen here, with an upload begun before the upgrade.
    const char* v2 = "CREATE TABLE gw_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "INSERT INTO gw_settings VALUES ('schema_version', '2');"
                     "CREATE TABLE gw_objects (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, bucket TEXT NOT NULL,"
                     " object_key TEXT NOT NULL, size BIGINT NOT NULL, etag TEXT NOT NULL,"
                     " blake3 TEXT NOT NULL DEFAULT '', content_type TEXT NOT NULL DEFAULT '',"
                     " last_modified BIGINT NOT NULL, user_metadata TEXT NOT NULL DEFAULT '',"
                     " UNIQUE (tenant, bucket, object_key));" GW_V1_UPLOADS
                     "INSERT INTO gw_uploads VALUES ('u2', 'default', 'data', 'big', 'a', 'store-a',"
                     " 'data/big~u2', 'backend-u2', 'text/csv', 7);";
    auto s = open_frozen(dir / "gw.db", v2);
    CHECK(*s->setting("schema_version") == std::optional<std::string>("6"));
    auto u = s->find_upload("u2");
    REQUIRE(u);
    REQUIRE(*u);
    CHECK((*u)->content_type == "text/csv");
    CHECK((*u)->backend_upload_id == "backend-u2");
    CHECK((*u)->user_metadata.empty());
}

TEST_CASE("replacing a key queues the old copies' deletion and keeps their bytes until then", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const PutResult first = put(*s, "k", 300, "a");
    const PutResult second = put(*s, "k", 200, "b", 1, 2000);
    REQUIRE(second.replaced.size() == 1);
    CHECK(second.replaced[0].backend == "a");
    CHECK(usage_of(*s, "a").used_bytes == 300); // still on the backend
    CHECK(usage_of(*s, "a").objects == 0);
    CHECK(usage_of(*s, "b").used_bytes == 200);
    auto job = s->claim_job("w1", 5000, 9000);
    REQUIRE(job);
    REQUIRE(*job);
    CHECK((*job)->kind == JobKind::remove);
    CHECK((*job)->location.key == "data/k~" + first.id);
    CHECK((*job)->bytes == 300);
    auto finished = s->finish_job(**job, "w1");
    REQUIRE(finished);
    CHECK(*finished);
    CHECK(usage_of(*s, "a").used_bytes == 0);
}

TEST_CASE("deleting an object removes its rows and queues every copy's deletion", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const PutResult p = put(*s, "k", 100, "a");
    auto o = s->find_object(k_data, "k");
    REQUIRE(s->add_copy(p.id, (*o)->etag, {"b", "store-b", "data/k~" + p.id}, reserve_ok(*s, "b", 100), 1500));
    auto removed = s->delete_object(k_data, "k", 2000, 2000);
    REQUIRE(removed);
    REQUIRE(*removed);
    CHECK((*removed)->copies.size() == 2);
    auto gone = s->find_object(k_data, "k");
    REQUIRE(gone);
    CHECK_FALSE(*gone);
    auto backlog = s->job_backlog();
    REQUIRE(backlog);
    REQUIRE(backlog->size() == 1);
    CHECK((*backlog)[0].kind == JobKind::remove);
    CHECK((*backlog)[0].count == 2);
    auto again = s->delete_object(k_data, "k", 2000, 2000);
    REQUIRE(again);
    CHECK_FALSE(*again);
}

TEST_CASE("listing returns keys after a position, within a prefix, in byte order", "[gateway][metadata]")
{
    TempStore s;
    REQUIRE(s->register_backends({{"a", std::nullopt}}));
    for (const char* k : {"a/1", "a/2", "a/3", "b", "a0", "é/x", "\xF4\x8F\xBF\xBF"}) {
        put(*s, k, 1);
    }
    auto keys = [&](std::string_view prefix, std::string_view after, std::size_t limit) {
        auto l = s->list_objects(k_data, prefix, after, limit);
        REQUIRE(l);
        std::vector<std::string> out;
        for (const auto& o : *l) {
            out.push_back(o.key);
        }
        return out;
    };
    CHECK(keys("", "", 100) == std::vector<std::string>{"a/1", "a/2", "a/3", "a0", "b", "é/x", "\xF4\x8F\xBF\xBF"});
    CHECK(keys("a/", "", 100) == std::vector<std::string>{"a/1", "a/2", "a/3"});
    CHECK(keys("a/", "a/1", 1) == std::vector<std::string>{"a/2"});
    CHECK(keys("a", "a/3", 100) == std::vector<std::string>{"a0"});
    CHECK(keys("é", "", 100) == std::vector<std::string>{"é/x"});
    CHECK(keys("\xF4\x8F\xBF\xBF", "", 100) == std::vector<std::string>{"\xF4\x8F\xBF\xBF"});
    CHECK(keys("zz", "", 100).empty());
}

TEST_CASE("a copy is recorded only for the version it was made of", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const PutResult p = put(*s, "k", 100, "a");
    const Reservation r = reserve_ok(*s, "b", 100);
    auto stale = s->add_copy(p.id, "\"another-etag\"", {"b", "store-b", "x"}, r, 2000);
    REQUIRE(stale);
    CHECK_FALSE(*stale);
    auto ok = s->add_copy(p.id, "\"etag-k\"", {"b", "store-b", "x"}, r, 2000);
    REQUIRE(ok);
    CHECK(*ok);
    CHECK(usage_of(*s, "b").used_bytes == 100);
    CHECK(usage_of(*s, "b").reserved_bytes == 0);
    auto twice = s->add_copy(p.id, "\"etag-k\"", {"b", "store-b", "y"}, reserve_ok(*s, "b", 100), 2000);
    REQUIRE(twice);
    CHECK_FALSE(*twice); // one copy per backend
    auto referenced = s->location_referenced({"b", "store-b", "x"});
    REQUIRE(referenced);
    CHECK(*referenced);
}

TEST_CASE("moving a copy swaps the rows and queues the source's deletion", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const PutResult p = put(*s, "k", 100, "a");
    auto moved = s->move_copy(p.id, "a", {"b", "store-b", "data/k~" + p.id}, reserve_ok(*s, "b", 100), 2000, 2000);
    REQUIRE(moved);
    CHECK(*moved);
    auto o = s->find_object(k_data, "k");
    REQUIRE((*o)->copies.size() == 1);
    CHECK((*o)->copies[0].backend == "b");
    CHECK(usage_of(*s, "a").used_bytes == 100); // until the deletion job ran
    CHECK(usage_of(*s, "b").used_bytes == 100);
    auto job = s->claim_job("w", 3000, 4000);
    REQUIRE(*job);
    CHECK((*job)->location.backend == "a");
}

TEST_CASE("abandoned bytes are charged and queued for deletion", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const Reservation r = reserve_ok(*s, "a", 100);
    REQUIRE(s->abandon_copy(r, {"a", "store-a", "orphan"}, 2000));
    CHECK(usage_of(*s, "a").used_bytes == 100);
    CHECK(usage_of(*s, "a").reserved_bytes == 0);
    auto job = s->claim_job("w", 3000, 4000);
    REQUIRE(*job);
    CHECK((*job)->location.key == "orphan");
    REQUIRE(s->finish_job(**job, "w"));
    CHECK(usage_of(*s, "a").used_bytes == 0);
}

TEST_CASE("multipart parts hold reserved bytes until the upload completes", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    UploadRecord u;
    u.id = new_id(1000);
    u.bucket = k_data;
    u.key = "big";
    u.location = {"b", "store-b", "data/big~" + u.id};
    u.backend_upload_id = "backend-upload-1";
    u.content_type = "application/x-big";
    u.user_metadata = {{"origin", "run 7"}, {"shard", "2: of 4"}};
    u.created_at = 1000;
    REQUIRE(s->create_upload(u));
    CHECK((*s->find_upload(u.id))->user_metadata == u.user_metadata);
    REQUIRE(*s->record_part(u.id, 1, 500, "\"p1\"", reserve_ok(*s, "b", 500), 1100));
    REQUIRE(*s->record_part(u.id, 2, 300, "\"p2\"", reserve_ok(*s, "b", 300), 1200));
    REQUIRE(*s->record_part(u.id, 3, 100, "\"p3\"", reserve_ok(*s, "b", 100), 1200));
    CHECK(usage_of(*s, "b").reserved_bytes == 900);
    // Part 2 uploaded again, smaller: the first one's bytes are freed.
    REQUIRE(*s->record_part(u.id, 2, 200, "\"p2b\"", reserve_ok(*s, "b", 200), 1300));
    CHECK(usage_of(*s, "b").reserved_bytes == 800);
    CHECK(usage_of(*s, "b").active_uploads == 1);
    auto parts = s->list_parts(u.id, 0, 10);
    REQUIRE(parts);
    REQUIRE(parts->size() == 3);
    CHECK((*parts)[1].etag == "\"p2b\"");
    auto after1 = s->list_parts(u.id, 1, 1);
    REQUIRE(after1->size() == 1);
    CHECK((*after1)[0].number == 2);

    // A missing part is refused and changes nothing.
    CHECK_FALSE(s->complete_upload({u.id, {1, 4}, "\"x-2\"", 1, 2000, 2000}));
    CHECK(usage_of(*s, "b").reserved_bytes == 800);

    // Completing with parts 1 and 2: part 3 is dropped and freed.
    auto done = s->complete_upload({u.id, {1, 2}, "\"final-2\"", 1, 2000, 2000});
    REQUIRE(done);
    CHECK(done->id == u.id);
    const BackendUsage b = usage_of(*s, "b");
    CHECK(b.reserved_bytes == 0);
    CHECK(b.used_bytes == 700);
    CHECK(b.active_uploads == 0);
    auto o = s->find_object(k_data, "big");
    REQUIRE(*o);
    CHECK((*o)->size == 700);
    CHECK((*o)->etag == "\"final-2\"");
    CHECK((*o)->copies[0].key == "data/big~" + u.id);
    CHECK((*o)->content_type == "application/x-big");
    CHECK((*o)->user_metadata == u.user_metadata);
    auto gone = s->find_upload(u.id);
    REQUIRE(gone);
    CHECK_FALSE(*gone);
}

TEST_CASE("a completed upload keeps its parts' numbers and sizes until the object is replaced or deleted",
          "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    const auto complete = [&](const std::string& key, const std::vector<std::pair<int, std::uint64_t>>& parts,
                              Millis now) {
        UploadRecord u;
        u.id = new_id(now);
        u.bucket = k_data;
        u.key = key;
        u.location = {"c", "store-c", "data/" + key + "~" + u.id};
        u.backend_upload_id = "backend-" + u.id;
        u.created_at = now;
        REQUIRE(s->create_upload(u));
        std::vector<int> numbers;
        for (const auto& [n, size] : parts) {
            REQUIRE(*s->record_part(u.id, n, size, "\"p\"", reserve_ok(*s, "c", size, now), now));
            numbers.push_back(n);
        }
        // An uploaded part left out of the completion is not in the layout.
        REQUIRE(*s->record_part(u.id, 9, 11, "\"p9\"", reserve_ok(*s, "c", 11, now), now));
        REQUIRE(s->complete_upload({u.id, numbers, "\"m-" + std::to_string(parts.size()) + "\"", 1, now, now}));
        return u.id;
    };
    const std::string first = complete("mp", {{1, 700}, {3, 20}, {4, 0}}, 1000);
    auto o = s->find_object(k_data, "mp");
    REQUIRE(*o);
    CHECK((*o)->parts_count == std::optional<unsigned>(3));
    auto layout = s->object_parts(first);
    REQUIRE(layout);
    REQUIRE(layout->size() == 3);
    CHECK(((*layout)[0].number == 1 && (*layout)[0].size == 700));
    CHECK(((*layout)[1].number == 3 && (*layout)[1].size == 20));
    CHECK(((*layout)[2].number == 4 && (*layout)[2].size == 0));

    // Replaced by a PUT: the old layout goes with the old version, the new one is one part.
    put(*s, "mp", 5, "c", 1, 2000);
    CHECK(s->object_parts(first)->empty());
    CHECK((*s->find_object(k_data, "mp"))->parts_count == std::optional<unsigned>(0));

    // Replaced by another upload, then deleted.
    const std::string second = complete("mp", {{2, 64}}, 3000);
    CHECK(s->object_parts(second)->size() == 1);
    REQUIRE(s->delete_object(k_data, "mp", 4000, 4000));
    CHECK(s->object_parts(second)->empty());
}

TEST_CASE("removing an upload frees its parts, and stale uploads are found by age", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    for (int i = 0; i < 3; ++i) {
        UploadRecord u;
        u.id = new_id(1000 + i);
        u.bucket = k_data;
        u.key = "k" + std::to_string(i);
        u.location = {"a", "store-a", u.key};
        u.backend_upload_id = "b" + std::to_string(i);
        u.created_at = 1000 + i * 1000;
        REQUIRE(s->create_upload(u));
        REQUIRE(*s->record_part(u.id, 1, 100, "\"e\"", reserve_ok(*s, "a", 100), 1000));
    }
    auto stale = s->stale_uploads(2500, 10);
    REQUIRE(stale);
    REQUIRE(stale->size() == 2);
    CHECK((*stale)[0].key == "k0");
    auto removed = s->remove_upload((*stale)[0].id);
    REQUIRE(removed);
    REQUIRE(*removed);
    CHECK((*removed)->backend_upload_id == "b0");
    CHECK(usage_of(*s, "a").reserved_bytes == 200);
    auto listed = s->list_uploads(k_data, "k", "", "", 10);
    REQUIRE(listed);
    CHECK(listed->size() == 2);
    auto after = s->list_uploads(k_data, "", "k1", (*listed)[0].id, 10);
    REQUIRE(after);
    REQUIRE(after->size() == 1);
    CHECK((*after)[0].key == "k2");
}

TEST_CASE("a job is leased to one worker, taken over when the lease ends, and finished once",
          "[gateway][metadata][jobs]")
{
    TempStore s;
    register_abc(*s);
    put(*s, "k", 100, "a", 2, 1000); // replicas = 2 queues a replication job
    auto first = s->claim_job("w1", 1000, 5000);
    REQUIRE(first);
    REQUIRE(*first);
    CHECK((*first)->kind == JobKind::replicate);
    CHECK((*first)->attempts == 1);
    auto none = s->claim_job("w2", 2000, 6000);
    REQUIRE(none);
    CHECK_FALSE(*none); // leased to w1
    // w1 dies; after its lease w2 takes the job over.
    auto taken = s->claim_job("w2", 5001, 9000);
    REQUIRE(*taken);
    CHECK((*taken)->id == (*first)->id);
    CHECK((*taken)->attempts == 2);
    auto late = s->finish_job(**first, "w1");
    REQUIRE(late);
    CHECK_FALSE(*late); // w1 lost the lease
    auto retried = s->retry_job(**taken, "w2", 20000, "backend b is down");
    REQUIRE(retried);
    CHECK(*retried);
    auto early = s->claim_job("w3", 19999, 30000);
    CHECK_FALSE(*early);
    auto again = s->claim_job("w3", 20000, 30000);
    REQUIRE(*again);
    CHECK((*again)->last_error == "backend b is down");
    REQUIRE(*s->fail_job(**again, "w3", "gave up"));
    auto parked = s->claim_job("w4", 99999, 200000);
    CHECK_FALSE(*parked);
    auto backlog = s->job_backlog();
    REQUIRE(backlog->size() == 1);
    CHECK((*backlog)[0].state == "failed");
}

TEST_CASE("a bucket's objects get replication jobs unless one is pending", "[gateway][metadata][jobs]")
{
    TempStore s;
    register_abc(*s);
    put(*s, "x", 1);
    put(*s, "y", 1);
    put(*s, "z", 1, "a", 2); // already has a job
    auto queued = s->enqueue_replication(k_data, 5000);
    REQUIRE(queued);
    CHECK(*queued == 2);
    auto again = s->enqueue_replication(k_data, 6000);
    REQUIRE(again);
    CHECK(*again == 0);
}

TEST_CASE("sync imports count bytes and skip what is known", "[gateway][metadata]")
{
    TempStore s;
    register_abc(*s);
    ImportRecord rec{
        k_data, "old", 50, "\"e1\"", 500, {"a", "store-a", "data/old"}, new_id(1000), "text/csv", {{"origin", "lab"}}};
    CHECK(*s->import_object(rec, 1000) == ImportOutcome::imported);
    CHECK(*s->import_object(rec, 1000) == ImportOutcome::known);
    CHECK(usage_of(*s, "a").used_bytes == 50);
    ImportRecord replica = rec;
    replica.location = {"b", "store-b", "data/old"};
    CHECK(*s->import_object(replica, 1000) == ImportOutcome::added_copy);
    ImportRecord other = rec;
    other.location = {"c", "store-c", "data/old"};
    other.etag = "\"different\"";
    CHECK(*s->import_object(other, 1000) == ImportOutcome::conflict);
    auto o = s->find_object(k_data, "old");
    REQUIRE((*o)->copies.size() == 2);
    CHECK((*o)->last_modified == 500);
    CHECK((*o)->content_type == "text/csv");
    CHECK((*o)->user_metadata == rec.user_metadata);
    // A plain ETag is one part; a multipart one's sizes the backend does not tell.
    CHECK((*o)->parts_count == std::optional<unsigned>(0));
    ImportRecord mp = rec;
    mp.key = "old-mp";
    mp.etag = "\"0123abcd-3\"";
    mp.location = {"a", "store-a", "data/old-mp"};
    mp.version = new_id(1001);
    CHECK(*s->import_object(mp, 1000) == ImportOutcome::imported);
    CHECK_FALSE((*s->find_object(k_data, "old-mp"))->parts_count);
}

TEST_CASE("tenants, keys, policies and namespaces", "[gateway][metadata][tenants]")
{
    TempStore s;
    CHECK(*s->create_tenant("team-a", 1000));
    CHECK_FALSE(*s->create_tenant("team-a", 2000));
    CHECK(*s->create_tenant("team-b", 1000));
    CHECK(s->list_tenants()->size() == 2);
    CHECK(*s->set_tenant_disabled("team-a", true));
    CHECK((*s->find_tenant("team-a"))->disabled);
    CHECK_FALSE(*s->set_tenant_disabled("nobody", true));

    REQUIRE(s->create_key({"RKAAA", "team-a", "v1:sealed", KeyState::active, 1000, std::nullopt}));
    auto k = s->find_key("RKAAA");
    REQUIRE(*k);
    CHECK((*k)->secret_sealed == "v1:sealed");
    CHECK(*s->expire_key("RKAAA", 5000));
    CHECK((*s->find_key("RKAAA"))->expires_at == std::optional<Millis>(5000));
    CHECK(*s->revoke_key("RKAAA", 2000));
    CHECK_FALSE(*s->revoke_key("RKAAA", 2000));
    CHECK((*s->find_key("RKAAA"))->state == KeyState::revoked);
    CHECK(s->list_keys("team-a")->size() == 1);
    CHECK(s->list_keys("team-b")->empty());

    StoredPolicy p;
    p.replicas = 2;
    p.residencies = std::vector<std::string>{"eu-*", "ch"};
    p.updated_at = 3000;
    REQUIRE(s->set_bucket_policy({"team-a", "analytics"}, p));
    auto got = s->find_bucket_policy({"team-a", "analytics"});
    REQUIRE(*got);
    CHECK((*got)->replicas == std::optional<unsigned>(2));
    CHECK_FALSE((*got)->placement);
    CHECK((*got)->residencies == std::optional<std::vector<std::string>>({"eu-*", "ch"}));
    p.residencies = std::vector<std::string>{};
    REQUIRE(s->set_bucket_policy({"team-a", "analytics"}, p));
    CHECK((*s->find_bucket_policy({"team-a", "analytics"}))->residencies
          == std::optional<std::vector<std::string>>(std::vector<std::string>{}));

    REQUIRE(s->bind_namespace({"team-a", "analytics"}, "roar-analytics-aaaa", 1000));
    REQUIRE(s->bind_namespace({"team-a", "analytics"}, "roar-analytics-aaaa", 1000)); // idempotent
    auto clash = s->bind_namespace({"team-b", "analytics"}, "roar-analytics-aaaa", 1000);
    REQUIRE_FALSE(clash);
    CHECK(clash.error().message.find("already belongs to bucket analytics of tenant team-a") != std::string::npos);
    CHECK((*s->find_namespace({"team-a", "analytics"}))->backend_bucket == "roar-analytics-aaaa");
    CHECK(s->list_namespaces("team-a")->size() == 1);
    REQUIRE(s->remove_namespace({"team-a", "analytics"}));
    CHECK_FALSE(*s->find_namespace({"team-a", "analytics"}));
}

TEST_CASE("settings are set once; reopening keeps the schema and the data", "[gateway][metadata]")
{
    TestMetadata where;
    {
        auto s = where.open();
        REQUIRE(s);
        CHECK(*(*s)->init_setting("x", "first") == "first");
        CHECK(*(*s)->init_setting("x", "second") == "first");
        REQUIRE((*s)->register_backends({{"a", 10}}));
    }
    auto s = where.open();
    REQUIRE(s);
    CHECK(*(*s)->setting("x") == std::optional<std::string>("first"));
    CHECK(*(*s)->setting("schema_version") == std::optional<std::string>("6"));
    CHECK((*s)->backend_usage()->size() == 1);
}

TEST_CASE("a configured bucket's first-seen time is set by the first start and kept by later ones",
          "[gateway][metadata]")
{
    const GatewayConfig c = example_config();
    TempStore s;
    const auto seen = [&](const std::string& bucket) {
        auto v = s->setting(bucket_first_seen_setting({c.auth.tenant, bucket}));
        REQUIRE(v);
        return *v;
    };
    CHECK(seen("data") == std::nullopt);
    REQUIRE(seed_metadata(*s, c, 1000));
    REQUIRE(seed_metadata(*s, c, 5000));
    CHECK(seen("data") == std::optional<std::string>("1000"));
    CHECK(seen("eu-only") == std::optional<std::string>("1000"));
    // A bucket added to the configuration later is first seen at the start naming it.
    const GatewayConfig more =
        example_config("[[bucket]]\nname = \"late\"\nbackends = [\"c\"]\nkey_prefix = \"late/\"\n");
    REQUIRE(seed_metadata(*s, more, 9000));
    CHECK(seen("late") == std::optional<std::string>("9000"));
    CHECK(seen("data") == std::optional<std::string>("1000"));
}

TEST_CASE("ids are time-ordered and unique", "[gateway][metadata]")
{
    const std::string a = new_id(1000);
    const std::string b = new_id(2000);
    CHECK(a.size() == 26);
    CHECK(a < b);
    CHECK(new_id(1000) != new_id(1000));
}

TEST_CASE("opening the configured store makes its directory", "[gateway][metadata]")
{
    TempDir dir;
    MetadataConfig c;
    c.url = "sqlite://" + (dir / "new/sub/gw.db").string();
    c.sqlite_path = dir / "new/sub/gw.db";
    auto s = open_metadata_store(c);
    REQUIRE(s);
    CHECK(std::filesystem::exists(dir / "new/sub/gw.db"));
}

TEST_CASE("an unreachable PostgreSQL metadata server is an error that hides the password", "[gateway][metadata]")
{
    MetadataConfig c;
    c.url = "postgresql://roar:secret@127.0.0.1:1/gw";
    c.engine = MetadataEngine::postgresql;
    auto s = open_metadata_store(c);
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("cannot open gateway metadata") != std::string::npos);
    CHECK(s.error().message.find("127.0.0.1:1") != std::string::npos);
    CHECK(s.error().message.find("secret") == std::string::npos);
}

TEST_CASE("a PostgreSQL metadata schema must not be a lineage project's", "[gateway][metadata]")
{
    auto s = open_postgres_metadata("postgresql://roar@127.0.0.1:1/gw", "roar_lab");
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("not starting roar_") != std::string::npos);
}
