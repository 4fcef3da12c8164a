// The roar CA: creating and loading it, minting leaves, the leaf cache and
// trust bundles. Certificates are X.509 v3 with the extensions a strict
// verifier (Python's VERIFY_X509_STRICT, Go's crypto/x509) expects.
#include "roar/proxy/tls_ca.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace roar::proxy {

namespace {

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string ssl_error(std::string_view what)
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0) {
        return std::string(what);
    }
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    return fmt::format("{}: {}", what, buf);
}

PkeyPtr new_p256_key() { return PkeyPtr(EVP_EC_gen("P-256")); }

// A random positive 127-bit serial.
bool set_random_serial(X509* x)
{
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        return false;
    }
    bytes[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
    if (bn == nullptr) {
        return false;
    }
    const bool ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != nullptr;
    BN_free(bn);
    return ok;
}

bool add_ext(X509* cert, X509V3_CTX* ctx, int nid, const char* value)
{
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
    if (ext == nullptr) {
        return false;
    }
    const bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

// Adds the extensions `exts` (nid, value in OpenSSL's config syntax) to
// `cert`, issued by `issuer`, and signs it with the issuer's `key`.
bool extend_and_sign(X509* cert, X509* issuer, EVP_PKEY* key, std::initializer_list<std::pair<int, const char*>> exts)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    for (const auto& [nid, value] : exts) {
        if (!add_ext(cert, &ctx, nid, value)) {
            return false;
        }
    }
    return X509_sign(cert, key, EVP_sha256()) != 0;
}

// Validity [now - backdate, now + lifetime], the end capped at `cap` when given.
bool set_validity(X509* x, std::chrono::seconds backdate, std::chrono::seconds lifetime, const ASN1_TIME* cap)
{
    if (X509_gmtime_adj(X509_getm_notBefore(x), -static_cast<long>(backdate.count())) == nullptr
        || X509_gmtime_adj(X509_getm_notAfter(x), static_cast<long>(lifetime.count())) == nullptr) {
        return false;
    }
    if (cap != nullptr && ASN1_TIME_compare(X509_get0_notAfter(x), cap) > 0) {
        return X509_set1_notAfter(x, cap) == 1;
    }
    return true;
}

std::string pem_of(X509* cert)
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
        return {};
    }
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

tl::expected<std::string, std::string> read_file(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return tl::unexpected(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Writes `bytes` to `path` with `mode`, failing if it exists.
tl::expected<void, std::string> write_new_file(const fs::path& path, const std::string& bytes, mode_t mode)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        return tl::unexpected(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
    }
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            return tl::unexpected(fmt::format("cannot write {}: {}", path.string(), std::strerror(err)));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        return tl::unexpected(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    }
    return {};
}

// A new self-signed CA certificate for `key`.
tl::expected<X509Ptr, std::string> new_ca_cert(EVP_PKEY* key)
{
    X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1 || !set_random_serial(cert.get())
        || !set_validity(cert.get(), std::chrono::hours(1), k_ca_lifetime, nullptr)
        || X509_set_pubkey(cert.get(), key) != 1) {
        return tl::unexpected(ssl_error("cannot build the roar CA certificate"));
    }
    char host[128] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string cn = fmt::format("roar interception CA ({})", std::string(host).substr(0, 32));
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("roar"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                               0);
    X509_set_issuer_name(cert.get(), name);
    if (!extend_and_sign(cert.get(), cert.get(), key,
                         {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                          {NID_key_usage, "critical,keyCertSign,cRLSign"},
                          {NID_subject_key_identifier, "hash"},
                          {NID_authority_key_identifier, "keyid:always"}})) {
        return tl::unexpected(ssl_error("cannot sign the roar CA certificate"));
    }
    return cert;
}

