// The admin API as request -> response: token auth, tenants, keys
// (secrets shown once), rotation and revocation, bucket policies.
#include "gateway_test_support.hpp"

#include "roar/proxy/gateway/admin_api.hpp"
#include "roar/proxy/gateway/tenant_keys.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace roar::test;
using namespace roar::proxy::gateway;
using nlohmann::json;

namespace {

const KdfParams k_fast{1024, 8, 1};
const std::string k_token = "Bearer admin-token-0123456789";

struct Api {
    GatewayConfig config = example_config();
    TempStore store;
    SecretBox box = *open_secret_box(*store, "the team passphrase", k_fast);
    AdminApi api{config, *store, &box};

    std::pair<unsigned, json> call(const std::string& method, const std::string& path, const std::string& body = "",
                                   const std::string& auth = k_token, Millis now = 1000)
    {
        AdminResponse r = api.handle({method, "/_roar/admin/" + path, auth, body}, now);
        auto j = json::parse(r.body, nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        return {r.status, j};
    }
};

} // namespace

TEST_CASE("the admin API needs the admin token", "[gateway][admin]")
{
    Api a;
    CHECK(a.call("GET", "tenants", "", "").first == 401);
    CHECK(a.call("GET", "tenants", "", "Bearer wrong").first == 403);
    CHECK(a.call("GET", "tenants", "", "Bearer admin-token-012345678").first == 403);
    CHECK(a.call("GET", "tenants", "", "Basic admin-token-0123456789").first == 401);
    CHECK(a.call("GET", "tenants").first == 200);
    CHECK(is_admin_path("/_roar/admin/tenants"));
    CHECK_FALSE(is_admin_path("/_roar/health"));
    CHECK_FALSE(is_admin_path("/bucket/_roar/admin/x"));
}

TEST_CASE("without [admin] every call is refused", "[gateway][admin]")
{
    Api a;
    GatewayConfig off = a.config;
    off.admin.enabled = false;
    AdminApi api(off, *a.store, &a.box);
    CHECK(api.handle({"GET", "/_roar/admin/tenants", k_token, ""}, 1).status == 403);
}

TEST_CASE("tenants are created, listed, disabled and enabled", "[gateway][admin]")
{
    Api a;
    auto [status, body] = a.call("POST", "tenants", R"({"name": "team-a"})");
    CHECK(status == 201);
    CHECK(body["name"] == "team-a");
    CHECK(a.call("POST", "tenants", R"({"name": "team-a"})").first == 409);
    CHECK(a.call("POST", "tenants", R"({"name": "Team A"})").first == 400);
    CHECK(a.call("POST", "tenants", "not json").first == 400);
    auto listed = a.call("GET", "tenants").second;
    REQUIRE(listed["tenants"].size() == 1);
    CHECK(a.call("POST", "tenants/team-a/disable").second["disabled"] == true);
    CHECK((*a.store->find_tenant("team-a"))->disabled);
    CHECK(a.call("POST", "tenants/team-a/enable").second["disabled"] == false);
    CHECK(a.call("GET", "tenants/nobody").first == 404);
    CHECK(a.call("DELETE", "tenants").first == 405);
    CHECK(a.call("GET", "nothing/here").first == 404);
}

TEST_CASE("a new key's secret is returned once and never listed", "[gateway][admin]")
{
    Api a;
    a.call("POST", "tenants", R"({"name": "team-a"})");
    auto [status, key] = a.call("POST", "tenants/team-a/keys");
    REQUIRE(status == 201);
    const std::string ak = key["access_key"];
    const std::string secret = key["secret_key"];
    CHECK(secret.size() == 40);
    for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "tenants/team-a/keys"}, {"GET", "tenants/team-a"}, {"GET", "keys/" + ak}, {"GET", "tenants"}}) {
        auto r = a.call(method, path);
        CHECK(r.first == 200);
        CHECK(r.second.dump().find(secret) == std::string::npos);
    }
    CHECK(a.call("GET", "tenants/team-a/keys").second["keys"][0]["state"] == "active");
    auto caller = resolve_caller(a.config, *a.store, &a.box, ak, 2000);
    REQUIRE(*caller);
    CHECK((*caller)->credentials.secret_key == secret);
}

TEST_CASE("a revoked key stops resolving", "[gateway][admin]")
{
    Api a;
    a.call("POST", "tenants", R"({"name": "team-a"})");
    const std::string ak = a.call("POST", "tenants/team-a/keys").second["access_key"];
    CHECK(a.call("POST", "keys/" + ak + "/revoke").first == 200);
    CHECK(a.call("POST", "keys/" + ak + "/revoke").first == 409);
    CHECK_FALSE(*resolve_caller(a.config, *a.store, &a.box, ak, 2000));
    const std::string ak2 = a.call("POST", "tenants/team-a/keys").second["access_key"];
    CHECK(a.call("DELETE", "keys/" + ak2).first == 200);
    CHECK_FALSE(*resolve_caller(a.config, *a.store, &a.box, ak2, 2000));
    CHECK(a.call("POST", "keys/RKNOPE/revoke").first == 404);
}

