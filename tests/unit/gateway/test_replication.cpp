// The replication worker over in-memory backends: copies until the policy's
// replica count on allowed backends, idempotent, resumable after a crash,
// retried with backoff, and deletions that release quota.
#include "gateway_fixture.hpp"

#include "roar/proxy/gateway/replication.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace roar::test;
using namespace roar::proxy::gateway;

namespace {

bool wrote_to(const MemoryBackend& m)
{
    return std::any_of(m.calls.begin(), m.calls.end(), [](const std::string& c) { return c.rfind("PUT", 0) == 0; });
}

} // namespace

TEST_CASE("replicas = 2 gets a second copy on another allowed backend", "[gateway][replication]")
{
    Gateway g;
    const std::string data(300, 'x');
    const std::string version = g.put("eu-only", "model.bin", data);
    REQUIRE_FALSE(version.empty());
    CHECK(g.object("eu-only", "model.bin").copies.size() == 1);

    ReplicationWorker w(*g.store, g.backends, g.config, "w1", g.clock());
    auto report = w.run_once();
    REQUIRE(report);
    CHECK(report->outcome == JobOutcome::done);
    CHECK(report->kind == JobKind::replicate);
    const ObjectRecord o = g.object("eu-only", "model.bin");
    REQUIRE(o.copies.size() == 2);
    CHECK(o.copies[0].backend == "a");
    CHECK(o.copies[1].backend == "b");
    CHECK(o.copies[1].key == "eu/model.bin~" + version);
    CHECK(g.b.find("store-b", o.copies[1].key)->data == data);
    CHECK(g.b.find("store-b", o.copies[1].key)->meta.empty()); // no BLAKE3 known at PUT time here
    CHECK_FALSE(o.blake3.empty());                             // ... but learnt from the copy
    CHECK(g.usage("a").used_bytes == 300);
    CHECK(g.usage("b").used_bytes == 300);
    CHECK(g.usage("b").reserved_bytes == 0);
    CHECK_FALSE(wrote_to(g.c)); // us-east is not allowed for eu-only
    CHECK(w.run_once()->outcome == JobOutcome::idle);
}

TEST_CASE("a copy already on the target is recorded without copying again", "[gateway][replication]")
{
    Gateway g;
    const std::string data(100, 'y');
    const std::string version = g.put("eu-only", "k", data);
    // A previous run copied the bytes but died before recording them.
    g.b.put_raw("store-b", "eu/k~" + version, data);
    g.b.calls.clear();
    ReplicationWorker w(*g.store, g.backends, g.config, "w1", g.clock());
    auto report = w.run_once();
    REQUIRE(report);
    CHECK(report->outcome == JobOutcome::done);
    CHECK(report->detail.find("recorded existing copy") != std::string::npos);
    CHECK_FALSE(wrote_to(g.b));
    CHECK(g.object("eu-only", "k").copies.size() == 2);
}

TEST_CASE("a job whose worker died is resumed by another after the lease", "[gateway][replication]")
{
    Gateway g;
    g.put("eu-only", "k", std::string(100, 'z'));
    // Worker 1 claims the job and crashes.
    auto claimed = g.store->claim_job("crashed", g.now, g.now + 300000);
    REQUIRE(*claimed);
    ReplicationWorker w2(*g.store, g.backends, g.config, "w2", g.clock());
    CHECK(w2.run_once()->outcome == JobOutcome::idle); // still leased
    g.now += 300001;
    auto report = w2.run_once();
    REQUIRE(report);
    CHECK(report->outcome == JobOutcome::done);
    CHECK(g.object("eu-only", "k").copies.size() == 2);
}

