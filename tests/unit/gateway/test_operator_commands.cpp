// The sync and rebalance commands of the binary over in-memory backends:
// rebalance moves, verifies and deletes the sources at once, a dry run
// changes nothing, thresholds from the command line are checked, and the
// summaries (text and JSON) and exit codes say what happened.
#include "gateway_fixture.hpp"

#include "roar/proxy/gateway/operator_commands.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace roar::test;
using namespace roar::proxy::gateway;

TEST_CASE("the rebalance command moves, verifies and deletes the moved sources at once", "[gateway][rebalance]")
{
    Gateway g;
    const std::string data(500, 'm');
    g.put("data", "k1", data);
    g.put("data", "k2", std::string(450, 'n'));
    std::vector<std::string> heard;
    auto s = rebalance_command(
        *g.store, g.backends, g.config, {},
        [&](const Move& m, bool ok, const std::string&) { heard.push_back(m.key + (ok ? " ok" : " failed")); },
        g.clock());
    REQUIRE(s);
    CHECK(heard == std::vector<std::string>{"k1 ok"});
    REQUIRE(s->moves.size() == 1);
    CHECK(s->moves[0].outcome == "moved");
    CHECK(s->report.moved == 1);
    CHECK(s->copies_removed == 1);
    CHECK(g.usage("a").used_bytes == 450);
    CHECK(g.a.object_count() == 1);
    const ObjectRecord o = g.object("data", "k1");
    REQUIRE(o.copies.size() == 1);
    CHECK(g.b.find("store-b", o.copies[0].key)->data == data);
    CHECK(rebalance_exit_code(*s) == k_exit_done);

    const auto j = nlohmann::json::parse(format_rebalance_summary(*s, true));
    CHECK(j["command"] == "rebalance");
    CHECK(j["moved"] == 1);
    CHECK(j["bytes_moved"] == 500);
    CHECK(j["copies_removed"] == 1);
    CHECK(j["moves"][0]["key"] == "k1");
    CHECK(j["moves"][0]["from"] == "a");
    CHECK(j["moves"][0]["to"] == "b");
    const std::string text = format_rebalance_summary(*s, false);
    CHECK(text.find("moved default/data/k1 (500 bytes) a -> b") != std::string::npos);
    CHECK(text.find("1 moved (500 bytes), 0 skipped") != std::string::npos);
}

TEST_CASE("a dry-run rebalance prints the plan and changes nothing", "[gateway][rebalance]")
{
    Gateway g;
    g.put("data", "k1", std::string(500, 'm'));
    g.put("data", "k2", std::string(450, 'n'));
    RebalanceOptions options;
    options.dry_run = true;
    auto s = rebalance_command(*g.store, g.backends, g.config, options, nullptr, g.clock());
    REQUIRE(s);
    REQUIRE(s->moves.size() == 1);
    CHECK(s->moves[0].outcome == "planned");
    CHECK(g.usage("a").used_bytes == 950);
    CHECK(g.usage("b").used_bytes == 0);
    CHECK(g.a.object_count() == 2);
    CHECK(g.b.object_count() == 0);
    CHECK(format_rebalance_summary(*s, false).find("dry run: nothing changed") != std::string::npos);
}

TEST_CASE("thresholds given to the rebalance command override the configuration and are checked",
          "[gateway][rebalance]")
{
    Gateway g;
    g.put("data", "k1", std::string(500, 'm'));
    g.put("data", "k2", std::string(450, 'n'));
    RebalanceOptions high;
    high.high_water = 0.99; // a holds 95 %: below this mark
    auto s = rebalance_command(*g.store, g.backends, g.config, high, nullptr, g.clock());
    REQUIRE(s);
    CHECK(s->moves.empty());
    CHECK(s->high_water == 0.99);
    RebalanceOptions inverted;
    inverted.high_water = 0.5;
    inverted.low_water = 0.6;
    auto bad = rebalance_command(*g.store, g.backends, g.config, inverted, nullptr, g.clock());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("0 < low water <= high water <= 1") != std::string::npos);
    CHECK(g.usage("a").used_bytes == 950);
}

TEST_CASE("a rebalance that leaves a backend above the mark asks for attention", "[gateway][rebalance]")
{
    RebalanceSummary s;
    s.notes.push_back("backend a stays above 80% of its quota");
    CHECK(rebalance_exit_code(s) == k_exit_attention);
    RebalanceSummary skipped;
    skipped.report.skipped = 1;
    CHECK(rebalance_exit_code(skipped) == k_exit_attention);
    CHECK(rebalance_exit_code(RebalanceSummary{}) == k_exit_done);
}

TEST_CASE("a sync summary names every count as text and as JSON", "[gateway][sync]")
{
    SyncSummary s;
    s.counts = {12, 9, 1, 1, 0, 1, 9000};
    s.notes.push_back("read a:store-a");
    const auto j = nlohmann::json::parse(format_sync_summary(s, "a", true));
    CHECK(j["command"] == "sync");
    CHECK(j["backend"] == "a");
    CHECK(j["dry_run"] == false);
    CHECK(j["listed"] == 12);
    CHECK(j["imported"] == 9);
    CHECK(j["added_copies"] == 1);
    CHECK(j["known"] == 1);
    CHECK(j["conflicts"] == 0);
    CHECK(j["unmapped"] == 1);
    CHECK(j["bytes_imported"] == 9000);
    const std::string text = format_sync_summary(s, "a", false);
    CHECK(text.find("sync of backend a: 12 objects listed") != std::string::npos);
    CHECK(text.find("imported 9 new objects and 1 copies of known objects (9000 bytes)") != std::string::npos);
    CHECK(sync_progress_line(s.counts).find("12 listed, 9 imported") != std::string::npos);
    CHECK(sync_exit_code(s) == k_exit_done);
    s.dry_run = true;
    s.counts.conflicts = 2;
    CHECK(format_sync_summary(s, "a", false).find("would import 9") != std::string::npos);
    CHECK(sync_exit_code(s) == k_exit_attention);
}
