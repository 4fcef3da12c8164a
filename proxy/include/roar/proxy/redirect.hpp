// Redirected connections (S3-ROUTING, issue 17): a job's shim (or tracer)
// connects an S3 client's socket to the job's proxy instead of its
// destination and writes a PROXY protocol v2 header first, naming the
// original destination, the host name, the pid and the job's secret. Two
// pure steps, no sockets:
//   admit_redirect()  decides whether such a header is accepted (loopback
//                     peer, the job's secret, a destination the job's
//                     routing rules would redirect) and turns it into the
//                     connection's route;
//   forward_plan()    plans each request of an admitted connection: sent
//                     unchanged (same Host, Authorization, body framing) to
//                     the original destination or to the configured
//                     upstream; no signature check, no re-signing.
#pragma once

#include "roar/collector/s3_route.h"
#include "roar/proxy/handler.hpp"
#include "roar/proxy/preamble.hpp"
#include "roar/proxy/request.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace roar::proxy {

// What the job's proxy admits: its secret (ROAR_S3_SECRET) and its routing
// rules (ROAR_S3_HOSTS plus the built-in S3 patterns).
struct RedirectPolicy {
    std::string secret; // 64 lowercase hex chars; empty: no redirected connection is admitted
    roar_s3_routes routes{};

    // The policy of `secret` and the ROAR_S3_HOSTS list `hosts`.
    static RedirectPolicy from(std::string secret, std::string_view hosts);
};

struct RedirectVerdict {
    enum class Kind {
        NeedMore, // the bytes so far are a prefix of a header that may still be valid
        Refused,  // close the connection; `reason` says why (for the log)
        Admitted, // `route` is the connection's; the client's bytes start after `consumed`
    };
    Kind kind = Kind::NeedMore;
    std::string reason;
    std::size_t consumed = 0;
    ConnectionRoute route;
};

// Decides on the PROXY v2 header at the start of `bytes`, sent by the peer
// with IP address `peer_ip` (text form), under `policy`.
RedirectVerdict admit_redirect(std::string_view bytes, std::string_view peer_ip, const RedirectPolicy& policy);

// Whether the IP address in text form `ip` is a loopback address (127/8,
// ::1, ::ffff:127.x.y.z).
bool is_loopback_ip(std::string_view ip);

// The plan for request `head` on an admitted redirected connection with
// route `route`: forwarded to config.upstream when set, else to the route's
// destination (over https to route.tls_server_name at that address when
// the client spoke TLS), with every end-to-end header as the client sent it. An
// aws-chunked body passes through undecoded and is not hashed (the record
// keeps the ETag only). Never throws; errors come back as LocalResponse.
Decision forward_plan(const RequestHead& head, const ConnectionRoute& route, const HandlerConfig& config);

} // namespace roar::proxy