// Creates a CA in a fresh directory next to `dir` and renames it into
// place; when another process did the same first, its CA is kept.
tl::expected<void, std::string> create_ca(const fs::path& dir)
{
    PkeyPtr key = new_p256_key();
    if (!key) {
        return tl::unexpected(ssl_error("cannot generate the roar CA key"));
    }
    auto cert = new_ca_cert(key.get());
    if (!cert) {
        return tl::unexpected(cert.error());
    }
    BioPtr key_bio(BIO_new(BIO_s_mem()));
    if (!key_bio || PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        return tl::unexpected(ssl_error("cannot encode the roar CA key"));
    }
    char* key_data = nullptr;
    const long key_len = BIO_get_mem_data(key_bio.get(), &key_data);
    const std::string key_pem(key_data, static_cast<std::size_t>(key_len));

    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    std::string tmpl = (dir.parent_path() / (dir.filename().string() + ".new-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        return tl::unexpected(
            fmt::format("cannot create a directory next to {}: {}", dir.string(), std::strerror(errno)));
    }
    const fs::path staging(tmpl);
    auto cleanup = [&staging] {
        std::error_code ignored;
        fs::remove_all(staging, ignored);
    };
    if (auto w = write_new_file(staging / "ca-key.pem", key_pem, 0600); !w) {
        cleanup();
        return w;
    }
    if (auto w = write_new_file(staging / "ca.pem", pem_of(cert->get()), 0644); !w) {
        cleanup();
        return w;
    }
    // An expired CA is moved aside first (kept, so that what it signed can
    // still be examined); a rename onto a non-empty directory fails, so a
    // concurrent creator's CA wins.
    if (fs::exists(dir / "ca.pem")) {
        const fs::path old = dir.parent_path() / fmt::format("{}.old-{}", dir.filename().string(), ::time(nullptr));
        fs::rename(dir, old, ec);
    }
    if (::rename(staging.c_str(), dir.c_str()) != 0) {
        const int err = errno;
        cleanup();
        if (err != ENOTEMPTY && err != EEXIST) {
            return tl::unexpected(
                fmt::format("cannot move the new roar CA into {}: {}", dir.string(), std::strerror(err)));
        }
    }
    return {};
}

enum class Freshness { Missing, Usable, Expiring };

Freshness freshness(const fs::path& dir)
{
    auto pem = read_file(dir / "ca.pem");
    if (!pem) {
        return Freshness::Missing;
    }
    BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) {
        ERR_clear_error();
        return Freshness::Usable; // open() reports the parse error
    }
    const time_t soon = ::time(nullptr) + std::chrono::duration_cast<std::chrono::seconds>(k_ca_renew_before).count();
    return X509_cmp_time(X509_get0_notAfter(cert.get()), const_cast<time_t*>(&soon)) < 0 ? Freshness::Expiring
                                                                                         : Freshness::Usable;
}

bool is_ip_literal(std::string_view host)
{
    const std::string text(host);
    unsigned char buf[16];
    return ::inet_pton(AF_INET, text.c_str(), buf) == 1 || ::inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

} // namespace

tl::expected<fs::path, std::string> ca_directory(const char* (*env)(const char*))
{
    const auto set = [env](const char* name) -> const char* {
        const char* v = env(name);
        return v != nullptr && *v != '\0' ? v : nullptr;
    };
    if (const char* dir = set(k_ca_dir_env)) {
        return fs::path(dir);
    }
    if (const char* data = set("XDG_DATA_HOME")) {
        return fs::path(data) / "roar" / "ca";
    }
    if (const char* home = set("HOME")) {
        return fs::path(home) / ".local" / "share" / "roar" / "ca";
    }
    return tl::unexpected(std::string("no directory for the roar CA: set HOME, XDG_DATA_HOME or ROAR_CA_DIR"));
}

