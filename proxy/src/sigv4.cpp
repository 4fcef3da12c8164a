// SigV4 primitives on OpenSSL: hashing, HMAC, canonicalisation and the
// signature chain. Deliberately free of I/O so every step can be checked
// against AWS's published examples (tests/unit/proxy/test_sigv4.cpp).
#include "roar/proxy/sigv4.hpp"

#include "roar/collector/hex_digit.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>

namespace roar::proxy::sigv4 {

namespace {

bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
           || c == '_' || c == '~';
}

} // namespace

std::string_view trim_blanks(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string hex(std::string_view raw)
{
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(raw.size() * 2);
    for (const unsigned char c : raw) {
        out.push_back(k_digits[c >> 4]);
        out.push_back(k_digits[c & 0xf]);
    }
    return out;
}

namespace {

// OpenSSL 3's one-shot SHA256() and HMAC() look their algorithm up in the
// provider store on every call (a lock and a search: 0.5 and 1.3 µs, against
// 0.3 and 0.6 µs with the algorithm fetched once and a context reused). A
// request verified and re-signed makes two of each, so the algorithms are
// fetched once per process and each thread keeps its contexts.
struct Sha256Algorithms {
    EVP_MD* digest = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    ~Sha256Algorithms()
    {
        EVP_MAC_free(mac);
        EVP_MD_free(digest);
    }
};

const Sha256Algorithms& sha256_algorithms()
{
    static const Sha256Algorithms algorithms;
    return algorithms;
}

struct ThreadContexts {
    EVP_MD_CTX* digest = EVP_MD_CTX_new();
    EVP_MAC_CTX* mac = nullptr;
    ThreadContexts()
    {
        const auto& a = sha256_algorithms();
        if (a.mac != nullptr) {
            mac = EVP_MAC_CTX_new(a.mac);
            char name[] = "SHA256";
            const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name, 0),
                                         OSSL_PARAM_construct_end()};
            if (mac != nullptr && EVP_MAC_CTX_set_params(mac, params) != 1) {
                EVP_MAC_CTX_free(mac);
                mac = nullptr;
            }
        }
    }
    ~ThreadContexts()
    {
        EVP_MAC_CTX_free(mac);
        EVP_MD_CTX_free(digest);
    }
    ThreadContexts(const ThreadContexts&) = delete;
    ThreadContexts& operator=(const ThreadContexts&) = delete;
};

ThreadContexts& thread_contexts()
{
    thread_local ThreadContexts contexts;
    return contexts;
}

} // namespace

std::string sha256_hex(std::string_view data)
{
    std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
    const auto* md = sha256_algorithms().digest;
    EVP_MD_CTX* ctx = thread_contexts().digest;
    unsigned int len = 0;
    if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx, md, nullptr) != 1
        || EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx, digest.data(), &len) != 1) {
        SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest.data());
    }
    return hex(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

std::string hmac_sha256(std::string_view key, std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    EVP_MAC_CTX* ctx = thread_contexts().mac;
    std::size_t len = 0;
    // Never a null key: EVP_MAC_init would keep the context's previous one.
    static constexpr unsigned char k_no_key[1] = {0};
    const auto* key_bytes = key.empty() ? k_no_key : reinterpret_cast<const unsigned char*>(key.data());
    if (ctx != nullptr && EVP_MAC_init(ctx, key_bytes, key.size(), nullptr) == 1
        && EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1
        && EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1) {
        return std::string(reinterpret_cast<const char*>(out.data()), len);
    }
    unsigned int one_shot = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out.data(), &one_shot);
    return std::string(reinterpret_cast<const char*>(out.data()), one_shot);
}

std::string uri_encode(std::string_view s, bool keep_slash)
{
    static constexpr char k_digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size() * 3 / 2);
    for (const unsigned char c : s) {
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(k_digits[c >> 4]);
            out.push_back(k_digits[c & 0xf]);
        }
    }
    return out;
}

namespace {

std::optional<std::string> decode(std::string_view s, bool plus_is_space)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
            continue;
        }
        if (i + 2 >= s.size()) {
            return std::nullopt;
        }
        const int hi = collector::hex_digit_value(s[i + 1]);
        const int lo = collector::hex_digit_value(s[i + 2]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    return out;
}

} // namespace

std::optional<std::string> percent_decode(std::string_view s) { return decode(s, false); }

std::optional<std::string> query_decode(std::string_view s) { return decode(s, true); }

std::optional<std::string> canonical_uri(std::string_view raw_path)
{
    if (raw_path.empty()) {
        return std::string("/");
    }
    auto decoded = percent_decode(raw_path);
    if (!decoded) {
        return std::nullopt;
    }
    return uri_encode(*decoded, true);
}

std::optional<std::vector<QueryParam>> parse_query(std::string_view raw)
{
    std::vector<QueryParam> params;
    while (!raw.empty()) {
        const auto amp = raw.find('&');
        const std::string_view part = raw.substr(0, amp);
        raw = amp == std::string_view::npos ? std::string_view{} : raw.substr(amp + 1);
        if (part.empty()) {
            continue;
        }
        const auto eq = part.find('=');
        auto name = query_decode(part.substr(0, eq));
        auto value = query_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
        if (!name || !value) {
            return std::nullopt;
        }
        params.push_back({std::move(*name), std::move(*value)});
    }
    return params;
}

