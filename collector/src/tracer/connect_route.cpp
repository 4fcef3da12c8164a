// S3 routing of traced programs (see connect_route.hpp).
#include "connect_route.hpp"

#include "roar/collector/proxy_header.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace roar::collector::tracer {

namespace {

constexpr uint8_t k_v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// The tracer thread serves every tracee: a loopback connect or a header
// write that does not finish in this long is given up (SO_SNDTIMEO).
constexpr int k_wait_ms = 5000;

bool is_proxy(const RouteConfig& config, const Destination& d)
{
    const roar_s3_entry& p = config.proxy;
    return d.port == p.port && d.addr_len == (p.kind == ROAR_S3_IP4 ? 4u : 16u)
           && std::memcmp(d.addr, p.addr, d.addr_len) == 0;
}

// Splits `text` at blanks (spaces, tabs).
std::vector<std::string_view> words(std::string_view text)
{
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')) {
            ++i;
        }
        const size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\r') {
            ++i;
        }
        if (i > start) {
            out.push_back(text.substr(start, i - start));
        }
    }
    return out;
}

} // namespace

Result<RouteConfig> parse_route_config(std::string_view proxy, std::string_view secret, std::string_view hosts,
                                       std::string_view tls)
{
    RouteConfig config;
    if (proxy.empty()) {
        return config;
    }
    roar_s3_entry p{};
    if (roar_s3_parse_entry(proxy.data(), proxy.size(), &p) != 0 || (p.kind != ROAR_S3_IP4 && p.kind != ROAR_S3_IP6)
        || p.port == 0 || p.scheme != ROAR_S3_SCHEME_NONE) {
        return fail("{} is not an address with a port: \"{}\"", ROAR_ENV_S3_PROXY, proxy);
    }
    if (secret.size() != ROAR_PP2_SECRET_LEN || !roar_pp2_is_hex(secret.data(), secret.size())) {
        return fail("{} is not {} lowercase hex characters", ROAR_ENV_S3_SECRET, ROAR_PP2_SECRET_LEN);
    }
    config.proxy = p;
    config.secret = std::string(secret);
    const std::string list(hosts);
    roar_s3_routes_parse(&config.routes, list.c_str());
    config.tls = tls == "1";
    config.on = true;
    return config;
}

size_t learn_hosts_file(RouteConfig& config, std::string_view text)
{
    size_t added = 0;
    while (!text.empty()) {
        const size_t eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        const auto w = words(line);
        if (w.size() < 2) {
            continue;
        }
        RouteConfig::KnownName known;
        uint8_t v6[16];
        if (roar_s3_parse_ip(AF_INET, w[0].data(), w[0].size(), known.addr) == 0) {
            known.addr_len = 4;
        } else if (roar_s3_parse_ip(AF_INET6, w[0].data(), w[0].size(), v6) == 0) {
            if (std::memcmp(v6, k_v4_mapped, sizeof k_v4_mapped) == 0) {
                std::memcpy(known.addr, v6 + 12, 4);
                known.addr_len = 4;
            } else {
                std::memcpy(known.addr, v6, 16);
                known.addr_len = 16;
            }
        } else {
            continue;
        }
        for (size_t i = 1; i < w.size(); ++i) {
            if (roar_s3_match_name(&config.routes, w[i].data(), w[i].size(), 0) == ROAR_S3_NO_MATCH) {
                continue;
            }
            RouteConfig::KnownName entry = known;
            entry.name = std::string(w[i]);
            if (!entry.name.empty() && entry.name.back() == '.') {
                entry.name.pop_back();
            }
            config.known.push_back(std::move(entry));
            ++added;
        }
    }
    return added;
}

