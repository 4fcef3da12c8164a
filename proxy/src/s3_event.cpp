// Lineage event construction for S3 data operations: GetObject (input,
// ranged or not), PutObject / CompleteMultipartUpload / CopyObject
// (outputs), UploadPartCopy (its source, read), DeleteObject(s)
// (deletes), HeadObject (metadata) and ListObjects(V2) pages (what a job
// listed, for S3 datasets).
#include "roar/proxy/s3_event.hpp"

#include "roar/collector/event_format.h"
#include "roar/proxy/etag.hpp"
#include "roar/proxy/sigv4.hpp"

#include <algorithm>
#include <charconv>

namespace roar::proxy {

namespace {

// The code point of a numeric character reference body `ent` ("#65",
// "#x41"); nullopt when it is not a well-formed one.
std::optional<std::uint32_t> char_ref(std::string_view ent)
{
    if (ent.size() < 2 || ent[0] != '#') {
        return std::nullopt;
    }
    const bool hex = ent[1] == 'x' || ent[1] == 'X';
    const std::string_view digits = ent.substr(hex ? 2 : 1);
    std::uint32_t cp = 0;
    if (digits.empty()) {
        return std::nullopt;
    }
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
        return std::nullopt;
    }
    return cp;
}

std::string xml_unescape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '&') {
            out.push_back(s[i]);
            continue;
        }
        const auto semi = s.find(';', i);
        if (semi == std::string_view::npos) {
            out.push_back(s[i]);
            continue;
        }
        const std::string_view ent = s.substr(i + 1, semi - i - 1);
        if (ent == "quot") {
            out.push_back('"');
        } else if (ent == "amp") {
            out.push_back('&');
        } else if (ent == "lt") {
            out.push_back('<');
        } else if (ent == "gt") {
            out.push_back('>');
        } else if (ent == "apos") {
            out.push_back('\'');
        } else if (const auto cp = char_ref(ent); cp && *cp > 0 && *cp < 0x80) {
            out.push_back(static_cast<char>(*cp));
        } else {
            out.append(s.substr(i, semi - i + 1));
        }
        i = semi;
    }
    return out;
}

void add_line(std::string& extra, std::string_view name, std::string_view value)
{
    if (!value.empty()) {
        extra.append(name).append("=").append(value).append("\n");
    }
}

// Calls `each` with the body of every <tag>...</tag> element of `xml`, in order.
template <typename F> void each_element(std::string_view xml, std::string_view tag, F&& each)
{
    const std::string open = "<" + std::string(tag) + ">";
    const std::string close = "</" + std::string(tag) + ">";
    std::size_t at = 0;
    while (true) {
        const auto a = xml.find(open, at);
        if (a == std::string_view::npos) {
            return;
        }
        const auto b = xml.find(close, a + open.size());
        if (b == std::string_view::npos) {
            return;
        }
        each(xml.substr(a + open.size(), b - a - open.size()));
        at = b + close.size();
    }
}

