// The ptrace tracer's S3 routing rules (collector/src/tracer/connect_route):
// the job's ROAR_S3_* parsed as the shim parses them, names learned from a
// hosts file, which destinations route (literal entries, known names,
// never the proxy itself), the PROXY v2 header it writes (decoded back with
// proxy_header.h), and redirect_socket on real loopback sockets: a
// blocking and a non-blocking socket end connected to the proxy with the
// header as their first bytes, and a proxy that is gone leaves the socket
// to connect where it asked.
#include "connect_route.hpp"

#include "roar/collector/proxy_header.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

using namespace roar::collector::tracer;

namespace {

const std::string k_secret(64, 'a');

RouteConfig config_for(const std::string& proxy, const std::string& hosts, const std::string& tls = "")
{
    auto config = parse_route_config(proxy, k_secret, hosts, tls);
    REQUIRE(config);
    return *config;
}

Destination v4(const char* ip, uint16_t port)
{
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    REQUIRE(inet_pton(AF_INET, ip, &in.sin_addr) == 1);
    auto d = destination_of(&in, sizeof in);
    REQUIRE(d);
    return *d;
}

Destination v6(const char* ip, uint16_t port)
{
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    REQUIRE(inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1);
    auto d = destination_of(&in6, sizeof in6);
    REQUIRE(d);
    return *d;
}

// A loopback listener on a kernel-chosen port.
struct Listener {
    int fd = -1;
    uint16_t port = 0;
    Listener()
    {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_in in{};
        in.sin_family = AF_INET;
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) == 0);
        REQUIRE(listen(fd, 8) == 0);
        socklen_t len = sizeof in;
        REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len) == 0);
        port = ntohs(in.sin_port);
    }
    ~Listener() { close(fd); }
    // Accepts one connection and reads what it starts with (up to `max` bytes).
    std::string first_bytes(size_t max)
    {
        const int c = accept(fd, nullptr, nullptr);
        REQUIRE(c >= 0);
        std::string got;
        char buf[1024];
        while (got.size() < max) {
            pollfd p{c, POLLIN, 0};
            if (poll(&p, 1, 2000) <= 0) {
                break;
            }
            const ssize_t n = read(c, buf, std::min(sizeof buf, max - got.size()));
            if (n <= 0) {
                break;
            }
            got.append(buf, size_t(n));
        }
        close(c);
        return got;
    }
};

} // namespace

TEST_CASE("routing is off without a proxy, and refuses a malformed proxy or secret", "[collector][tracer][route]")
{
    auto off = parse_route_config("", "", "127.0.0.1:9000", "");
    REQUIRE(off);
    CHECK_FALSE(off->on);
    CHECK(decide_route(*off, v4("127.0.0.1", 9000)).verdict == ROAR_S3_NO_MATCH);
    CHECK_FALSE(parse_route_config("localhost:9000", k_secret, "", ""));
    CHECK_FALSE(parse_route_config("127.0.0.1", k_secret, "", ""));
    CHECK_FALSE(parse_route_config("127.0.0.1:1", "abc", "", ""));
    CHECK_FALSE(parse_route_config("127.0.0.1:1", std::string(64, 'A'), "", ""));
    const RouteConfig on = config_for("127.0.0.1:1", "127.0.0.1:9000,bad entry", "1");
    CHECK(on.on);
    CHECK(on.tls);
    CHECK(on.routes.count == 1);
    CHECK(on.routes.rejected == 1);
}

TEST_CASE("literal ip:port entries route; other ports, hosts and the proxy do not", "[collector][tracer][route]")
{
    const RouteConfig c = config_for("127.0.0.1:7000", "127.0.0.1:9000,[::1]:9001,10.0.0.5,https://10.0.0.6:8443");
    CHECK(decide_route(c, v4("127.0.0.1", 9000)).verdict == ROAR_S3_PLAIN);
    CHECK(decide_route(c, v4("127.0.0.1", 9000)).name.empty());
    CHECK(decide_route(c, v4("127.0.0.1", 9002)).verdict == ROAR_S3_NO_MATCH);
    CHECK(decide_route(c, v4("127.0.0.2", 9000)).verdict == ROAR_S3_NO_MATCH);
    CHECK(decide_route(c, v6("::1", 9001)).verdict == ROAR_S3_PLAIN);
    CHECK(decide_route(c, v6("::ffff:127.0.0.1", 9000)).verdict == ROAR_S3_PLAIN); // mapped = IPv4
    CHECK(decide_route(c, v4("10.0.0.5", 80)).verdict == ROAR_S3_PLAIN);
    CHECK(decide_route(c, v4("10.0.0.5", 443)).verdict == ROAR_S3_TLS);
    CHECK(decide_route(c, v4("10.0.0.6", 8443)).verdict == ROAR_S3_TLS);
    CHECK(decide_route(c, v4("127.0.0.1", 7000)).verdict == ROAR_S3_NO_MATCH); // the proxy itself
    const RouteConfig all = config_for("127.0.0.1:7000", "127.0.0.1");
    CHECK(decide_route(all, v4("127.0.0.1", 7000)).verdict == ROAR_S3_NO_MATCH);
    CHECK(decide_route(all, v4("127.0.0.1", 7001)).verdict == ROAR_S3_PLAIN);
}