std::optional<Destination> destination_of(const void* sa, size_t len)
{
    if (!sa || len < sizeof(sa_family_t)) {
        return std::nullopt;
    }
    sa_family_t family = 0;
    std::memcpy(&family, sa, sizeof family);
    Destination d;
    d.family = family;
    if (family == AF_INET && len >= sizeof(sockaddr_in)) {
        sockaddr_in in{};
        std::memcpy(&in, sa, sizeof in);
        std::memcpy(d.addr, &in.sin_addr, 4);
        d.addr_len = 4;
        d.port = ntohs(in.sin_port);
        return d;
    }
    if (family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, sa, sizeof in6);
        const auto* b = reinterpret_cast<const uint8_t*>(&in6.sin6_addr);
        if (std::memcmp(b, k_v4_mapped, sizeof k_v4_mapped) == 0) {
            std::memcpy(d.addr, b + 12, 4);
            d.addr_len = 4;
        } else {
            std::memcpy(d.addr, b, 16);
            d.addr_len = 16;
        }
        d.port = ntohs(in6.sin6_port);
        return d;
    }
    return std::nullopt;
}

RouteDecision decide_route(const RouteConfig& config, const Destination& dest)
{
    RouteDecision decision;
    if (!config.on || dest.port == 0 || is_proxy(config, dest)) {
        return decision;
    }
    decision.verdict = roar_s3_match_addr(&config.routes, dest.addr, dest.addr_len, dest.port);
    for (const auto& known : config.known) {
        if (known.addr_len != dest.addr_len || std::memcmp(known.addr, dest.addr, dest.addr_len) != 0) {
            continue;
        }
        const int verdict = roar_s3_match_name(&config.routes, known.name.data(), known.name.size(), dest.port);
        if (verdict == ROAR_S3_NO_MATCH) {
            continue;
        }
        if (decision.verdict == ROAR_S3_NO_MATCH) {
            decision.verdict = verdict;
        }
        decision.name = known.name; // the authority, also for an address entry's match
        break;
    }
    return decision;
}

socklen_t proxy_sockaddr(const RouteConfig& config, int family, sockaddr_storage& out)
{
    std::memset(&out, 0, sizeof out);
    const roar_s3_entry& p = config.proxy;
    if (family == AF_INET) {
        if (p.kind != ROAR_S3_IP4) {
            return 0;
        }
        auto* in = reinterpret_cast<sockaddr_in*>(&out);
        in->sin_family = AF_INET;
        in->sin_port = htons(p.port);
        std::memcpy(&in->sin_addr, p.addr, 4);
        return sizeof(sockaddr_in);
    }
    if (family != AF_INET6) {
        return 0;
    }
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(p.port);
    auto* b = reinterpret_cast<uint8_t*>(&in6->sin6_addr);
    if (p.kind == ROAR_S3_IP4) {
        std::memcpy(b, k_v4_mapped, sizeof k_v4_mapped);
        std::memcpy(b + 12, p.addr, 4);
    } else {
        std::memcpy(b, p.addr, 16);
    }
    return sizeof(sockaddr_in6);
}

std::vector<unsigned char> route_header(const RouteConfig& config, const Destination& dest,
                                        const RouteDecision& decision, const sockaddr_storage& local,
                                        socklen_t local_len, uint32_t pid)
{
    roar_pp2 h{};
    h.ipv6 = dest.addr_len == 16;
    std::memcpy(h.dst_addr, dest.addr, dest.addr_len);
    h.dst_port = dest.port;
    if (local_len > 0) {
        if (auto src = destination_of(&local, local_len)) {
            if (src->addr_len == dest.addr_len) {
                std::memcpy(h.src_addr, src->addr, src->addr_len);
                h.src_port = src->port;
            } else if (h.ipv6) { // an IPv4 source in an IPv6 header: mapped
                std::memcpy(h.src_addr, k_v4_mapped, sizeof k_v4_mapped);
                std::memcpy(h.src_addr + 12, src->addr, 4);
                h.src_port = src->port;
            }
        }
    }
    if (!decision.name.empty() && roar_pp2_valid_authority(decision.name.data(), decision.name.size())) {
        std::memcpy(h.authority, decision.name.data(), decision.name.size());
        h.authority_len = uint16_t(decision.name.size());
    }
    if (config.secret.size() != ROAR_PP2_SECRET_LEN) {
        return {};
    }
    std::memcpy(h.secret, config.secret.data(), ROAR_PP2_SECRET_LEN);
    h.has_secret = 1;
    h.pid = pid;
    h.has_pid = 1;
    h.flags = decision.verdict == ROAR_S3_TLS ? ROAR_PP2_FLAG_TLS : 0;
    h.has_flags = 1;
    std::vector<unsigned char> buf(ROAR_PP2_MAX_HEADER);
    const long n = roar_pp2_encode(&h, buf.data(), buf.size());
    if (n <= 0) {
        return {};
    }
    buf.resize(size_t(n));
    return buf;
}

