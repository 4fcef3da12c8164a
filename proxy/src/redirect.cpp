// admit_redirect() and forward_plan(): the proxy's side of S3 routing.
#include "roar/proxy/redirect.hpp"

#include "roar/collector/proxy_header.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <arpa/inet.h>

namespace roar::proxy {

namespace {

std::string ip_text(const roar_pp2& h)
{
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(h.ipv6 ? AF_INET6 : AF_INET, h.dst_addr, buf, sizeof buf);
    return buf;
}

std::string address_text(const roar_pp2& h)
{
    return h.ipv6 ? fmt::format("[{}]:{}", ip_text(h), h.dst_port) : fmt::format("{}:{}", ip_text(h), h.dst_port);
}

// `host` as the host part of a URL: an IPv6 literal in brackets.
std::string url_host(const std::string& host) { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

// Link-local destinations (169.254/16, fe80::/10, and IPv4-mapped forms)
// hold instance metadata services: never reached through a name match.
bool is_link_local(const roar_pp2& h)
{
    const std::uint8_t* a = h.dst_addr;
    if (h.ipv6) {
        static const std::uint8_t k_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(a, k_mapped, 12) == 0) {
            return a[12] == 169 && a[13] == 254;
        }
        return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
    }
    return a[0] == 169 && a[1] == 254;
}

RedirectVerdict refuse(std::string reason)
{
    RedirectVerdict v;
    v.kind = RedirectVerdict::Kind::Refused;
    v.reason = std::move(reason);
    return v;
}

} // namespace

RedirectPolicy RedirectPolicy::from(std::string secret, std::string_view hosts)
{
    RedirectPolicy p;
    p.secret = std::move(secret);
    const std::string list(hosts); // NUL-terminated for the C parser
    roar_s3_routes_parse(&p.routes, list.c_str());
    return p;
}

bool is_loopback_ip(std::string_view ip)
{
    const std::string text(ip);
    unsigned char addr[16];
    if (::inet_pton(AF_INET, text.c_str(), addr) == 1) {
        return addr[0] == 127;
    }
    if (::inet_pton(AF_INET6, text.c_str(), addr) == 1) {
        static const unsigned char k_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static const unsigned char k_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return std::memcmp(addr, k_loop, 16) == 0 || (std::memcmp(addr, k_mapped, 12) == 0 && addr[12] == 127);
    }
    return false;
}

RedirectVerdict admit_redirect(std::string_view bytes, std::string_view peer_ip, const RedirectPolicy& policy)
{
    if (!is_loopback_ip(peer_ip)) {
        return refuse(fmt::format("a PROXY header from {}, which is not a loopback address", peer_ip));
    }
    roar_pp2 h;
    const long n = roar_pp2_decode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), &h);
    if (n == 0) {
        if (bytes.size() >= ROAR_PP2_MAX_HEADER) {
            return refuse("a PROXY header longer than any this proxy accepts");
        }
        return RedirectVerdict{};
    }
    if (n < 0) {
        return refuse("a malformed PROXY v2 header");
    }
    if (policy.secret.size() != ROAR_PP2_SECRET_LEN) {
        return refuse("a PROXY header, but this proxy was started without a job secret (ROAR_S3_SECRET)");
    }
    if (!h.has_secret || !roar_pp2_secret_equal(h.secret, policy.secret.c_str())) {
        return refuse("a PROXY header without this job's secret");
    }
    int verdict = ROAR_S3_NO_MATCH;
    bool by_address = false;
    if (h.authority_len > 0) {
        verdict = roar_s3_match_name(&policy.routes, h.authority, h.authority_len, h.dst_port);
    }
    if (verdict == ROAR_S3_NO_MATCH) {
        verdict = roar_s3_match_addr(&policy.routes, h.dst_addr, h.ipv6 ? 16 : 4, h.dst_port);
        by_address = verdict != ROAR_S3_NO_MATCH;
    }
    const std::string destination = address_text(h);
    const std::string authority(h.authority, h.authority_len);
    if (verdict == ROAR_S3_NO_MATCH) {
        return refuse(fmt::format("a PROXY header naming {}{}, which this job's routing rules do not redirect",
                                  authority.empty() ? "" : authority + " at ", destination));
    }
    if (!by_address && is_link_local(h)) {
        return refuse(fmt::format("a PROXY header naming {} at the link-local address {} (never forwarded unless "
                                  "proxy.s3_hosts lists that address)",
                                  authority, destination));
    }
    RedirectVerdict v;
    v.kind = RedirectVerdict::Kind::Admitted;
    v.consumed = static_cast<std::size_t>(n);
    v.route.mode = ConnectionRoute::Mode::Forward;
    v.route.peer = std::string(peer_ip);
    v.route.pid = h.has_pid ? h.pid : 0;
    v.route.authority = authority;
    v.route.destination = destination;
    v.route.dst_ip = ip_text(h);
    v.route.dst_port = h.dst_port;
    v.route.tls = verdict == ROAR_S3_TLS || (h.has_flags && (h.flags & ROAR_PP2_FLAG_TLS) != 0);
    return v;
}

