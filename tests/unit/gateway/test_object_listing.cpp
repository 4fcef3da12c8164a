// ListObjects(V2), ListMultipartUploads and ListParts from metadata:
// prefixes, delimiters rolled up into CommonPrefixes, continuation tokens,
// v1 markers, URL encoding and the XML.
#include "roar/proxy/gateway/object_listing.hpp"
#include "roar/proxy/gateway/xml_tree.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <algorithm>

using namespace roar::proxy::gateway;
namespace sigv4 = roar::proxy::sigv4;

namespace {

// A sorted key space behind a KeyFetch, counting fetches.
struct Keys {
    std::vector<std::string> keys;
    int fetches = 0;

    KeyFetch fetch()
    {
        std::sort(keys.begin(), keys.end());
        return [this](std::string_view prefix, std::string_view after,
                      std::size_t limit) -> roar::Result<std::vector<ListEntry>> {
            ++fetches;
            std::vector<ListEntry> out;
            for (const auto& k : keys) {
                if (k > after && k.compare(0, prefix.size(), prefix) == 0 && out.size() < limit) {
                    out.push_back({k, k.size(), "\"e\"", 1700000000123});
                }
            }
            return out;
        };
    }
};

std::vector<std::string> contents(const ListPage& p)
{
    std::vector<std::string> out;
    for (const auto& e : p.contents) {
        out.push_back(e.key);
    }
    return out;
}

ListRequest v2(std::string prefix = "", std::string delimiter = "", unsigned max_keys = 1000)
{
    ListRequest r;
    r.prefix = std::move(prefix);
    r.delimiter = std::move(delimiter);
    r.max_keys = max_keys;
    return r;
}

} // namespace

TEST_CASE("a listing rolls keys under a delimiter into common prefixes", "[gateway][listing]")
{
    Keys k{{"a.txt", "dir/1", "dir/2", "dir/sub/3", "other/x", "z"}};
    auto page = list_objects_page(v2("", "/"), k.fetch());
    REQUIRE(page);
    CHECK(contents(*page) == std::vector<std::string>{"a.txt", "z"});
    CHECK(page->common_prefixes == std::vector<std::string>{"dir/", "other/"});
    CHECK_FALSE(page->truncated);
    auto inside = list_objects_page(v2("dir/", "/"), k.fetch());
    CHECK(contents(*inside) == std::vector<std::string>{"dir/1", "dir/2"});
    CHECK(inside->common_prefixes == std::vector<std::string>{"dir/sub/"});
}

TEST_CASE("pages follow continuation tokens until the end, each entry once", "[gateway][listing]")
{
    Keys k;
    for (int i = 0; i < 25; ++i) {
        k.keys.push_back(fmt::format("f{:02}", i));
        k.keys.push_back(fmt::format("d{:02}/a", i));
        k.keys.push_back(fmt::format("d{:02}/b", i));
    }
    ListRequest req = v2("", "/", 7);
    std::vector<std::string> seen;
    int pages = 0;
    for (;;) {
        auto page = list_objects_page(req, k.fetch());
        REQUIRE(page);
        ++pages;
        CHECK(page->contents.size() + page->common_prefixes.size() <= 7);
        for (const auto& e : page->contents) {
            seen.push_back(e.key);
        }
        for (const auto& p : page->common_prefixes) {
            seen.push_back(p);
        }
        if (!page->truncated) {
            break;
        }
        CHECK_FALSE(page->next_token.empty());
        CHECK(page->next_token.find_first_of("+/=") == std::string::npos); // URL-safe, unpadded
        req.continuation_token = page->next_token;
    }
    CHECK(pages == 8); // 50 entries in pages of 7
    CHECK(seen.size() == 50);
    std::vector<std::string> unique = seen;
    std::sort(unique.begin(), unique.end());
    CHECK(std::unique(unique.begin(), unique.end()) == unique.end());
}

