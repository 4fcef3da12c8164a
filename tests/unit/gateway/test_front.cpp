// The server front's pure pieces: which S3 operation a request is, the
// byte range a Range header asks for (S3's rules: suffix ranges, ends
// clamped, 416 past the end, other forms ignored), what a CopyObject's
// x-amz-copy-source and x-amz-metadata-directive headers name, the
// bucket a virtual-host style Host header names, what conditional headers
// decide, what a Content-MD5 header gives, and which headers an object
// call refuses rather than ignores.
#include "roar/proxy/gateway/front.hpp"

#include <catch2/catch.hpp>

using namespace roar::proxy::gateway;
using roar::proxy::sigv4::QueryParam;

namespace {

FrontOp op(std::string_view method, std::string_view bucket, std::string_view key, std::vector<QueryParam> params = {})
{
    return classify_request(method, bucket, key, params);
}

} // namespace

TEST_CASE("front: requests are classified as the S3 operation they are")
{
    CHECK(op("GET", "", "") == FrontOp::list_buckets);
    CHECK(op("PUT", "", "") == FrontOp::unsupported);
    CHECK(op("PUT", "b", "") == FrontOp::create_bucket);
    CHECK(op("HEAD", "b", "") == FrontOp::head_bucket);
    CHECK(op("DELETE", "b", "") == FrontOp::delete_bucket);
    CHECK(op("GET", "b", "", {{"list-type", "2"}, {"prefix", "a/"}}) == FrontOp::list_objects);
    CHECK(op("GET", "b", "") == FrontOp::list_objects);
    CHECK(op("GET", "b", "", {{"uploads", ""}}) == FrontOp::list_uploads);
    CHECK(op("GET", "b", "", {{"location", ""}}) == FrontOp::get_bucket_location);
    CHECK(op("POST", "b", "", {{"delete", ""}}) == FrontOp::delete_objects);
    // A bucket sub-resource the gateway does not keep is not a listing.
    CHECK(op("GET", "b", "", {{"acl", ""}}) == FrontOp::unsupported);
    CHECK(op("PUT", "b", "", {{"versioning", ""}}) == FrontOp::unsupported);
    CHECK(op("PUT", "b", "k") == FrontOp::put_object);
    CHECK(op("GET", "b", "k/with/slashes") == FrontOp::get_object);
    CHECK(op("HEAD", "b", "k") == FrontOp::head_object);
    CHECK(op("DELETE", "b", "k") == FrontOp::delete_object);
    CHECK(op("POST", "b", "k", {{"uploads", ""}}) == FrontOp::create_upload);
    CHECK(op("PUT", "b", "k", {{"partNumber", "1"}, {"uploadId", "u"}}) == FrontOp::upload_part);
    CHECK(op("POST", "b", "k", {{"uploadId", "u"}}) == FrontOp::complete_upload);
    CHECK(op("DELETE", "b", "k", {{"uploadId", "u"}}) == FrontOp::abort_upload);
    CHECK(op("GET", "b", "k", {{"uploadId", "u"}}) == FrontOp::list_parts);
    CHECK(op("PUT", "b", "k", {{"tagging", ""}}) == FrontOp::unsupported);
    CHECK(op("GET", "b", "k", {{"acl", ""}}) == FrontOp::unsupported);
    CHECK(front_op_name(FrontOp::put_object) == "PutObject");
}

