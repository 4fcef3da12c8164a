// Listings the gateway answers from its metadata alone: ListObjectsV2 and
// ListObjects (v1) with prefix, delimiter and paging, and
// ListMultipartUploads. The paging logic is pure over a fetch function
// ("up to N keys with this prefix after that key, in byte order"), so it
// is tested without a database and works over any engine.
#pragma once

#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/s3_error.hpp"
#include "roar/proxy/sigv4.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace roar::proxy::gateway {

template <typename T> using S3Result = tl::expected<T, S3Error>;

struct ListEntry {
    std::string key;
    std::uint64_t size = 0;
    std::string etag;
    Millis last_modified = 0;
};

struct ListRequest {
    int version = 2; // 1: ListObjects, 2: ListObjectsV2 (list-type=2)
    std::string prefix;
    std::string delimiter;
    std::string continuation_token; // v2
    std::string start_after;        // v2 start-after, v1 marker
    unsigned max_keys = 1000;
    bool url_encoding = false; // encoding-type=url
    bool fetch_owner = false;
};

struct ListPage {
    std::vector<ListEntry> contents;
    std::vector<std::string> common_prefixes;
    bool truncated = false;
    std::string next_token;  // v2: NextContinuationToken when truncated
    std::string next_marker; // v1: the last key or common prefix returned
};

// Up to `limit` entries whose key starts with `prefix` and sorts after
// `after` (exclusive), in byte order.
using KeyFetch =
    std::function<Result<std::vector<ListEntry>>(std::string_view prefix, std::string_view after, std::size_t limit)>;

// Reads a ListObjects(V2) request from its decoded query `params`; S3's
// InvalidArgument for a bad max-keys or encoding-type.
S3Result<ListRequest> parse_list_request(const std::vector<sigv4::QueryParam>& params);

// One page of the listing `req` asks for, reading keys through `fetch`.
// Keys under the same delimiter-terminated prefix are rolled up into one
// CommonPrefixes entry, which counts toward max-keys like a key does. A
// continuation token that does not decode is S3's InvalidArgument.
S3Result<ListPage> list_objects_page(const ListRequest& req, const KeyFetch& fetch);

// The ListBucketResult XML of `page` for `req` in bucket `bucket`.
std::string list_objects_xml(std::string_view bucket, const ListRequest& req, const ListPage& page);

// ListMultipartUploads -------------------------------------------------------

struct UploadListRequest {
    std::string prefix;
    std::string delimiter;
    std::string key_marker;
    std::string upload_id_marker;
    unsigned max_uploads = 1000;
    bool url_encoding = false;
};

struct UploadListPage {
    std::vector<UploadRecord> uploads;
    std::vector<std::string> common_prefixes;
    bool truncated = false;
    std::string next_key_marker;
    std::string next_upload_id_marker;
};

// Up to `limit` uploads whose key starts with `prefix`, after
// (`key_marker`, `upload_marker`) in (key, upload id) order.
using UploadFetch = std::function<Result<std::vector<UploadRecord>>(
    std::string_view prefix, std::string_view key_marker, std::string_view upload_marker, std::size_t limit)>;

S3Result<UploadListRequest> parse_upload_list_request(const std::vector<sigv4::QueryParam>& params);
S3Result<UploadListPage> list_uploads_page(const UploadListRequest& req, const UploadFetch& fetch);
std::string list_uploads_xml(std::string_view bucket, const UploadListRequest& req, const UploadListPage& page);

// ListParts --------------------------------------------------------------------

struct PartListRequest {
    int part_number_marker = 0;
    unsigned max_parts = 1000;
};

S3Result<PartListRequest> parse_part_list_request(const std::vector<sigv4::QueryParam>& params);
// `parts` are up to max_parts + 1 parts after the marker (one more tells
// whether the listing is truncated).
std::string list_parts_xml(std::string_view bucket, const UploadRecord& upload, const PartListRequest& req,
                           const std::vector<PartRecord>& parts);

} // namespace roar::proxy::gateway