Decision forward_plan(const RequestHead& head, const ConnectionRoute& route, const HandlerConfig& config)
{
    const std::string request_id = new_request_id();
    const std::string_view path = head.raw_path();
    if (head.target.empty() || head.target.front() != '/') {
        return error_response({400, "InvalidRequest", "roar-proxy forwards only origin-form request targets."},
                              head.target, request_id);
    }

    // Where it goes: the configured upstream, else the original destination.
    std::string base;
    std::string connect_to;
    if (!config.upstream.empty()) {
        const auto ep = parse_endpoint(config.upstream);
        if (!ep) {
            return error_response({500, "InternalError", "roar-proxy's upstream endpoint is not a valid http(s) URL."},
                                  path, request_id);
        }
        base = ep->scheme + "://" + ep->authority();
    } else if (route.tls) {
        if (route.tls_server_name.empty()) {
            // Only reachable by a misconfiguration: TLS bytes are refused
            // before any request unless this proxy terminated them.
            return error_response(
                {501, "NotImplemented", "roar-proxy did not terminate TLS on this connection (proxy.intercept_tls)."},
                path, request_id);
        }
        // The original destination over https, verified as the client
        // would have: the name it asked for, at the address it connected to.
        const std::string host = url_host(route.tls_server_name);
        base = fmt::format("https://{}:{}", host, route.dst_port);
        connect_to = fmt::format("{}:{}:{}", host, route.dst_port, route.destination);
    } else {
        base = "http://" + route.destination;
    }

    ForwardPlan plan;
    plan.connect_to = std::move(connect_to);
    plan.request_id = request_id;
    plan.method = head.method;
    plan.url = base + head.target;

    // What it is, for lineage only: a request the proxy cannot classify is
    // still forwarded.
    const auto query = sigv4::parse_query(head.raw_query()).value_or(std::vector<sigv4::QueryParam>{});
    const std::string decoded_path =
        sigv4::percent_decode(path.empty() ? std::string_view("/") : path).value_or(std::string(path));
    const std::string_view host = head.header("host").value_or(route.authority);
    describe_call(plan, head, host, decoded_path, query);

    // Body framing, as the client sent it.
    if (const auto content_length = head.header("content-length")) {
        const auto n = parse_decimal(*content_length);
        if (!n) {
            return error_response({400, "InvalidArgument", "Content-Length is not a number."}, path, request_id);
        }
        plan.client_length = *n;
        plan.body = *n > 0 ? BodyKind::Plain : BodyKind::None;
    } else if (head.header("transfer-encoding")) {
        plan.client_length = k_unknown_length;
        plan.body = BodyKind::Plain;
    }
    plan.upstream_length = plan.client_length;
    const std::string_view content_sha = head.header("x-amz-content-sha256").value_or("");
    const std::string_view encoding = head.header("content-encoding").value_or("");
    if (content_sha.rfind("STREAMING-", 0) == 0 || to_lower(encoding).find("aws-chunked") != std::string::npos) {
        // aws-chunked passes through as is: its chunk signatures chain from
        // the request's signature, which only the upstream checks. The
        // relay decodes a copy for the BLAKE3.
        plan.hash_decodes_aws_chunked = true;
        plan.hash_trailer = std::string(head.header("x-amz-trailer").value_or(""));
        if (const auto decoded = head.header("x-amz-decoded-content-length")) {
            plan.decoded_length = parse_decimal(*decoded);
        }
    }
    const auto expect = head.header("expect");
    plan.expect_continue = expect && iequals(*expect, "100-continue");

    // Every end-to-end header as sent (Host and Authorization included);
    // the relay sets the framing headers for the body it sends.
    for (const auto& [name, value] : head.headers) {
        std::string lname = to_lower(name);
        if (is_hop_by_hop(lname) || named_in_connection(head, lname) || lname == "expect" || lname == "content-length"
            || lname == "transfer-encoding") {
            continue;
        }
        plan.headers.emplace_back(std::move(lname), value);
    }
    return plan;
}

} // namespace roar::proxy