TEST_CASE("front: an object request with a parameter its operation does not read is refused, not served plainly")
{
    // Versioning is not served: a version id other than null changes what is read or deleted.
    CHECK(op("GET", "b", "k", {{"versionId", "3HL4kqtJ"}}) == FrontOp::unsupported);
    CHECK(op("HEAD", "b", "k", {{"versionId", "3HL4kqtJ"}}) == FrontOp::unsupported);
    CHECK(op("DELETE", "b", "k", {{"versionId", "3HL4kqtJ"}}) == FrontOp::unsupported);
    CHECK(op("PUT", "b", "k", {{"versionId", "null"}}) == FrontOp::unsupported);
    // null is the version id of every object of an unversioned bucket.
    CHECK(op("GET", "b", "k", {{"versionId", "null"}}) == FrontOp::get_object);
    CHECK(op("DELETE", "b", "k", {{"versionId", "null"}}) == FrontOp::delete_object);
    // partNumber reads one part of an object; it names no sub-resource elsewhere.
    CHECK(op("GET", "b", "k", {{"partNumber", "2"}}) == FrontOp::get_object);
    CHECK(op("HEAD", "b", "k", {{"partNumber", "1"}}) == FrontOp::head_object);
    CHECK(op("DELETE", "b", "k", {{"partNumber", "1"}}) == FrontOp::unsupported);
    CHECK(op("GET", "b", "k", {{"attributes", ""}}) == FrontOp::unsupported);
    CHECK(op("GET", "b", "k", {{"some-future-subresource", ""}}) == FrontOp::unsupported);
    CHECK(op("POST", "b", "k", {{"restore", ""}}) == FrontOp::unsupported);
    CHECK(op("POST", "b", "k") == FrontOp::unsupported);
    // What clients send harmlessly, and what the operation reads, passes.
    CHECK(op("GET", "b", "k", {{"x-id", "GetObject"}, {"response-content-type", "a/b"}}) == FrontOp::get_object);
    CHECK(op("GET", "b", "k", {{"X-Amz-Signature", "s"}, {"X-Amz-Expires", "60"}}) == FrontOp::get_object);
    CHECK(op("GET", "b", "k", {{"AWSAccessKeyId", "a"}, {"Signature", "s"}, {"Expires", "1"}}) == FrontOp::get_object);
    CHECK(op("PUT", "b", "k", {{"x-id", "PutObject"}}) == FrontOp::put_object);
    CHECK(op("GET", "b", "k", {{"uploadId", "u"}, {"max-parts", "2"}, {"part-number-marker", "1"}})
          == FrontOp::list_parts);
    CHECK(op("PUT", "b", "k", {{"uploadId", "u"}, {"partNumber", "1"}, {"x-id", "UploadPart"}})
          == FrontOp::upload_part);
}

TEST_CASE("front: conditional GET and HEAD headers decide as S3 does, If-Match and If-None-Match first")
{
    const std::string etag = "\"abc\"";
    const Millis modified = 946684800000 + 500; // Sat, 01 Jan 2000 00:00:00.500 GMT
    const auto verdict = [&](ReadConditions c) { return evaluate_read_conditions(c, etag, modified).decision; };
    CHECK(verdict({}) == ReadDecision::serve);
    CHECK(verdict({.if_match = "\"abc\""}) == ReadDecision::serve);
    CHECK(verdict({.if_match = "\"x\", \"abc\""}) == ReadDecision::serve);
    CHECK(verdict({.if_match = "*"}) == ReadDecision::serve);
    CHECK(verdict({.if_match = "\"wrong\""}) == ReadDecision::precondition_failed);
    CHECK(verdict({.if_none_match = "\"abc\""}) == ReadDecision::not_modified);
    CHECK(verdict({.if_none_match = "W/\"abc\""}) == ReadDecision::not_modified);
    CHECK(verdict({.if_none_match = "*"}) == ReadDecision::not_modified);
    CHECK(verdict({.if_none_match = "\"other\""}) == ReadDecision::serve);
    // Dates compare in whole seconds: the same second is not modified since.
    CHECK(verdict({.if_modified_since = "Sat, 01 Jan 2000 00:00:00 GMT"}) == ReadDecision::not_modified);
    CHECK(verdict({.if_modified_since = "Fri, 31 Dec 1999 23:59:59 GMT"}) == ReadDecision::serve);
    CHECK(verdict({.if_modified_since = "Thu, 01 Jan 2099 00:00:00 GMT"}) == ReadDecision::not_modified);
    CHECK(verdict({.if_unmodified_since = "Sat, 01 Jan 2000 00:00:00 GMT"}) == ReadDecision::serve);
    CHECK(verdict({.if_unmodified_since = "Fri, 31 Dec 1999 23:59:59 GMT"}) == ReadDecision::precondition_failed);
    // A date that does not parse is ignored.
    CHECK(verdict({.if_unmodified_since = "yesterday"}) == ReadDecision::serve);
    // S3's precedence: a true If-Match wins over a false If-Unmodified-Since ...
    CHECK(verdict({.if_match = "\"abc\"", .if_unmodified_since = "Fri, 31 Dec 1999 00:00:00 GMT"})
          == ReadDecision::serve);
    // ... and a false If-None-Match gives 304 whatever If-Modified-Since says.
    CHECK(verdict({.if_none_match = "\"abc\"", .if_modified_since = "Fri, 31 Dec 1999 00:00:00 GMT"})
          == ReadDecision::not_modified);
    CHECK(verdict({.if_none_match = "\"other\"", .if_modified_since = "Thu, 01 Jan 2099 00:00:00 GMT"})
          == ReadDecision::serve);
    // A failed If-Match is 412 even when If-None-Match would be 304.
    const ReadVerdict both =
        evaluate_read_conditions({.if_match = "\"x\"", .if_none_match = "\"abc\""}, etag, modified);
    CHECK(both.decision == ReadDecision::precondition_failed);
    CHECK(both.condition == "If-Match");
}