// The size of the object a GetObject answer `record` is part of: the total
// of its Content-Range (206), or its Content-Length (200); nullopt when
// the upstream did not say.
std::optional<std::uint64_t> object_size(const ExchangeRecord& record)
{
    if (record.status != 206) {
        return record.content_length;
    }
    const std::string_view range = record.content_range;
    const auto slash = range.rfind('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view total = range.substr(slash + 1);
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(total.data(), total.data() + total.size(), n);
    if (total.empty() || ec != std::errc() || end != total.data() + total.size()) {
        return std::nullopt;
    }
    return n;
}

// The ETag the source of copy `record` had for S3 to copy it: its
// x-amz-copy-source-if-match when that names one ETag; empty otherwise.
std::string_view vouched_source_etag(const ExchangeRecord& record)
{
    const std::string_view wanted = record.copy_source_if_match;
    return wanted != "*" && wanted.find(',') == std::string_view::npos ? wanted : std::string_view();
}

// Adds to `extra` what CopyObject `record`, answered ETag `copy_etag`,
// tells of its source: `source_etag=` when that is known, else
// `source_note=` saying why not. S3 copies an object only when it matches
// the client's x-amz-copy-source-if-match, so that ETag is the source's.
// Without one: S3 gives a copy the MD5 of its bytes as ETag (unless it
// stores it under SSE-KMS or SSE-C), and that is the source's ETag too
// when the source was stored in one piece the same way, which is how the
// proxy records it (docs/proxy.md, "What is captured").
void add_copy_source(std::string& extra, const ExchangeRecord& record, std::string_view copy_etag)
{
    if (const auto wanted = vouched_source_etag(record); !wanted.empty()) {
        add_line(extra, "source_etag", wanted);
        return;
    }
    const bool md5 = record.encryption.rfind("aws:kms", 0) != 0 && record.encryption != "SSE-C";
    if (md5 && is_plain_md5_etag(copy_etag)) {
        add_line(extra, "source_etag", copy_etag);
        add_line(extra, "source_etag_inferred", "1");
        return;
    }
    add_line(extra, "source_note",
             "copied without a digest: the copy's ETag is not the MD5 of its bytes, so the source's is unknown");
}

// The event of UploadPartCopy `record`, seen from its source. The
// answer's ETag is the part's, never the source's: the source's is the
// client's x-amz-copy-source-if-match or, for the collector to find, the
// ETag of a HeadObject the same process made of it before.
S3Event part_copy_event(const ExchangeRecord& record)
{
    S3Event ev;
    ev.op = ROAR_OP_S3_PART_COPY;
    ev.uri = record.copy_source;
    ev.etag = std::string(vouched_source_etag(record));
    ev.status = static_cast<std::int32_t>(record.status);
    ev.bytes = -1;
    ev.pid = record.pid;
    add_line(ev.extra, "version_id", record.copy_source_version_id);
    add_line(ev.extra, "range", record.copy_source_range);
    add_line(ev.extra, "upload_id", record.upload_id);
    add_line(ev.extra, "part_number", record.part_number);
    add_line(ev.extra, "destination", record.target.uri());
    return ev;
}

} // namespace

bool wants_xml_body(S3Op op)
{
    return op == S3Op::CompleteMultipartUpload || op == S3Op::CopyObject || op == S3Op::UploadPartCopy
           || op == S3Op::DeleteObjects || op == S3Op::ListObjects;
}

std::optional<ListPage> parse_list_page(std::string_view xml)
{
    if (xml.find("<ListBucketResult") == std::string_view::npos
        || xml.find("</ListBucketResult>") == std::string_view::npos) {
        return std::nullopt;
    }
    // The page's own elements, wherever they stand (S3 puts them first,
    // moto after the entries): the page without its entries, whose
    // <Prefix> and <Key> elements must not be taken for them.
    std::string head;
    for (std::size_t at = 0; at < xml.size();) {
        const auto a = std::min(xml.find("<Contents>", at), xml.find("<CommonPrefixes>", at));
        head.append(xml.substr(at, a == std::string_view::npos ? std::string_view::npos : a - at));
        if (a == std::string_view::npos) {
            break;
        }
        const std::string_view close = xml.compare(a, 10, "<Contents>") == 0 ? "</Contents>" : "</CommonPrefixes>";
        const auto b = xml.find(close, a);
        at = b == std::string_view::npos ? xml.size() : b + close.size();
    }
    const bool url = xml_element(head, "EncodingType").value_or("") == "url";
    bool ok = true;
    auto decode = [&](std::string text) {
        if (!url) {
            return text;
        }
        auto decoded = sigv4::query_decode(text);
        ok = ok && decoded.has_value();
        return decoded.value_or(std::string());
    };
    ListPage page;
    page.bucket = xml_element(head, "Name").value_or("");
    page.prefix = decode(xml_element(head, "Prefix").value_or(""));
    page.truncated = xml_element(head, "IsTruncated").value_or("") == "true";
    page.first = xml_element(head, "ContinuationToken").value_or("").empty()
                 && xml_element(head, "StartAfter").value_or("").empty()
                 && xml_element(head, "Marker").value_or("").empty();
    each_element(xml, "Contents", [&](std::string_view item) {
        auto key = xml_element(item, "Key");
        const auto size = xml_element(item, "Size");
        std::uint64_t n = 0;
        if (!key || !size) {
            ok = false;
            return;
        }
        const auto [end, ec] = std::from_chars(size->data(), size->data() + size->size(), n);
        if (ec != std::errc() || end != size->data() + size->size()) {
            ok = false;
            return;
        }
        page.objects.push_back(ListPage::Object{decode(std::move(*key)), xml_element(item, "ETag").value_or(""), n});
    });
    each_element(xml, "CommonPrefixes", [&](std::string_view item) {
        if (auto p = xml_element(item, "Prefix")) {
            page.common_prefixes.push_back(decode(std::move(*p)));
        }
    });
    if (!ok) {
        return std::nullopt;
    }
    return page;
}

