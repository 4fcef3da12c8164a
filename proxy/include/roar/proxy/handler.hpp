// The pure request step: from a request head (no sockets) decide either a
// local response (operational endpoints, the proxy's own S3 errors) or a
// forward plan for the relay: upstream URL, re-signed headers, how to
// decode the body, and what the S3 call is for lineage events.
#pragma once

#include "roar/proxy/aws_chunked.hpp"
#include "roar/proxy/credentials.hpp"
#include "roar/proxy/request.hpp"
#include "roar/proxy/s3_error.hpp"
#include "roar/proxy/s3_operation.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace roar::proxy {

inline constexpr std::uint64_t k_max_single_put = 5ull * 1024 * 1024 * 1024; // S3's own limit
inline constexpr std::uint64_t k_unknown_length = ~0ull;

struct LocalResponse {
    unsigned status = 200;
    std::string content_type;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string error_code; // for logs/metrics, empty on success
};

enum class BodyKind {
    None,       // no request body
    Plain,      // forwarded as is (Content-Length or chunked transfer)
    AwsChunked, // aws-chunked: decoded, framing dropped
};

struct ForwardPlan {
    std::string request_id;
    S3Op op = S3Op::Other;
    S3Target target;
    // "host:port:ip:port": connect to that address for the URL's host (curl CONNECT_TO); empty: resolve it.
    std::string connect_to;
    std::string method;
    std::string url;                                          // absolute upstream URL
    std::vector<std::pair<std::string, std::string>> headers; // lower-case names, signed
    BodyKind body = BodyKind::None;
    std::uint64_t client_length = 0;           // bytes on the wire from the client (k_unknown_length if chunked)
    std::uint64_t upstream_length = 0;         // bytes sent upstream (k_unknown_length if not known)
    std::optional<ChunkSigning> chunk_signing; // set for signed aws-chunked
    bool signed_trailer = false;
    std::string trailer; // aws-chunked: the x-amz-trailer the decoder must verify (empty: none)
    // aws-chunked with a trailing checksum and HandlerConfig::forward_checksums:
    // the relay re-frames the decoded bytes with AwsChunkedEncoder and ends
    // them with the verified checksum, so the upstream receives it too.
    bool forward_checksum = false;
    bool expect_continue = false;
    bool hash_body = true; // false: no BLAKE3 of the body is taken
    // Redirected connections: an aws-chunked body passes through as sent
    // (its chunk signatures chain from the request's, which only the
    // upstream checks); the relay decodes a copy of it for the BLAKE3 only.
    bool hash_decodes_aws_chunked = false;
    std::string hash_trailer;                    // that body's x-amz-trailer (empty: none)
    std::optional<std::uint64_t> decoded_length; // its x-amz-decoded-content-length
    // Lineage details.
    std::string range;                // the request's Range header
    std::string copy_source;          // "s3://bucket/key" for copies
    std::string copy_source_if_match; // its x-amz-copy-source-if-match
    std::string copy_source_range;    // its x-amz-copy-source-range (UploadPartCopy)
    std::string upload_id;
    std::string part_number;
    std::string version_id; // requested versionId
};

struct HandlerConfig {
    std::string upstream;                      // base URL; empty = https://s3.<region>.amazonaws.com
    std::function<std::string()> metrics_text; // Prometheus exposition for /_roar/metrics
    std::uint64_t max_single_put = k_max_single_put;
    // Pass a verified trailing checksum on to the upstream (roar.toml
    // proxy.forward_checksums): only for upstreams that decode aws-chunked.
    bool forward_checksums = false;
};

using Decision = std::variant<LocalResponse, ForwardPlan>;

// Fills what `plan` says of the S3 call for lineage (target, operation,
// range, upload/part/version ids, copy source) from `head`, its Host
// `host`, its decoded path and its query. Used by handle() and by the
// redirected path's forward_plan().
void describe_call(ForwardPlan& plan, const RequestHead& head, std::string_view host, std::string_view decoded_path,
                   const std::vector<sigv4::QueryParam>& query);

// Decides what to do with `head` given `config`, the proxy's credentials
// `creds` and the time `now`. Never throws; errors come back as
// LocalResponse carrying an S3 XML error document.
Decision handle(const RequestHead& head, const HandlerConfig& config, const Credentials& creds,
                std::chrono::system_clock::time_point now);

// The LocalResponse for `err` about `resource` with id `request_id`.
LocalResponse error_response(const S3Error& err, std::string_view resource, std::string_view request_id);

struct Endpoint {
    std::string scheme; // http or https
    std::string host;   // without brackets for IPv6? kept as given
    std::string port;   // empty = scheme default
    // "host[:port]" as it goes in the Host header.
    std::string authority() const { return port.empty() ? host : host + ":" + port; }
};
// Parses an upstream base URL `url` ("http://host:port[/]"); nullopt when
// it is not http(s) or has a path.
std::optional<Endpoint> parse_endpoint(std::string_view url);

} // namespace roar::proxy