TEST_CASE("a failing copy is retried with backoff, then parked", "[gateway][replication]")
{
    Gateway g(R"(
[replication]
max_attempts = 3
backoff_initial = "10s"
backoff_max = "15s"
)");
    g.put("eu-only", "k", std::string(100, 'w'));
    g.a.fail_gets = true; // the only copy cannot be read
    ReplicationWorker w(*g.store, g.backends, g.config, "w", g.clock());
    auto first = w.run_once();
    REQUIRE(first);
    CHECK(first->outcome == JobOutcome::retrying);
    CHECK(first->detail.find("is down") != std::string::npos);
    CHECK(g.usage("b").reserved_bytes == 0); // the target's reservation was given back
    g.now += 9999;
    CHECK(w.run_once()->outcome == JobOutcome::idle);
    g.now += 1;
    CHECK(w.run_once()->outcome == JobOutcome::retrying); // attempt 2, next wait 15 s (capped)
    g.now += 15000;
    auto last = w.run_once();
    CHECK(last->outcome == JobOutcome::failed);
    auto backlog = g.store->job_backlog();
    REQUIRE(backlog->size() == 1);
    CHECK((*backlog)[0].state == "failed");
    CHECK(w.backoff(1) == 10000);
    CHECK(w.backoff(2) == 15000);
    CHECK(w.backoff(9) == 15000);
}

TEST_CASE("a full allowed backend delays the replica; a disallowed one is never used", "[gateway][replication]")
{
    Gateway g;
    g.put("eu-only", "big", std::string(900, 'a')); // on a
    // Fill b so it cannot take 900 more bytes.
    REQUIRE(*g.store->reserve("b", 1500, g.now, g.now + 10000000));
    ReplicationWorker w(*g.store, g.backends, g.config, "w", g.clock());
    auto report = w.run_once();
    REQUIRE(report);
    CHECK(report->outcome == JobOutcome::retrying);
    CHECK(report->detail.find("no allowed backend without a copy has room") != std::string::npos);
    CHECK_FALSE(wrote_to(g.c));
    CHECK_FALSE(wrote_to(g.b));
}

TEST_CASE("a version replaced before its job runs is not copied", "[gateway][replication]")
{
    Gateway g;
    g.put("eu-only", "k", std::string(100, '1'));
    g.now += 1;
    g.put("eu-only", "k", std::string(120, '2'));
    ReplicationWorker w(*g.store, g.backends, g.config, "w", g.clock());
    std::vector<std::string> details;
    for (int i = 0; i < 5; ++i) {
        auto r = w.run_once();
        REQUIRE(r);
        if (r->outcome == JobOutcome::idle) {
            break;
        }
        details.push_back(r->detail);
    }
    CHECK(std::any_of(details.begin(), details.end(),
                      [](const std::string& d) { return d.find("no longer exists") != std::string::npos; }));
    const ObjectRecord o = g.object("eu-only", "k");
    REQUIRE(o.copies.size() == 2);
    CHECK(g.b.find("store-b", o.copies[1].key)->data == std::string(120, '2'));
    // The first version's copy was deleted and its bytes released.
    CHECK(g.usage("a").used_bytes == 120);
    CHECK(g.a.object_count() == 1);
}

TEST_CASE("deletion jobs remove copies and release their bytes, retrying when the backend fails",
          "[gateway][replication]")
{
    Gateway g;
    g.put("data", "k", std::string(200, 'd'));
    CHECK(g.usage("a").used_bytes == 200);
    REQUIRE(*g.store->delete_object({"default", "data"}, "k", g.now, g.now));
    g.a.fail_deletes = true;
    ReplicationWorker w(*g.store, g.backends, g.config, "w", g.clock());
    auto failed = w.run_once();
    REQUIRE(failed);
    CHECK(failed->outcome == JobOutcome::retrying);
    CHECK(g.usage("a").used_bytes == 200); // still on the backend
    g.a.fail_deletes = false;
    g.now += 60000;
    auto done = w.run_once();
    REQUIRE(done);
    CHECK(done->outcome == JobOutcome::done);
    CHECK(g.a.object_count() == 0);
    CHECK(g.usage("a").used_bytes == 0);
}

TEST_CASE("the worker loop stops when asked", "[gateway][replication]")
{
    Gateway g(R"(
[replication]
poll_interval = "50ms"
)");
    g.put("eu-only", "k", std::string(10, 'l'));
    std::atomic<bool> stop{false};
    std::vector<JobReport> reports;
    ReplicationWorker w(*g.store, g.backends, g.config, "loop", g.clock());
    std::thread t([&] {
        w.run(stop, [&](const JobReport& r) {
            reports.push_back(r);
            stop = true;
        });
    });
    t.join();
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].outcome == JobOutcome::done);
}