TEST_CASE("a full page is truncated only if another entry follows", "[gateway][listing]")
{
    Keys k{{"a", "b", "c/1", "c/2"}};
    auto exact = list_objects_page(v2("", "/", 3), k.fetch());
    CHECK_FALSE(exact->truncated); // a, b, c/ and nothing after
    auto two = list_objects_page(v2("", "/", 2), k.fetch());
    CHECK(two->truncated);
    auto zero = list_objects_page(v2("", "", 0), k.fetch());
    CHECK(zero->contents.empty());
    CHECK_FALSE(zero->truncated);
}

TEST_CASE("start-after, v1 markers and bad tokens", "[gateway][listing]")
{
    Keys k{{"a", "b/1", "b/2", "c"}};
    ListRequest r = v2();
    r.start_after = "a";
    CHECK(contents(*list_objects_page(r, k.fetch())) == std::vector<std::string>{"b/1", "b/2", "c"});
    // v1: NextMarker is the last common prefix, and resuming from it skips the group.
    ListRequest v1 = v2("", "/", 2);
    v1.version = 1;
    auto first = list_objects_page(v1, k.fetch());
    CHECK(first->truncated);
    CHECK(first->next_marker == "b/");
    v1.start_after = first->next_marker;
    auto second = list_objects_page(v1, k.fetch());
    CHECK(contents(*second) == std::vector<std::string>{"c"});
    CHECK(second->common_prefixes.empty());
    ListRequest bad = v2();
    bad.continuation_token = "not-a-token";
    auto refused = list_objects_page(bad, k.fetch());
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == "InvalidArgument");
}

TEST_CASE("a large group is skipped with one seek, not read key by key", "[gateway][listing]")
{
    Keys k;
    for (int i = 0; i < 5000; ++i) {
        k.keys.push_back(fmt::format("big/{:05}", i));
    }
    k.keys.push_back("small");
    auto page = list_objects_page(v2("", "/"), k.fetch());
    REQUIRE(page);
    CHECK(page->common_prefixes == std::vector<std::string>{"big/"});
    CHECK(contents(*page) == std::vector<std::string>{"small"});
    CHECK(k.fetches <= 3);
}

TEST_CASE("list requests are parsed from the query", "[gateway][listing]")
{
    auto q = *sigv4::parse_query("list-type=2&prefix=a%2Fb&delimiter=%2F&max-keys=5000&encoding-type=url");
    auto r = parse_list_request(q);
    REQUIRE(r);
    CHECK(r->version == 2);
    CHECK(r->prefix == "a/b");
    CHECK(r->delimiter == "/");
    CHECK(r->max_keys == 1000); // clamped like S3
    CHECK(r->url_encoding);
    CHECK(parse_list_request(*sigv4::parse_query("marker=m"))->start_after == "m");
    CHECK(parse_list_request(*sigv4::parse_query("marker=m"))->version == 1);
    CHECK(parse_list_request(*sigv4::parse_query("max-keys=-1")).error().code == "InvalidArgument");
    CHECK(parse_list_request(*sigv4::parse_query("max-keys=abc")).error().code == "InvalidArgument");
    CHECK(parse_list_request(*sigv4::parse_query("encoding-type=base64")).error().code == "InvalidArgument");
    CHECK(parse_list_request(*sigv4::parse_query("list-type=3")).error().code == "InvalidArgument");
}

TEST_CASE("the ListBucketResult XML carries what clients read", "[gateway][listing]")
{
    Keys k{{"a b+c.txt", "dir/x"}};
    ListRequest r = v2("", "/", 1);
    r.url_encoding = true;
    auto page = list_objects_page(r, k.fetch());
    const std::string xml = list_objects_xml("data", r, *page);
    auto doc = parse_xml(xml);
    REQUIRE(doc);
    CHECK(doc->name == "ListBucketResult");
    CHECK(doc->child_text("Name") == "data");
    CHECK(doc->child_text("KeyCount") == "1");
    CHECK(doc->child_text("IsTruncated") == "true");
    CHECK(doc->child_text("NextContinuationToken") == page->next_token);
    CHECK(doc->child_text("EncodingType") == "url");
    const XmlElement* c = doc->child("Contents");
    REQUIRE(c);
    CHECK(c->child_text("Key") == "a%20b%2Bc.txt");
    CHECK(c->child_text("ETag") == "\"e\"");
    CHECK(c->child_text("Size") == "9");
    CHECK(c->child_text("LastModified") == "2023-11-14T22:13:20.123Z");
    CHECK(c->child_text("StorageClass") == "STANDARD");
}

