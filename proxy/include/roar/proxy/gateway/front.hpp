// The gateway's server front (`roar-proxy --gateway FILE`): an S3 endpoint
// over the gateway library. Each connection is served by its own thread
// with blocking socket I/O (the backend client is blocking libcurl), with
// the number of connections bounded (one more is answered 503 SlowDown and
// closed) and every read and write bounded by a timeout, so no client can
// wedge the server. Requests are verified with the proxy core's SigV4/SigV2
// verifier against the caller's key (the [auth] static key or a tenant
// key), placed before any byte leaves, and their bodies streamed between
// the client and the backend in bounded buffers. /_roar/health,
// /_roar/ready, /_roar/metrics and the admin API (/_roar/admin/) are served
// on the same port. The pure pieces (routing, Range, parts, metrics text) are
// declared here for the unit tests.
#pragma once

#include "roar/collector/result.hpp"
#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/gateway/object_backend.hpp"
#include "roar/proxy/request.hpp"
#include "roar/proxy/s3_error.hpp"
#include "roar/proxy/sigv4.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace roar::proxy::gateway {

// The S3 operations the front serves (and `unsupported` for the rest).
enum class FrontOp {
    list_buckets,
    create_bucket,
    head_bucket,
    delete_bucket,
    get_bucket_location,
    list_objects,
    list_uploads,
    delete_objects,
    put_object,
    copy_object,
    get_object,
    head_object,
    delete_object,
    create_upload,
    upload_part,
    complete_upload,
    abort_upload,
    list_parts,
    unsupported,
};

// "PutObject", "ListObjectsV2", ... (the metrics label).
std::string_view front_op_name(FrontOp op);

// The operation of `method` on `bucket`/`key` (decoded; both empty for the
// service) with the decoded query `params`. Query parameters are an
// allowlist: one the operation does not read (versioning, tagging, ACLs,
// partNumber on a GET, ...) makes the request `unsupported` (501) rather
// than a plain one with a different meaning. versionId=null, the version
// id S3 gives every object of an unversioned bucket, names the current
// object of a GET, HEAD or DELETE.
FrontOp classify_request(std::string_view method, std::string_view bucket, std::string_view key,
                         const std::vector<sigv4::QueryParam>& params);

// What the conditional headers of a GetObject or HeadObject decide.
enum class ReadDecision {
    serve,
    not_modified,        // 304, with the object's ETag and no body
    precondition_failed, // 412 PreconditionFailed
};

// The conditional headers of a GetObject or HeadObject, as sent.
struct ReadConditions {
    std::optional<std::string_view> if_match;
    std::optional<std::string_view> if_none_match;
    std::optional<std::string_view> if_modified_since;
    std::optional<std::string_view> if_unmodified_since;
};

struct ReadVerdict {
    ReadDecision decision = ReadDecision::serve;
    std::string_view condition; // the header that decided it ("If-Match", ...), empty for serve
};

// The verdict of conditions `c` on an object with ETag `etag` last modified
// at `last_modified` (ms; compared in whole seconds, as Last-Modified is
// written), in RFC 7232's order as S3 applies it: If-Match (else
// If-Unmodified-Since) first, false giving 412, so a true If-Match wins
// over a false If-Unmodified-Since; then If-None-Match (else
// If-Modified-Since), false giving 304, so a false If-None-Match answers
// 304 whatever If-Modified-Since says. A date that does not parse is
// ignored, as S3 does.
ReadVerdict evaluate_read_conditions(const ReadConditions& c, std::string_view etag, Millis last_modified);

// The write condition of a PutObject or CompleteMultipartUpload from its
// If-Match and If-None-Match header values; NotImplemented (501) for an
// If-None-Match other than "*", which S3 does not serve on writes either.
tl::expected<WriteCondition, S3Error> parse_write_condition(std::optional<std::string_view> if_match,
                                                            std::optional<std::string_view> if_none_match);

// The header of request `head` for object operation `op` that asks for
// what the gateway does not implement, as S3's NotImplemented (501) naming
// it; nullopt when there is none. Checked before any byte moves, so a
// refused request stores and reads nothing. On every object read or write
// (and CompleteMultipartUpload): SSE-C (x-amz-server-side-encryption-
// customer-*). On a copy (CopyObject, or UploadPart with x-amz-copy-source):
// the source's SSE-C (x-amz-copy-source-server-side-encryption-customer-*).
// On PutObject, CopyObject and CreateMultipartUpload: any
// x-amz-server-side-encryption* (objects are not encrypted by the gateway,
// and the header is not passed to the backends), object lock
// (x-amz-object-lock-*), x-amz-website-redirect-location, x-amz-grant-*,
// x-amz-acl other than private, x-amz-tagging, x-amz-tagging-directive other
// than COPY and x-amz-storage-class other than STANDARD.
std::optional<S3Error> refused_object_header(FrontOp op, const RequestHead& head);

