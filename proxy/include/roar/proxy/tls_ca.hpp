// The roar CA for TLS interception (proxy.intercept_tls, issue 17): a
// local certificate authority created with OpenSSL on first use, kept
// outside any project ($ROAR_CA_DIR, else $XDG_DATA_HOME/roar/ca, else
// ~/.local/share/roar/ca; the directory 0700, the key 0600), valid for a
// bounded time and replaced when it nears its end. roar run loads it to
// give the job a trust bundle (the system CAs, or the user's own bundle,
// plus this CA); the job's roar-proxy loads it to mint a short-lived leaf
// certificate per server name (SNI) the job connects to. Pure OpenSSL and
// files, no sockets.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tl/expected.hpp>

namespace roar::proxy {

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The environment variable that overrides the CA's directory (tests).
inline constexpr const char* k_ca_dir_env = "ROAR_CA_DIR";
// How long a new CA is valid, and how close to its end it is replaced.
inline constexpr auto k_ca_lifetime = std::chrono::hours(24 * 365);
inline constexpr auto k_ca_renew_before = std::chrono::hours(24 * 7);
// How long a minted leaf is valid (and how far back it starts, for clock skew).
inline constexpr auto k_leaf_lifetime = std::chrono::hours(48);
inline constexpr auto k_leaf_backdate = std::chrono::hours(1);

// The CA's directory for the environment `env` (returns the value of a
// variable or nullptr): $ROAR_CA_DIR, $XDG_DATA_HOME/roar/ca or
// $HOME/.local/share/roar/ca; fails when none of them is set.
tl::expected<std::filesystem::path, std::string> ca_directory(const char* (*env)(const char*));

// One certificate and its key, as minted for a server name.
struct LeafCertificate {
    std::shared_ptr<X509> cert;
    std::shared_ptr<EVP_PKEY> key;
};

class RoarCa {
public:
    // Loads the CA in `dir` (files ca.pem and ca-key.pem), creating the
    // directory (0700) and a new EC P-256 CA on first use or when the one
    // there expires within k_ca_renew_before; concurrent first uses agree
    // on one CA. Fails, saying why, when the files cannot be created, the
    // key is readable by anyone but its owner, or they do not parse.
    static tl::expected<RoarCa, std::string> open(const std::filesystem::path& dir);

    const std::filesystem::path& cert_file() const { return m_cert_file; }
    const std::filesystem::path& key_file() const { return m_key_file; }
    // The CA certificate in PEM form.
    const std::string& cert_pem() const { return m_cert_pem; }
    X509* cert() const { return m_cert.get(); }

    // A leaf for `host` (a DNS name, or an IPv4/IPv6 literal): subjectAltName
    // = `host`, serverAuth, valid k_leaf_lifetime (never past the CA),
    // signed by this CA with `leaf_key` as its public key.
    tl::expected<X509Ptr, std::string> mint_leaf(std::string_view host, EVP_PKEY* leaf_key) const;

private:
    RoarCa() = default;
    std::filesystem::path m_cert_file;
    std::filesystem::path m_key_file;
    std::string m_cert_pem;
    std::shared_ptr<X509> m_cert;
    std::shared_ptr<EVP_PKEY> m_key;
};

// Leaves minted by `ca` per server name, kept in memory for the proxy's
// life (renewed when within an hour of their end); safe to use from any
// thread. All leaves share one key made when the cache is.
class LeafCache {
public:
    explicit LeafCache(RoarCa ca);
    // The leaf for server name `host` (minted on first use).
    tl::expected<LeafCertificate, std::string> get(std::string_view host);
    const RoarCa& ca() const { return m_ca; }

private:
    RoarCa m_ca;
    std::shared_ptr<EVP_PKEY> m_key;
    std::mutex m_mutex;
    std::unordered_map<std::string, LeafCertificate> m_leaves;
};

// The system's CA bundle: the first of the usual distribution paths that
// exists, else OpenSSL's default certificate file ("" when none exists).
std::string system_ca_file();

// Writes `out` (atomically, mode 0644): the certificates of `base` (may
// be empty: none) followed by the PEM `extra_pem`.
tl::expected<void, std::string> write_trust_bundle(const std::filesystem::path& out, const std::string& base,
                                                   const std::string& extra_pem);

// The variables pointing a job's TLS clients at bundles that add `ca`.
inline constexpr const char* k_trust_bundle_variables[] = {"AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE",
                                                           "CURL_CA_BUNDLE"};
inline constexpr const char* k_node_extra_ca_variable = "NODE_EXTRA_CA_CERTS";

// The trust environment of a job under proxy.intercept_tls, as
// "NAME=value": each of k_trust_bundle_variables names a bundle (written
// next to `ca`'s files) of the file the user set in that variable, else
// the first of them the user set, else `system_file`, followed by the roar
// CA; NODE_EXTRA_CA_CERTS (added to node's own roots) names the roar CA,
// or a bundle of the user's file and it. `user_env(name)` returns the
// user's value or nullptr. A user file that cannot be read leaves that
// variable as the user set it, with a line in `notes`.
tl::expected<std::vector<std::string>, std::string> job_trust_environment(const RoarCa& ca,
                                                                          const std::string& system_file,
                                                                          const char* (*user_env)(const char*),
                                                                          std::vector<std::string>& notes);

} // namespace roar::proxy