tl::expected<RoarCa, std::string> RoarCa::open(const fs::path& dir)
{
    if (freshness(dir) != Freshness::Usable) {
        if (auto made = create_ca(dir); !made) {
            return tl::unexpected(made.error());
        }
    }
    ::chmod(dir.c_str(), 0700);
    RoarCa ca;
    ca.m_cert_file = dir / "ca.pem";
    ca.m_key_file = dir / "ca-key.pem";
    struct stat st { };
    if (::stat(ca.m_key_file.c_str(), &st) != 0) {
        return tl::unexpected(
            fmt::format("cannot read the roar CA key {}: {}", ca.m_key_file.string(), std::strerror(errno)));
    }
    if ((st.st_mode & 077) != 0 || st.st_uid != ::geteuid()) {
        return tl::unexpected(fmt::format("the roar CA key {} must belong to you and be readable by you only "
                                          "(chmod 600 it, or remove {} to make a new CA)",
                                          ca.m_key_file.string(), dir.string()));
    }
    auto cert_pem = read_file(ca.m_cert_file);
    auto key_pem = read_file(ca.m_key_file);
    if (!cert_pem || !key_pem) {
        return tl::unexpected(!cert_pem ? cert_pem.error() : key_pem.error());
    }
    BioPtr cert_bio(BIO_new_mem_buf(cert_pem->data(), static_cast<int>(cert_pem->size())));
    BioPtr key_bio(BIO_new_mem_buf(key_pem->data(), static_cast<int>(key_pem->size())));
    ca.m_cert.reset(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), X509_free);
    ca.m_key.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!ca.m_cert || !ca.m_key) {
        return tl::unexpected(
            ssl_error(fmt::format("the roar CA in {} does not parse (remove it to make a new one)", dir.string())));
    }
    if (X509_check_private_key(ca.m_cert.get(), ca.m_key.get()) != 1) {
        return tl::unexpected(
            ssl_error(fmt::format("the roar CA key in {} does not match its certificate", dir.string())));
    }
    ca.m_cert_pem = pem_of(ca.m_cert.get());
    return ca;
}

tl::expected<X509Ptr, std::string> RoarCa::mint_leaf(std::string_view host, EVP_PKEY* leaf_key) const
{
    if (host.empty() || host.size() > 253) {
        return tl::unexpected(fmt::format("'{}' is not a server name a certificate can be made for", host));
    }
    X509Ptr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1 || !set_random_serial(cert.get())
        || !set_validity(cert.get(), k_leaf_backdate, k_leaf_lifetime, X509_get0_notAfter(m_cert.get()))
        || X509_set_pubkey(cert.get(), leaf_key) != 1
        || X509_set_issuer_name(cert.get(), X509_get_subject_name(m_cert.get())) != 1) {
        return tl::unexpected(ssl_error("cannot build a leaf certificate"));
    }
    const std::string name(host);
    if (name.size() <= 64) {
        X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
    }
    const std::string san = (is_ip_literal(host) ? "IP:" : "DNS:") + name;
    if (!extend_and_sign(cert.get(), m_cert.get(), m_key.get(),
                         {{NID_basic_constraints, "critical,CA:FALSE"},
                          {NID_key_usage, "critical,digitalSignature"},
                          {NID_ext_key_usage, "serverAuth"},
                          {NID_subject_alt_name, san.c_str()},
                          {NID_subject_key_identifier, "hash"},
                          {NID_authority_key_identifier, "keyid:always"}})) {
        return tl::unexpected(ssl_error(fmt::format("cannot sign a leaf certificate for {}", host)));
    }
    return cert;
}

LeafCache::LeafCache(RoarCa ca) : m_ca(std::move(ca)), m_key(new_p256_key().release(), EVP_PKEY_free) { }

tl::expected<LeafCertificate, std::string> LeafCache::get(std::string_view host)
{
    std::lock_guard lock(m_mutex);
    if (!m_key) {
        return tl::unexpected(std::string("no key for leaf certificates"));
    }
    const std::string name(host);
    if (auto it = m_leaves.find(name); it != m_leaves.end()) {
        const time_t soon = ::time(nullptr) + 3600;
        if (X509_cmp_time(X509_get0_notAfter(it->second.cert.get()), const_cast<time_t*>(&soon)) > 0) {
            return it->second;
        }
    }
    auto minted = m_ca.mint_leaf(host, m_key.get());
    if (!minted) {
        return tl::unexpected(minted.error());
    }
    LeafCertificate leaf{std::shared_ptr<X509>(minted->release(), X509_free), m_key};
    m_leaves[name] = leaf;
    return leaf;
}

