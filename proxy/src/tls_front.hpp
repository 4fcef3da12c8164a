// TLS termination for redirected connections (proxy.intercept_tls): one
// server SSL_CTX for the proxy's life, and a server session per redirected
// TLS connection that presents a leaf of the roar CA for the server name
// the client asked for (SNI), or, without SNI, for the host named in the
// connection's PROXY header. Names outside the job's routing rules get no
// certificate: the handshake fails, so the proxy never vouches for a host
// the job would not have sent to it.
#pragma once

#include "roar/proxy/redirect.hpp"
#include "roar/proxy/tls_ca.hpp"

#include <openssl/ssl.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <tl/expected.hpp>

namespace roar::proxy {

class TlsFront {
public:
    // Loads (or creates) the roar CA in `ca_dir` and builds the context;
    // `policy` (kept by reference: it outlives this) decides which server
    // names are admitted.
    static tl::expected<std::unique_ptr<TlsFront>, std::string> create(const std::filesystem::path& ca_dir,
                                                                       const RedirectPolicy& policy);
    ~TlsFront();
    TlsFront(const TlsFront&) = delete;
    TlsFront& operator=(const TlsFront&) = delete;

    // A new server session for a connection routed to `fallback_host`
    // (the PROXY header's host name, or its address) at `port`; nullptr
    // when OpenSSL cannot make one.
    SSL* new_session(std::string fallback_host, std::uint16_t port);
    // The server name session `ssl` presented a certificate for ("" before
    // the client's hello was processed).
    static std::string server_name(SSL* ssl);
    // Why the certificate step refused ("" when it did not).
    static std::string refusal(SSL* ssl);

    const RoarCa& ca() const { return m_leaves.ca(); }

private:
    TlsFront(RoarCa ca, const RedirectPolicy& policy);
    static int on_client_hello(SSL* ssl, int* alert, void* arg);

    LeafCache m_leaves;
    const RedirectPolicy& m_policy;
    SSL_CTX* m_ctx = nullptr;
};

// The server name in a TLS ClientHello's server_name extension body
// `ext` (`len` bytes): the first host_name entry, "" when there is none or
// the extension is malformed.
std::string sni_host_name(const unsigned char* ext, std::size_t len);

} // namespace roar::proxy
