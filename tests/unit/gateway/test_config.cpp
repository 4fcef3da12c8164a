// gateway.toml: the issue's interface keys, credential references, ${ENV}
// expansion, and errors that name the file, line, key and reason.
#include "gateway_test_support.hpp"

#include <catch2/catch.hpp>

using namespace roar::test;
using namespace roar::proxy::gateway;

namespace {

std::string error_of(const std::string& toml, std::map<std::string, std::string> env = example_env())
{
    auto c = parse_gateway_config(toml, "/etc/roar/gw.toml", env_of(std::move(env)));
    REQUIRE_FALSE(c);
    return c.error().message;
}

std::string replace(std::string s, const std::string& from, const std::string& to)
{
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

} // namespace

TEST_CASE("the issue's example configuration is read with every key", "[gateway][config]")
{
    const GatewayConfig c = example_config();
    CHECK(c.listen_host == "127.0.0.1");
    CHECK(c.listen_port == 9000);
    CHECK(c.auth.enabled);
    CHECK(c.auth.access_key == "AKIAGATEWAY");
    CHECK(c.auth.secret_key == "gateway-secret");
    CHECK(c.auth.tenant == "default");
    CHECK(c.admin.token == "admin-token-0123456789");
    CHECK(c.secrets.passphrase == "a long passphrase for tests");
    CHECK(c.metadata.engine == MetadataEngine::sqlite);
    CHECK(c.metadata.sqlite_path == "/tmp/unused-gw.db");
    REQUIRE(c.backends.size() == 3);
    const BackendConfig& a = c.backends[0];
    CHECK(a.name == "a");
    CHECK(a.endpoint == "http://127.0.0.1:7001");
    CHECK(a.bucket == "store-a");
    CHECK(a.region == "us-east-1");
    CHECK(a.path_style);
    CHECK(a.quota_bytes == std::optional<std::uint64_t>(1000));
    CHECK(a.residency == "eu-fi");
    CHECK(a.credentials.access_key == "akey");
    CHECK(a.credentials.secret_key == "asecret");
    CHECK(a.credentials.source.find("asecret") == std::string::npos);
    CHECK_FALSE(c.backends[2].quota_bytes.has_value());
    REQUIRE(c.buckets.size() == 2);
    CHECK(c.buckets[0].name == "data");
    CHECK(c.buckets[0].tenant == "default");
    CHECK(c.buckets[0].backends == std::vector<std::string>{"a", "b", "c"});
    CHECK(c.buckets[0].placement == Placement::first_fit);
    CHECK(c.buckets[1].replicas == 2);
    CHECK(c.buckets[1].residencies == std::vector<std::string>{"eu-*"});
    CHECK(c.bucket("default", "eu-only") == &c.buckets[1]);
    CHECK(c.bucket("other", "eu-only") == nullptr);
}

TEST_CASE("a PostgreSQL metadata URL is read with its schema, gateway_metadata by default", "[gateway][config]")
{
    auto c = example_config();
    CHECK(c.metadata.schema == "gateway_metadata");
    const std::string pg = "url = \"postgresql://roar@db.example.org/gw\"";
    auto d = parse_gateway_config(
        replace(example_toml(), "url = \"sqlite:///tmp/unused-gw.db\"", pg + "\nschema = \"team_gw\""),
        "/etc/roar/gw.toml", env_of(example_env()));
    REQUIRE(d);
    CHECK(d->metadata.engine == MetadataEngine::postgresql);
    CHECK(d->metadata.url == "postgresql://roar@db.example.org/gw");
    CHECK(d->metadata.schema == "team_gw");
}

TEST_CASE("defaults of the background settings", "[gateway][config]")
{
    const GatewayConfig c = example_config();
    CHECK(c.multipart.stale_after == std::chrono::hours(24));
    CHECK(c.replication.workers == 1);
    CHECK(c.replication.max_attempts == 10);
    CHECK(c.replication.backoff_initial == std::chrono::seconds(1));
    CHECK(c.rebalance.high_water == Approx(0.9));
    CHECK(c.namespace_prefix == "roar");
    CHECK(c.tenant_defaults.replicas == 1);
}

TEST_CASE("tenants, defaults, background settings and sizes with units are read", "[gateway][config]")
{
    const GatewayConfig c = example_config(R"(
[tenant_defaults]
backends = ["a", "b"]
placement = "most-free"
[[tenant]]
name = "team-eu"
residencies = ["eu-*"]
replicas = 2
create_buckets = false
[namespace]
prefix = "gw"
[multipart]
stale_after = "36h"
sweep_interval = 600
[replication]
workers = 3
max_attempts = 5
backoff_initial = "250ms"
backoff_max = "2m"
lease = "90s"
delete_grace = "10s"
multipart_threshold = "1 GiB"
part_size = "32MiB"
[rebalance]
high_water = 0.95
low_water = 0.7
)");
    CHECK(c.tenant_defaults.backends == std::vector<std::string>{"a", "b"});
    CHECK(c.tenant_defaults.placement == Placement::most_free);
    const TenantSettings& eu = c.tenant_settings("team-eu");
    CHECK(eu.name == "team-eu");
    CHECK(eu.replicas == 2);
    CHECK(eu.backends == std::vector<std::string>{"a", "b"}); // inherited from the defaults
    CHECK_FALSE(eu.create_buckets);
    CHECK(&c.tenant_settings("nobody") == &c.tenant_defaults);
    CHECK(c.namespace_prefix == "gw");
    CHECK(c.multipart.stale_after == std::chrono::hours(36));
    CHECK(c.multipart.sweep_interval == std::chrono::minutes(10));
    CHECK(c.replication.workers == 3);
    CHECK(c.replication.backoff_initial == std::chrono::milliseconds(250));
    CHECK(c.replication.backoff_max == std::chrono::minutes(2));
    CHECK(c.replication.lease == std::chrono::seconds(90));
    CHECK(c.replication.delete_grace == std::chrono::seconds(10));
    CHECK(c.replication.multipart_threshold == (1ull << 30));
    CHECK(c.replication.part_size == (32ull << 20));
    CHECK(c.rebalance.low_water == Approx(0.7));
}

TEST_CASE("${ENV} expands in string values, with defaults and $$", "[gateway][config]")
{
    auto env = example_env();
    env["GW_PORT"] = "9443";
    const std::string toml =
        replace(example_toml(), "listen = \"127.0.0.1:9000\"", "listen = \"${GW_HOST:-127.0.0.2}:${GW_PORT}\"");
    auto c = parse_gateway_config(toml, "gw.toml", env_of(env));
    REQUIRE(c);
    CHECK(c->listen == "127.0.0.2:9443");
    CHECK(*expand_env("cost $$5 ${A}", env_of({{"A", "x"}})) == "cost $5 x");
    CHECK(*expand_env("no vars", env_of({})) == "no vars");
    auto missing = expand_env("${NOPE}", env_of({}));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("NOPE is not set") != std::string::npos);
    CHECK_FALSE(expand_env("${BAD NAME}", env_of({})));
    CHECK_FALSE(expand_env("${UNTERMINATED", env_of({})));
}