std::string system_ca_file()
{
    static const char* const k_paths[] = {
        "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine
        "/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
        "/etc/ssl/ca-bundle.pem",             // openSUSE
        "/etc/ssl/cert.pem",                  // Arch, macOS
    };
    for (const char* path : k_paths) {
        if (::access(path, R_OK) == 0) {
            return path;
        }
    }
    const char* fallback = X509_get_default_cert_file();
    return fallback != nullptr && ::access(fallback, R_OK) == 0 ? fallback : "";
}

tl::expected<void, std::string> write_trust_bundle(const fs::path& out, const std::string& base,
                                                   const std::string& extra_pem)
{
    std::string bytes;
    if (!base.empty()) {
        auto read = read_file(base);
        if (!read) {
            return tl::unexpected(read.error());
        }
        bytes = std::move(*read);
        if (!bytes.empty() && bytes.back() != '\n') {
            bytes += '\n';
        }
    }
    bytes += extra_pem;
    const fs::path tmp = out.string() + fmt::format(".tmp-{}", ::getpid());
    std::error_code ec;
    fs::remove(tmp, ec);
    if (auto w = write_new_file(tmp, bytes, 0644); !w) {
        return w;
    }
    if (::rename(tmp.c_str(), out.c_str()) != 0) {
        const int err = errno;
        fs::remove(tmp, ec);
        return tl::unexpected(fmt::format("cannot write {}: {}", out.string(), std::strerror(err)));
    }
    return {};
}

tl::expected<std::vector<std::string>, std::string> job_trust_environment(const RoarCa& ca,
                                                                          const std::string& system_file,
                                                                          const char* (*user_env)(const char*),
                                                                          std::vector<std::string>& notes)
{
    const auto user = [user_env](const char* name) -> std::string {
        const char* v = user_env(name);
        return v != nullptr ? v : "";
    };
    std::string first_user; // the user's own trust, when they set one
    for (const char* name : k_trust_bundle_variables) {
        if (first_user.empty()) {
            first_user = user(name);
        }
    }
    const fs::path dir = ca.cert_file().parent_path();
    std::unordered_map<std::string, std::string> bundles; // base file -> bundle path ("" when unreadable)
    const auto bundle_of = [&](const std::string& base) -> tl::expected<std::string, std::string> {
        if (auto it = bundles.find(base); it != bundles.end()) {
            return it->second;
        }
        std::uint64_t h = 1469598103934665603ULL; // FNV-1a: a stable file name per base file
        for (unsigned char c : base) {
            h = (h ^ c) * 1099511628211ULL;
        }
        const fs::path out =
            dir / (base == system_file ? std::string("trust-system.pem") : fmt::format("trust-{:016x}.pem", h));
        auto written = write_trust_bundle(out, base, ca.cert_pem());
        if (!written) {
            if (base == system_file) {
                return tl::unexpected(written.error());
            }
            notes.push_back(written.error());
            bundles[base] = "";
            return std::string();
        }
        bundles[base] = out.string();
        return out.string();
    };
    if (system_file.empty() && first_user.empty()) {
        notes.push_back("no system CA bundle was found: the job's TLS clients trust only the roar CA through "
                        "AWS_CA_BUNDLE, REQUESTS_CA_BUNDLE, SSL_CERT_FILE and CURL_CA_BUNDLE");
    }
    std::vector<std::string> env;
    for (const char* name : k_trust_bundle_variables) {
        const std::string own = user(name);
        auto bundle = bundle_of(!own.empty() ? own : !first_user.empty() ? first_user : system_file);
        if (!bundle) {
            return tl::unexpected(bundle.error());
        }
        if (bundle->empty()) {
            notes.push_back(fmt::format("{} is left as you set it: its clients will not trust roar's certificates "
                                        "and their S3 calls over TLS fail",
                                        name));
            continue;
        }
        env.push_back(fmt::format("{}={}", name, *bundle));
    }
    const std::string node = user(k_node_extra_ca_variable);
    if (node.empty()) {
        env.push_back(fmt::format("{}={}", k_node_extra_ca_variable, ca.cert_file().string()));
    } else if (auto bundle = bundle_of(node); bundle && !bundle->empty()) {
        env.push_back(fmt::format("{}={}", k_node_extra_ca_variable, *bundle));
    }
    return env;
}

} // namespace roar::proxy
