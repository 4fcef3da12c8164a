// S3 routing of traced programs (the ptrace tracer's side of
// /work/wt/S3-ROUTING.md, issue 17): which connect() of a traced process
// goes to the job's roar-proxy, and what the redirected connection starts
// with. The same rules as the shim's (s3_route.h for the matching,
// proxy_header.h for the PROXY v2 header); the tracer performs the
// redirect itself on a duplicate of the tracee's socket (tracer.cpp,
// docs/ARCHITECTURE.md "The ptrace tracer"). Everything here is pure
// except redirect_socket(), which works on a socket the tracer holds.
#pragma once

#include "roar/collector/result.hpp"
#include "roar/collector/s3_route.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::collector::tracer {

// The job's routing rules, from the ROAR_S3_* values `roar run` gives the
// job (off when ROAR_S3_PROXY is unset: the filter then has no connect).
struct RouteConfig {
    bool on = false;
    roar_s3_entry proxy{}; // ROAR_S3_PROXY: an IPv4 or IPv6 address with a port
    std::string secret;    // ROAR_S3_SECRET: 64 lowercase hex chars
    roar_s3_routes routes{};
    bool tls = false; // ROAR_S3_TLS=1
    // Host names the tracer knows the addresses of without seeing the
    // program resolve them (a Go program resolves names itself): names in
    // the hosts file that the rules match at some port.
    struct KnownName {
        uint8_t addr[16] = {};
        size_t addr_len = 0; // 4 or 16
        std::string name;
    };
    std::vector<KnownName> known;
};

// Parses the job's ROAR_S3_PROXY, ROAR_S3_SECRET, ROAR_S3_HOSTS and
// ROAR_S3_TLS values (empty: unset). An empty `proxy` gives routing off; a
// malformed proxy address or secret is an error (the caller notes it and
// routes nothing). Malformed host entries are left out (routes.rejected).
Result<RouteConfig> parse_route_config(std::string_view proxy, std::string_view secret, std::string_view hosts,
                                       std::string_view tls);

// Learns, from the text of a hosts file (/etc/hosts syntax: an address,
// then names, '#' comments), the addresses of the names `config`'s rules
// match at some port. Returns how many (address, name) pairs it added.
size_t learn_hosts_file(RouteConfig& config, std::string_view text);

// A TCP destination as the matcher sees it (an IPv4-mapped IPv6 address is
// IPv4).
struct Destination {
    int family = 0; // the sockaddr's: AF_INET or AF_INET6
    uint8_t addr[16] = {};
    size_t addr_len = 0; // 4 or 16
    uint16_t port = 0;
};

// The destination of the `len` sockaddr bytes at `sa`; nullopt for any
// other family or a short address.
std::optional<Destination> destination_of(const void* sa, size_t len);

// What to do with a connect to `dest`.
struct RouteDecision {
    int verdict = ROAR_S3_NO_MATCH; // or ROAR_S3_PLAIN / ROAR_S3_TLS
    std::string name;               // the host name it matched by (the header's authority), or ""
};

// Matches `dest` against the rules: a literal ip[:port] entry first, then
// the known names of its address (their first that matches at its port).
// The proxy's own address never matches (a client talking to the proxy
// directly, or the shim's redirected connect in complete mode).
RouteDecision decide_route(const RouteConfig& config, const Destination& dest);

// The proxy's address for a socket of `family` (an IPv4 proxy is reached
// from an IPv6 socket through its IPv4-mapped address). Returns its
// length, 0 when the socket cannot reach it (an IPv4 socket, an IPv6 proxy).
socklen_t proxy_sockaddr(const RouteConfig& config, int family, sockaddr_storage& out);

// The PROXY v2 header for a connection of process `pid` to `dest`, whose
// socket now has the local address `local` (`local_len` 0: unknown, zeros
// are sent). Empty when a field is invalid.
std::vector<unsigned char> route_header(const RouteConfig& config, const Destination& dest,
                                        const RouteDecision& decision, const sockaddr_storage& local,
                                        socklen_t local_len, uint32_t pid);

// The text of a job note about `dest` (the name when known, else the
// address): "<before><host><after>".
std::string route_note(const Destination& dest, const RouteDecision& decision, std::string_view before,
                       std::string_view after);

// How redirect_socket ended.
enum class RedirectOutcome {
    redirected,  // connected to the proxy, header written: the tracee's connect returns `result`
    unreachable, // the proxy did not accept: the tracee's connect is to go ahead as asked
    failed,      // the socket refused (already connected, ...): the tracee's connect returns `result`
};

struct RedirectResult {
    RedirectOutcome outcome = RedirectOutcome::unreachable;
    int64_t result = 0; // 0, -EINPROGRESS or -errno
};

// Connects `sock` (the tracer's duplicate of the tracee's socket: the same
// open file description) to the proxy and writes the header, before the
// tracee runs again: a blocking connect and write bounded by a send
// timeout (SO_SNDTIMEO), the description's flags and the socket's timeout
// restored; a refused connect leaves the socket unconnected. A
// blocking socket's connect then returns 0; a non-blocking one's
// -EINPROGRESS (the socket is connected and writable, SO_ERROR 0), as an
// ordinary connect. `family` is the socket's.
RedirectResult redirect_socket(int sock, int family, const RouteConfig& config, const Destination& dest,
                               const RouteDecision& decision, uint32_t pid);

} // namespace roar::collector::tracer
