// Inbound SigV4 verification and outbound re-signing. The inbound check
// recomputes the caller's canonical request from the raw request line and
// headers exactly as received (host:port of the proxy included); the
// outbound signature covers the upstream's host:port and the canonical
// URI/query that the relay then sends verbatim.
#include "roar/proxy/request_auth.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace roar::proxy {

namespace {

constexpr auto k_max_skew = std::chrono::minutes(15);
constexpr long k_max_presign_seconds = 7 * 24 * 3600;

tl::unexpected<S3Error> fail(unsigned status, std::string code, std::string message)
{
    return tl::unexpected(S3Error{status, std::move(code), std::move(message)});
}

bool constant_time_equal(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::string> query_value(const std::vector<sigv4::QueryParam>& q, std::string_view name)
{
    for (const auto& p : q) {
        if (p.name == name) {
            return p.value;
        }
    }
    return std::nullopt;
}

} // namespace

std::string amz_date(std::chrono::system_clock::time_point t)
{
    const std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text)
{
    if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
        return std::nullopt;
    }
    std::tm tm{};
    const std::string s(text);
    if (std::sscanf(s.c_str(), "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                    &tm.tm_sec)
        != 6) {
        return std::nullopt;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const std::time_t tt = timegm(&tm);
    if (tt == static_cast<std::time_t>(-1)) {
        return std::nullopt;
    }
    return std::chrono::system_clock::from_time_t(tt);
}

tl::expected<VerifiedAuth, S3Error> verify_request(const RequestHead& head, const Credentials& creds,
                                                   std::chrono::system_clock::time_point now)
{
    auto query = sigv4::parse_query(head.raw_query());
    auto uri = sigv4::canonical_uri(head.raw_path());
    if (!query || !uri) {
        return fail(400, "InvalidURI", "Couldn't parse the specified URI (bad percent-encoding).");
    }

    VerifiedAuth out;
    sigv4::AuthFields fields;
    std::vector<sigv4::QueryParam> signed_query;
    const auto authz = head.header("authorization");
    const auto algo = query_value(*query, "X-Amz-Algorithm");
    if (authz) {
        if (authz->substr(0, 4) == "AWS ") {
            return fail(400, "InvalidRequest", "Signature Version 2 is not supported by roar-proxy; use SigV4.");
        }
        auto parsed = sigv4::parse_authorization(*authz);
        if (!parsed) {
            return fail(400, "AuthorizationHeaderMalformed", "The authorization header is malformed.");
        }
        fields = std::move(*parsed);
        const auto date = head.header("x-amz-date");
        if (!date) {
            return fail(403, "AccessDenied", "AWS authentication requires a valid X-Amz-Date header.");
        }
        out.amz_date = std::string(*date);
        const auto hash = head.header("x-amz-content-sha256");
        out.payload_hash = hash ? std::string(*hash) : std::string(sigv4::k_empty_sha256);
        if (!hash && head.header("content-length").value_or("0") != "0") {
            return fail(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256.");
        }
        signed_query = std::move(*query);
    } else if (algo) {
        if (*algo != sigv4::k_algorithm) {
            return fail(400, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports AWS4-HMAC-SHA256.");
        }
        const auto cred = query_value(*query, "X-Amz-Credential");
        const auto date = query_value(*query, "X-Amz-Date");
        const auto expires = query_value(*query, "X-Amz-Expires");
        const auto headers = query_value(*query, "X-Amz-SignedHeaders");
        const auto sig = query_value(*query, "X-Amz-Signature");
        if (!cred || !date || !expires || !headers || !sig) {
            return fail(400, "AuthorizationQueryParametersError",
                        "Query-string authentication requires X-Amz-Credential, X-Amz-Date, X-Amz-Expires, "
                        "X-Amz-SignedHeaders and X-Amz-Signature.");
        }
        auto parsed_cred = sigv4::parse_credential(*cred);
        if (!parsed_cred) {
            return fail(400, "AuthorizationQueryParametersError", "X-Amz-Credential is malformed.");
        }
        fields.credential = std::move(*parsed_cred);
        fields.signature = *sig;
        std::string_view rest = *headers;
        while (!rest.empty()) {
            const auto semi = rest.find(';');
            fields.signed_headers.emplace_back(rest.substr(0, semi));
            rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
        }
        out.amz_date = *date;
        out.presigned = true;
        out.payload_hash = std::string(head.header("x-amz-content-sha256").value_or(sigv4::k_unsigned_payload));
        long seconds = -1;
        try {
            seconds = std::stol(*expires);
        } catch (...) {
            seconds = -1;
        }
        if (seconds < 1 || seconds > k_max_presign_seconds) {
            return fail(400, "AuthorizationQueryParametersError",
                        "X-Amz-Expires must be between 1 and 604800 seconds.");
        }
        const auto signed_at = parse_amz_date(out.amz_date);
        if (!signed_at) {
            return fail(400, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 basic format.");
        }
        if (now > *signed_at + std::chrono::seconds(seconds)) {
            return fail(403, "AccessDenied", "Request has expired");
        }
        if (now + k_max_skew < *signed_at) {
            return fail(403, "RequestTimeTooSkewed", "The presigned URL is dated in the future.");
        }
        for (auto& p : *query) {
            if (p.name != "X-Amz-Signature") {
                signed_query.push_back(std::move(p));
            }
        }
    } else {
        return fail(403, "AccessDenied",
                    "Anonymous requests are refused: roar-proxy only serves callers that sign with the proxy's AWS "
                    "credentials.");
    }

    if (fields.credential.access_key != creds.access_key) {
        return fail(403, "InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not match the credentials roar-proxy was started with.");
    }
    if (fields.credential.service != "s3") {
        return fail(400, "AuthorizationHeaderMalformed", "The credential scope must name service s3.");
    }
    const auto signed_at = parse_amz_date(out.amz_date);
    if (!signed_at || out.amz_date.substr(0, 8) != fields.credential.date8) {
        return fail(403, "AccessDenied", "X-Amz-Date is malformed or does not match the credential scope date.");
    }
    if (!out.presigned && (*signed_at > now + k_max_skew || *signed_at + k_max_skew < now)) {
        return fail(403, "RequestTimeTooSkewed",
                    "The difference between the request time and the current time is too large.");
    }
    if (std::find(fields.signed_headers.begin(), fields.signed_headers.end(), "host") == fields.signed_headers.end()) {
        return fail(403, "AccessDenied", "The host header must be signed.");
    }

    sigv4::CanonicalParts parts;
    parts.method = head.method;
    parts.uri = std::move(*uri);
    parts.query = sigv4::canonical_query(signed_query);
    for (const auto& [name, value] : head.headers) {
        parts.headers.emplace_back(to_lower(name), value);
    }
    parts.signed_headers = fields.signed_headers;
    parts.payload_hash = out.payload_hash;
    const std::string creq = sigv4::canonical_request(parts);
    const std::string scope = fields.credential.scope();
    const std::string to_sign = sigv4::string_to_sign(out.amz_date, scope, creq);
    out.signing_key = sigv4::signing_key(creds.secret_key, fields.credential.date8, fields.credential.region, "s3");
    const std::string expected = sigv4::signature(out.signing_key, to_sign);
    if (!constant_time_equal(expected, to_lower(fields.signature))) {
        return fail(403, "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided. Check your key "
                    "and signing method.");
    }
    out.signature = expected;
    out.credential = std::move(fields.credential);
    return out;
}

std::string sign_outbound(OutboundRequest& req, const Credentials& creds, std::string_view region,
                          std::chrono::system_clock::time_point now)
{
    const std::string date = amz_date(now);
    const std::string date8 = date.substr(0, 8);
    auto set = [&](std::string name, std::string value) {
        req.headers.erase(
            std::remove_if(req.headers.begin(), req.headers.end(), [&](const auto& h) { return h.first == name; }),
            req.headers.end());
        req.headers.emplace_back(std::move(name), std::move(value));
    };
    set("x-amz-date", date);
    set("x-amz-content-sha256", req.payload_hash);
    if (!creds.session_token.empty()) {
        set("x-amz-security-token", creds.session_token);
    }

    std::vector<std::string> signed_names;
    for (const auto& [name, value] : req.headers) {
        if (name == "host" || name == "content-md5" || name == "content-type" || name.rfind("x-amz-", 0) == 0) {
            signed_names.push_back(name);
        }
    }
    std::sort(signed_names.begin(), signed_names.end());
    signed_names.erase(std::unique(signed_names.begin(), signed_names.end()), signed_names.end());

    sigv4::CanonicalParts parts{req.method, req.uri, req.query, req.headers, signed_names, req.payload_hash};
    std::string creq = sigv4::canonical_request(parts);
    const std::string scope = sigv4::credential_scope(date8, region, "s3");
    const std::string key = sigv4::signing_key(creds.secret_key, date8, region, "s3");
    const std::string sig = sigv4::signature(key, sigv4::string_to_sign(date, scope, creq));

    std::string signed_list;
    for (const auto& n : signed_names) {
        if (!signed_list.empty()) {
            signed_list += ';';
        }
        signed_list += n;
    }
    set("authorization", std::string(sigv4::k_algorithm) + " Credential=" + creds.access_key + "/" + scope
                             + ", SignedHeaders=" + signed_list + ", Signature=" + sig);
    return creq;
}

} // namespace roar::proxy
