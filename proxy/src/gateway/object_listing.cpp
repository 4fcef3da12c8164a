// ListObjects(V2), ListMultipartUploads and ListParts from metadata: query
// parsing, delimiter roll-up and paging, and the XML (see
// object_listing.hpp).
#include "roar/proxy/gateway/object_listing.hpp"

#include "encoding.hpp"

#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace roar::proxy::gateway {

namespace {

constexpr std::size_t k_max_page = 1000;
// U+10FFFF, the largest code point: appended to a common prefix it makes a
// position after every key that has the prefix (in practice; the roll-up
// also de-duplicates, so correctness does not depend on it).
constexpr std::string_view k_after_all = "\xF4\x8F\xBF\xBF";
constexpr std::string_view k_token_tag = "roar1:";
constexpr std::string_view k_xmlns = "http://s3.amazonaws.com/doc/2006-03-01/";

S3Error invalid_argument(std::string message) { return S3Error{400, "InvalidArgument", std::move(message)}; }

S3Error internal(const Error& e) { return S3Error{500, "InternalError", e.message}; }

const std::string* find_param(const std::vector<sigv4::QueryParam>& params, std::string_view name)
{
    for (const auto& p : params) {
        if (p.name == name) {
            return &p.value;
        }
    }
    return nullptr;
}

// A non-negative count in `text` (at most `clamp_to`); nullopt when malformed.
std::optional<unsigned> parse_count(std::string_view text, unsigned clamp_to)
{
    std::uint64_t n = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec == std::errc::invalid_argument || p != text.data() + text.size()) {
        return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || n > clamp_to) {
        return clamp_to;
    }
    return static_cast<unsigned>(n);
}

std::string encode_field(std::string_view s, bool url) { return xml_escape(url ? sigv4::uri_encode(s, true) : s); }

std::string element(std::string_view name, std::string_view escaped_value)
{
    return fmt::format("<{0}>{1}</{0}>", name, escaped_value);
}

// The common prefix `key` rolls up into under `prefix` and `delimiter`, or
// empty when it stands for itself.
std::string rolled_up(std::string_view key, std::string_view prefix, std::string_view delimiter)
{
    if (delimiter.empty()) {
        return {};
    }
    const auto at = key.find(delimiter, prefix.size());
    return at == std::string_view::npos ? std::string() : std::string(key.substr(0, at + delimiter.size()));
}

} // namespace

S3Result<ListRequest> parse_list_request(const std::vector<sigv4::QueryParam>& params)
{
    ListRequest r;
    if (const auto* v = find_param(params, "list-type")) {
        if (*v != "2") {
            return tl::unexpected(invalid_argument("list-type must be 2"));
        }
        r.version = 2;
    } else {
        r.version = 1;
    }
    if (const auto* v = find_param(params, "prefix")) {
        r.prefix = *v;
    }
    if (const auto* v = find_param(params, "delimiter")) {
        r.delimiter = *v;
    }
    if (const auto* v = find_param(params, "continuation-token")) {
        if (v->empty()) {
            return tl::unexpected(invalid_argument("The continuation token provided is incorrect"));
        }
        r.continuation_token = *v;
    }
    if (const auto* v = find_param(params, r.version == 2 ? "start-after" : "marker")) {
        r.start_after = *v;
    }
    if (const auto* v = find_param(params, "max-keys")) {
        const auto n = parse_count(*v, 1000);
        if (!n) {
            return tl::unexpected(invalid_argument("max-keys must be a non-negative integer"));
        }
        r.max_keys = *n;
    }
    if (const auto* v = find_param(params, "encoding-type")) {
        if (*v != "url") {
            return tl::unexpected(invalid_argument("Invalid Encoding Method specified in Request"));
        }
        r.url_encoding = true;
    }
    if (const auto* v = find_param(params, "fetch-owner")) {
        r.fetch_owner = *v == "true";
    }
    return r;
}

