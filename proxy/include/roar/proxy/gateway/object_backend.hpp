// What the gateway asks of a storage backend, as an interface: the S3
// object, listing, bucket and multipart calls it needs, with bodies
// streamed through callbacks (nothing here holds an object in memory).
// BackendClient (backend_client.hpp) implements it over HTTP with libcurl;
// the unit tests implement it in memory. BackendSet names the backends of
// a configuration.
#pragma once

#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/metadata.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace roar::proxy::gateway {

struct BackendError {
    long status = 0;  // HTTP status; 0 when no answer arrived
    std::string code; // the S3 error code, or "Transport", "Timeout", "Aborted", "BadResponse"
    std::string message;

    // Whether trying again later can help: no answer, a timeout, 5xx, 429,
    // SlowDown, or an InternalError/ServiceUnavailable sent in a 200 body.
    bool retryable() const;
    // Whether the object, upload or bucket does not exist (404).
    bool not_found() const;
    // One line for logs and job errors.
    std::string describe() const;
};

template <typename T> using BackendResult = tl::expected<T, BackendError>;

using Header = std::pair<std::string, std::string>;

struct ObjectHead {
    std::uint64_t size = 0;
    std::string etag; // quotes kept
    std::string content_type;
    Millis last_modified = 0;
    std::vector<Header> meta; // x-amz-meta-* without the prefix, names in lower case

    // The user metadata value `name` (lower case, without x-amz-meta-), if any.
    std::optional<std::string> meta_value(std::string_view name) const;
};

struct ByteRange {
    std::uint64_t first = 0;
    std::optional<std::uint64_t> last; // inclusive; nullopt: to the end
};

struct GetOptions {
    std::optional<ByteRange> range;
    std::vector<Header> headers; // extra request headers (traceparent, If-Match, ...)
};

struct GetResponse {
    unsigned status = 0; // 200, or 206 for a range
    ObjectHead head;     // size is the whole object's (from Content-Range when ranged)
    std::uint64_t content_length = 0;
    std::string content_range;
};

// Called once, before the first body byte; returning false cancels the transfer.
using HeadCallback = std::function<bool(const GetResponse&)>;
// Receives body bytes in order; returning false cancels the transfer.
using BodySink = std::function<bool(const char* data, std::size_t size)>;
// Fills up to `size` bytes at `buf`: the count written, 0 at the end, nullopt to cancel.
using BodySource = std::function<std::optional<std::size_t>(char* buf, std::size_t size)>;

// A BodySource over `data`, which must outlive it.
BodySource memory_source(std::string_view data);

struct PutOptions {
    std::string content_type;
    std::vector<Header> meta;    // x-amz-meta-<name>: value
    std::vector<Header> headers; // extra request headers (traceparent, Content-MD5, ...)
};

struct ListedObject {
    std::string key;
    std::uint64_t size = 0;
    std::string etag;
    Millis last_modified = 0;
};

struct BackendListPage {
    std::vector<ListedObject> objects;
    std::vector<std::string> prefixes;
    bool truncated = false;
    std::string next_token;
};

struct UploadedPart {
    int number = 0;
    std::string etag;
};

class ObjectBackend {
public:
    virtual ~ObjectBackend() = default;

    virtual BackendResult<ObjectHead> head_object(const std::string& bucket, const std::string& key) = 0;
    // Streams `key` (or the range `options` asks for) to `sink`, after `on_head`.
    virtual BackendResult<GetResponse> get_object(const std::string& bucket, const std::string& key,
                                                  const GetOptions& options, const HeadCallback& on_head,
                                                  const BodySink& sink) = 0;
    // Uploads exactly `size` bytes read from `source` as `key`; returns the ETag.
    virtual BackendResult<std::string> put_object(const std::string& bucket, const std::string& key, std::uint64_t size,
                                                  const BodySource& source, const PutOptions& options) = 0;
    // Deletes `key`; a key that does not exist counts as deleted.
    virtual BackendResult<void> delete_object(const std::string& bucket, const std::string& key) = 0;
    // Server-side copy within this backend; returns the new ETag.
    virtual BackendResult<std::string> copy_object(const std::string& src_bucket, const std::string& src_key,
                                                   const std::string& dst_bucket, const std::string& dst_key) = 0;
    // One page of ListObjectsV2.
    virtual BackendResult<BackendListPage> list_objects(const std::string& bucket, const std::string& prefix,
                                                        const std::string& delimiter, const std::string& token,
                                                        unsigned max_keys) = 0;
    // Creates `bucket`; one that already exists and is ours counts as created.
    virtual BackendResult<void> create_bucket(const std::string& bucket) = 0;
    // Starts a multipart upload; returns the backend's upload id.
    virtual BackendResult<std::string> create_multipart(const std::string& bucket, const std::string& key,
                                                        const PutOptions& options) = 0;
    // Uploads part `number` of exactly `size` bytes; returns its ETag.
    virtual BackendResult<std::string> upload_part(const std::string& bucket, const std::string& key,
                                                   const std::string& upload_id, int number, std::uint64_t size,
                                                   const BodySource& source) = 0;
    // Server-side UploadPartCopy within this backend: bytes `range` (both
    // ends set, inclusive) of `src_key` in `src_bucket` become part `number`
    // of upload `upload_id` at `dst_key` in `dst_bucket`; returns its ETag.
    virtual BackendResult<std::string> upload_part_copy(const std::string& src_bucket, const std::string& src_key,
                                                        const ByteRange& range, const std::string& dst_bucket,
                                                        const std::string& dst_key, const std::string& upload_id,
                                                        int number) = 0;
    // Completes an upload from `parts`; returns the object's ETag.
    virtual BackendResult<std::string> complete_multipart(const std::string& bucket, const std::string& key,
                                                          const std::string& upload_id,
                                                          const std::vector<UploadedPart>& parts) = 0;
    // Aborts an upload; one that no longer exists counts as aborted.
    virtual BackendResult<void> abort_multipart(const std::string& bucket, const std::string& key,
                                                const std::string& upload_id) = 0;
};

// The backends of a configuration by name: their settings and their client.
class BackendSet {
public:
    // Adds backend `config` served by `io` (both must outlive the set).
    void add(const BackendConfig& config, ObjectBackend& io);
    // The client of backend `name`, or nullptr.
    ObjectBackend* io(std::string_view name) const;
    // The settings of backend `name`, or nullptr.
    const BackendConfig* config(std::string_view name) const;
    std::vector<std::string> names() const;

private:
    struct Entry {
        const BackendConfig* config;
        ObjectBackend* io;
    };
    std::map<std::string, Entry, std::less<>> m_backends;
};

} // namespace roar::proxy::gateway