TEST_CASE("front: a write's If-None-Match must be *, and its conditions hold against the current object")
{
    auto c = parse_write_condition(std::nullopt, " * ");
    REQUIRE(c);
    CHECK(c->if_none_match_any);
    CHECK_FALSE(c->if_match);
    const auto other = parse_write_condition(std::nullopt, "\"abc\"");
    REQUIRE_FALSE(other);
    CHECK(other.error().status == 501);
    CHECK(other.error().code == "NotImplemented");
    ObjectRecord current;
    current.etag = "\"abc\"";
    CHECK(check_write_condition(*c, nullptr) == ConditionCheck::met);
    CHECK(check_write_condition(*c, &current) == ConditionCheck::failed);
    auto m = parse_write_condition("\"abc\"", std::nullopt);
    REQUIRE(m);
    CHECK(check_write_condition(*m, &current) == ConditionCheck::met);
    CHECK(check_write_condition(*m, nullptr) == ConditionCheck::no_object);
    current.etag = "\"def\"";
    CHECK(check_write_condition(*m, &current) == ConditionCheck::failed);
    CHECK(check_write_condition(WriteCondition{}, &current) == ConditionCheck::met);
}

TEST_CASE("front: a header asking an object call for what the gateway does not implement is refused, naming it")
{
    const auto refused = [](FrontOp o, std::vector<std::pair<std::string, std::string>> headers) -> std::string {
        roar::proxy::RequestHead head;
        head.method = "PUT";
        head.target = "/b/k";
        head.headers = std::move(headers);
        const auto e = refused_object_header(o, head);
        if (!e) {
            return "";
        }
        CHECK(e->status == 501);
        CHECK(e->code == "NotImplemented");
        return e->message;
    };
    const auto names = [&](FrontOp o, std::vector<std::pair<std::string, std::string>> headers, std::string_view what) {
        const std::string message = refused(o, std::move(headers));
        INFO(message);
        CHECK(message.find(what) != std::string::npos);
    };
    // What every client sends, and what the gateway keeps, passes.
    for (const FrontOp o : {FrontOp::put_object, FrontOp::copy_object, FrontOp::create_upload}) {
        CHECK(refused(o, {}).empty());
        CHECK(refused(o, {{"Content-Type", "text/plain"},
                          {"x-amz-meta-a", "1"},
                          {"X-Amz-Acl", " private "},
                          {"x-amz-storage-class", "STANDARD"},
                          {"x-amz-tagging-directive", "COPY"},
                          {"x-amz-copy-source", "b/src"},
                          {"x-amz-metadata-directive", "REPLACE"}})
                  .empty());
    }
    // SSE-C on any read or write of an object's bytes.
    for (const FrontOp o : {FrontOp::put_object, FrontOp::copy_object, FrontOp::create_upload, FrontOp::upload_part,
                            FrontOp::complete_upload, FrontOp::get_object, FrontOp::head_object}) {
        names(o, {{"X-Amz-Server-Side-Encryption-Customer-Algorithm", "AES256"}},
              "x-amz-server-side-encryption-customer-algorithm (SSE-C");
        names(o, {{"x-amz-server-side-encryption-customer-key", "a2V5"}}, "x-amz-server-side-encryption-customer-key");
        names(o, {{"x-amz-server-side-encryption-customer-key-MD5", "bWQ1"}},
              "x-amz-server-side-encryption-customer-key-md5");
    }
    // The source's SSE-C on a copy: CopyObject, and UploadPart with a copy source.
    names(FrontOp::copy_object, {{"x-amz-copy-source-server-side-encryption-customer-algorithm", "AES256"}},
          "x-amz-copy-source-server-side-encryption-customer-algorithm");
    names(FrontOp::upload_part,
          {{"x-amz-copy-source", "b/src"}, {"x-amz-copy-source-server-side-encryption-customer-key", "a2V5"}},
          "x-amz-copy-source-server-side-encryption-customer-key");
    // Writes: encryption, object lock, redirects, ACLs, tags, storage classes.
    for (const FrontOp o : {FrontOp::put_object, FrontOp::copy_object, FrontOp::create_upload}) {
        names(o, {{"x-amz-server-side-encryption", "AES256"}}, "x-amz-server-side-encryption AES256");
        names(o, {{"x-amz-server-side-encryption", "aws:kms"}}, "x-amz-server-side-encryption aws:kms");
        names(o, {{"x-amz-server-side-encryption", "aws:kms:dsse"}}, "x-amz-server-side-encryption aws:kms:dsse");
        names(o, {{"x-amz-server-side-encryption-aws-kms-key-id", "k"}}, "x-amz-server-side-encryption-aws-kms-key-id");
        names(o, {{"x-amz-server-side-encryption-context", "e30="}}, "x-amz-server-side-encryption-context");
        names(o, {{"x-amz-server-side-encryption-bucket-key-enabled", "true"}},
              "x-amz-server-side-encryption-bucket-key-enabled");
        names(o, {{"x-amz-object-lock-mode", "GOVERNANCE"}}, "x-amz-object-lock-mode (object lock");
        names(o, {{"x-amz-object-lock-retain-until-date", "2030-01-01T00:00:00Z"}},
              "x-amz-object-lock-retain-until-date");
        names(o, {{"x-amz-object-lock-legal-hold", "ON"}}, "x-amz-object-lock-legal-hold");
        names(o, {{"x-amz-website-redirect-location", "/other"}}, "x-amz-website-redirect-location");
        names(o, {{"x-amz-grant-read", "id=abc"}}, "x-amz-grant-read (ACLs");
        names(o, {{"x-amz-grant-full-control", "id=abc"}}, "x-amz-grant-full-control");
        names(o, {{"x-amz-acl", "public-read"}}, "x-amz-acl public-read");
        names(o, {{"x-amz-tagging", "team=a"}}, "x-amz-tagging (object tags");
        names(o, {{"x-amz-tagging-directive", "REPLACE"}}, "x-amz-tagging-directive REPLACE");
        names(o, {{"x-amz-storage-class", "GLACIER"}}, "x-amz-storage-class GLACIER");
    }
    // Every object is its tenant's: the owner's full control is what it has.
    CHECK(refused(FrontOp::put_object, {{"x-amz-acl", "bucket-owner-full-control"}}).empty());
    // Reads, parts and deletes carry no write options to refuse.
    CHECK(refused(FrontOp::get_object, {{"x-amz-acl", "public-read"}}).empty());
    CHECK(refused(FrontOp::upload_part, {{"x-amz-server-side-encryption", "AES256"}}).empty());
    CHECK(refused(FrontOp::upload_part, {{"x-amz-copy-source-server-side-encryption-customer-key", "a2V5"}}).empty());
    CHECK(refused(FrontOp::delete_object, {{"x-amz-server-side-encryption-customer-key", "a2V5"}}).empty());
}

