// S3 operation classification. The rules follow the S3 API reference: the
// sub-resource query parameters (uploads, uploadId, partNumber, delete, ...)
// select the call, otherwise the method and whether a key is present do.
#include "roar/proxy/s3_operation.hpp"

#include <algorithm>
#include <cctype>

namespace roar::proxy {

namespace {

bool has_param(const std::vector<sigv4::QueryParam>& query, std::string_view name)
{
    return std::any_of(query.begin(), query.end(), [&](const auto& p) { return p.name == name; });
}

// Bucket-level sub-resources that turn a GET/PUT/DELETE on a bucket into
// something else than list/create/delete.
bool has_bucket_subresource(const std::vector<sigv4::QueryParam>& query)
{
    static constexpr std::string_view k_listing[] = {
        "list-type",   "prefix",        "delimiter",   "marker",   "max-keys", "continuation-token",
        "start-after", "encoding-type", "fetch-owner", "versions", "x-id"};
    return std::any_of(query.begin(), query.end(), [](const auto& p) {
        return std::find(std::begin(k_listing), std::end(k_listing), p.name) == std::end(k_listing);
    });
}

bool is_ip_literal(std::string_view host)
{
    if (!host.empty() && host.front() == '[') {
        return true;
    }
    return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '.';
    });
}

} // namespace

std::string_view op_name(S3Op op)
{
    switch (op) {
    case S3Op::ListBuckets: return "list_buckets";
    case S3Op::ListObjects: return "list_objects";
    case S3Op::HeadBucket: return "head_bucket";
    case S3Op::CreateBucket: return "create_bucket";
    case S3Op::DeleteBucket: return "delete_bucket";
    case S3Op::BucketOther: return "bucket_other";
    case S3Op::GetObject: return "get_object";
    case S3Op::HeadObject: return "head_object";
    case S3Op::PutObject: return "put_object";
    case S3Op::CopyObject: return "copy_object";
    case S3Op::DeleteObject: return "delete_object";
    case S3Op::DeleteObjects: return "delete_objects";
    case S3Op::CreateMultipartUpload: return "create_multipart_upload";
    case S3Op::UploadPart: return "upload_part";
    case S3Op::UploadPartCopy: return "upload_part_copy";
    case S3Op::CompleteMultipartUpload: return "complete_multipart_upload";
    case S3Op::AbortMultipartUpload: return "abort_multipart_upload";
    case S3Op::ListParts: return "list_parts";
    case S3Op::ListMultipartUploads: return "list_multipart_uploads";
    case S3Op::ObjectOther: return "object_other";
    case S3Op::Other: return "other";
    }
    return "other";
}

std::string bucket_from_host(std::string_view host)
{
    // Strip the port (but not from a bracketed IPv6 literal).
    if (!host.empty() && host.front() != '[') {
        const auto colon = host.rfind(':');
        if (colon != std::string_view::npos) {
            host = host.substr(0, colon);
        }
    }
    if (host.empty() || is_ip_literal(host) || host == "localhost") {
        return {};
    }
    // bucket.s3.region.amazonaws.com, bucket.s3-region.amazonaws.com,
    // bucket.s3.amazonaws.com: the bucket (which may contain dots) ends
    // where the service label starts.
    for (const std::string_view marker : {std::string_view(".s3."), std::string_view(".s3-")}) {
        const auto pos = host.find(marker);
        if (pos != std::string_view::npos && pos > 0) {
            return std::string(host.substr(0, pos));
        }
    }
    // bucket.localhost: what SDKs produce for an endpoint of localhost.
    constexpr std::string_view k_local = ".localhost";
    if (host.size() > k_local.size() && host.substr(host.size() - k_local.size()) == k_local) {
        return std::string(host.substr(0, host.size() - k_local.size()));
    }
    return {};
}

S3Target locate(std::string_view host, std::string_view decoded_path)
{
    S3Target t;
    std::string_view path = decoded_path;
    if (!path.empty() && path.front() == '/') {
        path.remove_prefix(1);
    }
    t.bucket = bucket_from_host(host);
    if (!t.bucket.empty()) {
        t.virtual_host = true;
        t.key = std::string(path);
        return t;
    }
    const auto slash = path.find('/');
    t.bucket = std::string(path.substr(0, slash));
    t.key = slash == std::string_view::npos ? std::string() : std::string(path.substr(slash + 1));
    return t;
}

S3Op classify(std::string_view method, const S3Target& target, const std::vector<sigv4::QueryParam>& query,
              bool has_copy_source)
{
    if (target.bucket.empty()) {
        return method == "GET" ? S3Op::ListBuckets : S3Op::Other;
    }
    if (target.key.empty()) {
        if (method == "POST" && has_param(query, "delete")) {
            return S3Op::DeleteObjects;
        }
        if (method == "GET" && has_param(query, "uploads")) {
            return S3Op::ListMultipartUploads;
        }
        if (has_bucket_subresource(query)) {
            return S3Op::BucketOther;
        }
        if (method == "GET") {
            return S3Op::ListObjects;
        }
        if (method == "HEAD") {
            return S3Op::HeadBucket;
        }
        if (method == "PUT") {
            return S3Op::CreateBucket;
        }
        if (method == "DELETE") {
            return S3Op::DeleteBucket;
        }
        return S3Op::BucketOther;
    }
    const bool upload_id = has_param(query, "uploadId");
    if (method == "POST" && has_param(query, "uploads")) {
        return S3Op::CreateMultipartUpload;
    }
    if (method == "POST" && upload_id) {
        return S3Op::CompleteMultipartUpload;
    }
    if (method == "PUT" && upload_id && has_param(query, "partNumber")) {
        return has_copy_source ? S3Op::UploadPartCopy : S3Op::UploadPart;
    }
    if (method == "DELETE" && upload_id) {
        return S3Op::AbortMultipartUpload;
    }
    if (method == "GET" && upload_id) {
        return S3Op::ListParts;
    }
    // Any other sub-resource (?tagging, ?acl, ?retention, ...) is not a data
    // operation; "versionId", "partNumber" and response-* overrides are.
    const bool other_subresource = std::any_of(query.begin(), query.end(), [](const auto& p) {
        return p.name != "versionId" && p.name != "partNumber" && p.name != "x-id" && p.name.rfind("response-", 0) != 0
               && p.name.rfind("X-Amz-", 0) != 0;
    });
    if (other_subresource) {
        return S3Op::ObjectOther;
    }
    if (method == "GET") {
        return S3Op::GetObject;
    }
    if (method == "HEAD") {
        return S3Op::HeadObject;
    }
    if (method == "PUT") {
        return has_copy_source ? S3Op::CopyObject : S3Op::PutObject;
    }
    if (method == "DELETE") {
        return S3Op::DeleteObject;
    }
    return S3Op::ObjectOther;
}

} // namespace roar::proxy