TEST_CASE("names the rules match are learned from the hosts file and route by address", "[collector][tracer][route]")
{
    RouteConfig c = config_for("127.0.0.1:7000", "minio.local:9000,*.store.internal");
    const char* hosts = "# a comment\n"
                        "127.0.0.1\tlocalhost\n"
                        "10.1.2.3 minio.local minio   # MinIO\n"
                        "10.1.2.4 a.store.internal\n"
                        "::1 ip6-localhost\n"
                        "10.9.9.9 s3.eu-west-1.amazonaws.com sts.amazonaws.com\n"
                        "not-an-address minio.local\n"
                        "10.1.2.5\n";
    CHECK(learn_hosts_file(c, hosts) == 3);
    const RouteDecision minio = decide_route(c, v4("10.1.2.3", 9000));
    CHECK(minio.verdict == ROAR_S3_PLAIN);
    CHECK(minio.name == "minio.local");
    CHECK(decide_route(c, v4("10.1.2.3", 9001)).verdict == ROAR_S3_NO_MATCH); // the entry names port 9000
    const RouteDecision store = decide_route(c, v4("10.1.2.4", 1234));
    CHECK(store.verdict == ROAR_S3_PLAIN);
    CHECK(store.name == "a.store.internal");
    // A built-in S3 name (ports 80 and 443 only); STS never.
    CHECK(decide_route(c, v4("10.9.9.9", 443)).verdict == ROAR_S3_TLS);
    CHECK(decide_route(c, v4("10.9.9.9", 443)).name == "s3.eu-west-1.amazonaws.com");
    CHECK(decide_route(c, v4("10.9.9.9", 8080)).verdict == ROAR_S3_NO_MATCH);
    CHECK(decide_route(c, v4("127.0.0.1", 9000)).verdict == ROAR_S3_NO_MATCH); // localhost is not listed
}

TEST_CASE("an address entry's match carries a known name as the authority", "[collector][tracer][route]")
{
    RouteConfig c = config_for("127.0.0.1:7000", "127.0.0.1:9000,localhost:9000");
    learn_hosts_file(c, "127.0.0.1 localhost\n");
    const RouteDecision d = decide_route(c, v4("127.0.0.1", 9000));
    CHECK(d.verdict == ROAR_S3_PLAIN);
    CHECK(d.name == "localhost");
}

TEST_CASE("destinations of other families or short addresses are not TCP/IP", "[collector][tracer][route]")
{
    sockaddr_in in{};
    in.sin_family = AF_INET;
    CHECK_FALSE(destination_of(&in, sizeof in - 1));
    sockaddr_storage unix_addr{};
    unix_addr.ss_family = AF_UNIX;
    CHECK_FALSE(destination_of(&unix_addr, sizeof unix_addr));
    CHECK_FALSE(destination_of(nullptr, 0));
}

TEST_CASE("the proxy's address fits the socket's family", "[collector][tracer][route]")
{
    sockaddr_storage out{};
    const RouteConfig c4 = config_for("127.0.0.1:7000", "");
    REQUIRE(proxy_sockaddr(c4, AF_INET, out) == sizeof(sockaddr_in));
    CHECK(ntohs(reinterpret_cast<sockaddr_in*>(&out)->sin_port) == 7000);
    REQUIRE(proxy_sockaddr(c4, AF_INET6, out) == sizeof(sockaddr_in6));
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&out)->sin6_addr, text, sizeof text);
    CHECK(std::string(text) == "::ffff:127.0.0.1");
    const RouteConfig c6 = config_for("[::1]:7000", "");
    CHECK(proxy_sockaddr(c6, AF_INET, out) == 0);
    CHECK(proxy_sockaddr(c6, AF_INET6, out) == sizeof(sockaddr_in6));
    CHECK(proxy_sockaddr(c6, AF_UNIX, out) == 0);
}

