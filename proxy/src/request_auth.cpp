// Inbound verification and outbound re-signing. The inbound check
// recomputes the caller's SigV4 canonical request, or SigV2 string to sign,
// from the raw request line and headers exactly as received (host:port of
// the proxy included); the outbound SigV4 signature covers the upstream's
// host:port and the canonical URI/query that the relay then sends
// verbatim.
#include "roar/proxy/request_auth.hpp"

#include "roar/proxy/s3_operation.hpp"
#include "roar/proxy/sigv2.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
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
    // YYYYMMDDTHHMMSSZ, digits only; years up to 2199 (a time_point counts
    // nanoseconds in 64 bits and ends in 2262).
    if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') {
        return std::nullopt;
    }
    auto field = [&](std::size_t pos, std::size_t len, int lo, int hi) -> std::optional<int> {
        int v = 0;
        const char* begin = text.data() + pos;
        const auto [end, ec] = std::from_chars(begin, begin + len, v);
        if (ec != std::errc() || end != begin + len || *begin == '-' || *begin == '+' || v < lo || v > hi) {
            return std::nullopt;
        }
        return v;
    };
    const auto year = field(0, 4, 1970, 2199);
    const auto month = field(4, 2, 1, 12);
    const auto day = field(6, 2, 1, 31);
    const auto hour = field(9, 2, 0, 23);
    const auto minute = field(11, 2, 0, 59);
    const auto second = field(13, 2, 0, 60);
    if (!year || !month || !day || !hour || !minute || !second) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    const std::time_t tt = timegm(&tm);
    if (tt == static_cast<std::time_t>(-1)) {
        return std::nullopt;
    }
    return std::chrono::system_clock::from_time_t(tt);
}

namespace {

constexpr std::string_view k_sigv4a = "AWS4-ECDSA-P256-SHA256";

tl::unexpected<S3Error> signature_mismatch()
{
    return fail(403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your key "
                "and signing method.");
}

// Parses exactly `text` as a decimal integer in [lo, hi].
std::optional<long long> parse_integer(std::string_view text, long long lo, long long hi)
{
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
        return std::nullopt;
    }
    return v;
}

std::vector<std::string> split_signed_headers(std::string_view list)
{
    std::vector<std::string> out;
    while (!list.empty()) {
        const auto semi = list.find(';');
        out.emplace_back(list.substr(0, semi));
        list = semi == std::string_view::npos ? std::string_view{} : list.substr(semi + 1);
    }
    return out;
}

