// The job's ROAR_S3_* variables (s3_routing.hpp): which hosts are routed,
// from the config and the user's endpoint variables, and the secret.
#include "roar/collector/s3_routing.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <string>

using namespace roar::collector;

namespace {

const std::string k_secret(64, 'a');

std::function<const char*(const char*)> env_of(const std::map<std::string, std::string>& vars)
{
    return [vars](const char* name) -> const char* {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

std::map<std::string, std::string> as_map(const std::vector<std::string>& env)
{
    std::map<std::string, std::string> out;
    for (const auto& e : env) {
        out[e.substr(0, e.find('='))] = e.substr(e.find('=') + 1);
    }
    return out;
}

} // namespace

TEST_CASE("the routing variables name the proxy, the secret and every S3 host once", "[collector][s3_routing]")
{
    S3RoutingConfig config;
    config.proxy_address = "127.0.0.1:41000";
    config.upstream_endpoint = "http://127.0.0.1:9000";
    config.s3_hosts = {"ceph.internal:7480", "*.objects.example", "http://127.0.0.1:9000"};
    std::vector<std::string> warnings;
    auto env = s3_routing_environment(config, k_secret,
                                      env_of({{"AWS_ENDPOINT_URL_S3", "https://KEY:SECRET@minio.example:9443/"},
                                              {"AWS_ENDPOINT_URL", "http://localstack:4566"},
                                              {"S3_ENDPOINT_URL", ""}}),
                                      &warnings);
    REQUIRE(env);
    const auto vars = as_map(*env);
    CHECK(vars.at("ROAR_S3_PROXY") == "127.0.0.1:41000");
    CHECK(vars.at("ROAR_S3_SECRET") == k_secret);
    CHECK(vars.at("ROAR_S3_HOSTS")
          == "http://127.0.0.1:9000,https://minio.example:9443,http://localstack:4566,ceph.internal:7480,"
             "*.objects.example");
    CHECK(vars.count("ROAR_S3_TLS") == 0);
    CHECK(warnings.empty());
}

TEST_CASE("intercept_tls sets ROAR_S3_TLS and no variables give an empty host list", "[collector][s3_routing]")
{
    S3RoutingConfig config;
    config.proxy_address = "127.0.0.1:41000";
    config.intercept_tls = true;
    auto env = s3_routing_environment(config, k_secret, env_of({}));
    REQUIRE(env);
    const auto vars = as_map(*env);
    CHECK(vars.at("ROAR_S3_TLS") == "1");
    CHECK(vars.at("ROAR_S3_HOSTS").empty());
}

TEST_CASE("a user variable without a usable URL is skipped with a warning", "[collector][s3_routing]")
{
    S3RoutingConfig config;
    config.proxy_address = "127.0.0.1:41000";
    std::vector<std::string> warnings;
    auto env =
        s3_routing_environment(config, k_secret, env_of({{"AWS_ENDPOINT_URL", "ftp://files.example"}}), &warnings);
    REQUIRE(env);
    CHECK(as_map(*env).at("ROAR_S3_HOSTS").empty());
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("AWS_ENDPOINT_URL") != std::string::npos);
}

TEST_CASE("invalid configuration is refused with the key named", "[collector][s3_routing]")
{
    S3RoutingConfig config;
    config.proxy_address = "127.0.0.1:41000";
    config.s3_hosts = {"user@minio"};
    auto env = s3_routing_environment(config, k_secret, env_of({}));
    REQUIRE_FALSE(env);
    CHECK(env.error().message.find("proxy.s3_hosts: 'user@minio'") != std::string::npos);

    config.s3_hosts.clear();
    config.upstream_endpoint = "http://";
    env = s3_routing_environment(config, k_secret, env_of({}));
    REQUIRE_FALSE(env);
    CHECK(env.error().message.find("proxy.upstream_endpoint") != std::string::npos);

    config.upstream_endpoint.clear();
    CHECK_FALSE(s3_routing_environment(config, "not-hex", env_of({})));
    config.proxy_address = "localhost:1";
    CHECK_FALSE(s3_routing_environment(config, k_secret, env_of({})));

    config.proxy_address = "127.0.0.1:41000";
    for (int i = 0; i < 33; ++i) {
        config.s3_hosts.push_back("h" + std::to_string(i));
    }
    env = s3_routing_environment(config, k_secret, env_of({}));
    REQUIRE_FALSE(env);
    CHECK(env.error().message.find("at most 32") != std::string::npos);
}

TEST_CASE("endpoint URLs become scheme and authority", "[collector][s3_routing]")
{
    CHECK(*s3_host_entry_of_url("https://s3.us-west-2.amazonaws.com") == "https://s3.us-west-2.amazonaws.com");
    CHECK(*s3_host_entry_of_url("HTTP://[::1]:9000/bucket?x") == "http://[::1]:9000");
    CHECK(*s3_host_entry_of_url("minio:9000") == "minio:9000");
    CHECK_FALSE(s3_host_entry_of_url("s3://bucket/key"));
    CHECK_FALSE(s3_host_entry_of_url("https:///path"));
    CHECK(check_s3_host_entry("minio:9000"));
    CHECK_FALSE(check_s3_host_entry("a,b"));
}

TEST_CASE("each job secret is 64 fresh lowercase hex characters", "[collector][s3_routing]")
{
    auto a = new_s3_route_secret();
    auto b = new_s3_route_secret();
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->size() == 64);
    CHECK(a->find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(*a != *b);
}
