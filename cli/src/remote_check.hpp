// `roar status --remote`: whether each recorded S3 object is still there as
// recorded, asked with a SigV4-signed HEAD through the user's own
// credentials (the proxy's signer and credential chain, roar::aws_auth).
// Which endpoint is asked, how the request is signed, and how an answer
// compares with the record are pure functions; check_remote() sends the
// HEADs a few at a time with libcurl's multi interface.
#pragma once

#include "roar/collector/result.hpp"
#include "roar/proxy/credentials.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::cli {

// The endpoint a HEAD is sent to, from the first of AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL, ROAR_UPSTREAM_S3_ENDPOINT (in `env`) and `configured`
// (proxy.upstream_endpoint) that is set, without a trailing '/'; empty
// means AWS's regional endpoint. The record does not keep the endpoint an
// object was reached through, so this is the best guess the user controls.
std::string remote_endpoint(const proxy::EnvLookup& env, const std::string& configured);

struct HeadRequest {
    std::string url;
    std::vector<std::string> headers; // "Name: value" lines, Host and Authorization included
};

// The HEAD request for `uri` (s3://bucket/key) at `endpoint` (as from
// remote_endpoint(); empty for AWS in `credentials`' region), signed with
// SigV4 by `credentials` at `amz_date` (YYYYMMDDTHHMMSSZ). A custom endpoint
// is addressed path-style, AWS virtual-hosted style unless the bucket name
// needs path style; fails when `uri` or `endpoint` is malformed.
Result<HeadRequest> signed_head(std::string_view uri, const std::string& endpoint,
                                const proxy::Credentials& credentials, std::string_view amz_date);

enum class RemoteState { present, modified, missing, not_checked };
// "present", "modified", "missing", "not checked".
const char* remote_state_name(RemoteState state);

// What the record says about one S3 object.
struct RemoteObject {
    std::string uri;             // s3://bucket/key
    std::string etag;            // as recorded (quotes included); empty when unknown
    std::optional<int64_t> size; // recorded size, when known
};

// What the HEAD found.
struct RemoteResult {
    RemoteState state = RemoteState::not_checked;
    std::string reason;          // why not checked, or what differs
    std::string etag;            // the ETag answered, when the object is there
    std::optional<int64_t> size; // its Content-Length, when answered
};

// The answer to a HEAD of `recorded`: HTTP `status` (0 when none came) with
// response headers `etag`, `content_length` and `bucket_region`
// (x-amz-bucket-region), or `network_error` when no answer came.
RemoteResult judge_head(const RemoteObject& recorded, long status, const std::string& etag,
                        std::optional<int64_t> content_length, const std::string& bucket_region,
                        const std::string& network_error);

struct RemoteCheckOptions {
    std::string endpoint;                                      // remote_endpoint()
    tl::expected<proxy::Credentials, std::string> credentials; // resolve_credentials()
    size_t parallel = 8;                                       // HEADs in flight at most
    std::chrono::milliseconds timeout{15000};                  // per HEAD, connecting included
};

// HEADs every object of `objects` as `options` say, results in the same
// order; never fails as a whole: an object that could not be asked is
// `not_checked` with the reason (no credentials, 403, network error).
std::vector<RemoteResult> check_remote(const std::vector<RemoteObject>& objects, const RemoteCheckOptions& options);

} // namespace roar::cli
