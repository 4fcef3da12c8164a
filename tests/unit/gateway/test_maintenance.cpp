// Housekeeping and operator commands over in-memory backends: the stale
// multipart sweep, sync (import, dry run, known, conflicts, progress, the
// content type and user metadata of new keys) and
// rebalance (plan, move, verify, source deletion queued).
#include "gateway_fixture.hpp"

#include "roar/proxy/gateway/backend_sync.hpp"
#include "roar/proxy/gateway/multipart_sweep.hpp"
#include "roar/proxy/gateway/rebalance.hpp"
#include "roar/proxy/gateway/replication.hpp"

#include <catch2/catch.hpp>

using namespace roar::test;
using namespace roar::proxy::gateway;

namespace {

UploadRecord start_upload(Gateway& g, const std::string& key, Millis created)
{
    UploadRecord u;
    u.id = new_id(created);
    u.bucket = {"default", "data"};
    u.key = key;
    u.location = {"a", "store-a", "data/" + key + "~" + u.id};
    u.backend_upload_id = g.a.start_upload("store-a", u.location.key);
    u.created_at = created;
    REQUIRE(g.store->create_upload(u));
    auto r = g.store->reserve("a", 100, created, created + 3600000);
    REQUIRE(*g.store->record_part(u.id, 1, 100, "\"p\"", **r, created));
    return u;
}

} // namespace

TEST_CASE("stale multipart uploads are aborted on the backend and forgotten", "[gateway][sweep]")
{
    Gateway g;
    const UploadRecord old_upload = start_upload(g, "old", g.now - 2 * 86400000);
    const UploadRecord fresh = start_upload(g, "fresh", g.now - 1000);
    CHECK(g.usage("a").reserved_bytes == 200);
    auto report = sweep_stale_uploads(*g.store, g.backends, g.now, std::chrono::hours(24));
    REQUIRE(report);
    CHECK(report->aborted == 1);
    CHECK(report->kept == 0);
    CHECK_FALSE(*g.store->find_upload(old_upload.id));
    CHECK(*g.store->find_upload(fresh.id));
    CHECK(g.a.open_uploads() == 1);
    CHECK(g.usage("a").reserved_bytes == 100);
    CHECK(std::find(g.a.calls.begin(), g.a.calls.end(),
                    "ABORT store-a/" + old_upload.location.key + " " + old_upload.backend_upload_id)
          != g.a.calls.end());
}

TEST_CASE("an upload whose abort fails is kept for the next sweep", "[gateway][sweep]")
{
    Gateway g;
    const UploadRecord u = start_upload(g, "old", g.now - 2 * 86400000);
    g.a.fail_aborts = true;
    auto report = sweep_stale_uploads(*g.store, g.backends, g.now, std::chrono::hours(24));
    REQUIRE(report);
    CHECK(report->kept == 1);
    CHECK(report->errors.size() == 1);
    CHECK(*g.store->find_upload(u.id));
    g.a.fail_aborts = false;
    CHECK(sweep_stale_uploads(*g.store, g.backends, g.now, std::chrono::hours(24))->aborted == 1);
}

TEST_CASE("the sweep also releases lapsed reservations", "[gateway][sweep]")
{
    Gateway g;
    REQUIRE(*g.store->reserve("b", 500, g.now - 10, g.now - 1));
    auto report = sweep_stale_uploads(*g.store, g.backends, g.now, std::chrono::hours(24));
    CHECK(report->reservations_expired == 1);
    CHECK(g.usage("b").reserved_bytes == 0);
}

