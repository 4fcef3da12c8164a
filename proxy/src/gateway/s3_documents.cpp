// S3 errors, results and request bodies of the gateway (see s3_documents.hpp).
#include "roar/proxy/gateway/s3_documents.hpp"

#include "roar/proxy/gateway/xml_tree.hpp"

#include "encoding.hpp"

#include <fmt/format.h>

#include <charconv>

namespace roar::proxy::gateway::s3 {

namespace {

constexpr std::string_view k_head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
constexpr std::string_view k_xmlns = "http://s3.amazonaws.com/doc/2006-03-01/";

std::string element(std::string_view name, std::string_view escaped)
{
    return fmt::format("<{0}>{1}</{0}>", name, escaped);
}

} // namespace

S3Error insufficient_storage(std::string_view bucket, std::uint64_t bytes)
{
    return {507, "InsufficientStorage",
            fmt::format("No backend allowed for bucket {} has room for {} more bytes under its quota", bucket, bytes)};
}
S3Error no_such_bucket(std::string_view bucket)
{
    return {404, "NoSuchBucket", fmt::format("The specified bucket does not exist: {}", bucket)};
}
S3Error no_such_key(std::string_view key)
{
    return {404, "NoSuchKey", fmt::format("The specified key does not exist: {}", key)};
}
S3Error no_such_upload(std::string_view upload_id)
{
    return {404, "NoSuchUpload", fmt::format("The specified multipart upload does not exist: {}", upload_id)};
}
S3Error invalid_part(int number)
{
    return {400, "InvalidPart",
            fmt::format("Part {} could not be found, or its ETag does not match the uploaded part", number)};
}
S3Error invalid_part_order() { return {400, "InvalidPartOrder", "The list of parts was not in ascending order"}; }
S3Error malformed_xml(std::string_view why)
{
    return {400, "MalformedXML", fmt::format("The XML you provided was not well-formed: {}", why)};
}
S3Error key_too_long(std::size_t max)
{
    return {400, "KeyTooLongError", fmt::format("Your key is too long (at most {} bytes here)", max)};
}
S3Error residency_refused(std::string_view bucket, std::string_view backend, std::string_view residency)
{
    return {403, "AccessDenied",
            fmt::format("Bucket {} may not store data on backend {} (residency {})", bucket, backend,
                        residency.empty() ? "none" : residency)};
}
S3Error internal_error(std::string_view why)
{
    return {500, "InternalError", fmt::format("We encountered an internal error: {}", why)};
}
S3Error service_unavailable(std::string_view why)
{
    return {503, "ServiceUnavailable", fmt::format("Please reduce your request rate or retry: {}", why)};
}
S3Error precondition_failed(std::string_view condition)
{
    return {412, "PreconditionFailed",
            fmt::format("At least one of the pre-conditions you specified did not hold: {}", condition)};
}
S3Error not_implemented(std::string_view what)
{
    return {501, "NotImplemented",
            fmt::format("A header or parameter you provided implies functionality the gateway does not implement: "
                        "{} (see docs/gateway.md).",
                        what)};
}
S3Error bad_digest() { return {400, "BadDigest", "The Content-MD5 you specified did not match what we received."}; }
S3Error invalid_digest() { return {400, "InvalidDigest", "The Content-MD5 you specified was invalid."}; }

std::string initiate_multipart_xml(std::string_view bucket, std::string_view key, std::string_view upload_id)
{
    return fmt::format("{}<InitiateMultipartUploadResult xmlns=\"{}\">{}{}{}</InitiateMultipartUploadResult>\n", k_head,
                       k_xmlns, element("Bucket", xml_escape(bucket)), element("Key", xml_escape(key)),
                       element("UploadId", xml_escape(upload_id)));
}

std::string complete_multipart_xml(std::string_view location, std::string_view bucket, std::string_view key,
                                   std::string_view etag)
{
    return fmt::format("{}<CompleteMultipartUploadResult xmlns=\"{}\">{}{}{}{}</CompleteMultipartUploadResult>\n",
                       k_head, k_xmlns, element("Location", xml_escape(location)),
                       element("Bucket", xml_escape(bucket)), element("Key", xml_escape(key)),
                       element("ETag", xml_escape(etag)));
}

std::string copy_object_xml(std::string_view etag, Millis last_modified)
{
    return fmt::format("{}<CopyObjectResult xmlns=\"{}\">{}{}</CopyObjectResult>\n", k_head, k_xmlns,
                       element("LastModified", iso8601_utc(last_modified)), element("ETag", xml_escape(etag)));
}

std::string copy_part_xml(std::string_view etag, Millis last_modified)
{
    return fmt::format("{}<CopyPartResult xmlns=\"{}\">{}{}</CopyPartResult>\n", k_head, k_xmlns,
                       element("LastModified", iso8601_utc(last_modified)), element("ETag", xml_escape(etag)));
}

std::string delete_result_xml(const std::vector<DeleteOutcome>& outcomes, bool quiet)
{
    std::string out = fmt::format("{}<DeleteResult xmlns=\"{}\">", k_head, k_xmlns);
    for (const auto& o : outcomes) {
        if (!o.error) {
            if (!quiet) {
                out += "<Deleted>" + element("Key", xml_escape(o.key)) + "</Deleted>";
            }
            continue;
        }
        out += "<Error>" + element("Key", xml_escape(o.key)) + element("Code", xml_escape(o.error->code))
               + element("Message", xml_escape(o.error->message)) + "</Error>";
    }
    out += "</DeleteResult>\n";
    return out;
}

std::string list_buckets_xml(const std::vector<BucketEntry>& buckets)
{
    std::string out = fmt::format("{}<ListAllMyBucketsResult xmlns=\"{}\">", k_head, k_xmlns);
    out += "<Owner><ID>roar-gateway</ID><DisplayName>roar-gateway</DisplayName></Owner><Buckets>";
    for (const auto& b : buckets) {
        out += "<Bucket>" + element("Name", xml_escape(b.name)) + element("CreationDate", iso8601_utc(b.created_at))
               + "</Bucket>";
    }
    out += "</Buckets></ListAllMyBucketsResult>\n";
    return out;
}

S3Result<std::vector<CompletedPart>> parse_complete_multipart(std::string_view body)
{
    auto doc = parse_xml(body);
    if (!doc) {
        return tl::unexpected(malformed_xml(doc.error().message));
    }
    if (doc->name != "CompleteMultipartUpload") {
        return tl::unexpected(malformed_xml("the root element is not CompleteMultipartUpload"));
    }
    std::vector<CompletedPart> parts;
    for (const XmlElement* p : doc->children_named("Part")) {
        const std::string number = p->child_text("PartNumber");
        int n = 0;
        const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
        if (ec != std::errc() || end != number.data() + number.size() || n < 1 || n > 10000) {
            return tl::unexpected(malformed_xml("PartNumber must be an integer from 1 to 10000"));
        }
        if (!parts.empty() && n <= parts.back().number) {
            return tl::unexpected(invalid_part_order());
        }
        parts.push_back({n, p->child_text("ETag")});
    }
    if (parts.empty()) {
        return tl::unexpected(malformed_xml("no Part elements"));
    }
    return parts;
}

S3Result<DeleteRequest> parse_delete_objects(std::string_view body)
{
    auto doc = parse_xml(body);
    if (!doc) {
        return tl::unexpected(malformed_xml(doc.error().message));
    }
    if (doc->name != "Delete") {
        return tl::unexpected(malformed_xml("the root element is not Delete"));
    }
    DeleteRequest r;
    r.quiet = doc->child_text("Quiet") == "true";
    for (const XmlElement* o : doc->children_named("Object")) {
        const XmlElement* key = o->child("Key");
        if (!key) {
            return tl::unexpected(malformed_xml("an Object without a Key"));
        }
        r.keys.push_back(key->text);
        if (const XmlElement* version = o->child("VersionId"); version && version->text != "null") {
            r.names_versions = true;
        }
    }
    if (r.keys.empty() || r.keys.size() > 1000) {
        return tl::unexpected(malformed_xml("a Delete names 1 to 1000 objects"));
    }
    return r;
}

} // namespace roar::proxy::gateway::s3