// SigV4, header or presigned: the request's own canonical request, string
// to sign and signature, recomputed from what was received.
tl::expected<VerifiedAuth, S3Error> verify_sigv4(const RequestHead& head, std::vector<sigv4::QueryParam> query,
                                                 std::string uri, const Credentials& creds,
                                                 std::chrono::system_clock::time_point now)
{
    VerifiedAuth out;
    sigv4::AuthFields fields;
    std::vector<sigv4::QueryParam> signed_query;
    if (const auto authz = head.header("authorization")) {
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
        signed_query = std::move(query);
    } else {
        out.scheme = AuthScheme::SigV4Query;
        const auto algo = query_value(query, "X-Amz-Algorithm");
        if (algo != sigv4::k_algorithm) {
            return fail(400, "AuthorizationQueryParametersError", "X-Amz-Algorithm only supports AWS4-HMAC-SHA256.");
        }
        const auto cred = query_value(query, "X-Amz-Credential");
        const auto date = query_value(query, "X-Amz-Date");
        const auto expires = query_value(query, "X-Amz-Expires");
        const auto headers = query_value(query, "X-Amz-SignedHeaders");
        const auto sig = query_value(query, "X-Amz-Signature");
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
        fields.signed_headers = split_signed_headers(*headers);
        out.amz_date = *date;
        out.presigned = true;
        out.payload_hash = std::string(head.header("x-amz-content-sha256").value_or(sigv4::k_unsigned_payload));
        const auto seconds = parse_integer(*expires, 1, k_max_presign_seconds);
        if (!seconds) {
            return fail(400, "AuthorizationQueryParametersError",
                        "X-Amz-Expires must be between 1 and 604800 seconds.");
        }
        const auto signed_at = parse_amz_date(out.amz_date);
        if (!signed_at) {
            return fail(400, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 basic format.");
        }
        if (now > *signed_at + std::chrono::seconds(*seconds)) {
            return fail(403, "AccessDenied", "Request has expired");
        }
        if (now + k_max_skew < *signed_at) {
            return fail(403, "RequestTimeTooSkewed", "The presigned URL is dated in the future.");
        }
        for (auto& p : query) {
            if (p.name != "X-Amz-Signature") {
                signed_query.push_back(std::move(p));
            }
        }
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
    parts.uri = std::move(uri);
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
        return signature_mismatch();
    }
    out.signature = expected;
    out.region = fields.credential.region;
    out.credential = std::move(fields.credential);
    return out;
}

// SigV2 is never combined with aws-chunked (its streaming signatures chain
// from a SigV4 seed).
std::optional<S3Error> sigv2_unsupported(const RequestHead& head)
{
    const auto sha = head.header("x-amz-content-sha256");
    const auto enc = head.header("content-encoding");
    if ((sha && sha->substr(0, 10) == "STREAMING-")
        || (enc && to_lower(*enc).find("aws-chunked") != std::string::npos)) {
        return S3Error{400, "InvalidRequest",
                       "roar-proxy does not support aws-chunked uploads signed with Signature Version 2; sign with "
                       "SigV4."};
    }
    return std::nullopt;
}

// The SigV2 string to sign of `head` with date line `date` and the amz
// headers `amz` (the request's, plus a presigned URL's x-amz-* parameters).
std::string sigv2_string_to_sign(const RequestHead& head, std::string date,
                                 const std::vector<std::pair<std::string, std::string>>& amz,
                                 const std::vector<sigv4::QueryParam>& query)
{
    sigv2::StringToSignParts parts;
    parts.method = head.method;
    // A presigned URL carries Content-MD5 and Content-Type as parameters
    // when the request itself will not send them.
    const auto positional = [&](std::string_view name) {
        if (const auto h = head.header(name)) {
            return std::string(sigv4::trim_blanks(*h));
        }
        for (const auto& p : query) {
            if (iequals(p.name, name)) {
                return p.value;
            }
        }
        return std::string();
    };
    parts.content_md5 = positional("content-md5");
    parts.content_type = positional("content-type");
    parts.date = std::move(date);
    parts.amz_headers = sigv2::canonical_amz_headers(amz);
    parts.resource = sigv2::canonical_resource(bucket_from_host(head.header("host").value_or("")), head.raw_path(),
                                               head.raw_query());
    return sigv2::string_to_sign(parts);
}

tl::expected<VerifiedAuth, S3Error> verify_sigv2_header(const RequestHead& head, std::string_view authz,
                                                        const Credentials& creds,
                                                        std::chrono::system_clock::time_point now)
{
    const auto fields = sigv2::parse_authorization(authz);
    if (!fields) {
        return fail(400, "InvalidArgument", "AWS authorization header is invalid. Expected AwsAccessKeyId:signature");
    }
    if (fields->access_key != creds.access_key) {
        return fail(403, "InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not match the credentials roar-proxy was started with.");
    }
    if (auto unsupported = sigv2_unsupported(head)) {
        return tl::unexpected(std::move(*unsupported));
    }
    // x-amz-date, when sent, is the signed time (as an amz header) and the
    // Date line of the string to sign is empty.
    const auto amz_date = head.header("x-amz-date");
    const auto date = amz_date ? amz_date : head.header("date");
    const auto signed_at = date ? sigv2::parse_http_date(*date) : std::nullopt;
    if (!signed_at) {
        return fail(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
    }
    if (*signed_at > now + k_max_skew || *signed_at + k_max_skew < now) {
        return fail(403, "RequestTimeTooSkewed",
                    "The difference between the request time and the current time is too large.");
    }
    const std::string to_sign =
        sigv2_string_to_sign(head, amz_date ? std::string() : std::string(sigv4::trim_blanks(*date)), head.headers, {});
    if (!constant_time_equal(sigv2::signature(creds.secret_key, to_sign), fields->signature)) {
        return signature_mismatch();
    }
    VerifiedAuth out;
    out.scheme = AuthScheme::SigV2Header;
    out.region = creds.region_or_default();
    out.signature = fields->signature;
    out.payload_hash = std::string(sigv4::k_unsigned_payload);
    return out;
}

tl::expected<VerifiedAuth, S3Error> verify_sigv2_query(const RequestHead& head,
                                                       const std::vector<sigv4::QueryParam>& query,
                                                       const Credentials& creds,
                                                       std::chrono::system_clock::time_point now)
{
    const auto access_key = query_value(query, "AWSAccessKeyId");
    auto sig = query_value(query, "Signature");
    const auto expires = query_value(query, "Expires");
    if (!access_key || !sig || !expires) {
        return fail(403, "AccessDenied",
                    "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters");
    }
    const auto expiry = parse_integer(*expires, 0, std::numeric_limits<std::int64_t>::max() / 2);
    if (!expiry) {
        return fail(403, "AccessDenied", "Expires must be a number of seconds since 1970-01-01T00:00:00Z.");
    }
    if (std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count() > *expiry) {
        return fail(403, "AccessDenied", "Request has expired");
    }
    if (*access_key != creds.access_key) {
        return fail(403, "InvalidAccessKeyId",
                    "The AWS Access Key Id you provided does not match the credentials roar-proxy was started with.");
    }
    if (auto unsupported = sigv2_unsupported(head)) {
        return tl::unexpected(std::move(*unsupported));
    }
    // A base64 signature has no spaces: one is a '+' that was not encoded.
    std::replace(sig->begin(), sig->end(), ' ', '+');
    auto amz = head.headers;
    for (const auto& p : query) {
        if (to_lower(p.name).rfind("x-amz-", 0) == 0) {
            amz.emplace_back(p.name, p.value);
        }
    }
    const std::string to_sign = sigv2_string_to_sign(head, *expires, amz, query);
    if (!constant_time_equal(sigv2::signature(creds.secret_key, to_sign), *sig)) {
        return signature_mismatch();
    }
    VerifiedAuth out;
    out.scheme = AuthScheme::SigV2Query;
    out.region = creds.region_or_default();
    out.signature = *sig;
    out.payload_hash = std::string(sigv4::k_unsigned_payload);
    out.presigned = true;
    return out;
}

bool has_query_parameter(const std::vector<sigv4::QueryParam>& q, std::string_view name)
{
    return std::any_of(q.begin(), q.end(), [&](const auto& p) { return p.name == name; });
}

} // namespace

bool is_cors_preflight(const RequestHead& head)
{
    if (head.method != "OPTIONS" || !head.header("origin") || !head.header("access-control-request-method")
        || head.header("authorization") || head.header("transfer-encoding")) {
        return false;
    }
    const auto length = head.header("content-length");
    return !length || sigv4::trim_blanks(*length) == "0";
}

tl::expected<VerifiedAuth, S3Error> verify_request(const RequestHead& head, const Credentials& creds,
                                                   std::chrono::system_clock::time_point now)
{
    auto query = sigv4::parse_query(head.raw_query());
    auto uri = sigv4::canonical_uri(head.raw_path());
    if (!query || !uri) {
        return fail(400, "InvalidURI", "Couldn't parse the specified URI (bad percent-encoding).");
    }
    if (const auto authz = head.header("authorization")) {
        const std::string_view value = sigv4::trim_blanks(*authz);
        if (value.substr(0, 4) == "AWS ") {
            return verify_sigv2_header(head, value, creds, now);
        }
        if (value.substr(0, k_sigv4a.size()) == k_sigv4a) {
            return fail(501, "NotImplemented",
                        "roar-proxy does not support SigV4A (AWS4-ECDSA-P256-SHA256, multi-region access points); "
                        "sign with SigV4 (AWS4-HMAC-SHA256).");
        }
        return verify_sigv4(head, std::move(*query), std::move(*uri), creds, now);
    }
    if (const auto algo = query_value(*query, "X-Amz-Algorithm")) {
        if (*algo == k_sigv4a) {
            return fail(501, "NotImplemented",
                        "roar-proxy does not support SigV4A presigned URLs (AWS4-ECDSA-P256-SHA256); presign with "
                        "SigV4 (AWS4-HMAC-SHA256).");
        }
        return verify_sigv4(head, std::move(*query), std::move(*uri), creds, now);
    }
    if (has_query_parameter(*query, "AWSAccessKeyId") || has_query_parameter(*query, "Signature")) {
        return verify_sigv2_query(head, *query, creds, now);
    }
    if (is_cors_preflight(head)) {
        VerifiedAuth out;
        out.scheme = AuthScheme::Preflight;
        out.region = creds.region_or_default();
        out.payload_hash = std::string(sigv4::k_empty_sha256);
        return out;
    }
    const auto type = head.header("content-type");
    if (head.method == "POST" && type && to_lower(*type).rfind("multipart/form-data", 0) == 0) {
        return fail(501, "NotImplemented",
                    "roar-proxy does not support browser-based POST uploads (HTML forms signed with a policy); use "
                    "PutObject or a presigned PUT URL.");
    }
    return fail(403, "AccessDenied",
                "Anonymous requests are refused: roar-proxy only serves callers that sign with the proxy's AWS "
                "credentials.");
}

std::vector<sigv4::QueryParam> forwarded_query(const VerifiedAuth& auth, std::vector<sigv4::QueryParam> query,
                                               std::vector<std::pair<std::string, std::string>>& as_headers)
{
    if (!auth.presigned) {
        return query;
    }
    std::vector<sigv4::QueryParam> kept;
    for (auto& p : query) {
        if (auth.scheme == AuthScheme::SigV4Query) {
            if (p.name == "X-Amz-Security-Token") {
                as_headers.emplace_back("x-amz-security-token", std::move(p.value));
            } else if (p.name.rfind("X-Amz-", 0) != 0) {
                kept.push_back(std::move(p));
            }
            continue;
        }
        std::string lname = to_lower(p.name);
        if (lname.rfind("x-amz-", 0) == 0) {
            as_headers.emplace_back(std::move(lname), std::move(p.value));
        } else if (p.name != "AWSAccessKeyId" && p.name != "Signature" && p.name != "Expires") {
            kept.push_back(std::move(p));
        }
    }
    return kept;
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