std::string canonical_query(const std::vector<QueryParam>& params)
{
    std::vector<std::pair<std::string, std::string>> encoded;
    encoded.reserve(params.size());
    for (const auto& p : params) {
        encoded.emplace_back(uri_encode(p.name, false), uri_encode(p.value, false));
    }
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [name, value] : encoded) {
        if (!out.empty()) {
            out.push_back('&');
        }
        out += name;
        out.push_back('=');
        out += value;
    }
    return out;
}

std::string canonical_header_value(std::string_view value)
{
    value = trim_blanks(value);
    std::string out;
    out.reserve(value.size());
    bool in_space = false;
    for (const char c : value) {
        if (c == ' ' || c == '\t') {
            if (!in_space) {
                out.push_back(' ');
            }
            in_space = true;
        } else {
            out.push_back(c);
            in_space = false;
        }
    }
    return out;
}

std::string canonical_request(const CanonicalParts& parts)
{
    std::string out;
    out += parts.method;
    out += '\n';
    out += parts.uri;
    out += '\n';
    out += parts.query;
    out += '\n';
    for (const auto& name : parts.signed_headers) {
        out += name;
        out += ':';
        bool first = true;
        for (const auto& [hname, hvalue] : parts.headers) {
            if (hname == name) {
                if (!first) {
                    out += ',';
                }
                out += canonical_header_value(hvalue);
                first = false;
            }
        }
        out += '\n';
    }
    out += '\n';
    for (std::size_t i = 0; i < parts.signed_headers.size(); ++i) {
        if (i != 0) {
            out += ';';
        }
        out += parts.signed_headers[i];
    }
    out += '\n';
    out += parts.payload_hash;
    return out;
}

std::string credential_scope(std::string_view date8, std::string_view region, std::string_view service)
{
    std::string out;
    out.append(date8).append("/").append(region).append("/").append(service).append("/aws4_request");
    return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_req)
{
    std::string out(k_algorithm);
    out.append("\n").append(amz_date).append("\n").append(scope).append("\n").append(sha256_hex(canonical_req));
    return out;
}

namespace {

std::string derive_signing_key(std::string_view secret, std::string_view date8, std::string_view region,
                               std::string_view service)
{
    const std::string k_secret = "AWS4" + std::string(secret);
    const std::string k_date = hmac_sha256(k_secret, date8);
    const std::string k_region = hmac_sha256(k_date, region);
    const std::string k_service = hmac_sha256(k_region, service);
    return hmac_sha256(k_service, "aws4_request");
}

} // namespace

std::string signing_key(std::string_view secret, std::string_view date8, std::string_view region,
                        std::string_view service)
{
    // The key changes once a day: verifying a request and re-signing it
    // derive the same one, so each thread remembers its last key (four
    // HMACs saved twice per request).
    struct Last {
        std::string secret, date8, region, service, key;
    };
    thread_local Last last;
    if (!last.key.empty() && last.date8 == date8 && last.region == region && last.service == service
        && last.secret == secret) {
        return last.key;
    }
    last = Last{std::string(secret), std::string(date8), std::string(region), std::string(service),
                derive_signing_key(secret, date8, region, service)};
    return last.key;
}

std::string signature(std::string_view key, std::string_view to_sign) { return hex(hmac_sha256(key, to_sign)); }

std::optional<Credential> parse_credential(std::string_view text)
{
    // The access key itself never contains '/', the scope has four parts.
    std::vector<std::string_view> parts;
    while (true) {
        const auto slash = text.find('/');
        parts.push_back(text.substr(0, slash));
        if (slash == std::string_view::npos) {
            break;
        }
        text.remove_prefix(slash + 1);
    }
    if (parts.size() != 5 || parts[4] != "aws4_request" || parts[0].empty() || parts[1].size() != 8 || parts[2].empty()
        || parts[3].empty()) {
        return std::nullopt;
    }
    return Credential{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]), std::string(parts[3])};
}

std::optional<AuthFields> parse_authorization(std::string_view value)
{
    value = trim_blanks(value);
    if (value.substr(0, k_algorithm.size()) != k_algorithm) {
        return std::nullopt;
    }
    value.remove_prefix(k_algorithm.size());
    if (value.empty() || (value.front() != ' ' && value.front() != '\t')) {
        return std::nullopt;
    }
    AuthFields fields;
    bool have_cred = false;
    bool have_headers = false;
    bool have_sig = false;
    while (!value.empty()) {
        const auto comma = value.find(',');
        const std::string_view item = trim_blanks(value.substr(0, comma));
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        if (item.empty()) {
            continue;
        }
        const auto eq = item.find('=');
        if (eq == std::string_view::npos) {
            return std::nullopt;
        }
        const std::string_view key = trim_blanks(item.substr(0, eq));
        const std::string_view val = trim_blanks(item.substr(eq + 1));
        if (key == "Credential") {
            auto cred = parse_credential(val);
            if (!cred) {
                return std::nullopt;
            }
            fields.credential = std::move(*cred);
            have_cred = true;
        } else if (key == "SignedHeaders") {
            std::string_view rest = val;
            while (!rest.empty()) {
                const auto semi = rest.find(';');
                fields.signed_headers.emplace_back(rest.substr(0, semi));
                rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
            }
            have_headers = !fields.signed_headers.empty();
        } else if (key == "Signature") {
            fields.signature = std::string(val);
            have_sig = !val.empty();
        }
    }
    if (!have_cred || !have_headers || !have_sig) {
        return std::nullopt;
    }
    return fields;
}

bool is_hex_sha256(std::string_view s)
{
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return collector::hex_digit_value(c) >= 0; });
}

} // namespace roar::proxy::sigv4