TEST_CASE("virtual-host addressing takes the configured suffix, else a listen host name", "[gateway][config]")
{
    CHECK(example_config().virtual_host_suffix.empty()); // 127.0.0.1 names no host
    auto named = parse_gateway_config(replace(example_toml(), "127.0.0.1:9000", "gw.example:9000"), "gw.toml",
                                      env_of(example_env()));
    REQUIRE(named);
    CHECK(named->virtual_host_suffix == "gw.example");
    auto set = parse_gateway_config("virtual_host_suffix = \"s3.lab.example\"\n" + example_toml(), "gw.toml",
                                    env_of(example_env()));
    REQUIRE(set);
    CHECK(set->virtual_host_suffix == "s3.lab.example");
    auto e = error_of("virtual_host_suffix = \"Bad..Name\"\n" + example_toml());
    CHECK(e.find("virtual_host_suffix: expected a lower-case DNS name") != std::string::npos);
}

TEST_CASE("credentials can come from files, relative to the configuration", "[gateway][config]")
{
    TempDir dir;
    write_file(dir / "a.secret", "from-a-file\n");
    const std::string toml = replace(example_toml(), "secret_key_env = \"A_SECRET\"", "secret_key_file = \"a.secret\"");
    auto c = parse_gateway_config(toml, dir / "gw.toml", env_of(example_env()));
    REQUIRE(c);
    CHECK(c->backends[0].credentials.secret_key == "from-a-file");
}