S3Result<ListPage> list_objects_page(const ListRequest& req, const KeyFetch& fetch)
{
    std::string cursor;
    if (!req.continuation_token.empty()) {
        auto raw = collector::base64_decode(req.continuation_token, collector::Base64Alphabet::url_safe);
        if (!raw || raw->substr(0, k_token_tag.size()) != k_token_tag) {
            return tl::unexpected(invalid_argument("The continuation token provided is incorrect"));
        }
        cursor = raw->substr(k_token_tag.size());
    } else {
        cursor = req.start_after;
        // A v1 marker that is a rolled-up prefix (a NextMarker) resumes after the whole group.
        if (req.version == 1 && !req.delimiter.empty() && cursor.size() >= req.prefix.size()
            && cursor.compare(0, req.prefix.size(), req.prefix) == 0 && cursor.size() >= req.delimiter.size()
            && cursor.compare(cursor.size() - req.delimiter.size(), req.delimiter.size(), req.delimiter) == 0
            && rolled_up(cursor, req.prefix, req.delimiter) == cursor) {
            cursor += k_after_all;
        }
    }
    ListPage page;
    if (req.max_keys == 0) {
        return page;
    }
    const std::size_t batch = std::min<std::size_t>(req.max_keys + 1, k_max_page);
    std::string last_prefix;
    std::string position; // where the next page resumes
    bool last_was_prefix = false;
    unsigned count = 0;
    for (;;) {
        auto entries = fetch(req.prefix, cursor, batch);
        if (!entries) {
            return tl::unexpected(internal(entries.error()));
        }
        bool refetch = false;
        for (auto& e : *entries) {
            cursor = e.key;
            std::string group = rolled_up(e.key, req.prefix, req.delimiter);
            if (!group.empty() && group == last_prefix) {
                continue;
            }
            if (count == req.max_keys) {
                page.truncated = true;
                break;
            }
            ++count;
            last_was_prefix = !group.empty();
            if (group.empty()) {
                position = e.key;
                page.contents.push_back(std::move(e));
                continue;
            }
            last_prefix = group;
            position = group + std::string(k_after_all);
            page.common_prefixes.push_back(group);
            // Skip the rest of the group by seeking past it.
            cursor = position;
            refetch = true;
            break;
        }
        if (page.truncated || (!refetch && entries->size() < batch)) {
            break;
        }
    }
    if (page.truncated) {
        page.next_token =
            collector::base64_encode(std::string(k_token_tag) + position, collector::Base64Alphabet::url_safe);
        page.next_marker = last_was_prefix ? page.common_prefixes.back() : position;
    }
    return page;
}

std::string list_objects_xml(std::string_view bucket, const ListRequest& req, const ListPage& page)
{
    const bool url = req.url_encoding;
    std::string out =
        fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"{}\">", k_xmlns);
    out += element("Name", xml_escape(bucket));
    out += element("Prefix", encode_field(req.prefix, url));
    if (req.version == 2) {
        if (!req.continuation_token.empty()) {
            out += element("ContinuationToken", xml_escape(req.continuation_token));
        }
        if (!req.start_after.empty()) {
            out += element("StartAfter", encode_field(req.start_after, url));
        }
        out += element("KeyCount", std::to_string(page.contents.size() + page.common_prefixes.size()));
    } else {
        out += element("Marker", encode_field(req.start_after, url));
        if (page.truncated && !req.delimiter.empty()) {
            out += element("NextMarker", encode_field(page.next_marker, url));
        }
    }
    out += element("MaxKeys", std::to_string(req.max_keys));
    if (!req.delimiter.empty()) {
        out += element("Delimiter", encode_field(req.delimiter, url));
    }
    if (url) {
        out += element("EncodingType", "url");
    }
    out += element("IsTruncated", page.truncated ? "true" : "false");
    if (req.version == 2 && page.truncated) {
        out += element("NextContinuationToken", xml_escape(page.next_token));
    }
    for (const auto& e : page.contents) {
        out += "<Contents>";
        out += element("Key", encode_field(e.key, url));
        out += element("LastModified", iso8601_utc(e.last_modified));
        out += element("ETag", xml_escape(e.etag));
        out += element("Size", std::to_string(e.size));
        if (req.version == 1 || req.fetch_owner) {
            out += "<Owner><ID>roar-gateway</ID><DisplayName>roar-gateway</DisplayName></Owner>";
        }
        out += element("StorageClass", "STANDARD");
        out += "</Contents>";
    }
    for (const auto& p : page.common_prefixes) {
        out += "<CommonPrefixes>" + element("Prefix", encode_field(p, url)) + "</CommonPrefixes>";
    }
    out += "</ListBucketResult>\n";
    return out;
}