TEST_CASE("multipart uploads are listed by key and upload id", "[gateway][listing]")
{
    std::vector<UploadRecord> uploads;
    for (const auto& [key, id] : std::vector<std::pair<std::string, std::string>>{
             {"a", "01"}, {"a", "02"}, {"d/x", "03"}, {"d/y", "04"}, {"z", "05"}}) {
        UploadRecord u;
        u.id = id;
        u.key = key;
        u.created_at = 1700000000000;
        uploads.push_back(u);
    }
    UploadFetch fetch = [&](std::string_view prefix, std::string_view key_marker, std::string_view upload_marker,
                            std::size_t limit) -> roar::Result<std::vector<UploadRecord>> {
        std::vector<UploadRecord> out;
        for (const auto& u : uploads) {
            const bool after = u.key > key_marker || (u.key == key_marker && u.id > upload_marker);
            if (after && u.key.compare(0, prefix.size(), prefix) == 0 && out.size() < limit) {
                out.push_back(u);
            }
        }
        return out;
    };
    UploadListRequest r;
    r.delimiter = "/";
    r.max_uploads = 2;
    auto first = list_uploads_page(r, fetch);
    REQUIRE(first);
    REQUIRE(first->uploads.size() == 2);
    CHECK(first->truncated);
    CHECK(first->next_key_marker == "a");
    CHECK(first->next_upload_id_marker == "02");
    r.key_marker = first->next_key_marker;
    r.upload_id_marker = first->next_upload_id_marker;
    auto second = list_uploads_page(r, fetch);
    CHECK(second->common_prefixes == std::vector<std::string>{"d/"});
    REQUIRE(second->uploads.size() == 1);
    CHECK(second->uploads[0].key == "z");
    CHECK_FALSE(second->truncated);
    // key-marker alone skips every upload of that key.
    UploadListRequest only_key;
    only_key.key_marker = "a";
    auto after_a = list_uploads_page(only_key, fetch);
    CHECK(after_a->uploads.front().key == "d/x");
    auto doc = parse_xml(list_uploads_xml("data", r, *second));
    REQUIRE(doc);
    CHECK(doc->name == "ListMultipartUploadsResult");
    CHECK(doc->child("Upload")->child_text("UploadId") == "05");
    CHECK(doc->child("CommonPrefixes")->child_text("Prefix") == "d/");
}

TEST_CASE("ListParts shows a page of parts and where the next starts", "[gateway][listing]")
{
    UploadRecord u;
    u.id = "up1";
    u.key = "big";
    std::vector<PartRecord> parts{{1, 5, "\"p1\"", 0}, {2, 5, "\"p2\"", 0}, {3, 1, "\"p3\"", 0}};
    PartListRequest req;
    req.max_parts = 2;
    auto doc = parse_xml(list_parts_xml("data", u, req, parts));
    REQUIRE(doc);
    CHECK(doc->child_text("IsTruncated") == "true");
    CHECK(doc->child_text("NextPartNumberMarker") == "2");
    CHECK(doc->children_named("Part").size() == 2);
    CHECK(doc->child("Part")->child_text("ETag") == "\"p1\"");
    auto parsed = parse_part_list_request(*sigv4::parse_query("part-number-marker=2&max-parts=10"));
    REQUIRE(parsed);
    CHECK(parsed->part_number_marker == 2);
    CHECK(parsed->max_parts == 10);
    CHECK_FALSE(parse_part_list_request(*sigv4::parse_query("max-parts=x")));
}
