// The roar CA for TLS interception: creation on first use (key mode 0600,
// a CA:TRUE certificate with a bounded lifetime), reuse, leaves minted per
// server name that verify against the CA, the SNI parser, and the job's
// trust bundles (system or the user's own file, plus the roar CA).
#include "roar/proxy/tls_ca.hpp"
#include "tls_front.hpp"

#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace roar::proxy;

namespace {

struct TempDir {
    fs::path path;
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "roar-tls-ca-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

std::string slurp(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void spit(const fs::path& p, const std::string& bytes)
{
    std::ofstream out(p, std::ios::binary);
    out << bytes;
}

// Whether `leaf` verifies against `ca` as a TLS server certificate for `host`.
bool verifies(X509* leaf, X509* ca, const std::string& host)
{
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, nullptr);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    const bool ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

int count_certificates(const std::string& pem)
{
    int n = 0;
    for (std::size_t at = pem.find("-----BEGIN CERTIFICATE-----"); at != std::string::npos;
         at = pem.find("-----BEGIN CERTIFICATE-----", at + 1)) {
        ++n;
    }
    return n;
}

std::map<std::string, std::string> g_env;
const char* fake_env(const char* name)
{
    auto it = g_env.find(name);
    return it == g_env.end() ? nullptr : it->second.c_str();
}

} // namespace

TEST_CASE("the roar CA is created on first use with an owner-only key and CA extensions", "[proxy][tls]")
{
    TempDir tmp;
    const fs::path dir = tmp.path / "roar" / "ca";
    auto ca = RoarCa::open(dir);
    REQUIRE(ca);
    struct stat st { };
    REQUIRE(::stat(ca->key_file().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    X509* cert = ca->cert();
    CHECK(X509_check_ca(cert) == 1);
    auto* bc = static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(cert, NID_basic_constraints, nullptr, nullptr));
    REQUIRE(bc != nullptr);
    CHECK(bc->ca != 0);
    BASIC_CONSTRAINTS_free(bc);
    CHECK((X509_get_key_usage(cert) & KU_KEY_CERT_SIGN) != 0);
    CHECK(X509_get_extension_flags(cert) & EXFLAG_SS);
    // Bounded: valid now, ends within the CA's lifetime (plus a day of slack).
    const time_t now = ::time(nullptr);
    const time_t limit = now + std::chrono::duration_cast<std::chrono::seconds>(k_ca_lifetime).count() + 86400;
    CHECK(X509_cmp_time(X509_get0_notBefore(cert), const_cast<time_t*>(&now)) < 0);
    CHECK(X509_cmp_time(X509_get0_notAfter(cert), const_cast<time_t*>(&limit)) < 0);

    SECTION("a second open loads the same CA")
    {
        auto again = RoarCa::open(dir);
        REQUIRE(again);
        CHECK(again->cert_pem() == ca->cert_pem());
    }
    SECTION("a key others can read is refused")
    {
        ::chmod(ca->key_file().c_str(), 0644);
        auto loose = RoarCa::open(dir);
        REQUIRE_FALSE(loose);
        CHECK(loose.error().find("readable by you only") != std::string::npos);
    }
}

TEST_CASE("the roar CA's directory is ROAR_CA_DIR, else under XDG_DATA_HOME, else under HOME", "[proxy][tls]")
{
    g_env = {{"HOME", "/home/u"}};
    CHECK(ca_directory(fake_env).value() == fs::path("/home/u/.local/share/roar/ca"));
    g_env["XDG_DATA_HOME"] = "/data";
    CHECK(ca_directory(fake_env).value() == fs::path("/data/roar/ca"));
    g_env[k_ca_dir_env] = "/tmp/x";
    CHECK(ca_directory(fake_env).value() == fs::path("/tmp/x"));
    g_env.clear();
    CHECK_FALSE(ca_directory(fake_env));
}

TEST_CASE("a leaf names the server in its subjectAltName and verifies against the roar CA", "[proxy][tls]")
{
    TempDir tmp;
    auto ca = RoarCa::open(tmp.path / "ca");
    REQUIRE(ca);
    LeafCache leaves(std::move(*ca));
    const std::string host = "bucket.s3.us-east-1.amazonaws.com";
    auto leaf = leaves.get(host);
    REQUIRE(leaf);
    X509* cert = leaf->cert.get();
    CHECK(X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(leaves.ca().cert())) == 0);
    CHECK(X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1);
    CHECK(X509_check_host(cert, "other.example", 13, 0, nullptr) != 1);
    CHECK(X509_check_ca(cert) == 0);
    CHECK(verifies(cert, leaves.ca().cert(), host));
    CHECK_FALSE(verifies(cert, leaves.ca().cert(), "s3.amazonaws.com"));
    // Short-lived: at most k_leaf_lifetime from now.
    const time_t limit =
        ::time(nullptr) + std::chrono::duration_cast<std::chrono::seconds>(k_leaf_lifetime).count() + 60;
    CHECK(X509_cmp_time(X509_get0_notAfter(cert), const_cast<time_t*>(&limit)) < 0);

    SECTION("the cache hands out the same leaf for the same name")
    {
        auto again = leaves.get(host);
        REQUIRE(again);
        CHECK(again->cert.get() == cert);
        CHECK(leaves.get("s3.amazonaws.com")->cert.get() != cert);
    }
    SECTION("an address gets an IP subjectAltName")
    {
        auto by_ip = leaves.get("127.0.0.1");
        REQUIRE(by_ip);
        CHECK(X509_check_ip_asc(by_ip->cert.get(), "127.0.0.1", 0) == 1);
    }
    SECTION("a leaf of another CA does not verify")
    {
        TempDir other;
        auto foreign = RoarCa::open(other.path / "ca");
        REQUIRE(foreign);
        CHECK_FALSE(verifies(cert, foreign->cert(), host));
    }
}

TEST_CASE("sni_host_name reads the first host_name of a server_name extension", "[proxy][tls]")
{
    const unsigned char ext[] = {0, 8, 0, 0, 5, 'a', '.', 'c', 'o', 'm'};
    CHECK(sni_host_name(ext, sizeof ext) == "a.com");
    CHECK(sni_host_name(ext, 6).empty()); // the list runs past the extension
    const unsigned char bad[] = {0, 8, 0, 0, 9, 'a', '.', 'c', 'o', 'm'};
    CHECK(sni_host_name(bad, sizeof bad).empty()); // a name runs past the list
    CHECK(sni_host_name(nullptr, 0).empty());
}

TEST_CASE("the job's trust bundles add the roar CA to the system's or to the user's own file", "[proxy][tls]")
{
    TempDir tmp;
    auto ca = RoarCa::open(tmp.path / "ca");
    REQUIRE(ca);
    TempDir other;
    auto other_ca = RoarCa::open(other.path / "ca");
    REQUIRE(other_ca);
    const fs::path system = tmp.path / "system.pem";
    spit(system, other_ca->cert_pem());
    std::vector<std::string> notes;
    const auto value_of = [](const std::vector<std::string>& env, const std::string& name) {
        for (const auto& e : env) {
            if (e.rfind(name + "=", 0) == 0) {
                return e.substr(name.size() + 1);
            }
        }
        return std::string();
    };

    SECTION("without the user's trust: system CAs plus the roar CA, node gets the roar CA alone")
    {
        g_env.clear();
        auto env = job_trust_environment(*ca, system.string(), fake_env, notes);
        REQUIRE(env);
        CHECK(env->size() == 5);
        const std::string bundle = value_of(*env, "AWS_CA_BUNDLE");
        for (const char* name : {"REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"}) {
            CHECK(value_of(*env, name) == bundle);
        }
        const std::string text = slurp(bundle);
        CHECK(count_certificates(text) == 2);
        CHECK(text.rfind(other_ca->cert_pem(), 0) == 0);
        CHECK(text.find(ca->cert_pem()) != std::string::npos);
        CHECK(value_of(*env, "NODE_EXTRA_CA_CERTS") == ca->cert_file().string());
        CHECK(notes.empty());
    }
    SECTION("the user's own bundle is kept and the roar CA added to it")
    {
        const fs::path mine = tmp.path / "corp.pem";
        spit(mine, "# corp roots\n");
        g_env = {{"REQUESTS_CA_BUNDLE", mine.string()}};
        auto env = job_trust_environment(*ca, system.string(), fake_env, notes);
        REQUIRE(env);
        const std::string bundle = value_of(*env, "REQUESTS_CA_BUNDLE");
        CHECK(slurp(bundle) == "# corp roots\n" + ca->cert_pem());
        CHECK(value_of(*env, "AWS_CA_BUNDLE") == bundle); // their trust, not the system's
        CHECK(value_of(*env, "SSL_CERT_FILE") == bundle);
    }
    SECTION("a user file that cannot be read is left alone, with a note")
    {
        g_env = {{"AWS_CA_BUNDLE", (tmp.path / "missing.pem").string()}};
        auto env = job_trust_environment(*ca, system.string(), fake_env, notes);
        REQUIRE(env);
        CHECK(value_of(*env, "AWS_CA_BUNDLE").empty());
        CHECK_FALSE(notes.empty());
    }
    g_env.clear();
}