TEST_CASE("front: a Content-MD5 header is base64 of 16 bytes, anything else InvalidDigest")
{
    const auto none = parse_content_md5(std::nullopt);
    REQUIRE(none);
    CHECK(none->empty());
    // MD5("") = d41d8cd98f00b204e9800998ecf8427e
    const auto empty = parse_content_md5("1B2M2Y8AsgTpgAmY7PhCfg==");
    REQUIRE(empty);
    CHECK(*empty == std::string("\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04\xe9\x80\x09\x98\xec\xf8\x42\x7e", 16));
    for (const char* bad : {"", "abc", "1B2M2Y8AsgTpgAmY7PhCfg", "1B2M2Y8AsgTpgAmY7PhC*g==", "1B2M2Y8AsgTpgAmY7PhCfgAA",
                            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}) {
        const auto r = parse_content_md5(bad);
        REQUIRE_FALSE(r);
        CHECK(r.error().code == "InvalidDigest");
        CHECK(r.error().status == 400);
    }
}

TEST_CASE("front: a Host under the virtual-host suffix names the bucket, any other host is path style")
{
    CHECK(virtual_host_bucket("data.gw.example:9000", "gw.example") == std::optional<std::string>("data"));
    CHECK(virtual_host_bucket("Data.GW.Example", "gw.example") == std::optional<std::string>("data"));
    CHECK(virtual_host_bucket("my.bucket.gw.example.:80", "gw.example") == std::optional<std::string>("my.bucket"));
    CHECK_FALSE(virtual_host_bucket("gw.example:9000", "gw.example"));
    CHECK_FALSE(virtual_host_bucket("xgw.example", "gw.example"));
    CHECK_FALSE(virtual_host_bucket("127.0.0.1:9000", "gw.example"));
    CHECK_FALSE(virtual_host_bucket("data.gw.example", ""));
    CHECK_FALSE(virtual_host_bucket("[::1]:9000", "gw.example"));
    CHECK_FALSE(virtual_host_bucket("", "gw.example"));
}