TEST_CASE("configuration errors name the file, the line, the key and the reason", "[gateway][config]")
{
    SECTION("an unknown key")
    {
        auto e = error_of(replace(example_toml(), "quota_bytes = 1000", "quota_byte = 1000"));
        CHECK(e.find("/etc/roar/gw.toml:") == 0);
        CHECK(e.find("backend[0].quota_byte: unknown key") != std::string::npos);
        CHECK(e.find("quota_bytes") != std::string::npos); // the valid keys are listed
    }
    SECTION("the line of the offending value")
    {
        auto e = error_of(replace(example_toml(), "quota_bytes = 1000", "quota_bytes = \"lots\""));
        CHECK(e.find("/etc/roar/gw.toml:19: backend[0].quota_bytes: expected bytes") == 0);
    }
    SECTION("a secret written in the file is refused")
    {
        auto e = error_of(replace(example_toml(), "secret_key_env = \"A_SECRET\"", "secret_key = \"plain\""));
        CHECK(e.find("backend[0].secret_key: secrets are not written in the configuration") != std::string::npos);
        CHECK(e.find("plain") == std::string::npos);
    }
    SECTION("an unset credential variable")
    {
        auto env = example_env();
        env.erase("B_SECRET");
        auto e = error_of(example_toml(), env);
        CHECK(e.find("backend[1].secret_key_env: environment variable B_SECRET is not set") != std::string::npos);
    }
    SECTION("an unknown backend in a bucket")
    {
        auto e = error_of(replace(example_toml(), "backends = [\"a\", \"b\", \"c\"]\nplacement",
                                  "backends = [\"a\", \"z\"]\nplacement"));
        CHECK(e.find("bucket[0].backends: no [[backend]] is named \"z\"") != std::string::npos);
    }
    SECTION("more replicas than allowed backends")
    {
        auto e = error_of(replace(example_toml(), "replicas = 2", "replicas = 3"));
        CHECK(e.find("bucket[1].replicas: 3 replicas need 3 backends with an allowed residency, but only 2 qualify")
              != std::string::npos);
    }
    SECTION("a bad placement")
    {
        auto e = error_of(replace(example_toml(), "placement = \"first-fit\"", "placement = \"random\""));
        CHECK(e.find("bucket[0].placement: expected \"first-fit\" or \"most-free\"") != std::string::npos);
    }
    SECTION("buckets whose keys could collide on a shared backend")
    {
        auto e = error_of(replace(example_toml(), "key_prefix = \"eu/\"", "key_prefix = \"data/x/\""));
        CHECK(e.find("bucket[1].key_prefix: bucket \"data\" also stores into backend \"a\"") != std::string::npos);
    }
    SECTION("a malformed listen address")
    {
        auto e = error_of(replace(example_toml(), "127.0.0.1:9000", "127.0.0.1:99999"));
        CHECK(e.find("listen: expected \"host:port\"") != std::string::npos);
    }
    SECTION("a metadata URL of an unknown kind")
    {
        auto e = error_of(replace(example_toml(), "sqlite:///tmp/unused-gw.db", "mysql://x"));
        CHECK(e.find("metadata.url: expected sqlite:///PATH or postgresql://") != std::string::npos);
    }
    SECTION("a metadata schema that is a lineage project's")
    {
        auto e = error_of(replace(example_toml(), "url = \"sqlite:///tmp/unused-gw.db\"",
                                  "url = \"postgresql://roar@db/gw\"\nschema = \"roar_lab\""));
        CHECK(e.find("metadata.schema: expected 1 to 63 of [a-z0-9_], not starting with roar_") != std::string::npos);
    }
    SECTION("an admin API without a passphrase for tenant secrets")
    {
        auto e = error_of(replace(example_toml(), "[secrets]\npassphrase_env = \"GW_PASS\"\n", ""));
        CHECK(e.find("secrets.passphrase_env: is required with [admin]") != std::string::npos);
    }
    SECTION("a backend bucket inside the tenant namespace")
    {
        auto e = error_of(replace(example_toml(), "bucket = \"store-b\"", "bucket = \"roar-store-b\""));
        CHECK(e.find("backend[1].bucket: names starting with \"roar-\" are reserved") != std::string::npos);
    }
    SECTION("TOML syntax errors keep toml++'s position")
    {
        auto e = error_of("listen = \n");
        CHECK(e.find("/etc/roar/gw.toml:1:") == 0);
    }
    SECTION("nobody could call the gateway")
    {
        std::string toml =
            replace(example_toml(), "[auth]\naccess_key = \"AKIAGATEWAY\"\nsecret_key_env = \"GW_SECRET\"\n", "");
        toml = replace(toml, "[admin]\ntoken_env = \"GW_ADMIN\"\n", "");
        toml = replace(toml, "key_prefix = \"data/\"\n", "key_prefix = \"data/\"\ntenant = \"t\"\n");
        toml = replace(toml, "key_prefix = \"eu/\"", "key_prefix = \"eu/\"\ntenant = \"t\"");
        auto e = error_of(toml);
        CHECK(e.find("nobody could call this gateway") != std::string::npos);
    }
}

