// Bucket policies: configured (direct) and tenant (hashed) buckets,
// administrator overrides, residency filtering, and version locations.
#include "gateway_test_support.hpp"

#include "roar/proxy/gateway/bucket_policy.hpp"
#include "roar/proxy/gateway/namespace_hash.hpp"

#include <catch2/catch.hpp>

using namespace roar::test;
using namespace roar::proxy::gateway;

TEST_CASE("a configured bucket uses its backends in the backend's own bucket", "[gateway][policy]")
{
    const GatewayConfig c = example_config();
    auto p = resolve_bucket_policy(c, {"default", "data"}, std::nullopt);
    REQUIRE(p);
    CHECK(p->mode == NamespaceMode::direct);
    CHECK(p->backends == std::vector<std::string>{"a", "b", "c"});
    CHECK(p->refused.empty());
    const Location at = location_for(*p, c.backends[1], "dir/x.bin", "0123456789abcdefghjkmnpqrs");
    CHECK(at.backend == "b");
    CHECK(at.bucket == "store-b");
    CHECK(at.key == "data/dir/x.bin~0123456789abcdefghjkmnpqrs");
}

TEST_CASE("residencies remove backends before anything is placed", "[gateway][policy]")
{
    const GatewayConfig c = example_config();
    auto p = resolve_bucket_policy(c, {"default", "eu-only"}, std::nullopt);
    REQUIRE(p);
    CHECK(p->backends == std::vector<std::string>{"a", "b"});
    CHECK(p->refused == std::vector<std::string>{"c"});
    CHECK(may_store(*p, c.backends[0]));
    CHECK_FALSE(may_store(*p, c.backends[2]));
}

TEST_CASE("a tenant bucket lives in its hashed namespace with the tenant's settings", "[gateway][policy]")
{
    const GatewayConfig c = example_config(R"(
[tenant_defaults]
backends = ["b", "c"]
placement = "most-free"
)");
    auto p = resolve_bucket_policy(c, {"team-a", "analytics"}, std::nullopt);
    REQUIRE(p);
    CHECK(p->mode == NamespaceMode::hashed);
    CHECK(p->backends == std::vector<std::string>{"b", "c"});
    CHECK(p->placement == Placement::most_free);
    CHECK(p->backend_bucket == namespace_bucket_name("roar", "team-a", "analytics"));
    const Location at = location_for(*p, c.backends[2], "k", "0123456789abcdefghjkmnpqrs");
    CHECK(at.bucket == p->backend_bucket);
    CHECK(at.key == "k~0123456789abcdefghjkmnpqrs");
}

TEST_CASE("stored overrides change replicas, placement and residencies", "[gateway][policy]")
{
    const GatewayConfig c = example_config();
    StoredPolicy s;
    s.replicas = 2;
    s.placement = Placement::most_free;
    s.residencies = std::vector<std::string>{"eu-*"};
    auto p = resolve_bucket_policy(c, {"default", "data"}, s);
    REQUIRE(p);
    CHECK(p->replicas == 2);
    CHECK(p->placement == Placement::most_free);
    CHECK(p->backends == std::vector<std::string>{"a", "b"});
    s.replicas = 3;
    auto impossible = resolve_bucket_policy(c, {"default", "data"}, s);
    REQUIRE_FALSE(impossible);
    CHECK(impossible.error().message.find("3 replicas need 3 backends") != std::string::npos);
    s.residencies = std::vector<std::string>{"mars-*"};
    s.replicas = 1;
    auto nowhere = resolve_bucket_policy(c, {"default", "data"}, s);
    REQUIRE_FALSE(nowhere);
    CHECK(nowhere.error().message.find("no backend has a residency its policy allows (mars-*)") != std::string::npos);
}

TEST_CASE("backend keys decode back to the logical key and version", "[gateway][policy]")
{
    const GatewayConfig c = example_config();
    auto p = resolve_bucket_policy(c, {"default", "data"}, std::nullopt);
    REQUIRE(p);
    const std::string version = new_id(1234567);
    const Location at = location_for(*p, c.backends[0], "a/b~c.txt", version);
    auto d = decode_backend_key(*p, at.key);
    REQUIRE(d);
    CHECK(d->key == "a/b~c.txt");
    CHECK(d->version == version);
    auto plain = decode_backend_key(*p, "data/imported.csv");
    REQUIRE(plain);
    CHECK(plain->key == "imported.csv");
    CHECK(plain->version.empty());
    CHECK_FALSE(decode_backend_key(*p, "eu/other"));
    CHECK_FALSE(decode_backend_key(*p, "data/"));
    CHECK(max_key_length(*p) == 1024 - 5 - 27);
}

TEST_CASE("an existing bucket is found through the configuration or a namespace", "[gateway][policy]")
{
    const GatewayConfig c = example_config();
    TempStore s;
    auto data = lookup_bucket_policy(*s, c, {"default", "data"});
    REQUIRE(data);
    CHECK(*data);
    auto missing = lookup_bucket_policy(*s, c, {"team-a", "analytics"});
    REQUIRE(missing);
    CHECK_FALSE(*missing);
    REQUIRE(s->bind_namespace({"team-a", "analytics"}, namespace_bucket_name("roar", "team-a", "analytics"), 1));
    auto found = lookup_bucket_policy(*s, c, {"team-a", "analytics"});
    REQUIRE(found);
    REQUIRE(*found);
    CHECK((*found)->mode == NamespaceMode::hashed);
}
