// The gateway's S3 client for its backends: libcurl transfers signed with
// the proxy's SigV4 functions (sign_outbound), path-style or virtual-host
// addressing per backend, bodies streamed through the ObjectBackend
// callbacks with curl's buffers only, easy handles pooled so connections
// are reused. The request building and the parsing of backend responses are
// pure functions, tested without a network.
#pragma once

#include "roar/proxy/gateway/object_backend.hpp"
#include "roar/proxy/sigv4.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy::gateway {

// A request ready for libcurl: URL (with the canonical query, sent byte for
// byte) and headers including Authorization.
struct SignedRequest {
    std::string method;
    std::string url;
    std::vector<Header> headers;
};

// Builds and signs `method` on `key` of `bucket` (key empty for bucket
// calls) at backend `backend` with query `query`, extra `headers` (lower
// case names) and payload hash `payload_hash`, at time `now`.
SignedRequest sign_backend_request(const BackendConfig& backend, std::string_view method, std::string_view bucket,
                                   std::string_view key, const std::vector<sigv4::QueryParam>& query,
                                   std::vector<Header> headers, std::string_view payload_hash,
                                   std::chrono::system_clock::time_point now);

// The error a backend's `status` and XML error `body` describe.
BackendError parse_backend_error(long status, std::string_view body);
// A ListObjectsV2 response body.
tl::expected<BackendListPage, std::string> parse_list_objects_response(std::string_view body);
// The UploadId of an InitiateMultipartUploadResult.
tl::expected<std::string, std::string> parse_upload_id(std::string_view body);
// The ETag of a CopyObjectResult or CompleteMultipartUploadResult; an
// <Error> document (S3 may send one with status 200) is a BackendError.
BackendResult<std::string> parse_etag_result(std::string_view body);
// The XML body of CompleteMultipartUpload for `parts`.
std::string complete_multipart_body(const std::vector<UploadedPart>& parts);

struct BackendClientOptions {
    std::string ca_bundle; // CA file for https endpoints (empty: the system's)
    std::size_t max_idle_handles = 16;
};

class BackendClient final : public ObjectBackend {
public:
    // A client for `backend` (which must outlive it).
    explicit BackendClient(const BackendConfig& backend, BackendClientOptions options = {});
    ~BackendClient() override;
    BackendClient(const BackendClient&) = delete;
    BackendClient& operator=(const BackendClient&) = delete;

    BackendResult<ObjectHead> head_object(const std::string& bucket, const std::string& key) override;
    BackendResult<GetResponse> get_object(const std::string& bucket, const std::string& key, const GetOptions& options,
                                          const HeadCallback& on_head, const BodySink& sink) override;
    BackendResult<std::string> put_object(const std::string& bucket, const std::string& key, std::uint64_t size,
                                          const BodySource& source, const PutOptions& options) override;
    BackendResult<void> delete_object(const std::string& bucket, const std::string& key) override;
    BackendResult<std::string> copy_object(const std::string& src_bucket, const std::string& src_key,
                                           const std::string& dst_bucket, const std::string& dst_key) override;
    BackendResult<BackendListPage> list_objects(const std::string& bucket, const std::string& prefix,
                                                const std::string& delimiter, const std::string& token,
                                                unsigned max_keys) override;
    BackendResult<void> create_bucket(const std::string& bucket) override;
    BackendResult<std::string> create_multipart(const std::string& bucket, const std::string& key,
                                                const PutOptions& options) override;
    BackendResult<std::string> upload_part(const std::string& bucket, const std::string& key,
                                           const std::string& upload_id, int number, std::uint64_t size,
                                           const BodySource& source) override;
    BackendResult<std::string> upload_part_copy(const std::string& src_bucket, const std::string& src_key,
                                                const ByteRange& range, const std::string& dst_bucket,
                                                const std::string& dst_key, const std::string& upload_id,
                                                int number) override;
    BackendResult<std::string> complete_multipart(const std::string& bucket, const std::string& key,
                                                  const std::string& upload_id,
                                                  const std::vector<UploadedPart>& parts) override;
    BackendResult<void> abort_multipart(const std::string& bucket, const std::string& key,
                                        const std::string& upload_id) override;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace roar::proxy::gateway
