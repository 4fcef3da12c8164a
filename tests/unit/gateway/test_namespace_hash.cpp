// Namespace hashing: deterministic, distinct per (tenant, bucket), and
// always a valid S3 bucket name.
#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/namespace_hash.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace roar::proxy::gateway;

TEST_CASE("the same tenant and bucket always hash to the same backend bucket", "[gateway][namespace]")
{
    const std::string a = namespace_bucket_name("roar", "team-a", "analytics");
    CHECK(a == namespace_bucket_name("roar", "team-a", "analytics"));
    CHECK(a.rfind("roar-analytics-", 0) == 0);
    CHECK(a.size() == std::string("roar-analytics-").size() + 26);
    // A fixed value: the mapping must never change between releases, or
    // existing tenant data would be lost from view. Computed independently:
    //   python3: base32(sha256(len8("roar-namespace-v1") + ... + len8("analytics") + ...)[:16]).lower()
    CHECK(a == "roar-analytics-konhogrvy63sqn3qdbduaflp64");
}

TEST_CASE("two tenants owning the same bucket name do not collide", "[gateway][namespace]")
{
    CHECK(namespace_bucket_name("roar", "team-a", "analytics") != namespace_bucket_name("roar", "team-b", "analytics"));
    // The encoding is length-prefixed: moving a character between the
    // tenant and the bucket changes the hash.
    CHECK(namespace_bucket_name("roar", "ab", "cde") != namespace_bucket_name("roar", "abc", "de"));
    CHECK(namespace_bucket_name("roar", "t", "b") != namespace_bucket_name("gw", "t", "b"));
}

TEST_CASE("hashed names are valid S3 bucket names for any input", "[gateway][namespace]")
{
    std::set<std::string> seen;
    const std::vector<std::string> buckets = {"abc",     "a.b.c", "my-bucket", std::string(63, 'z'), "x--y",
                                              "1.2.3.4", "a-",    "data.v2",   "UPPER_lower"};
    for (const auto& tenant : {"t", "team-a", "a_very_long_tenant_name_with_underscores_and_more_characters"}) {
        for (const auto& b : buckets) {
            for (const auto* prefix : {"roar", "gw", "abcdefghijklmnop"}) {
                const std::string name = namespace_bucket_name(prefix, tenant, b);
                INFO(name);
                CHECK(valid_bucket_name(name));
                CHECK(name.size() <= 63);
                seen.insert(name);
            }
        }
    }
    CHECK(seen.size() == 3 * buckets.size() * 3);
}
