// The S3 routing environment of a job (issue 17): the ROAR_S3_* variables
// that tell the shim (and the ptrace tracer) which connections go to the
// job's roar-proxy, computed from roar.toml's proxy keys and the endpoint
// variables the user set. The syntax of a host entry and the matching are
// s3_route.h's; this file only gathers the entries and the secret.
#pragma once

#include "roar/collector/result.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

struct S3RoutingConfig {
    std::string proxy_address;         // "127.0.0.1:PORT": where the job's roar-proxy listens
    std::string upstream_endpoint;     // proxy.upstream_endpoint ("" when unset)
    std::vector<std::string> s3_hosts; // proxy.s3_hosts
    bool intercept_tls = false;        // proxy.intercept_tls
};

// A fresh per-job secret: 32 random bytes (getrandom) as 64 lowercase hex
// characters.
Result<std::string> new_s3_route_secret();

// Checks one proxy.s3_hosts entry (`host`, `host:port`, `*.suffix`, `ip`,
// `ip:port`, `[v6]:port`, optionally `http://` or `https://`); the error
// names the entry and the accepted forms.
Result<void> check_s3_host_entry(std::string_view entry);

// The ROAR_S3_HOSTS entry of an endpoint URL such as
// "https://user@minio.example:9000/path": its scheme and authority
// ("https://minio.example:9000"), user info and path dropped.
Result<std::string> s3_host_entry_of_url(std::string_view url);

// The user's endpoint variables whose hosts are routed when set.
inline constexpr const char* k_s3_endpoint_variables[] = {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "S3_ENDPOINT_URL"};

// The job's routing variables as "NAME=value": ROAR_S3_PROXY (from
// `config.proxy_address`), ROAR_S3_SECRET (`secret`: 64 lowercase hex),
// ROAR_S3_HOSTS (the host of config.upstream_endpoint, then the hosts of
// the variables in k_s3_endpoint_variables that `user_env` sets, then
// config.s3_hosts; each once), and ROAR_S3_TLS=1 when config.intercept_tls.
// `user_env(name)` returns the user's value or nullptr. A user variable
// holding no usable URL is skipped with a line in `warnings` (may be null):
// the job still runs, those calls are not routed. Fails on an invalid
// proxy address, secret, upstream endpoint or s3_hosts entry, or more
// entries than the shim holds (32).
Result<std::vector<std::string>> s3_routing_environment(const S3RoutingConfig& config, std::string_view secret,
                                                        const std::function<const char*(const char*)>& user_env,
                                                        std::vector<std::string>* warnings = nullptr);

} // namespace roar::collector