std::optional<std::string> xml_element(std::string_view xml, std::string_view tag)
{
    const std::string open = "<" + std::string(tag) + ">";
    const std::string close = "</" + std::string(tag) + ">";
    const auto a = xml.find(open);
    if (a == std::string_view::npos) {
        return std::nullopt;
    }
    const auto b = xml.find(close, a + open.size());
    if (b == std::string_view::npos) {
        return std::nullopt;
    }
    return xml_unescape(xml.substr(a + open.size(), b - a - open.size()));
}

std::vector<S3Event> lineage_events(const ExchangeRecord& record, std::int64_t multipart_bytes)
{
    std::vector<S3Event> out;
    if (record.status < 200 || record.status >= 300) {
        return out;
    }
    // A cut answer is only lineage for a read: the client had part of the
    // object. Any other call's outcome is in the body the client missed.
    if (record.cut && record.op != S3Op::GetObject) {
        return out;
    }
    S3Event ev;
    ev.uri = record.target.uri();
    ev.status = static_cast<std::int32_t>(record.status);
    ev.etag = record.etag;
    ev.pid = record.pid;
    add_line(ev.extra, "version_id", record.version_id);
    switch (record.op) {
    case S3Op::GetObject:
        ev.op = ROAR_OP_S3_GET;
        ev.bytes = static_cast<std::int64_t>(record.response_bytes);
        if (record.status == 206) {
            add_line(ev.extra, "range", record.range);
            add_line(ev.extra, "content_range", record.content_range);
        } else if (!record.cut) {
            add_line(ev.extra, "blake3", record.blake3_hex);
        }
        if (record.status == 206 || record.cut) {
            // Read in part: an input all the same, known by its ETag and
            // the object's size (no BLAKE3: the whole body was not seen).
            const auto size = object_size(record);
            add_line(ev.extra, "size", size ? std::to_string(*size) : "");
        }
        if (record.cut) {
            add_line(ev.extra, "cut", "1");
        }
        break;
    case S3Op::HeadObject:
        ev.op = ROAR_OP_S3_HEAD;
        ev.bytes = record.content_length && *record.content_length <= INT64_MAX
                       ? static_cast<std::int64_t>(*record.content_length)
                       : -1;
        break;
    case S3Op::PutObject:
        ev.op = ROAR_OP_S3_PUT;
        ev.bytes = static_cast<std::int64_t>(record.request_bytes);
        add_line(ev.extra, "blake3", record.blake3_hex);
        break;
    case S3Op::CopyObject:
        if (record.response_body.find("<Error>") != std::string::npos) {
            return out;
        }
        ev.op = ROAR_OP_S3_COPY;
        ev.etag = xml_element(record.response_body, "ETag").value_or(ev.etag);
        ev.bytes = -1;
        add_line(ev.extra, "source", record.copy_source);
        add_line(ev.extra, "source_version_id", record.copy_source_version_id);
        add_copy_source(ev.extra, record, ev.etag);
        break;
    case S3Op::UploadPartCopy:
        // Like CopyObject, S3 may answer 200 and report the failure in the body.
        if (record.response_body.find("<Error>") != std::string::npos || record.copy_source.size() <= 5) {
            return out;
        }
        out.push_back(part_copy_event(record));
        return out;
    case S3Op::CompleteMultipartUpload:
        // S3 may answer 200 and report the failure in the body.
        if (record.response_body.find("<Error>") != std::string::npos) {
            return out;
        }
        ev.op = ROAR_OP_S3_MULTIPART_COMPLETE;
        ev.etag = xml_element(record.response_body, "ETag").value_or(ev.etag);
        ev.bytes = multipart_bytes;
        add_line(ev.extra, "upload_id", record.upload_id);
        // The collector reads an output's size from here for non-PUT writes.
        add_line(ev.extra, "size", multipart_bytes >= 0 ? std::to_string(multipart_bytes) : "");
        add_line(ev.extra, "blake3", record.blake3_hex);
        add_line(ev.extra, "note", record.note);
        break;
    case S3Op::DeleteObject:
        ev.op = ROAR_OP_S3_DELETE;
        ev.bytes = 0;
        add_line(ev.extra, "delete_marker", record.delete_marker);
        break;
    case S3Op::DeleteObjects: {
        // One delete per <Deleted><Key>..</Key></Deleted> in the result.
        std::string_view rest = record.response_body;
        while (true) {
            const auto a = rest.find("<Deleted>");
            if (a == std::string_view::npos) {
                break;
            }
            const auto b = rest.find("</Deleted>", a);
            if (b == std::string_view::npos) {
                break;
            }
            const std::string_view item = rest.substr(a, b - a);
            if (auto key = xml_element(item, "Key")) {
                S3Event del;
                del.op = ROAR_OP_S3_DELETE;
                del.uri = "s3://" + record.target.bucket + "/" + *key;
                del.status = ev.status;
                del.pid = record.pid;
                add_line(del.extra, "version_id", xml_element(item, "VersionId").value_or(""));
                out.push_back(std::move(del));
            }
            rest.remove_prefix(b + 10);
        }
        return out;
    }
    case S3Op::ListObjects: {
        // The page, then one event per entry; nothing when the capture was
        // cut or the body is not a listing (a partial page would pass for
        // a whole one).
        if (record.response_body.size() < record.response_bytes) {
            return out;
        }
        auto page = parse_list_page(record.response_body);
        if (!page || page->bucket.empty()) {
            return out;
        }
        const std::string base = "s3://" + page->bucket + "/";
        S3Event head;
        head.op = ROAR_OP_S3_LIST_PAGE;
        head.uri = base + page->prefix;
        head.status = ev.status;
        head.pid = record.pid;
        head.bytes = static_cast<std::int64_t>(page->objects.size());
        add_line(head.extra, "truncated", page->truncated ? "1" : "0");
        add_line(head.extra, "first", page->first ? "1" : "");
        out.push_back(std::move(head));
        for (auto& object : page->objects) {
            S3Event entry;
            entry.op = ROAR_OP_S3_LISTED;
            entry.uri = base + object.key;
            entry.etag = std::move(object.etag);
            entry.status = ev.status;
            entry.pid = record.pid;
            entry.bytes = static_cast<std::int64_t>(object.size);
            add_line(entry.extra, "prefix", page->prefix);
            out.push_back(std::move(entry));
        }
        for (const auto& common : page->common_prefixes) {
            S3Event entry;
            entry.op = ROAR_OP_S3_LISTED;
            entry.uri = base + common;
            entry.status = ev.status;
            entry.pid = record.pid;
            entry.bytes = -1;
            add_line(entry.extra, "prefix", page->prefix);
            add_line(entry.extra, "common_prefix", "1");
            out.push_back(std::move(entry));
        }
        return out;
    }
    default: return out;
    }
    out.push_back(std::move(ev));
    return out;
}

void MultipartSizes::add_part(const std::string& upload_id, const std::string& part, std::uint64_t bytes)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    if (m_uploads.size() >= k_max_uploads && m_uploads.find(upload_id) == m_uploads.end()) {
        m_uploads.erase(m_uploads.begin());
    }
    m_uploads[upload_id][part] = bytes;
}

std::int64_t MultipartSizes::take(const std::string& upload_id)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = m_uploads.find(upload_id);
    if (it == m_uploads.end()) {
        return -1;
    }
    std::uint64_t total = 0;
    for (const auto& [part, n] : it->second) {
        total += n;
    }
    m_uploads.erase(it);
    return static_cast<std::int64_t>(total);
}

void MultipartSizes::forget(const std::string& upload_id)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_uploads.erase(upload_id);
}

} // namespace roar::proxy
