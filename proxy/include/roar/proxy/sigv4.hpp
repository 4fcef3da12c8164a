// AWS Signature Version 4 as pure functions: URI/query canonicalisation,
// canonical request, string to sign, signing key and signature, plus the
// parsing of the Authorization header and presigned query parameters.
// Nothing here touches the network or the clock; the relay and the inbound
// verifier (request_auth.hpp) compose these pieces.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roar::proxy::sigv4 {

inline constexpr std::string_view k_algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view k_empty_sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view k_unsigned_payload = "UNSIGNED-PAYLOAD";

// Lower-case hex of the raw bytes `raw`.
// `s` without leading and trailing spaces and tabs (HTTP's optional
// whitespace around header values and chunk extensions).
std::string_view trim_blanks(std::string_view s);

std::string hex(std::string_view raw);
// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Raw (32-byte) HMAC-SHA256 of `data` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view data);

// Percent-encodes `s` per SigV4: unreserved A-Z a-z 0-9 - . _ ~ stay, every
// other byte becomes %XX (upper-case hex); '/' stays when `keep_slash`.
std::string uri_encode(std::string_view s, bool keep_slash);
// Decodes %XX escapes in `s` ('+' stays '+', as in a path); nullopt on a
// malformed escape.
std::optional<std::string> percent_decode(std::string_view s);
// Decodes a query-string name or value `s` as S3 reads it: %XX escapes, and
// a raw '+' is a space (form encoding); nullopt on a malformed escape.
std::optional<std::string> query_decode(std::string_view s);

// The canonical URI of a raw request path `raw_path` as S3 computes it:
// decode once, encode once, keep '/', no dot-segment normalisation.
std::optional<std::string> canonical_uri(std::string_view raw_path);

struct QueryParam {
    std::string name;  // decoded
    std::string value; // decoded
};
// Splits the raw query string `raw` (without '?') into parameters decoded
// with query_decode(), in their original order; a parameter without '='
// has an empty value. Canonicalising these (canonical_query) gives both
// the string the caller's signature is checked against and the query the
// proxy forwards, so `prefix=a+b` is signed and sent as `prefix=a%20b`.
std::optional<std::vector<QueryParam>> parse_query(std::string_view raw);
// The canonical query string of `params`: each name and value encoded,
// sorted by encoded name then value, joined with '&'.
std::string canonical_query(const std::vector<QueryParam>& params);

// A header value as it enters the canonical request: outer whitespace
// trimmed, inner runs of spaces collapsed to one.
std::string canonical_header_value(std::string_view value);

// Everything a canonical request is made of. `headers` holds (lower-case
// name, value) pairs; only names listed in `signed_headers` (sorted, lower
// case) are used, and repeated names are joined with ','.
struct CanonicalParts {
    std::string method;
    std::string uri;   // already canonical
    std::string query; // already canonical
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<std::string> signed_headers;
    std::string payload_hash;
};
// The canonical request text of `parts` (six lines joined by '\n').
std::string canonical_request(const CanonicalParts& parts);
// "date8/region/service/aws4_request".
std::string credential_scope(std::string_view date8, std::string_view region, std::string_view service);
// The string to sign for `amz_date` (YYYYMMDDTHHMMSSZ), `scope` and the text
// of `canonical_req`.
std::string string_to_sign(std::string_view amz_date, std::string_view scope, std::string_view canonical_req);
// Raw signing key derived from `secret`, `date8`, `region`, `service`.
std::string signing_key(std::string_view secret, std::string_view date8, std::string_view region,
                        std::string_view service);
// Hex signature of `to_sign` under the raw `key`.
std::string signature(std::string_view key, std::string_view to_sign);

// The parsed credential and signature of an Authorization header or of a
// presigned URL's X-Amz-* parameters.
struct Credential {
    std::string access_key;
    std::string date8;
    std::string region;
    std::string service;
    std::string scope() const { return credential_scope(date8, region, service); }
};
struct AuthFields {
    Credential credential;
    std::vector<std::string> signed_headers; // lower case, as listed
    std::string signature;                   // lower-case hex
};
// Parses "AKID/date/region/service/aws4_request" in `text`.
std::optional<Credential> parse_credential(std::string_view text);
// Parses an `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
// header value in `value`; nullopt when it is not that shape.
std::optional<AuthFields> parse_authorization(std::string_view value);

// Whether `s` is 64 lower- or upper-case hex digits.
bool is_hex_sha256(std::string_view s);

} // namespace roar::proxy::sigv4
