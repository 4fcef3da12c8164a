// The first bytes of a client connection and what they decide for the
// whole connection: plain HTTP from a client that talks to the proxy's own
// address (verify the caller's signature and re-sign for the upstream), or
// a PROXY protocol v2 header written by the shim or the tracer for a
// connection it redirected to the proxy (forward the requests unchanged to
// the destination named in the header; see S3-ROUTING in the docs). The
// decision is a ConnectionRoute, made once per connection before any
// request is parsed; the connection consults it for every request.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace roar::proxy {

// The 12-byte signature that starts a PROXY protocol v2 header.
inline constexpr std::string_view k_proxy_v2_signature{"\r\n\r\n\0\r\nQUIT\n", 12};

enum class PreambleKind {
    NeedMore, // the bytes so far are a prefix of the PROXY v2 signature: read more
    Http,     // anything else: an HTTP request starts here
    ProxyV2,  // a PROXY protocol v2 header starts here
};

// Classifies the first bytes `first` a client sent on a new connection.
PreambleKind classify_preamble(std::string_view first);

struct ConnectionRoute {
    enum class Mode {
        ReSign,  // plain client of the proxy's address: verify, re-sign, forward to the configured upstream
        Forward, // redirected connection: forward unchanged to `destination`
    };
    Mode mode = Mode::ReSign;
    std::string peer;        // "ip" of the client socket, the key for per-peer connection caps
    std::uint32_t pid = 0;   // process the S3 events are attributed to (0: the proxy's own)
    std::string authority;   // Forward: host[:port] the client connected to (PP2_TYPE_AUTHORITY)
    std::string destination; // Forward: original destination "ip:port"
    bool tls = false;        // Forward: the destination speaks TLS
    std::string dst_ip;      // Forward: the original destination's address (no brackets)
    std::uint16_t dst_port = 0;
    // Forward over TLS, once the proxy terminated it: the server name the
    // client's handshake named (SNI), else the authority or address.
    std::string tls_server_name;
};

} // namespace roar::proxy
