// S3 operation classification and bucket/key location for path-style and
// virtual-host style requests.
#include "roar/proxy/s3_operation.hpp"

#include <catch2/catch.hpp>

using namespace roar::proxy;

namespace {

S3Op op_of(const char* method, const char* host, const char* path, const char* query = "", bool copy = false)
{
    return classify(method, locate(host, path), *sigv4::parse_query(query), copy);
}

} // namespace

TEST_CASE("path-style and virtual-host style locate the same object", "[proxy][s3op]")
{
    const auto p = locate("127.0.0.1:9090", "/bucket/dir/key.txt");
    CHECK(p.bucket == "bucket");
    CHECK(p.key == "dir/key.txt");
    CHECK_FALSE(p.virtual_host);
    CHECK(p.uri() == "s3://bucket/dir/key.txt");

    const auto v = locate("bucket.s3.us-east-1.amazonaws.com", "/dir/key.txt");
    CHECK(v.bucket == "bucket");
    CHECK(v.key == "dir/key.txt");
    CHECK(v.virtual_host);
    CHECK(v.uri() == p.uri());

    CHECK(locate("my.dotted.bucket.s3.amazonaws.com", "/k").bucket == "my.dotted.bucket");
    CHECK(locate("bucket.s3-eu-west-1.amazonaws.com", "/k").bucket == "bucket");
    CHECK(locate("bucket.localhost:9090", "/k").bucket == "bucket");
    CHECK(locate("localhost:9090", "/bucket/k").bucket == "bucket");
    CHECK(locate("s3.amazonaws.com", "/bucket/k").bucket == "bucket");
    CHECK(locate("[::1]:9090", "/bucket/k").bucket == "bucket");
    CHECK(locate("127.0.0.1", "/").bucket.empty());
    CHECK(locate("127.0.0.1", "/bucket").key.empty());
    CHECK(locate("127.0.0.1", "/bucket/").key.empty());
    CHECK(locate("127.0.0.1", "/bucket/a//b/").key == "a//b/");
}

TEST_CASE("object calls versus bucket listings", "[proxy][s3op]")
{
    const char* h = "127.0.0.1:9090";
    CHECK(op_of("GET", h, "/") == S3Op::ListBuckets);
    CHECK(op_of("GET", h, "/b/k") == S3Op::GetObject);
    CHECK(op_of("GET", h, "/b/k", "versionId=3&response-content-type=x") == S3Op::GetObject);
    CHECK(op_of("GET", h, "/b/k", "partNumber=2") == S3Op::GetObject);
    CHECK(op_of("HEAD", h, "/b/k") == S3Op::HeadObject);
    CHECK(op_of("GET", h, "/b") == S3Op::ListObjects);
    CHECK(op_of("GET", h, "/b/") == S3Op::ListObjects);
    CHECK(op_of("GET", h, "/b", "list-type=2&prefix=a%2Fb&delimiter=%2F") == S3Op::ListObjects);
    CHECK(op_of("GET", h, "/b", "versions") == S3Op::ListObjects);
    CHECK(op_of("GET", h, "/b", "location") == S3Op::BucketOther);
    CHECK(op_of("HEAD", h, "/b") == S3Op::HeadBucket);
    CHECK(op_of("PUT", h, "/b") == S3Op::CreateBucket);
    CHECK(op_of("DELETE", h, "/b") == S3Op::DeleteBucket);
    CHECK(op_of("PUT", h, "/b/k") == S3Op::PutObject);
    CHECK(op_of("PUT", h, "/b/k", "x-id=PutObject") == S3Op::PutObject);
    CHECK(op_of("PUT", h, "/b/k", "", true) == S3Op::CopyObject);
    CHECK(op_of("DELETE", h, "/b/k") == S3Op::DeleteObject);
    CHECK(op_of("POST", h, "/b", "delete") == S3Op::DeleteObjects);
    CHECK(op_of("GET", h, "/b/k", "tagging") == S3Op::ObjectOther);
    CHECK(op_of("PUT", h, "/b/k", "acl") == S3Op::ObjectOther);
}

TEST_CASE("every multipart call", "[proxy][s3op]")
{
    const char* h = "bucket.localhost:9090";
    CHECK(op_of("POST", h, "/big.bin", "uploads") == S3Op::CreateMultipartUpload);
    CHECK(op_of("PUT", h, "/big.bin", "partNumber=1&uploadId=abc") == S3Op::UploadPart);
    CHECK(op_of("PUT", h, "/big.bin", "partNumber=1&uploadId=abc", true) == S3Op::UploadPartCopy);
    CHECK(op_of("POST", h, "/big.bin", "uploadId=abc") == S3Op::CompleteMultipartUpload);
    CHECK(op_of("DELETE", h, "/big.bin", "uploadId=abc") == S3Op::AbortMultipartUpload);
    CHECK(op_of("GET", h, "/big.bin", "uploadId=abc") == S3Op::ListParts);
    CHECK(op_of("GET", h, "/", "uploads") == S3Op::ListMultipartUploads);
    CHECK(op_name(S3Op::CompleteMultipartUpload) == "complete_multipart_upload");
}