// The 16 raw bytes a Content-MD5 header `value` gives (empty when there is
// no header); S3's InvalidDigest (400) when it is not base64 of 16 bytes.
tl::expected<std::string, S3Error> parse_content_md5(std::optional<std::string_view> value);

// The byte range a Range header `value` asks of an object of `size` bytes:
// nullopt for the whole object (no header, or one the gateway ignores as S3
// does: several ranges, another unit); S3's InvalidRange (416) when it
// cannot be satisfied. The returned range has `last` set.
tl::expected<std::optional<ByteRange>, S3Error> parse_range(std::optional<std::string_view> value, std::uint64_t size);

// The part a GetObject/HeadObject partNumber parameter `value` names:
// nullopt without one; S3's InvalidArgument (400) unless it is an integer
// from 1 to 10000.
tl::expected<std::optional<int>, S3Error> parse_part_number(std::optional<std::string_view> value);

// The bytes ?partNumber=N reads of an object.
struct PartSpan {
    std::uint64_t first = 0;
    std::uint64_t size = 0;
    // x-amz-mp-parts-count: the object's count of parts when it was
    // uploaded in parts; nullopt for one PUT or copy (S3 sends none).
    std::optional<unsigned> parts_count;
};

// The bytes part `number` of object `o` holds, `parts` being its layout
// (MetadataStore::object_parts, ascending by number; offsets follow from
// the sizes of the parts before): an object of one PUT or copy is one part,
// the whole object. S3's InvalidPartNumber (416) for a part the object does
// not have; NotImplemented (501) when the object's layout is not known.
tl::expected<PartSpan, S3Error> locate_part(const ObjectRecord& o, const std::vector<PartRecord>& parts, int number);

// The source a CopyObject or UploadPartCopy names in x-amz-copy-source.
struct CopySource {
    std::string bucket;
    std::string key;
    std::optional<std::string> version_id; // decoded, when a "?versionId=" names one
};

// The bucket, key and version id of an x-amz-copy-source `value`
// ("bucket/key" or "/bucket/key", percent-encoded, with an optional
// "?versionId=..."); nullopt when it names no key or has another query.
std::optional<CopySource> parse_copy_source(std::string_view value);

// What CopyObject does with the source's content type and user metadata.
enum class MetadataDirective {
    copy,    // keep the source's
    replace, // take the request's Content-Type and x-amz-meta-* headers
};

// The directive an x-amz-metadata-directive header `value` asks for (COPY
// when absent); nullopt for any other value.
std::optional<MetadataDirective> parse_metadata_directive(std::optional<std::string_view> value);

// The bytes an UploadPartCopy's x-amz-copy-source-range `value`
// ("bytes=FIRST-LAST", inclusive) asks of a source of `size` bytes: the
// whole source when absent (`last` unset for an empty one); S3's
// InvalidArgument (400) for any other form or a range past the end.
tl::expected<ByteRange, S3Error> parse_copy_source_range(std::optional<std::string_view> value, std::uint64_t size);

// The bucket a virtual-host request names: the labels before
// ".`suffix`" in Host header `host` (port and case ignored), e.g. "data"
// for "data.gw.example:9000" with suffix "gw.example"; nullopt for a
// path-style request (another host, the suffix itself, or no suffix).
std::optional<std::string> virtual_host_bucket(std::string_view host, std::string_view suffix);

struct FrontOptions {
    unsigned max_connections = 64;          // requests served at once (a thread each); one more: 503 SlowDown
    unsigned max_open_connections = 1024;   // connections open at once, idle ones included; one more: 503 SlowDown
    std::chrono::seconds io_timeout{60};    // a read or write making no progress this long, or an idle keep-alive
                                            // connection this long, ends the connection
    std::chrono::seconds drain_timeout{30}; // shutdown waits this long for transfers in flight
    std::chrono::seconds thread_idle{60};   // a request thread waiting this long for work ends, while another
                                            // thread waits too (the first two threads stay)
    bool background = true;                 // run the replication workers and the stale-upload sweep
};

class GatewayServer {
public:
    // Opens the metadata, the secret box and the backends of `config` and
    // binds its listen address.
    static Result<std::unique_ptr<GatewayServer>> create(GatewayConfig config, FrontOptions options);
    ~GatewayServer();
    GatewayServer(const GatewayServer&) = delete;
    GatewayServer& operator=(const GatewayServer&) = delete;

    // The port it listens on (the configured one, or the one picked for 0).
    std::uint16_t port() const;
    // Serves until stop(), then drains the connections in flight.
    void run();
    // Asks run() to return (safe from any thread).
    void stop();

    struct Impl;

private:
    explicit GatewayServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace roar::proxy::gateway