std::string route_note(const Destination& dest, const RouteDecision& decision, std::string_view before,
                       std::string_view after)
{
    std::string host = decision.name;
    if (host.empty()) {
        char ip[INET6_ADDRSTRLEN] = "";
        inet_ntop(dest.addr_len == 4 ? AF_INET : AF_INET6, dest.addr, ip, sizeof ip);
        host = ip;
    }
    std::string text(before);
    text += host;
    text += after;
    return text;
}

RedirectResult redirect_socket(int sock, int family, const RouteConfig& config, const Destination& dest,
                               const RouteDecision& decision, uint32_t pid)
{
    RedirectResult out;
    sockaddr_storage to{};
    const socklen_t to_len = proxy_sockaddr(config, family, to);
    if (to_len == 0) {
        return out; // unreachable from this socket
    }
    const int fl = fcntl(sock, F_GETFL);
    if (fl < 0) {
        return out;
    }
    // A blocking connect and write, bounded by a send timeout (the tracee
    // is stopped; its flags and timeout are restored after). Blocking, so
    // that a refused connect leaves the socket unconnected for the
    // tracee's own connect (after a failed non-blocking connect the next
    // connect on the socket would fail with ECONNABORTED first).
    timeval saved{};
    socklen_t saved_len = sizeof saved;
    const bool had_timeout = getsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &saved, &saved_len) == 0;
    const timeval bound{k_wait_ms / 1000, (k_wait_ms % 1000) * 1000};
    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof bound);
    if (fl & O_NONBLOCK) {
        fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
    }
    int err = 0;
    // EINTR (the tracer thread's kick signal): connecting again waits for
    // the connect under way.
    while (connect(sock, reinterpret_cast<const sockaddr*>(&to), to_len) != 0) {
        if (errno != EINTR) {
            err = errno == EINPROGRESS ? ETIMEDOUT : errno; // EINPROGRESS: the send timeout ran out
            break;
        }
    }
    const bool connected = err == 0;
    if (connected) {
        sockaddr_storage local{};
        socklen_t local_len = sizeof local;
        if (getsockname(sock, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) {
            local_len = 0;
        }
        const auto header = route_header(config, dest, decision, local, local_len, pid);
        err = header.empty() ? EINVAL : 0;
        for (size_t off = 0; err == 0 && off < header.size();) {
            const ssize_t w = send(sock, header.data() + off, header.size() - off, MSG_NOSIGNAL);
            if (w >= 0) {
                off += size_t(w);
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                err = ETIMEDOUT;
            } else if (errno != EINTR) {
                err = errno;
            }
        }
    }
    if (fl & O_NONBLOCK) {
        fcntl(sock, F_SETFL, fl);
    }
    if (had_timeout) {
        setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &saved, sizeof saved);
    }
    if (!connected && (err == ECONNREFUSED || err == ENETUNREACH || err == EADDRNOTAVAIL || err == EAFNOSUPPORT)) {
        return out; // the proxy is gone or out of this socket's reach: the tracee connects as it asked
    }
    if (err != 0) {
        out.outcome = RedirectOutcome::failed;
        out.result = -err;
        return out;
    }
    out.outcome = RedirectOutcome::redirected;
    out.result = (fl & O_NONBLOCK) ? -EINPROGRESS : 0;
    return out;
}

} // namespace roar::collector::tracer