TEST_CASE("front: Range headers follow S3's rules")
{
    const auto range = [](std::optional<std::string_view> v, std::uint64_t size) { return parse_range(v, size); };
    SECTION("no header or an ignored form: the whole object")
    {
        CHECK_FALSE(range(std::nullopt, 100).value());
        CHECK_FALSE(range("items=0-1", 100).value());
        CHECK_FALSE(range("bytes=0-1,5-6", 100).value());
        CHECK_FALSE(range("bytes=5-2", 100).value());
        CHECK_FALSE(range("bytes=x-2", 100).value());
    }
    SECTION("first-last, first-, clamped last")
    {
        auto r = range("bytes=10-19", 100).value();
        REQUIRE(r);
        CHECK(r->first == 10);
        CHECK(*r->last == 19);
        r = range("bytes=90-", 100).value();
        REQUIRE(r);
        CHECK(r->first == 90);
        CHECK(*r->last == 99);
        r = range("bytes=90-500", 100).value();
        REQUIRE(r);
        CHECK(*r->last == 99);
    }
    SECTION("suffix ranges")
    {
        auto r = range("bytes=-10", 100).value();
        REQUIRE(r);
        CHECK(r->first == 90);
        CHECK(*r->last == 99);
        r = range("bytes=-500", 100).value();
        REQUIRE(r);
        CHECK(r->first == 0);
    }
    SECTION("past the end, an empty suffix or an empty object: 416 InvalidRange")
    {
        for (auto v : {"bytes=100-", "bytes=100-200", "bytes=-0"}) {
            auto r = range(v, 100);
            REQUIRE_FALSE(r);
            CHECK(r.error().status == 416);
            CHECK(r.error().code == "InvalidRange");
        }
        CHECK_FALSE(range("bytes=0-", 0));
    }
}

TEST_CASE("front: partNumber is an integer from 1 to 10000")
{
    CHECK_FALSE(parse_part_number(std::nullopt).value());
    CHECK(parse_part_number("1").value() == std::optional<int>(1));
    CHECK(parse_part_number("10000").value() == std::optional<int>(10000));
    for (auto v : {"0", "10001", "-1", "", "1.5", "x", " 2", "99999999999999999999999"}) {
        auto n = parse_part_number(v);
        REQUIRE_FALSE(n);
        CHECK(n.error().status == 400);
        CHECK(n.error().code == "InvalidArgument");
    }
}

TEST_CASE("front: a part's bytes follow from the sizes of the parts before it")
{
    ObjectRecord mp;
    mp.key = "mp";
    mp.size = 700 + 20 + 0 + 9;
    mp.parts_count = 4;
    // Part numbers as completed: 1, 3, 4, 7 (a completion may skip numbers).
    const std::vector<PartRecord> layout = {{1, 700, "", 0}, {3, 20, "", 0}, {4, 0, "", 0}, {7, 9, "", 0}};
    SECTION("each part: its offset, its size and the parts count")
    {
        const std::pair<int, std::pair<std::uint64_t, std::uint64_t>> want[] = {
            {1, {0, 700}}, {3, {700, 20}}, {4, {720, 0}}, {7, {720, 9}}};
        for (const auto& [n, span] : want) {
            auto p = locate_part(mp, layout, n);
            REQUIRE(p);
            CHECK(p->first == span.first);
            CHECK(p->size == span.second);
            CHECK(p->parts_count == std::optional<unsigned>(4));
        }
    }
    SECTION("a number the object was not completed with: 416 InvalidPartNumber")
    {
        for (int n : {2, 5, 8, 10000}) {
            auto p = locate_part(mp, layout, n);
            REQUIRE_FALSE(p);
            CHECK(p.error().status == 416);
            CHECK(p.error().code == "InvalidPartNumber");
        }
    }
    SECTION("a layout that does not add up to the object is an internal error, not wrong bytes")
    {
        ObjectRecord shorter = mp;
        shorter.size = 710;
        CHECK(locate_part(shorter, layout, 3).error().status == 500);
        ObjectRecord more = mp;
        more.parts_count = 5;
        CHECK(locate_part(more, layout, 1).error().status == 500);
    }
    SECTION("an object of one PUT or copy is one part, the whole object, without a parts count")
    {
        ObjectRecord one;
        one.size = 42;
        one.parts_count = 0;
        auto p = locate_part(one, {}, 1);
        REQUIRE(p);
        CHECK(p->first == 0);
        CHECK(p->size == 42);
        CHECK_FALSE(p->parts_count);
        CHECK(locate_part(one, {}, 2).error().code == "InvalidPartNumber");
    }
    SECTION("an object whose layout is not known: 501 NotImplemented")
    {
        ObjectRecord synced;
        synced.size = 42;
        auto p = locate_part(synced, {}, 1);
        REQUIRE_FALSE(p);
        CHECK(p.error().status == 501);
    }
}

