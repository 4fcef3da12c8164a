// The server front's pure pieces: which S3 operation a request is, the
// byte range a Range header asks for (S3's rules: suffix ranges, ends
// clamped, 416 past the end, other forms ignored), what a CopyObject's
// x-amz-copy-source and x-amz-metadata-directive headers name, and the
// bucket a virtual-host style Host header names.
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

TEST_CASE("front: a copy source names a bucket and a key, decoded, with a version id ignored")
{
    const auto plain = parse_copy_source("data/dir/obj 1.bin");
    REQUIRE(plain);
    CHECK(plain->bucket == "data");
    CHECK(plain->key == "dir/obj 1.bin");
    const auto encoded = parse_copy_source("/data/dir%2Fa%20b%3Fc.bin?versionId=3HL4kqtJlcpXroDTDmJ");
    REQUIRE(encoded);
    CHECK(encoded->bucket == "data");
    CHECK(encoded->key == "dir/a b?c.bin");
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
