// Shared pieces of the gateway's unit tests: an environment lookup over a
// map, the issue's example configuration, and a temporary metadata store.
#pragma once

#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/gateway/sqlite_metadata.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

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

// A fresh SQLite metadata store in its own directory.
struct TempStore {
    TempDir dir;
    std::unique_ptr<MetadataStore> store;
    TempStore()
    {
        auto s = open_sqlite_metadata(dir / "gw.db");
        REQUIRE(s);
        store = std::move(*s);
    }
    MetadataStore& operator*() { return *store; }
    MetadataStore* operator->() { return store.get(); }
};

} // namespace roar::test
