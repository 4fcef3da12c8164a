// Shared pieces of the gateway's unit tests: an environment lookup over a
// map, the issue's example configuration, and a temporary metadata store:
// SQLite in a temporary directory, or, when ROAR_GATEWAY_TEST_POSTGRES_URL
// names a server (tests/functional/gateway/metadata_postgres.sh starts one
// and runs this binary against it), a fresh schema there.
#pragma once

#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/gateway/sql_metadata.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>

namespace roar::test {

using namespace roar::proxy::gateway;

inline roar::proxy::EnvLookup env_of(std::map<std::string, std::string> vars)
{
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

inline std::map<std::string, std::string> example_env()
{
    return {{"GW_SECRET", "gateway-secret"},
            {"A_KEY", "akey"},
            {"A_SECRET", "asecret"},
            {"B_KEY", "bkey"},
            {"B_SECRET", "bsecret"},
            {"C_KEY", "ckey"},
            {"C_SECRET", "csecret"},
            {"GW_ADMIN", "admin-token-0123456789"},
            {"GW_PASS", "a long passphrase for tests"}};
}

// Three backends (a: eu-fi 1000 bytes, b: eu-de 2000 bytes, c: us-east
// unlimited) and two buckets, the shape of the issue's example.
inline std::string example_toml(const std::string& extra = "")
{
    return R"(
listen = "127.0.0.1:9000"
[auth]
access_key = "AKIAGATEWAY"
secret_key_env = "GW_SECRET"
[admin]
token_env = "GW_ADMIN"
[secrets]
passphrase_env = "GW_PASS"
[metadata]
url = "sqlite:///tmp/unused-gw.db"
[[backend]]
name = "a"
endpoint = "http://127.0.0.1:7001"
bucket = "store-a"
region = "us-east-1"
access_key_env = "A_KEY"
secret_key_env = "A_SECRET"
quota_bytes = 1000
residency = "eu-fi"
[[backend]]
name = "b"
endpoint = "http://127.0.0.1:7002"
bucket = "store-b"
access_key_env = "B_KEY"
secret_key_env = "B_SECRET"
quota_bytes = 2000
residency = "eu-de"
[[backend]]
name = "c"
endpoint = "http://127.0.0.1:7003"
bucket = "store-c"
access_key_env = "C_KEY"
secret_key_env = "C_SECRET"
residency = "us-east"
[[bucket]]
name = "data"
backends = ["a", "b", "c"]
placement = "first-fit"
replicas = 1
key_prefix = "data/"
[[bucket]]
name = "eu-only"
backends = ["a", "b", "c"]
residencies = ["eu-*"]
replicas = 2
key_prefix = "eu/"
)" + extra;
}

inline GatewayConfig example_config(const std::string& extra = "")
{
    auto c = parse_gateway_config(example_toml(extra), "/etc/roar/gw.toml", env_of(example_env()));
    if (!c) {
        FAIL(c.error().message);
    }
    return *c;
}

// The PostgreSQL server the metadata tests run against, or "" for SQLite.
inline std::string test_postgres_url()
{
    const char* url = std::getenv("ROAR_GATEWAY_TEST_POSTGRES_URL");
    return url ? url : "";
}

// Where one test's metadata lives: a file in a temporary directory, or a
// schema of its own on the test PostgreSQL; open() may be called several
// times for several connections to the same metadata.
struct TestMetadata {
    TempDir dir;
    std::string schema;
    TestMetadata()
    {
        static std::atomic<int> counter{0};
        schema = "gwtest_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    }
    Result<std::unique_ptr<MetadataStore>> open() const
    {
        const std::string url = test_postgres_url();
        return url.empty() ? open_sqlite_metadata(dir / "gw.db") : open_postgres_metadata(url, schema);
    }
};

// A fresh metadata store (see TestMetadata).
struct TempStore {
    TestMetadata where;
    std::unique_ptr<MetadataStore> store;
    TempStore()
    {
        auto s = where.open();
        if (!s) {
            FAIL(s.error().message);
        }
        store = std::move(*s);
    }
    MetadataStore& operator*() { return *store; }
    MetadataStore* operator->() { return store.get(); }
};

} // namespace roar::test