TEST_CASE("front: a copy source names a bucket, a key and maybe a version id, decoded")
{
    const auto plain = parse_copy_source("data/dir/obj 1.bin");
    REQUIRE(plain);
    CHECK(plain->bucket == "data");
    CHECK(plain->key == "dir/obj 1.bin");
    CHECK_FALSE(plain->version_id);
    const auto encoded = parse_copy_source("/data/dir%2Fa%20b%3Fc.bin?versionId=3HL4kqtJlcpXroDTDmJ");
    REQUIRE(encoded);
    CHECK(encoded->bucket == "data");
    CHECK(encoded->key == "dir/a b?c.bin");
    // The version id is kept for the copy to refuse (any but null), never dropped.
    CHECK(encoded->version_id == std::optional<std::string>("3HL4kqtJlcpXroDTDmJ"));
    CHECK(parse_copy_source("data/k?versionId=null")->version_id == std::optional<std::string>("null"));
    CHECK(parse_copy_source("data/k?versionId=a%2Bb")->version_id == std::optional<std::string>("a+b"));
    CHECK_FALSE(parse_copy_source("data/k?versionId=bad%zz"));
    CHECK_FALSE(parse_copy_source(""));
    CHECK_FALSE(parse_copy_source("data"));
    CHECK_FALSE(parse_copy_source("data/"));
    CHECK_FALSE(parse_copy_source("/key-without-bucket"));
    CHECK_FALSE(parse_copy_source("data/k?partNumber=1"));
    CHECK_FALSE(parse_copy_source("data/bad%zzescape"));
}

TEST_CASE("front: the metadata directive is COPY unless REPLACE is asked for")
{
    CHECK(parse_metadata_directive(std::nullopt) == MetadataDirective::copy);
    CHECK(parse_metadata_directive("COPY") == MetadataDirective::copy);
    CHECK(parse_metadata_directive(" REPLACE ") == MetadataDirective::replace);
    CHECK_FALSE(parse_metadata_directive("replace-all"));
    CHECK_FALSE(parse_metadata_directive(""));
}

TEST_CASE("front: a copy source range is an inclusive byte range inside the source")
{
    const auto whole = parse_copy_source_range(std::nullopt, 100);
    REQUIRE(whole);
    CHECK(whole->first == 0);
    CHECK(whole->last == 99u);
    const auto empty = parse_copy_source_range(std::nullopt, 0);
    REQUIRE(empty);
    CHECK_FALSE(empty->last);
    const auto part = parse_copy_source_range("bytes=10-19", 100);
    REQUIRE(part);
    CHECK(part->first == 10);
    CHECK(part->last == 19u);
    CHECK(parse_copy_source_range("bytes=99-99", 100)->last == 99u);
    CHECK(parse_copy_source_range("bytes=90-100", 100).error().code == "InvalidArgument");
    CHECK(parse_copy_source_range("bytes=20-10", 100).error().status == 400);
    CHECK_FALSE(parse_copy_source_range("bytes=10-", 100));
    CHECK_FALSE(parse_copy_source_range("bytes=-10", 100));
    CHECK_FALSE(parse_copy_source_range("items=0-1", 100));
    CHECK_FALSE(parse_copy_source_range("bytes=0-1,3-4", 100));
}