TEST_CASE("sync imports a backend's existing objects into their buckets", "[gateway][sync]")
{
    Gateway g;
    g.a.put_raw("store-a", "data/old/1.csv", "one");
    g.a.put_raw("store-a", "data/old/2.csv", "two!");
    g.a.put_raw("store-a", "eu/report.pdf", "pdf");
    g.a.put_raw("store-a", "stray/file", "?");
    std::vector<std::uint64_t> progress;
    SyncOptions opt;
    opt.backend = "a";
    opt.page_size = 2;

    SECTION("a dry run changes nothing")
    {
        opt.dry_run = true;
        auto s = sync_backend(*g.store, g.a, g.config, opt, nullptr, g.now);
        REQUIRE(s);
        CHECK(s->counts.imported == 3);
        CHECK(s->counts.unmapped == 1);
        CHECK(s->counts.bytes_imported == 10);
        CHECK(g.usage("a").used_bytes == 0);
        CHECK_FALSE(*g.store->find_object({"default", "data"}, "old/1.csv"));
    }
    SECTION("a real run imports, counts quota and reports progress per page")
    {
        auto s = sync_backend(
            *g.store, g.a, g.config, opt, [&](const SyncCounts& c) { progress.push_back(c.listed); }, g.now);
        REQUIRE(s);
        CHECK(s->counts.listed == 4);
        CHECK(s->counts.imported == 3);
        CHECK(s->counts.unmapped == 1);
        CHECK(progress == std::vector<std::uint64_t>{2, 4});
        CHECK(g.usage("a").used_bytes == 10);
        const ObjectRecord o = g.object("data", "old/2.csv");
        CHECK(o.size == 4);
        CHECK(o.copies[0].key == "data/old/2.csv");
        CHECK(g.object("eu-only", "report.pdf").size == 3);
        // Again: everything is known.
        auto again = sync_backend(*g.store, g.a, g.config, opt, nullptr, g.now);
        CHECK(again->counts.known == 3);
        CHECK(again->counts.imported == 0);
        CHECK(g.usage("a").used_bytes == 10);
    }
    SECTION("a prefix limits the import")
    {
        opt.prefix = "data/old/1";
        auto s = sync_backend(*g.store, g.a, g.config, opt, nullptr, g.now);
        CHECK(s->counts.listed == 1);
        CHECK(s->counts.imported == 1);
    }
}

TEST_CASE("sync takes a new key's content type and user metadata from the backend's HEAD", "[gateway][sync]")
{
    Gateway g;
    PutOptions opts;
    opts.content_type = "text/csv";
    opts.meta = {{"origin", "lab 3"}, {"roar-blake3", "not user metadata"}};
    REQUIRE(g.a.put_object("store-a", "data/with-meta.csv", 3, memory_source("a,b"), opts));
    g.a.put_raw("store-a", "data/plain", "p");
    SyncOptions opt;
    opt.backend = "a";
    SECTION("a dry run reads no HEAD")
    {
        opt.dry_run = true;
        REQUIRE(sync_backend(*g.store, g.a, g.config, opt, nullptr, g.now));
        CHECK(std::none_of(g.a.calls.begin(), g.a.calls.end(),
                           [](const std::string& c) { return c.rfind("HEAD ", 0) == 0; }));
    }
    SECTION("a real run stores what the HEAD says, and a second run reads no HEAD")
    {
        REQUIRE(sync_backend(*g.store, g.a, g.config, opt, nullptr, g.now));
        const ObjectRecord o = g.object("data", "with-meta.csv");
        CHECK(o.content_type == "text/csv");
        CHECK(o.user_metadata == std::vector<std::pair<std::string, std::string>>{{"origin", "lab 3"}});
        CHECK(g.object("data", "plain").user_metadata.empty());
        g.a.calls.clear();
        auto again = sync_backend(*g.store, g.a, g.config, opt, nullptr, g.now);
        REQUIRE(again);
        CHECK(again->counts.known == 2);
        CHECK(std::none_of(g.a.calls.begin(), g.a.calls.end(),
                           [](const std::string& c) { return c.rfind("HEAD ", 0) == 0; }));
    }
}

TEST_CASE("sync recognises the gateway's own version suffixes and conflicts", "[gateway][sync]")
{
    Gateway g;
    const std::string version = g.put("data", "k", "hello");
    // The metadata of another key is lost but its bytes remain.
    g.b.put_raw("store-b", "data/lost~" + new_id(g.now), "bytes");
    g.b.put_raw("store-b", "data/k", "other content");
    SyncOptions opt;
    opt.backend = "b";
    auto s = sync_backend(*g.store, g.b, g.config, opt, nullptr, g.now);
    REQUIRE(s);
    CHECK(s->counts.imported == 1);
    CHECK(s->counts.conflicts == 1);
    CHECK(g.object("data", "lost").size == 5);
    CHECK(g.object("data", "k").id == version);
}

TEST_CASE("sync warns when the import puts a backend over its quota", "[gateway][sync]")
{
    Gateway g;
    g.a.put_raw("store-a", "data/huge", std::string(1500, 'h'));
    SyncOptions opt;
    opt.backend = "a";
    auto s = sync_backend(*g.store, g.a, g.config, opt, nullptr, g.now);
    REQUIRE(s);
    CHECK(std::any_of(s->notes.begin(), s->notes.end(),
                      [](const std::string& n) { return n.find("over its quota of 1000") != std::string::npos; }));
    CHECK_FALSE(sync_backend(*g.store, g.a, g.config, SyncOptions{"zzz"}, nullptr, g.now));
}

