// The S3 routing environment of a job (see s3_routing.hpp): the secret,
// URL-to-entry conversion and the ROAR_S3_* variables.
#include "roar/collector/s3_routing.hpp"

#include "roar/collector/proxy_header.h"
#include "roar/collector/s3_route.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <sys/random.h>

namespace roar::collector {

namespace {

constexpr std::string_view k_forms = "host, host:port, *.suffix, ip, ip:port or [v6]:port, optionally with http:// or "
                                     "https://";

bool parses(std::string_view entry)
{
    roar_s3_entry parsed{};
    return roar_s3_parse_entry(entry.data(), entry.size(), &parsed) == 0;
}

} // namespace

Result<std::string> new_s3_route_secret()
{
    unsigned char bytes[32];
    size_t got = 0;
    while (got < sizeof bytes) {
        const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail("cannot read random bytes for the job's S3 routing secret: {}", std::strerror(errno));
        }
        got += size_t(n);
    }
    std::string hex;
    hex.reserve(2 * sizeof bytes);
    for (unsigned char b : bytes) {
        hex += fmt::format("{:02x}", b);
    }
    return hex;
}

Result<void> check_s3_host_entry(std::string_view entry)
{
    if (entry.find(',') != std::string_view::npos || !parses(entry)) {
        return fail("'{}' is not an S3 host entry (expected {})", entry, k_forms);
    }
    return {};
}

Result<std::string> s3_host_entry_of_url(std::string_view url)
{
    std::string_view rest = url;
    std::string scheme;
    if (const size_t sep = rest.find("://"); sep != std::string_view::npos) {
        scheme = std::string(rest.substr(0, sep));
        std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                       [](unsigned char c) { return char(std::tolower(c)); });
        if (scheme != "http" && scheme != "https") {
            return fail("'{}' is not an http:// or https:// URL", url);
        }
        rest.remove_prefix(sep + 3);
    }
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
        rest.remove_prefix(at + 1);
    }
    const std::string entry = scheme.empty() ? std::string(rest) : scheme + "://" + std::string(rest);
    if (rest.empty() || !parses(entry)) {
        return fail("'{}' has no usable host", url);
    }
    return entry;
}

Result<std::vector<std::string>> s3_routing_environment(const S3RoutingConfig& config, std::string_view secret,
                                                        const std::function<const char*(const char*)>& user_env,
                                                        std::vector<std::string>* warnings)
{
    roar_s3_entry proxy{};
    if (roar_s3_parse_entry(config.proxy_address.data(), config.proxy_address.size(), &proxy) != 0
        || (proxy.kind != ROAR_S3_IP4 && proxy.kind != ROAR_S3_IP6) || proxy.port == 0
        || proxy.scheme != ROAR_S3_SCHEME_NONE) {
        return fail("internal error: the job proxy's address '{}' is not ip:port", config.proxy_address);
    }
    if (secret.size() != ROAR_PP2_SECRET_LEN || !roar_pp2_is_hex(secret.data(), secret.size())) {
        return fail("internal error: the S3 routing secret is not 64 lowercase hex characters");
    }
    std::vector<std::string> entries;
    auto add = [&entries](std::string entry) {
        if (std::find(entries.begin(), entries.end(), entry) == entries.end()) {
            entries.push_back(std::move(entry));
        }
    };
    if (!config.upstream_endpoint.empty()) {
        auto entry = s3_host_entry_of_url(config.upstream_endpoint);
        if (!entry) {
            return fail("proxy.upstream_endpoint: {}", entry.error().message);
        }
        add(*entry);
    }
    for (const char* name : k_s3_endpoint_variables) {
        const char* value = user_env ? user_env(name) : nullptr;
        if (!value || !*value) {
            continue;
        }
        auto entry = s3_host_entry_of_url(value);
        if (!entry) {
            if (warnings) {
                warnings->push_back(
                    fmt::format("{}: {}; its S3 calls are not routed to roar-proxy", name, entry.error().message));
            }
            continue;
        }
        add(*entry);
    }
    for (const auto& host : config.s3_hosts) {
        if (auto ok = check_s3_host_entry(host); !ok) {
            return fail("proxy.s3_hosts: {}", ok.error().message);
        }
        add(host);
    }
    if (entries.size() > ROAR_S3_ROUTES_MAX) {
        return fail("{} S3 hosts to route (proxy.upstream_endpoint, the endpoint variables and proxy.s3_hosts); at "
                    "most {} are supported: use '*.suffix' entries",
                    entries.size(), ROAR_S3_ROUTES_MAX);
    }
    std::string hosts;
    for (const auto& entry : entries) {
        hosts += hosts.empty() ? "" : ",";
        hosts += entry;
    }
    std::vector<std::string> env = {
        std::string(ROAR_ENV_S3_PROXY "=") + config.proxy_address,
        std::string(ROAR_ENV_S3_SECRET "=") + std::string(secret),
        std::string(ROAR_ENV_S3_HOSTS "=") + hosts,
    };
    if (config.intercept_tls) {
        env.push_back(ROAR_ENV_S3_TLS "=1");
    }
    return env;
}

} // namespace roar::collector
