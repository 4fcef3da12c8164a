// Placement: first-fit until a backend is full then the next, most-free,
// residency, all full means nothing reserved (507), and the read order.
#include "gateway_test_support.hpp"

#include "roar/proxy/gateway/placement.hpp"

#include <catch2/catch.hpp>

using namespace roar::test;
using namespace roar::proxy::gateway;

namespace {

BucketPolicy policy(std::vector<std::string> backends, Placement placement = Placement::first_fit)
{
    BucketPolicy p;
    p.bucket = {"default", "data"};
    p.backends = std::move(backends);
    p.placement = placement;
    return p;
}

BackendUsage usage(const std::string& name, std::optional<std::uint64_t> quota, std::uint64_t used)
{
    BackendUsage u;
    u.name = name;
    u.quota_bytes = quota;
    u.used_bytes = used;
    return u;
}

} // namespace

TEST_CASE("first-fit takes the policy's order, skipping backends without room", "[gateway][placement]")
{
    const std::vector<BackendUsage> u{usage("a", 1000, 950), usage("b", 1000, 0), usage("c", std::nullopt, 0)};
    CHECK(placement_candidates(policy({"a", "b", "c"}), u, 10, {}) == std::vector<std::string>{"a", "b", "c"});
    CHECK(placement_candidates(policy({"a", "b", "c"}), u, 100, {}) == std::vector<std::string>{"b", "c"});
    CHECK(placement_candidates(policy({"c", "a"}), u, 10, {}) == std::vector<std::string>{"c", "a"});
    CHECK(placement_candidates(policy({"a", "b", "c"}), u, 10, {"a"}) == std::vector<std::string>{"b", "c"});
    CHECK(placement_candidates(policy({"a", "zzz"}), u, 10, {}) == std::vector<std::string>{"a"});
}

TEST_CASE("most-free prefers unlimited backends, then the most bytes available", "[gateway][placement]")
{
    const std::vector<BackendUsage> u{usage("a", 1000, 100), usage("b", 2000, 1500), usage("c", std::nullopt, 0),
                                      usage("d", 5000, 0)};
    CHECK(placement_candidates(policy({"a", "b", "c", "d"}, Placement::most_free), u, 10, {})
          == std::vector<std::string>{"c", "d", "a", "b"});
}

TEST_CASE("reservations fill the first backend, then the next, then refuse", "[gateway][placement]")
{
    TempStore s;
    REQUIRE(s->register_backends({{"a", 1000}, {"b", 800}}));
    const BucketPolicy p = policy({"a", "b"});
    std::vector<std::string> chosen;
    for (int i = 0; i < 4; ++i) {
        auto r = reserve_placement(*s, p, 400, {}, 1000, 60000);
        REQUIRE(r);
        REQUIRE(*r);
        chosen.push_back((*r)->backend);
    }
    CHECK(chosen == std::vector<std::string>{"a", "a", "b", "b"}); // a keeps 200 free, too little for 400
    auto full = reserve_placement(*s, p, 400, {}, 1000, 60000);
    REQUIRE(full);
    CHECK_FALSE(*full); // the InsufficientStorage case: nothing reserved anywhere
    auto usage_after = s->backend_usage();
    CHECK((*usage_after)[0].reserved_bytes == 800);
    CHECK((*usage_after)[1].reserved_bytes == 800);
    // A small object still fits where room remains.
    auto small = reserve_placement(*s, p, 200, {}, 1000, 60000);
    REQUIRE(*small);
    CHECK((*small)->backend == "a");
}

TEST_CASE("a backend the residency rule refuses is never reserved on", "[gateway][placement]")
{
    const GatewayConfig c = example_config();
    TempStore s;
    REQUIRE(seed_metadata(*s, c, 1000));
    auto p = resolve_bucket_policy(c, {"default", "eu-only"}, std::nullopt);
    REQUIRE(p);
    // a (1000) and b (2000) are eu; c is unlimited but us-east.
    for (int i = 0; i < 3; ++i) {
        auto r = reserve_placement(*s, *p, 1000, {}, 1000, 60000);
        REQUIRE(r);
        REQUIRE(*r);
        CHECK((*r)->backend != "c");
    }
    auto none = reserve_placement(*s, *p, 1000, {}, 1000, 60000);
    REQUIRE(none);
    CHECK_FALSE(*none);
}

TEST_CASE("reads try healthy copies first, in the policy's order", "[gateway][placement]")
{
    const BucketPolicy p = policy({"a", "b", "c"});
    const std::vector<Location> copies{{"c", "x", "k"}, {"a", "x", "k"}, {"old", "x", "k"}, {"b", "x", "k"}};
    auto names = [](const std::vector<Location>& v) {
        std::vector<std::string> out;
        for (const auto& l : v) {
            out.push_back(l.backend);
        }
        return out;
    };
    CHECK(names(read_order(copies, p, {})) == std::vector<std::string>{"a", "b", "c", "old"});
    CHECK(names(read_order(copies, p, {"a"})) == std::vector<std::string>{"b", "c", "old", "a"});
}