S3Result<UploadListRequest> parse_upload_list_request(const std::vector<sigv4::QueryParam>& params)
{
    UploadListRequest r;
    if (const auto* v = find_param(params, "prefix")) {
        r.prefix = *v;
    }
    if (const auto* v = find_param(params, "delimiter")) {
        r.delimiter = *v;
    }
    if (const auto* v = find_param(params, "key-marker")) {
        r.key_marker = *v;
    }
    if (const auto* v = find_param(params, "upload-id-marker")) {
        r.upload_id_marker = *v;
    }
    if (const auto* v = find_param(params, "max-uploads")) {
        const auto n = parse_count(*v, 1000);
        if (!n) {
            return tl::unexpected(invalid_argument("max-uploads must be a non-negative integer"));
        }
        r.max_uploads = *n;
    }
    if (const auto* v = find_param(params, "encoding-type")) {
        if (*v != "url") {
            return tl::unexpected(invalid_argument("Invalid Encoding Method specified in Request"));
        }
        r.url_encoding = true;
    }
    return r;
}

S3Result<UploadListPage> list_uploads_page(const UploadListRequest& req, const UploadFetch& fetch)
{
    UploadListPage page;
    if (req.max_uploads == 0) {
        return page;
    }
    std::string key_cursor = req.key_marker;
    // Without an upload-id-marker, S3 lists only keys after key-marker:
    // "~" sorts after every upload id (they are 0-9 a-z).
    std::string id_cursor = req.upload_id_marker.empty() ? std::string("~") : req.upload_id_marker;
    if (req.key_marker.empty()) {
        id_cursor.clear();
    }
    const std::size_t batch = std::min<std::size_t>(req.max_uploads + 1, k_max_page);
    std::string last_prefix;
    unsigned count = 0;
    for (;;) {
        auto uploads = fetch(req.prefix, key_cursor, id_cursor, batch);
        if (!uploads) {
            return tl::unexpected(internal(uploads.error()));
        }
        bool refetch = false;
        for (auto& u : *uploads) {
            key_cursor = u.key;
            id_cursor = u.id;
            std::string group = rolled_up(u.key, req.prefix, req.delimiter);
            if (!group.empty() && group == last_prefix) {
                continue;
            }
            if (count == req.max_uploads) {
                page.truncated = true;
                break;
            }
            ++count;
            if (group.empty()) {
                page.next_key_marker = u.key;
                page.next_upload_id_marker = u.id;
                page.uploads.push_back(std::move(u));
                continue;
            }
            last_prefix = group;
            page.common_prefixes.push_back(group);
            page.next_key_marker = group;
            page.next_upload_id_marker.clear();
            key_cursor = group + std::string(k_after_all);
            id_cursor.clear();
            refetch = true;
            break;
        }
        if (page.truncated || (!refetch && uploads->size() < batch)) {
            break;
        }
    }
    if (!page.truncated) {
        page.next_key_marker.clear();
        page.next_upload_id_marker.clear();
    }
    return page;
}

