// S3 routing in the shim's core (core_net.c) with real loopback sockets:
// a listening socket plays the job's proxy, destinations are addresses
// that are never contacted (redirected) or loopback ports; the resolver is
// faked so names map to fixed addresses.
#include "fake_libc.hpp"

#include "roar/collector/proxy_header.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

using namespace roar::preload::test;

namespace {

const char k_secret[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// A TCP listener on 127.0.0.1 standing in for the job's proxy.
struct Listener {
    int fd = -1;
    uint16_t port = 0;
    Listener()
    {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 16) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port = ntohs(a.sin_port);
    }
    ~Listener()
    {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;
    std::string address() const { return "127.0.0.1:" + std::to_string(port); }
    // Whether a connection is waiting (non-blocking check).
    bool pending() const
    {
        pollfd p{fd, POLLIN, 0};
        return ::poll(&p, 1, 0) == 1;
    }
    // Accepts one connection and decodes its PROXY header; `rest` gets
    // the bytes that followed it (at least `want_rest`).
    roar_pp2 accept_header(std::string& rest, size_t want_rest = 0) const
    {
        const int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        REQUIRE(c >= 0);
        std::string got;
        roar_pp2 h{};
        long n = 0;
        for (int i = 0; i < 100; ++i) {
            n = roar_pp2_decode(reinterpret_cast<const unsigned char*>(got.data()), got.size(), &h);
            if (n != 0 && got.size() >= size_t(n) + want_rest) {
                break;
            }
            char buf[1024];
            const ssize_t r = ::recv(c, buf, sizeof buf, 0);
            REQUIRE(r > 0);
            got.append(buf, size_t(r));
        }
        ::close(c);
        REQUIRE(n > 0);
        rest = got.substr(size_t(n));
        return h;
    }
};

sockaddr_in v4(const char* ip, uint16_t port)
{
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    REQUIRE(inet_pton(AF_INET, ip, &a.sin_addr) == 1);
    return a;
}

sockaddr_in6 v6(const char* ip, uint16_t port)
{
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    REQUIRE(inet_pton(AF_INET6, ip, &a.sin6_addr) == 1);
    return a;
}

std::string ip_of(const uint8_t* addr, bool ipv6)
{
    char buf[INET6_ADDRSTRLEN];
    REQUIRE(inet_ntop(ipv6 ? AF_INET6 : AF_INET, addr, buf, sizeof buf) != nullptr);
    return buf;
}

int connect_core(ShimFixture& f, int fd, const void* addr, socklen_t len)
{
    return roar_core_connect(&f.L, f.S, fd, static_cast<const sockaddr*>(addr), len);
}

// The fake resolver: every name resolves to g_resolve_ip.
std::string g_resolve_ip = "192.0.2.7";
addrinfo g_ai{};
sockaddr_in g_ai_addr{};

int fake_getaddrinfo(const char*, const char*, const addrinfo*, addrinfo** res)
{
    g_ai_addr = v4(g_resolve_ip.c_str(), 0);
    g_ai = addrinfo{};
    g_ai.ai_family = AF_INET;
    g_ai.ai_socktype = SOCK_STREAM;
    g_ai.ai_addr = reinterpret_cast<sockaddr*>(&g_ai_addr);
    g_ai.ai_addrlen = sizeof g_ai_addr;
    *res = &g_ai;
    return 0;
}

struct in_addr g_h_addr;
char* g_h_list[2];

int fake_gethostbyname_r(const char* name, hostent* ret, char*, size_t, hostent** result, int*)
{
    REQUIRE(inet_pton(AF_INET, g_resolve_ip.c_str(), &g_h_addr) == 1);
    g_h_list[0] = reinterpret_cast<char*>(&g_h_addr);
    g_h_list[1] = nullptr;
    *ret = hostent{};
    ret->h_name = const_cast<char*>(name);
    ret->h_addrtype = AF_INET;
    ret->h_length = 4;
    ret->h_addr_list = g_h_list;
    *result = ret;
    return 0;
}

// A fake connect for destinations that must never be contacted directly.
std::vector<std::string> g_direct;
int fake_connect(int, const sockaddr* a, socklen_t)
{
    char buf[INET6_ADDRSTRLEN] = "?";
    uint16_t port = 0;
    if (a->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(a);
        inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
        port = ntohs(in->sin_port);
    }
    g_direct.push_back(std::string(buf) + ":" + std::to_string(port));
    errno = ECONNREFUSED;
    return -1;
}

struct Routed {
    ShimFixture f;
    Listener proxy;
    explicit Routed(const char* hosts, const char* tls = nullptr)
    {
        REQUIRE(roar_s3_setup(f.S, proxy.address().c_str(), k_secret, hosts, tls) == 1);
        f.L.connect = nullptr; // the real calls (resolved on first use)
        f.L.getpeername = nullptr;
        f.L.fcntl = nullptr;
        f.L.getaddrinfo = fake_getaddrinfo;
        f.L.gethostbyname_r = fake_gethostbyname_r;
        g_direct.clear();
        g_resolve_ip = "192.0.2.7";
    }
    void resolve(const char* name)
    {
        addrinfo* res = nullptr;
        REQUIRE(roar_core_getaddrinfo(&f.L, f.S, name, "443", nullptr, &res) == 0);
    }
};

} // namespace

TEST_CASE("with routing off, connect and getpeername are the real calls", "[preload][net]")
{
    ShimFixture f;
    Listener server;
    f.L.connect = nullptr;
    f.L.getpeername = nullptr;
    CHECK(f.S->s3.on == 0);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = v4("127.0.0.1", server.port);
    REQUIRE(connect_core(f, fd, &to, sizeof to) == 0);
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    REQUIRE(roar_core_getpeername(&f.L, f.S, fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0);
    CHECK(ntohs(peer.sin_port) == server.port);
    ::close(fd);
    CHECK(f.events().empty());
}

TEST_CASE("routing is set up only from a literal proxy address and a 64-hex secret", "[preload][net]")
{
    ShimFixture f;
    CHECK(roar_s3_setup(f.S, nullptr, k_secret, "minio:9000", nullptr) == 0);
    CHECK(roar_s3_setup(f.S, "", k_secret, nullptr, nullptr) == 0);
    CHECK(roar_s3_setup(f.S, "localhost:9000", k_secret, nullptr, nullptr) == -1);
    CHECK(roar_s3_setup(f.S, "127.0.0.1", k_secret, nullptr, nullptr) == -1);
    CHECK(roar_s3_setup(f.S, "http://127.0.0.1:9", k_secret, nullptr, nullptr) == -1);
    CHECK(roar_s3_setup(f.S, "127.0.0.1:9", nullptr, nullptr, nullptr) == -1);
    CHECK(roar_s3_setup(f.S, "127.0.0.1:9", "abc", nullptr, nullptr) == -1);
    CHECK(roar_s3_setup(f.S, "127.0.0.1:9", std::string(64, 'G').c_str(), nullptr, nullptr) == -1);
    CHECK(f.S->s3.on == 0);
    roar_s3_report_setup(f.S, -1);
    REQUIRE(f.events_of(ROAR_OP_NOTE).size() == 1);
    CHECK(f.events_of(ROAR_OP_NOTE)[0].h.flags == ROAR_NOTE_NETWORK);
    CHECK(roar_s3_setup(f.S, "[::1]:9", k_secret, "a,user@bad,b", "1") == 1);
    CHECK(f.S->s3.on == 1);
    CHECK(f.S->s3.tls == 1);
    CHECK(f.S->s3.routes.count == 2);
    roar_s3_report_setup(f.S, 1);
    CHECK(f.events_of(ROAR_OP_NOTE).size() == 2);
}

TEST_CASE("a blocking connect to a listed address reaches the proxy behind a PROXY v2 header", "[preload][net]")
{
    Routed r("192.0.2.1:9000");
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = v4("192.0.2.1", 9000);
    errno = 42;
    REQUIRE(connect_core(r.f, fd, &to, sizeof to) == 0);
    CHECK(errno == 42);
    REQUIRE(::send(fd, "hello", 5, 0) == 5);
    std::string rest;
    const roar_pp2 h = r.proxy.accept_header(rest, 5);
    CHECK(rest == "hello");
    CHECK(h.ipv6 == 0);
    CHECK(ip_of(h.dst_addr, false) == "192.0.2.1");
    CHECK(h.dst_port == 9000);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0);
    CHECK(ip_of(h.src_addr, false) == "127.0.0.1");
    CHECK(h.src_port == ntohs(local.sin_port));
    CHECK(h.has_secret == 1);
    CHECK(std::string(h.secret) == k_secret);
    CHECK(h.has_pid == 1);
    CHECK(h.pid == 1000);
    CHECK(h.has_flags == 1);
    CHECK(h.flags == 0);
    CHECK(h.authority_len == 0);
    // getpeername answers the original destination.
    sockaddr_in peer{};
    len = sizeof peer;
    REQUIRE(roar_core_getpeername(&r.f.L, r.f.S, fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0);
    CHECK(len == sizeof peer);
    CHECK(ip_of(reinterpret_cast<uint8_t*>(&peer.sin_addr), false) == "192.0.2.1");
    CHECK(ntohs(peer.sin_port) == 9000);
    ::close(fd);
}

TEST_CASE("a non-blocking connect looks like an ordinary one: EINPROGRESS, writable, SO_ERROR 0", "[preload][net]")
{
    Routed r("192.0.2.1:9000");
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const sockaddr_in to = v4("192.0.2.1", 9000);
    CHECK(connect_core(r.f, fd, &to, sizeof to) == -1);
    CHECK(errno == EINPROGRESS);
    CHECK((::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
    pollfd p{fd, POLLOUT, 0};
    REQUIRE(::poll(&p, 1, 1000) == 1);
    int err = -1;
    socklen_t len = sizeof err;
    REQUIRE(::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0);
    CHECK(err == 0);
    // A second connect, as some callers do to learn the outcome.
    CHECK(connect_core(r.f, fd, &to, sizeof to) == -1);
    CHECK(errno == EISCONN);
    std::string rest;
    const roar_pp2 h = r.proxy.accept_header(rest);
    CHECK(h.dst_port == 9000);
    CHECK_FALSE(r.proxy.pending()); // one header, one connection
    ::close(fd);
}

TEST_CASE("an IPv6 connect is redirected through the IPv4-mapped proxy address with an IPv6 header", "[preload][net]")
{
    Routed r("[2001:db8::5]:9000");
    const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    const sockaddr_in6 to = v6("2001:db8::5", 9000);
    REQUIRE(connect_core(r.f, fd, &to, sizeof to) == 0);
    std::string rest;
    const roar_pp2 h = r.proxy.accept_header(rest);
    CHECK(h.ipv6 == 1);
    CHECK(ip_of(h.dst_addr, true) == "2001:db8::5");
    CHECK(ip_of(h.src_addr, true) == "::ffff:127.0.0.1");
    sockaddr_in6 peer{};
    socklen_t len = sizeof peer;
    REQUIRE(roar_core_getpeername(&r.f.L, r.f.S, fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0);
    CHECK(ip_of(reinterpret_cast<uint8_t*>(&peer.sin6_addr), true) == "2001:db8::5");
    // A buffer too small gets the truncated address and the full length.
    sockaddr_in small{};
    len = sizeof small;
    REQUIRE(roar_core_getpeername(&r.f.L, r.f.S, fd, reinterpret_cast<sockaddr*>(&small), &len) == 0);
    CHECK(len == sizeof(sockaddr_in6));
    ::close(fd);
}

TEST_CASE("UDP and Unix sockets, unlisted destinations and the proxy itself are untouched", "[preload][net]")
{
    Routed r("127.0.0.1");
    const sockaddr_in listed = v4("127.0.0.1", 9);
    const int udp = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(connect_core(r.f, udp, &listed, sizeof listed) == 0);
    sockaddr_in peer{};
    socklen_t len = sizeof peer;
    REQUIRE(roar_core_getpeername(&r.f.L, r.f.S, udp, reinterpret_cast<sockaddr*>(&peer), &len) == 0);
    CHECK(ntohs(peer.sin_port) == 9);
    ::close(udp);

    const std::string path = "/tmp/roar-test-net-" + std::to_string(::getpid());
    const int ls = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::strncpy(un.sun_path, path.c_str(), sizeof un.sun_path - 1);
    ::unlink(path.c_str());
    REQUIRE(::bind(ls, reinterpret_cast<sockaddr*>(&un), sizeof un) == 0);
    REQUIRE(::listen(ls, 1) == 0);
    const int us = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(connect_core(r.f, us, &un, sizeof un) == 0);
    ::close(us);
    ::close(ls);
    ::unlink(path.c_str());

    // The proxy's own address matches "127.0.0.1" but is never redirected.
    const int direct = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in proxy = v4("127.0.0.1", r.proxy.port);
    REQUIRE(connect_core(r.f, direct, &proxy, sizeof proxy) == 0);
    REQUIRE(::send(direct, "GET", 3, 0) == 3);
    const int c = ::accept4(r.proxy.fd, nullptr, nullptr, SOCK_CLOEXEC);
    char buf[8] = {};
    REQUIRE(::recv(c, buf, sizeof buf, 0) == 3);
    CHECK(std::string(buf) == "GET");
    ::close(c);
    ::close(direct);

    // An unlisted destination goes where it was asked to (here: refused).
    Routed other("192.0.2.1:9000");
    const int tcp = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    other.f.L.connect = fake_connect;
    const sockaddr_in unlisted = v4("127.0.0.1", 9000);
    CHECK(connect_core(other.f, tcp, &unlisted, sizeof unlisted) == -1);
    CHECK(errno == ECONNREFUSED);
    CHECK(g_direct == std::vector<std::string>{"127.0.0.1:9000"});
    ::close(tcp);
    CHECK_FALSE(r.proxy.pending());
    CHECK_FALSE(other.proxy.pending());
    CHECK(r.f.events().empty());
}

TEST_CASE("a name resolved to an address routes a connect to it, with the name as authority", "[preload][net]")
{
    Routed r("minio:9000");
    r.resolve("bucket.s3.amazonaws.com");
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = v4("192.0.2.7", 80); // the built-in pattern at port 80: plain HTTP
    REQUIRE(connect_core(r.f, fd, &to, sizeof to) == 0);
    std::string rest;
    roar_pp2 h = r.proxy.accept_header(rest);
    CHECK(std::string(h.authority) == "bucket.s3.amazonaws.com");
    CHECK(h.dst_port == 80);
    CHECK(h.flags == 0);
    ::close(fd);

    // gethostbyname_r feeds the same table.
    g_resolve_ip = "192.0.2.8";
    hostent he{};
    hostent* result = nullptr;
    char buf[256];
    int herr = 0;
    REQUIRE(roar_core_gethostbyname_r(&r.f.L, r.f.S, ROAR_K_GETHOSTBYNAME_R, "MINIO", AF_INET, &he, buf, sizeof buf,
                                      &result, &herr)
            == 0);
    const int fd2 = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in minio = v4("192.0.2.8", 9000);
    REQUIRE(connect_core(r.f, fd2, &minio, sizeof minio) == 0);
    h = r.proxy.accept_header(rest);
    CHECK(std::string(h.authority) == "MINIO");
    ::close(fd2);

    // The newest name of an address decides: another name now resolves to
    // it, and a connect to the same address is left alone.
    r.resolve("sts.amazonaws.com");
    r.f.L.connect = fake_connect;
    const int fd3 = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in sts = v4("192.0.2.8", 80);
    CHECK(connect_core(r.f, fd3, &sts, sizeof sts) == -1);
    CHECK(g_direct == std::vector<std::string>{"192.0.2.8:80"});
    ::close(fd3);
    CHECK_FALSE(r.proxy.pending());
}

TEST_CASE("TLS to an S3 host is connected as asked and noted once per host unless ROAR_S3_TLS=1", "[preload][net]")
{
    Routed r("");
    r.resolve("bucket.s3.us-east-1.amazonaws.com");
    r.f.L.connect = fake_connect;
    const sockaddr_in to = v4("192.0.2.7", 443);
    for (int i = 0; i < 2; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(connect_core(r.f, fd, &to, sizeof to) == -1);
        CHECK(errno == ECONNREFUSED);
        ::close(fd);
    }
    CHECK(g_direct.size() == 2);
    auto notes = r.f.events_of(ROAR_OP_NOTE);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].s1 == "S3 over TLS to bucket.s3.us-east-1.amazonaws.com not observed: enable proxy.intercept_tls");
    CHECK(notes[0].h.flags == ROAR_NOTE_NETWORK);
    CHECK_FALSE(r.proxy.pending());

    Routed t("", "1");
    t.resolve("bucket.s3.us-east-1.amazonaws.com");
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(connect_core(t.f, fd, &to, sizeof to) == 0);
    std::string rest;
    const roar_pp2 h = t.proxy.accept_header(rest);
    CHECK(h.flags == ROAR_PP2_FLAG_TLS);
    CHECK(h.dst_port == 443);
    ::close(fd);
    CHECK(t.f.events_of(ROAR_OP_NOTE).empty());
}

TEST_CASE("when the proxy refuses, the connection goes to its destination and the job is told", "[preload][net]")
{
    Listener upstream;
    const std::string hosts = "127.0.0.1:" + std::to_string(upstream.port);
    ShimFixture f;
    uint16_t dead_port;
    {
        Listener gone;
        dead_port = gone.port;
    }
    const std::string proxy = "127.0.0.1:" + std::to_string(dead_port);
    REQUIRE(roar_s3_setup(f.S, proxy.c_str(), k_secret, hosts.c_str(), nullptr) == 1);
    f.L.connect = nullptr;
    f.L.fcntl = nullptr;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in to = v4("127.0.0.1", upstream.port);
    REQUIRE(connect_core(f, fd, &to, sizeof to) == 0);
    REQUIRE(::send(fd, "PUT", 3, 0) == 3);
    const int c = ::accept4(upstream.fd, nullptr, nullptr, SOCK_CLOEXEC);
    char buf[8] = {};
    REQUIRE(::recv(c, buf, sizeof buf, 0) == 3);
    CHECK(std::string(buf) == "PUT"); // no header: the upstream got the client's bytes
    ::close(c);
    ::close(fd);
    auto notes = f.events_of(ROAR_OP_NOTE);
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].s1 == "S3 connection to 127.0.0.1 not observed: the job's proxy did not accept it");
}