TEST_CASE("rebalance plans moves off a full backend to allowed ones with room", "[gateway][rebalance]")
{
    Gateway g;
    // a (quota 1000) holds 950 bytes: above 90 %.
    g.put("data", "k1", std::string(500, '1'));
    g.put("data", "k2", std::string(300, '2'));
    g.put("data", "k3", std::string(150, '3'));
    CHECK(g.usage("a").used_bytes == 950);
    auto plan = build_rebalance_plan(*g.store, g.config);
    REQUIRE(plan);
    // Largest first until a is at or under 80 %: moving k1 (500) suffices.
    REQUIRE(plan->moves.size() == 1);
    CHECK(plan->moves[0].key == "k1");
    CHECK(plan->moves[0].from == "a");
    CHECK(plan->moves[0].to == "b");
    CHECK(plan->notes.empty());
}

TEST_CASE("rebalance copies, verifies, swaps and queues the source's deletion", "[gateway][rebalance]")
{
    Gateway g;
    const std::string data(500, 'm');
    g.put("data", "k1", data);
    g.put("data", "k2", std::string(450, 'n'));
    auto plan = build_rebalance_plan(*g.store, g.config);
    REQUIRE(plan);
    REQUIRE(plan->moves.size() == 1);
    std::vector<std::string> progress;
    auto report = run_rebalance(
        *g.store, g.backends, g.config, *plan,
        [&](const Move& m, bool ok, const std::string&) { progress.push_back(m.key + (ok ? " ok" : " failed")); },
        g.clock());
    REQUIRE(report);
    CHECK(report->moved == 1);
    CHECK(report->bytes_moved == 500);
    CHECK(progress == std::vector<std::string>{"k1 ok"});
    const ObjectRecord o = g.object("data", "k1");
    REQUIRE(o.copies.size() == 1);
    CHECK(o.copies[0].backend == "b");
    CHECK(g.b.find("store-b", o.copies[0].key)->data == data);
    // The source is deleted by the worker, which releases its bytes.
    CHECK(g.usage("a").used_bytes == 950);
    ReplicationWorker w(*g.store, g.backends, g.config, "w", g.clock());
    CHECK(w.run_once()->outcome == JobOutcome::done);
    CHECK(g.usage("a").used_bytes == 450);
    CHECK(g.a.object_count() == 1);
}

TEST_CASE("rebalance does not delete the source when the copy cannot be verified", "[gateway][rebalance]")
{
    Gateway g;
    g.put("data", "k1", std::string(500, 'm'));
    g.put("data", "k2", std::string(450, 'n'));
    auto plan = build_rebalance_plan(*g.store, g.config);
    REQUIRE(plan->moves.size() == 1);
    g.b.corrupt_puts = true;
    auto report = run_rebalance(*g.store, g.backends, g.config, *plan, nullptr, g.clock());
    REQUIRE(report);
    CHECK(report->moved == 0);
    CHECK(report->skipped == 1);
    const ObjectRecord o = g.object("data", "k1");
    REQUIRE(o.copies.size() == 1);
    CHECK(o.copies[0].backend == "a");
    CHECK(g.usage("b").reserved_bytes == 0);
}

TEST_CASE("planning leaves a backend alone when nothing can take its objects", "[gateway][rebalance]")
{
    GatewayConfig c = example_config();
    c.rebalance = {0.5, 0.4};
    BucketPolicy p;
    p.bucket = {"default", "data"};
    p.backends = {"a", "b"};
    ObjectRecord o;
    o.id = "o1";
    o.key = "k";
    o.size = 800;
    o.copies = {{"a", "store-a", "k"}};
    std::vector<BackendUsage> usage{{"a", 1000, 800, 0, 1, 0}, {"b", 1000, 450, 0, 1, 0}};
    const RebalancePlan plan = plan_rebalance(c, usage, {{o, p}});
    CHECK(plan.moves.empty()); // b would end at 125 %
    REQUIRE(plan.notes.size() == 1);
    CHECK(plan.notes[0].find("backend a stays above 40%") != std::string::npos);
}