std::string list_uploads_xml(std::string_view bucket, const UploadListRequest& req, const UploadListPage& page)
{
    const bool url = req.url_encoding;
    std::string out =
        fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListMultipartUploadsResult xmlns=\"{}\">", k_xmlns);
    out += element("Bucket", xml_escape(bucket));
    out += element("KeyMarker", encode_field(req.key_marker, url));
    out += element("UploadIdMarker", xml_escape(req.upload_id_marker));
    out += element("NextKeyMarker", encode_field(page.next_key_marker, url));
    out += element("NextUploadIdMarker", xml_escape(page.next_upload_id_marker));
    if (!req.prefix.empty()) {
        out += element("Prefix", encode_field(req.prefix, url));
    }
    if (!req.delimiter.empty()) {
        out += element("Delimiter", encode_field(req.delimiter, url));
    }
    out += element("MaxUploads", std::to_string(req.max_uploads));
    if (url) {
        out += element("EncodingType", "url");
    }
    out += element("IsTruncated", page.truncated ? "true" : "false");
    for (const auto& u : page.uploads) {
        out += "<Upload>";
        out += element("Key", encode_field(u.key, url));
        out += element("UploadId", xml_escape(u.id));
        out += "<Initiator><ID>roar-gateway</ID><DisplayName>roar-gateway</DisplayName></Initiator>";
        out += "<Owner><ID>roar-gateway</ID><DisplayName>roar-gateway</DisplayName></Owner>";
        out += element("StorageClass", "STANDARD");
        out += element("Initiated", iso8601_utc(u.created_at));
        out += "</Upload>";
    }
    for (const auto& p : page.common_prefixes) {
        out += "<CommonPrefixes>" + element("Prefix", encode_field(p, url)) + "</CommonPrefixes>";
    }
    out += "</ListMultipartUploadsResult>\n";
    return out;
}

S3Result<PartListRequest> parse_part_list_request(const std::vector<sigv4::QueryParam>& params)
{
    PartListRequest r;
    if (const auto* v = find_param(params, "part-number-marker")) {
        const auto n = parse_count(*v, 10000);
        if (!n) {
            return tl::unexpected(invalid_argument("part-number-marker must be a non-negative integer"));
        }
        r.part_number_marker = static_cast<int>(*n);
    }
    if (const auto* v = find_param(params, "max-parts")) {
        const auto n = parse_count(*v, 1000);
        if (!n) {
            return tl::unexpected(invalid_argument("max-parts must be a non-negative integer"));
        }
        r.max_parts = *n;
    }
    return r;
}

std::string list_parts_xml(std::string_view bucket, const UploadRecord& upload, const PartListRequest& req,
                           const std::vector<PartRecord>& parts)
{
    const bool truncated = parts.size() > req.max_parts;
    const std::size_t shown = std::min<std::size_t>(parts.size(), req.max_parts);
    std::string out =
        fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListPartsResult xmlns=\"{}\">", k_xmlns);
    out += element("Bucket", xml_escape(bucket));
    out += element("Key", xml_escape(upload.key));
    out += element("UploadId", xml_escape(upload.id));
    out += "<Initiator><ID>roar-gateway</ID><DisplayName>roar-gateway</DisplayName></Initiator>";
    out += "<Owner><ID>roar-gateway</ID><DisplayName>roar-gateway</DisplayName></Owner>";
    out += element("StorageClass", "STANDARD");
    out += element("PartNumberMarker", std::to_string(req.part_number_marker));
    out += element("NextPartNumberMarker", std::to_string(shown ? parts[shown - 1].number : 0));
    out += element("MaxParts", std::to_string(req.max_parts));
    out += element("IsTruncated", truncated ? "true" : "false");
    for (std::size_t i = 0; i < shown; ++i) {
        const auto& p = parts[i];
        out += "<Part>";
        out += element("PartNumber", std::to_string(p.number));
        out += element("LastModified", iso8601_utc(p.created_at));
        out += element("ETag", xml_escape(p.etag));
        out += element("Size", std::to_string(p.size));
        out += "</Part>";
    }
    out += "</ListPartsResult>\n";
    return out;
}

} // namespace roar::proxy::gateway
