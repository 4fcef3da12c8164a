// The S3 documents the gateway itself writes and reads when it answers
// from metadata (listings are in object_listing.hpp): its errors (with
// InsufficientStorage, HTTP 507, when no allowed backend has room), the
// multipart, copy, delete and bucket-list results it writes, and the
// CompleteMultipartUpload and Delete request bodies it reads from clients.
#pragma once

#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/gateway/object_listing.hpp"
#include "roar/proxy/s3_error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy::gateway::s3 {

// Errors ---------------------------------------------------------------------
S3Error insufficient_storage(std::string_view bucket, std::uint64_t bytes);
S3Error no_such_bucket(std::string_view bucket);
S3Error no_such_key(std::string_view key);
S3Error no_such_upload(std::string_view upload_id);
S3Error invalid_part(int number);
S3Error invalid_part_order();
S3Error malformed_xml(std::string_view why);
S3Error key_too_long(std::size_t max);
S3Error residency_refused(std::string_view bucket, std::string_view backend, std::string_view residency);
S3Error internal_error(std::string_view why);
S3Error service_unavailable(std::string_view why);
// 412: the conditional header `condition` (If-Match, ...) did not hold.
S3Error precondition_failed(std::string_view condition);
// 501: the gateway does not serve `what` (see docs/gateway.md).
S3Error not_implemented(std::string_view what);
// 400 BadDigest: the body does not match its Content-MD5.
S3Error bad_digest();
// 400 InvalidDigest: a Content-MD5 that is not base64 of 16 bytes.
S3Error invalid_digest();

// Documents the gateway writes -----------------------------------------------
std::string initiate_multipart_xml(std::string_view bucket, std::string_view key, std::string_view upload_id);
std::string complete_multipart_xml(std::string_view location, std::string_view bucket, std::string_view key,
                                   std::string_view etag);
std::string copy_object_xml(std::string_view etag, Millis last_modified);
std::string copy_part_xml(std::string_view etag, Millis last_modified);

struct DeleteOutcome {
    std::string key;
    std::optional<S3Error> error; // nullopt: deleted (or was absent, which S3 also reports as deleted)
};
// The DeleteResult of a DeleteObjects call; `quiet` lists errors only.
std::string delete_result_xml(const std::vector<DeleteOutcome>& outcomes, bool quiet);

struct BucketEntry {
    std::string name;
    Millis created_at = 0;
};
std::string list_buckets_xml(const std::vector<BucketEntry>& buckets);

// Documents clients send -------------------------------------------------------
struct CompletedPart {
    int number = 0;
    std::string etag;
};
// The parts of a CompleteMultipartUpload body: MalformedXML when it does
// not parse, InvalidPartOrder unless the numbers ascend strictly.
S3Result<std::vector<CompletedPart>> parse_complete_multipart(std::string_view body);

struct DeleteRequest {
    std::vector<std::string> keys;
    bool quiet = false;
    bool names_versions = false; // an Object names a VersionId other than "null"
};
// The keys of a DeleteObjects body (at most 1000).
S3Result<DeleteRequest> parse_delete_objects(std::string_view body);

} // namespace roar::proxy::gateway::s3