TEST_CASE("rotation issues a new key and ends the old one now or after a grace period", "[gateway][admin]")
{
    Api a;
    a.call("POST", "tenants", R"({"name": "team-a"})");
    const std::string old_key = a.call("POST", "tenants/team-a/keys").second["access_key"];
    auto [status, rotated] = a.call("POST", "keys/" + old_key + "/rotate", R"({"grace_seconds": 60})", k_token, 1000);
    REQUIRE(status == 201);
    CHECK(rotated["replaces"] == old_key);
    const std::string new_key = rotated["access_key"];
    CHECK(new_key != old_key);
    CHECK(*resolve_caller(a.config, *a.store, &a.box, old_key, 60999));
    CHECK_FALSE(*resolve_caller(a.config, *a.store, &a.box, old_key, 61000));
    CHECK(*resolve_caller(a.config, *a.store, &a.box, new_key, 61000));
    auto now_rotated = a.call("POST", "keys/" + new_key + "/rotate").second;
    CHECK_FALSE(*resolve_caller(a.config, *a.store, &a.box, new_key, 1001));
    CHECK(a.call("POST", "keys/" + new_key + "/rotate").first == 409);
    CHECK(a.call("POST", "keys/" + std::string(now_rotated["access_key"]) + "/rotate", R"({"grace_seconds": -1})").first
          == 400);
}

TEST_CASE("a bucket policy is validated, stored, and more replicas queue replication", "[gateway][admin]")
{
    Api a;
    REQUIRE(seed_metadata(*a.store, a.config, 1000));
    // An object in the configured bucket "data" of the static tenant.
    auto r = a.store->reserve("a", 10, 1000, 99999);
    NewObject o;
    o.bucket = {"default", "data"};
    o.key = "k";
    o.size = 10;
    o.etag = "\"e\"";
    o.version = new_id(1000);
    o.location = {"a", "store-a", "data/k~" + o.version};
    o.reservation = **r;
    o.now = 1000;
    REQUIRE(a.store->commit_object(o));

    auto [status, p] = a.call("GET", "tenants/default/buckets/data/policy");
    REQUIRE(status == 200);
    CHECK(p["replicas"] == 1);
    CHECK(p["namespace"] == "direct");

    CHECK(a.call("PUT", "tenants/default/buckets/data/policy", R"({"replicas": 0})").first == 400);
    CHECK(a.call("PUT", "tenants/default/buckets/data/policy", R"({"color": "red"})").first == 400);
    CHECK(a.call("PUT", "tenants/default/buckets/data/policy", R"({"placement": "random"})").first == 400);
    auto impossible =
        a.call("PUT", "tenants/default/buckets/data/policy", R"({"replicas": 2, "residencies": ["eu-fi"]})");
    CHECK(impossible.first == 400);
    CHECK(impossible.second["error"]["code"] == "PolicyUnsatisfiable");

    auto [ok, updated] = a.call("PUT", "tenants/default/buckets/data/policy",
                                R"({"replicas": 2, "residencies": ["eu-*"], "placement": "most-free"})");
    REQUIRE(ok == 200);
    CHECK(updated["replicas"] == 2);
    CHECK(updated["backends"] == json::array({"a", "b"}));
    CHECK(updated["refused_backends"] == json::array({"c"}));
    CHECK(updated["replication_jobs_queued"] == 1);
    auto stored = a.store->find_bucket_policy({"default", "data"});
    REQUIRE(*stored);
    CHECK((*stored)->replicas == std::optional<unsigned>(2));

    auto cleared = a.call("PUT", "tenants/default/buckets/data/policy", R"({"residencies": null})").second;
    CHECK(cleared["backends"] == json::array({"a", "b", "c"}));
    CHECK(cleared["overrides"].contains("replicas"));
    CHECK_FALSE(cleared["overrides"].contains("residencies"));

    CHECK(a.call("GET", "tenants/nobody/buckets/data/policy").first == 404);
    CHECK(a.call("GET", "tenants/default/buckets/NO/policy").first == 400);
}

TEST_CASE("backends and jobs are reported", "[gateway][admin]")
{
    Api a;
    REQUIRE(seed_metadata(*a.store, a.config, 1000));
    auto b = a.call("GET", "backends").second["backends"];
    REQUIRE(b.size() == 3);
    CHECK(b[0]["name"] == "a");
    CHECK(b[0]["quota_bytes"] == 1000);
    CHECK(b[0]["available_bytes"] == 1000);
    CHECK(b[0]["residency"] == "eu-fi");
    CHECK(b[2]["quota_bytes"].is_null());
    CHECK(a.call("GET", "jobs").second["jobs"].empty());
}
