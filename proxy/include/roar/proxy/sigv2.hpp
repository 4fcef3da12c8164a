// AWS Signature Version 2 for S3 as pure functions: the string to sign
// (method, Content-MD5, Content-Type, date or expiry, canonicalized
// x-amz-* headers, canonicalized resource with the sub-resources S3 signs),
// the HMAC-SHA1 signature, and the parsing of `Authorization: AWS AK:sig`
// and of HTTP dates. boto3 still makes SigV2 presigned URLs by default;
// request_auth.cpp verifies them with these pieces and the proxy forwards
// the request re-signed with SigV4.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roar::proxy::sigv2 {

// Standard base64 (with padding) of the raw bytes `raw`, by OpenSSL (the
// proxy core does not link the collector and its byte_text codec).
std::string base64(std::string_view raw);
// Raw (20-byte) HMAC-SHA1 of `data` under `key`.
std::string hmac_sha1(std::string_view key, std::string_view data);
// The SigV2 signature of `to_sign` under `secret`: base64(HMAC-SHA1).
std::string signature(std::string_view secret, std::string_view to_sign);

// Whether query parameter `name` is a sub-resource or response override
// that S3 includes in the canonicalized resource (acl, uploads, uploadId,
// partNumber, versionId, response-content-type, delete, tagging, ...).
bool is_signed_subresource(std::string_view name);

// The CanonicalizedResource of a request: "/" + `bucket` when the bucket
// came from the Host header (virtual-host style; empty otherwise), then the
// raw (still percent-encoded) request path `raw_path` ("/bucket" alone
// becomes "/bucket/"), then "?" and the signed sub-resources of the raw
// query `raw_query`, sorted by name, each "name" or "name=decoded value"
// as sent.
std::string canonical_resource(std::string_view bucket, std::string_view raw_path, std::string_view raw_query);

// The CanonicalizedAmzHeaders of `headers` ((name, value) pairs, any case):
// every x-amz-* header, name in lower case, sorted, repeated names joined
// with ',', values trimmed and unfolded; each "name:value\n".
std::string canonical_amz_headers(const std::vector<std::pair<std::string, std::string>>& headers);

struct StringToSignParts {
    std::string method;
    std::string content_md5;
    std::string content_type;
    std::string date;        // Date header, empty when x-amz-date is sent, Expires for query auth
    std::string amz_headers; // canonical_amz_headers()
    std::string resource;    // canonical_resource()
};
// The string to sign of `parts`: method, Content-MD5, Content-Type and
// date lines, then the amz headers and the resource.
std::string string_to_sign(const StringToSignParts& parts);

struct AuthFields {
    std::string access_key;
    std::string signature; // base64, as sent
};
// Parses an `AWS AccessKeyId:Signature` Authorization value `value`;
// nullopt when it is not that shape.
std::optional<AuthFields> parse_authorization(std::string_view value);

// Parses an HTTP date `text` as SDKs send it in Date and x-amz-date
// ("Tue, 27 Mar 2007 19:36:42 GMT", also "+0000" and other numeric zones,
// with or without the weekday); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text);

} // namespace roar::proxy::sigv2