TEST_CASE("byte sizes and durations parse with units", "[gateway][config]")
{
    CHECK(parse_byte_size("1048576") == std::optional<std::uint64_t>(1048576));
    CHECK(parse_byte_size("20 GiB") == std::optional<std::uint64_t>(20ull << 30));
    CHECK(parse_byte_size("500MB") == std::optional<std::uint64_t>(500000000));
    CHECK_FALSE(parse_byte_size("5 parsecs"));
    CHECK_FALSE(parse_byte_size("-1"));
    CHECK_FALSE(parse_byte_size("99999999999 TiB"));
    CHECK(parse_duration("90s") == std::optional<std::chrono::milliseconds>(90000));
    CHECK(parse_duration("7d") == std::optional<std::chrono::milliseconds>(7ll * 24 * 3600 * 1000));
    CHECK_FALSE(parse_duration("10"));
    CHECK_FALSE(parse_duration("1y"));
}

TEST_CASE("bucket names follow S3's rules", "[gateway][config]")
{
    CHECK(valid_bucket_name("store-a"));
    CHECK(valid_bucket_name("a.b.c"));
    CHECK_FALSE(valid_bucket_name("ab"));
    CHECK_FALSE(valid_bucket_name(std::string(64, 'a')));
    CHECK_FALSE(valid_bucket_name("Upper"));
    CHECK_FALSE(valid_bucket_name("-dash"));
    CHECK_FALSE(valid_bucket_name("a..b"));
    CHECK_FALSE(valid_bucket_name("192.168.1.1"));
    CHECK_FALSE(valid_bucket_name("xn--bucket"));
    CHECK_FALSE(valid_bucket_name("bucket-s3alias"));
    CHECK_FALSE(valid_bucket_name("_roar"));
}

TEST_CASE("residency patterns match labels with '*'", "[gateway][config]")
{
    CHECK(residency_allowed("eu-fi", {"eu-*"}));
    CHECK(residency_allowed("eu-fi", {"us-*", "eu-fi"}));
    CHECK_FALSE(residency_allowed("us-east", {"eu-*"}));
    CHECK(residency_allowed("anything", {}));
    CHECK(residency_allowed("", {}));
    CHECK_FALSE(residency_allowed("", {"*"})); // a backend without a label never satisfies a rule
    CHECK(residency_allowed("eu-de-1", {"eu-*-1"}));
    CHECK_FALSE(residency_allowed("eu-de-2", {"eu-*-1"}));
}
