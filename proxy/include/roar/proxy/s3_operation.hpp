// What an S3 request is about: which bucket and key (path-style and
// virtual-host style normalised to one form) and which API operation,
// decided from the method, the query parameters and a few headers. The
// relay uses it to choose which calls become lineage events and to label
// metrics.
#pragma once

#include "roar/proxy/sigv4.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy {

enum class S3Op {
    ListBuckets,
    ListObjects,
    HeadBucket,
    CreateBucket,
    DeleteBucket,
    BucketOther, // any other bucket sub-resource (?acl, ?policy, ...)
    GetObject,
    HeadObject,
    PutObject,
    CopyObject,
    DeleteObject,
    DeleteObjects,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    ListMultipartUploads,
    ObjectOther, // any other object sub-resource (?tagging, ?acl, ...)
    Other,
};

// Stable snake_case name of `op` for logs and metric labels.
std::string_view op_name(S3Op op);

struct S3Target {
    std::string bucket;        // empty for service-level calls
    std::string key;           // decoded; empty for bucket-level calls
    bool virtual_host = false; // the bucket came from the Host header
    // "s3://bucket/key".
    std::string uri() const { return "s3://" + bucket + "/" + key; }
};

// The bucket named by a virtual-host style `host` (port allowed), or empty
// when `host` is an IP literal, "localhost", or has no bucket label.
std::string bucket_from_host(std::string_view host);

// Bucket and key of a request with Host `host` and decoded path
// `decoded_path` (starting with '/').
S3Target locate(std::string_view host, std::string_view decoded_path);

// The operation of `method` on `target` with decoded query `query`;
// `has_copy_source` tells whether x-amz-copy-source was sent.
S3Op classify(std::string_view method, const S3Target& target, const std::vector<sigv4::QueryParam>& query,
              bool has_copy_source);

} // namespace roar::proxy
