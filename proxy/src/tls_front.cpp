// TlsFront: the server context, the ClientHello callback that picks (and
// mints) the leaf, and the per-session names kept in SSL ex_data.
#include "tls_front.hpp"

#include "roar/collector/s3_route.h"
#include "roar/proxy/log.hpp"

#include <openssl/err.h>
#include <openssl/tls1.h>

#include <mutex>
#include <strings.h>

namespace roar::proxy {

namespace {

// What a session needs in the ClientHello callback, and what it learnt.
struct SessionNames {
    std::string fallback; // host to present without SNI
    std::uint16_t port = 0;
    std::string chosen;  // the name the leaf was minted for
    std::string refusal; // why no certificate was presented
};

void free_names(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/, void* /*argp*/)
{
    delete static_cast<SessionNames*>(ptr);
}

int names_index()
{
    static std::once_flag once;
    static int index = -1;
    std::call_once(once, [] { index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, &free_names); });
    return index;
}

SessionNames* names_of(SSL* ssl) { return static_cast<SessionNames*>(SSL_get_ex_data(ssl, names_index())); }

} // namespace

std::string sni_host_name(const unsigned char* ext, std::size_t len)
{
    // ServerNameList: uint16 length, then entries of (uint8 type, uint16 length, name).
    if (ext == nullptr || len < 2) {
        return {};
    }
    std::size_t list = (std::size_t(ext[0]) << 8) | ext[1];
    if (list + 2 > len) {
        return {};
    }
    std::size_t at = 2;
    const std::size_t end = 2 + list;
    while (at + 3 <= end) {
        const unsigned type = ext[at];
        const std::size_t n = (std::size_t(ext[at + 1]) << 8) | ext[at + 2];
        at += 3;
        if (at + n > end) {
            return {};
        }
        if (type == TLSEXT_NAMETYPE_host_name) {
            std::string name(reinterpret_cast<const char*>(ext + at), n);
            if (name.find('\0') != std::string::npos) {
                return {};
            }
            return name;
        }
        at += n;
    }
    return {};
}

TlsFront::TlsFront(RoarCa ca, const RedirectPolicy& policy) : m_leaves(std::move(ca)), m_policy(policy) { }

TlsFront::~TlsFront()
{
    if (m_ctx != nullptr) {
        SSL_CTX_free(m_ctx);
    }
}

tl::expected<std::unique_ptr<TlsFront>, std::string> TlsFront::create(const std::filesystem::path& ca_dir,
                                                                      const RedirectPolicy& policy)
{
    auto ca = RoarCa::open(ca_dir);
    if (!ca) {
        return tl::unexpected(ca.error());
    }
    std::unique_ptr<TlsFront> front(new TlsFront(std::move(*ca), policy));
    front->m_ctx = SSL_CTX_new(TLS_server_method());
    if (front->m_ctx == nullptr || names_index() < 0) {
        return tl::unexpected(std::string("cannot create a TLS server context"));
    }
    SSL_CTX_set_min_proto_version(front->m_ctx, TLS1_2_VERSION);
    // Each connection is new to the proxy; resumption would only save a
    // signature and needs a session cache shared by the loops.
    SSL_CTX_set_session_cache_mode(front->m_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(front->m_ctx, 0);
    SSL_CTX_set_options(front->m_ctx, SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_client_hello_cb(front->m_ctx, &TlsFront::on_client_hello, front.get());
    if (!front->m_leaves.get("localhost")) {
        return tl::unexpected(std::string("cannot mint leaf certificates with the roar CA"));
    }
    return front;
}

SSL* TlsFront::new_session(std::string fallback_host, std::uint16_t port)
{
    SSL* ssl = SSL_new(m_ctx);
    if (ssl == nullptr) {
        return nullptr;
    }
    auto* names = new SessionNames{std::move(fallback_host), port, {}, {}};
    if (SSL_set_ex_data(ssl, names_index(), names) != 1) {
        delete names;
        SSL_free(ssl);
        return nullptr;
    }
    return ssl;
}

std::string TlsFront::server_name(SSL* ssl)
{
    const SessionNames* names = ssl != nullptr ? names_of(ssl) : nullptr;
    return names != nullptr ? names->chosen : std::string();
}

std::string TlsFront::refusal(SSL* ssl)
{
    const SessionNames* names = ssl != nullptr ? names_of(ssl) : nullptr;
    return names != nullptr ? names->refusal : std::string();
}

int TlsFront::on_client_hello(SSL* ssl, int* alert, void* arg)
{
    auto* self = static_cast<TlsFront*>(arg);
    SessionNames* names = names_of(ssl);
    if (names == nullptr) {
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    const unsigned char* ext = nullptr;
    std::size_t len = 0;
    std::string name;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &len) == 1) {
        name = sni_host_name(ext, len);
        if (name.empty()) {
            names->refusal = "a malformed server_name extension";
            *alert = SSL_AD_DECODE_ERROR;
            return SSL_CLIENT_HELLO_ERROR;
        }
        if (name.back() == '.') {
            name.pop_back();
        }
        const bool same_host = strcasecmp(name.c_str(), names->fallback.c_str()) == 0;
        if (!same_host
            && roar_s3_match_name(&self->m_policy.routes, name.c_str(), name.size(), names->port) == ROAR_S3_NO_MATCH) {
            names->refusal = "server name " + name + ", which this job's routing rules do not redirect";
            *alert = SSL_AD_UNRECOGNIZED_NAME;
            return SSL_CLIENT_HELLO_ERROR;
        }
    } else {
        name = names->fallback;
    }
    auto leaf = self->m_leaves.get(name);
    if (!leaf) {
        names->refusal = leaf.error();
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    if (SSL_use_certificate(ssl, leaf->cert.get()) != 1 || SSL_use_PrivateKey(ssl, leaf->key.get()) != 1
        || SSL_add1_chain_cert(ssl, self->m_leaves.ca().cert()) != 1) {
        ERR_clear_error();
        names->refusal = "cannot use the leaf certificate for " + name;
        *alert = SSL_AD_INTERNAL_ERROR;
        return SSL_CLIENT_HELLO_ERROR;
    }
    names->chosen = std::move(name);
    return SSL_CLIENT_HELLO_SUCCESS;
}

} // namespace roar::proxy
