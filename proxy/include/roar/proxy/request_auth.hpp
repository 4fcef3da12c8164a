// Inbound verification (SigV4 and SigV2, Authorization header and
// presigned query; unsigned CORS preflights let through) and outbound
// SigV4 re-signing for the upstream host. Both are pure: the clock reading
// and the credentials are parameters.
#pragma once

#include "roar/proxy/credentials.hpp"
#include "roar/proxy/request.hpp"
#include "roar/proxy/s3_error.hpp"
#include "roar/proxy/sigv4.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <tl/expected.hpp>

namespace roar::proxy {

enum class AuthScheme {
    SigV4Header, // Authorization: AWS4-HMAC-SHA256 ...
    SigV4Query,  // X-Amz-Algorithm, X-Amz-Credential, ..., X-Amz-Signature
    SigV2Header, // Authorization: AWS AccessKeyId:Signature
    SigV2Query,  // AWSAccessKeyId, Expires, Signature
    Preflight,   // an unsigned CORS preflight (OPTIONS): forwarded unsigned
};

struct VerifiedAuth {
    AuthScheme scheme = AuthScheme::SigV4Header;
    sigv4::Credential credential; // SigV4 only
    std::string region;           // what the upstream request is signed for
    std::string amz_date;         // SigV4 only
    std::string signing_key;      // raw, for aws-chunked chunk signatures (SigV4 only)
    std::string signature;        // the request's (seed) signature
    std::string payload_hash;     // x-amz-content-sha256 as signed (UNSIGNED-PAYLOAD for SigV2)
    bool presigned = false;       // authenticated by query parameters
};

// "YYYYMMDDTHHMMSSZ" for `t`.
std::string amz_date(std::chrono::system_clock::time_point t);
// Parses an X-Amz-Date value `text`; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text);

// Verifies the signature of `head` (SigV4 or SigV2, header or presigned
// query) against `creds` at time `now`; the error is the S3 error to answer
// (403 for auth failures, 400 for malformed requests, 501 for what the
// proxy does not support, named). Header-signed requests are accepted
// within 15 minutes of their date, presigned ones until they expire. An
// unsigned CORS preflight (OPTIONS with Origin and
// Access-Control-Request-Method, no body) passes as AuthScheme::Preflight.
tl::expected<VerifiedAuth, S3Error> verify_request(const RequestHead& head, const Credentials& creds,
                                                   std::chrono::system_clock::time_point now);

// Whether `head` is a CORS preflight: OPTIONS with Origin and
// Access-Control-Request-Method, no credentials and no body.
bool is_cors_preflight(const RequestHead& head);

// The query parameters of a request authenticated by `auth` that go to the
// upstream, from its decoded `query`: presigned authentication parameters
// removed; those that stand for headers (X-Amz-Security-Token, SigV2's
// x-amz-* parameters) are appended to `as_headers` (lower-case names).
std::vector<sigv4::QueryParam> forwarded_query(const VerifiedAuth& auth, std::vector<sigv4::QueryParam> query,
                                               std::vector<std::pair<std::string, std::string>>& as_headers);

// A request to sign for the upstream: header names in lower case; `uri`
// and `query` canonical (and sent exactly so).
struct OutboundRequest {
    std::string method;
    std::string uri;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers; // must include "host"
    std::string payload_hash;
};

// Adds x-amz-date, x-amz-content-sha256, x-amz-security-token (when the
// credentials have one) and Authorization to `req`, signing host,
// content-md5, content-type and every x-amz-* header with `creds` for
// `region` and service s3 at time `now`. Returns the canonical request (for
// debugging and tests).
std::string sign_outbound(OutboundRequest& req, const Credentials& creds, std::string_view region,
                          std::chrono::system_clock::time_point now);

} // namespace roar::proxy
