// Inbound SigV4 verification (Authorization header and presigned query)
// and outbound re-signing for the upstream host. Both are pure: the clock
// reading and the credentials are parameters.
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

struct VerifiedAuth {
    sigv4::Credential credential;
    std::string amz_date;
    std::string signing_key;  // raw, for aws-chunked chunk signatures
    std::string signature;    // the request's (seed) signature
    std::string payload_hash; // x-amz-content-sha256 as signed
    bool presigned = false;
};

// "YYYYMMDDTHHMMSSZ" for `t`.
std::string amz_date(std::chrono::system_clock::time_point t);
// Parses an X-Amz-Date value `text`; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_amz_date(std::string_view text);

// Verifies the SigV4 signature of `head` against `creds` at time `now`;
// the error is the S3 error to answer (403 for auth failures, 400 for
// malformed requests). Requests are accepted within 15 minutes of their
// X-Amz-Date, presigned ones until X-Amz-Expires runs out.
tl::expected<VerifiedAuth, S3Error> verify_request(const RequestHead& head, const Credentials& creds,
                                                   std::chrono::system_clock::time_point now);

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