TEST_CASE("the header names the original destination, the authority, the secret, the pid and TLS",
          "[collector][tracer][route]")
{
    RouteConfig c = config_for("127.0.0.1:7000", "minio.local:9000,https://[::1]:9443");
    learn_hosts_file(c, "10.1.2.3 minio.local\n");
    const Destination dest = v4("10.1.2.3", 9000);
    sockaddr_storage local{};
    auto* in = reinterpret_cast<sockaddr_in*>(&local);
    in->sin_family = AF_INET;
    in->sin_port = htons(40000);
    inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
    const auto header = route_header(c, dest, decide_route(c, dest), local, sizeof(sockaddr_in), 4242);
    REQUIRE_FALSE(header.empty());
    roar_pp2 h{};
    REQUIRE(roar_pp2_decode(header.data(), header.size(), &h) == long(header.size()));
    CHECK(h.ipv6 == 0);
    CHECK(h.dst_port == 9000);
    CHECK(std::memcmp(h.dst_addr, dest.addr, 4) == 0);
    CHECK(h.src_port == 40000);
    CHECK(std::string(h.authority, h.authority_len) == "minio.local");
    CHECK(h.has_secret);
    CHECK(std::string(h.secret) == k_secret);
    CHECK(h.pid == 4242);
    CHECK(h.flags == 0);

    // IPv6 destination, IPv4 source (mapped), TLS, no name.
    const Destination d6 = v6("::1", 9443);
    const auto h6bytes = route_header(c, d6, decide_route(c, d6), local, sizeof(sockaddr_in), 7);
    roar_pp2 h6{};
    REQUIRE(roar_pp2_decode(h6bytes.data(), h6bytes.size(), &h6) > 0);
    CHECK(h6.ipv6 == 1);
    CHECK(h6.authority_len == 0);
    CHECK(h6.flags == ROAR_PP2_FLAG_TLS);
    CHECK(h6.src_addr[10] == 0xff);
    CHECK(h6.src_addr[12] == 127);
}

TEST_CASE("notes name the host by name when known, else by address", "[collector][tracer][route]")
{
    RouteDecision named;
    named.name = "minio.local";
    CHECK(route_note(v4("10.1.2.3", 443), named, "S3 over TLS to ", " not observed")
          == "S3 over TLS to minio.local not observed");
    CHECK(route_note(v6("::1", 443), RouteDecision{}, "to ", "") == "to ::1");
}

TEST_CASE("redirect_socket connects to the proxy and writes the header first", "[collector][tracer][route]")
{
    Listener proxy;
    const RouteConfig c = config_for("127.0.0.1:" + std::to_string(proxy.port), "127.0.0.1:9000");
    const Destination dest = v4("127.0.0.1", 9000);
    const RouteDecision decision = decide_route(c, dest);
    REQUIRE(decision.verdict == ROAR_S3_PLAIN);
    for (const bool nonblocking : {false, true}) {
        INFO("non-blocking: " << nonblocking);
        const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
        REQUIRE(s >= 0);
        const RedirectResult r = redirect_socket(s, AF_INET, c, dest, decision, 99);
        CHECK(r.outcome == RedirectOutcome::redirected);
        CHECK(r.result == (nonblocking ? -EINPROGRESS : 0));
        CHECK(bool(fcntl(s, F_GETFL) & O_NONBLOCK) == nonblocking); // the flags are as they were
        int err = -1;
        socklen_t len = sizeof err;
        REQUIRE(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0);
        CHECK(err == 0);
        REQUIRE(write(s, "GET / HTTP/1.1\r\n", 16) == 16);
        const std::string got = proxy.first_bytes(4096);
        roar_pp2 h{};
        const long n = roar_pp2_decode(reinterpret_cast<const unsigned char*>(got.data()), got.size(), &h);
        REQUIRE(n > 0);
        CHECK(h.pid == 99);
        CHECK(h.dst_port == 9000);
        CHECK(got.substr(size_t(n)) == "GET / HTTP/1.1\r\n");
        close(s);
    }
}

TEST_CASE("redirect_socket leaves the socket alone when the proxy is gone, and says when it is connected",
          "[collector][tracer][route]")
{
    uint16_t gone_port = 0;
    {
        Listener gone;
        gone_port = gone.port;
    }
    const RouteConfig c = config_for("127.0.0.1:" + std::to_string(gone_port), "127.0.0.1:9000");
    const Destination dest = v4("127.0.0.1", 9000);
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(s >= 0);
    CHECK(redirect_socket(s, AF_INET, c, dest, decide_route(c, dest), 1).outcome == RedirectOutcome::unreachable);
    // The socket can still connect where the program asked (here: a listener).
    Listener real;
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(real.port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(s, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
    // Connected already: a second connect is refused the way the kernel refuses it.
    Listener proxy;
    const RouteConfig c2 = config_for("127.0.0.1:" + std::to_string(proxy.port), "127.0.0.1:9000");
    const RedirectResult again = redirect_socket(s, AF_INET, c2, dest, decide_route(c2, dest), 1);
    CHECK(again.outcome == RedirectOutcome::failed);
    CHECK(again.result == -EISCONN);
    close(s);
    // An IPv4 socket cannot reach an IPv6 proxy.
    const RouteConfig c6 = config_for("[::1]:" + std::to_string(proxy.port), "127.0.0.1:9000");
    const int s4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(redirect_socket(s4, AF_INET, c6, dest, decide_route(c6, dest), 1).outcome == RedirectOutcome::unreachable);
    close(s4);
}
