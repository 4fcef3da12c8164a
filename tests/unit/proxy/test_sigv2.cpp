// SigV2 against the S3 documentation's examples (string to sign and
// signature at every step), the canonicalized resource and amz headers,
// HTTP dates, and inbound verification of header- and query-signed
// requests (what boto3 sends by default for presigned URLs).
#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/sigv2.hpp"

#include <catch2/catch.hpp>

using namespace roar::proxy;
using namespace roar::proxy::sigv2;

namespace {

const std::string k_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const Credentials k_creds{"AKIAIOSFODNN7EXAMPLE", k_secret, "", "test", "eu-west-1"};

std::chrono::system_clock::time_point at(std::string_view http_date) { return *parse_http_date(http_date); }

} // namespace

TEST_CASE("primitives: base64 and HMAC-SHA1 (RFC 4648, RFC 2202)", "[proxy][sigv2]")
{
    CHECK(base64("") == "");
    CHECK(base64("f") == "Zg==");
    CHECK(base64("fo") == "Zm8=");
    CHECK(base64("foo") == "Zm9v");
    CHECK(base64("foob") == "Zm9vYg==");
    CHECK(base64("fooba") == "Zm9vYmE=");
    CHECK(base64("foobar") == "Zm9vYmFy");
    CHECK(base64("\xff\xfe") == "//4=");
    // RFC 2202 test case 2.
    CHECK(sigv4::hex(hmac_sha1("Jefe", "what do ya want for nothing?")) == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST_CASE("S3 example: object GET, virtual-host style", "[proxy][sigv2]")
{
    const std::string resource = canonical_resource("johnsmith", "/photos/puppy.jpg", "");
    CHECK(resource == "/johnsmith/photos/puppy.jpg");
    const std::string sts = string_to_sign({"GET", "", "", "Tue, 27 Mar 2007 19:36:42 +0000", "", resource});
    CHECK(sts == "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg");
    CHECK(signature(k_secret, sts) == "bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
}

TEST_CASE("S3 example: object PUT with Content-Type", "[proxy][sigv2]")
{
    const std::string sts = string_to_sign({"PUT", "", "image/jpeg", "Tue, 27 Mar 2007 21:15:45 +0000", "",
                                            canonical_resource("johnsmith", "/photos/puppy.jpg", "")});
    CHECK(sts == "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg");
    CHECK(signature(k_secret, sts) == "MyyxeRY7whkBe+bq8fHCL/2kKUg=");
}

TEST_CASE("S3 example: listing parameters are not sub-resources, ?acl is", "[proxy][sigv2]")
{
    const std::string list = canonical_resource("johnsmith", "/", "prefix=photos&max-keys=50&marker=puppy");
    CHECK(list == "/johnsmith/");
    CHECK(signature(k_secret, string_to_sign({"GET", "", "", "Tue, 27 Mar 2007 19:42:41 +0000", "", list}))
          == "htDYFYduRNen8P9ZfE/s9SuKy0U=");
    const std::string acl = canonical_resource("johnsmith", "/", "acl");
    CHECK(acl == "/johnsmith/?acl");
    CHECK(signature(k_secret, string_to_sign({"GET", "", "", "Tue, 27 Mar 2007 19:44:46 +0000", "", acl}))
          == "c2WLPFtWHVgbEmeEG93a4cG37dM=");
}

TEST_CASE("S3 example: upload with Content-MD5 and repeated, mixed-case x-amz headers", "[proxy][sigv2]")
{
    const std::string amz = canonical_amz_headers({{"x-amz-acl", "public-read"},
                                                   {"X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"},
                                                   {"X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"},
                                                   {"X-Amz-Meta-FileChecksum", "0x02661779"},
                                                   {"X-Amz-Meta-ChecksumAlgorithm", "crc32"},
                                                   {"Content-Disposition", "attachment; filename=database.dat"}});
    CHECK(amz
          == "x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n"
             "x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n");
    // The bucket of this example is the CNAME host itself.
    const std::string sts =
        string_to_sign({"PUT", "4gJE4saaMU4BqNR0kLY+lw==", "application/x-download", "Tue, 27 Mar 2007 21:06:08 +0000",
                        amz, canonical_resource("static.johnsmith.net", "/db-backup.dat.gz", "")});
    CHECK(signature(k_secret, sts) == "ilyl83RwaSoYIEdixDQcA4OnAnc=");
}

TEST_CASE("S3 examples: list buckets, and a path kept percent-encoded as sent", "[proxy][sigv2]")
{
    CHECK(signature(k_secret, string_to_sign({"GET", "", "", "Wed, 28 Mar 2007 01:29:59 +0000", "",
                                              canonical_resource("", "", "")}))
          == "qGdzdERIC03wnaRNKh6OqZehG9s=");
    const std::string resource = canonical_resource("", "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re", "");
    CHECK(resource == "/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re");
    CHECK(signature(k_secret, string_to_sign({"GET", "", "", "Wed, 28 Mar 2007 01:49:49 +0000", "", resource}))
          == "DNEZGsoieTZ92F3bUfSPQcbGmlM=");
}

TEST_CASE("S3 example: query-string authentication signs Expires in the date line", "[proxy][sigv2]")
{
    const std::string sts =
        string_to_sign({"GET", "", "", "1175139620", "", canonical_resource("johnsmith", "/photos/puppy.jpg", "")});
    CHECK(signature(k_secret, sts) == "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
}

TEST_CASE("canonical resource: sub-resources sorted, values decoded, '=' kept as sent", "[proxy][sigv2]")
{
    CHECK(canonical_resource("", "/b/k", "uploadId=a%2Fb&partNumber=2") == "/b/k?partNumber=2&uploadId=a/b");
    // A bucket alone, path style, is signed with a trailing slash.
    CHECK(canonical_resource("", "/b", "uploads") == "/b/?uploads");
    CHECK(canonical_resource("", "/b/", "uploads=") == "/b/?uploads=");
    CHECK(canonical_resource("", "/b", "prefix=x") == "/b/");
    CHECK(canonical_resource("b", "/", "") == "/b/");
    CHECK(canonical_resource("", "/b/k", "response-content-disposition=attachment%3B%20filename%3Da.txt&x-id=GetObject")
          == "/b/k?response-content-disposition=attachment; filename=a.txt");
    CHECK(canonical_resource("", "/b/k", "AWSAccessKeyId=A&Expires=1&Signature=S&versionId=v1") == "/b/k?versionId=v1");
    CHECK(canonical_resource("", "/b", "delete") == "/b/?delete");
    CHECK(is_signed_subresource("tagging"));
    CHECK_FALSE(is_signed_subresource("prefix"));
    CHECK_FALSE(is_signed_subresource("Signature"));
}

TEST_CASE("Authorization and date parsing", "[proxy][sigv2]")
{
    auto a = parse_authorization("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=");
    REQUIRE(a);
    CHECK(a->access_key == "AKIAIOSFODNN7EXAMPLE");
    CHECK(a->signature == "frJIUN8DYpKDtOLCwo//yllqDzg=");
    CHECK_FALSE(parse_authorization("AWS AKIAIOSFODNN7EXAMPLE"));
    CHECK_FALSE(parse_authorization("AWS :sig"));
    CHECK_FALSE(parse_authorization("AWS key:"));
    CHECK_FALSE(parse_authorization("AWS4-HMAC-SHA256 Credential=x"));

    const auto t = parse_http_date("Tue, 27 Mar 2007 19:36:42 GMT");
    REQUIRE(t);
    CHECK(std::chrono::system_clock::to_time_t(*t) == 1175024202);
    CHECK(parse_http_date("Tue, 27 Mar 2007 19:36:42 +0000") == t);
    CHECK(parse_http_date("27 Mar 2007 21:36:42 +0200") == t);
    CHECK(parse_http_date("Tue, 27 Mar 2007 14:36:42 -0500") == t);
    CHECK_FALSE(parse_http_date("Tue, 27 Foo 2007 19:36:42 GMT"));
    CHECK_FALSE(parse_http_date("Tue, 32 Mar 2007 19:36:42 GMT"));
    CHECK_FALSE(parse_http_date("Tue, 27 Mar 2007 19:36 GMT"));
    CHECK_FALSE(parse_http_date("Tue, 27 Mar 2007 19:36:42 PST"));
    CHECK_FALSE(parse_http_date("20070327T193642Z"));
    // Found by fuzz_sigv2: a far-future year overflowed the nanosecond clock.
    CHECK_FALSE(parse_http_date("01 Mar 4050 11:59:59 -0000"));
    CHECK(parse_http_date("31 Dec 2199 23:59:59 GMT"));
    CHECK_FALSE(parse_http_date(""));
}

TEST_CASE("a header-signed SigV2 request verifies and names its region", "[proxy][sigv2]")
{
    const std::string date = "Tue, 27 Mar 2007 19:36:42 +0000";
    RequestHead head{"GET",
                     "/photos/puppy.jpg",
                     {{"Host", "johnsmith.s3.amazonaws.com"},
                      {"Date", date},
                      {"Authorization", "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU="}}};
    auto v = verify_request(head, k_creds, at(date) + std::chrono::minutes(14));
    REQUIRE(v);
    CHECK(v->scheme == AuthScheme::SigV2Header);
    CHECK(v->region == "eu-west-1");
    CHECK(v->payload_hash == "UNSIGNED-PAYLOAD");
    CHECK_FALSE(v->presigned);

    auto skewed = verify_request(head, k_creds, at(date) + std::chrono::minutes(16));
    REQUIRE_FALSE(skewed);
    CHECK(skewed.error().code == "RequestTimeTooSkewed");

    RequestHead other_key = head;
    other_key.target = "/photos/kitten.jpg";
    auto mismatch = verify_request(other_key, k_creds, at(date));
    REQUIRE_FALSE(mismatch);
    CHECK(mismatch.error().status == 403);
    CHECK(mismatch.error().code == "SignatureDoesNotMatch");

    auto wrong_key = verify_request(head, {"AKIDOTHER", k_secret, "", "", ""}, at(date));
    REQUIRE_FALSE(wrong_key);
    CHECK(wrong_key.error().code == "InvalidAccessKeyId");

    RequestHead undated{"GET", "/photos/puppy.jpg", {{"Authorization", "AWS AKIAIOSFODNN7EXAMPLE:x"}}};
    CHECK(verify_request(undated, k_creds, at(date)).error().code == "AccessDenied");

    RequestHead malformed{"GET", "/photos/puppy.jpg", {{"Date", date}, {"Authorization", "AWS AKIAIOSFODNN7EXAMPLE"}}};
    CHECK(verify_request(malformed, k_creds, at(date)).error().code == "InvalidArgument");
}

TEST_CASE("with x-amz-date the date line is empty and x-amz-date is signed", "[proxy][sigv2]")
{
    const std::string amz_date = "Tue, 27 Mar 2007 21:20:26 +0000";
    const std::string sts = "DELETE\n\n\n\nx-amz-date:" + amz_date + "\n/johnsmith/photos/puppy.jpg";
    RequestHead head{"DELETE",
                     "/johnsmith/photos/puppy.jpg",
                     {{"Host", "s3.amazonaws.com"},
                      {"Date", "Tue, 27 Mar 2007 21:20:27 +0000"},
                      {"x-amz-date", amz_date},
                      {"Authorization", "AWS AKIAIOSFODNN7EXAMPLE:" + signature(k_secret, sts)}}};
    CHECK(verify_request(head, k_creds, at(amz_date)));
}

TEST_CASE("a SigV2 presigned URL verifies until Expires", "[proxy][sigv2]")
{
    RequestHead head{"GET",
                     "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620"
                     "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
                     {{"Host", "johnsmith.s3.amazonaws.com"}}};
    const auto expiry = std::chrono::system_clock::from_time_t(1175139620);
    auto v = verify_request(head, k_creds, expiry);
    REQUIRE(v);
    CHECK(v->scheme == AuthScheme::SigV2Query);
    CHECK(v->presigned);

    auto expired = verify_request(head, k_creds, expiry + std::chrono::seconds(1));
    REQUIRE_FALSE(expired);
    CHECK(expired.error().code == "AccessDenied");
    CHECK(expired.error().message == "Request has expired");

    // An unencoded '+' in the signature arrives as a space once decoded.
    RequestHead raw_plus = head;
    raw_plus.target = "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620"
                      "&Signature=NpgCjnDzrM+WFzoENXmpNDUsSn8=";
    CHECK(verify_request(raw_plus, k_creds, expiry));

    RequestHead longer = head;
    longer.target = "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139621"
                    "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D";
    CHECK(verify_request(longer, k_creds, expiry).error().code == "SignatureDoesNotMatch");

    RequestHead incomplete = head;
    incomplete.target = "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=x";
    CHECK(verify_request(incomplete, k_creds, expiry).error().code == "AccessDenied");
    incomplete.target = "/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=soon&Signature=x";
    CHECK(verify_request(incomplete, k_creds, expiry).error().code == "AccessDenied");
}

TEST_CASE("a presigned URL's x-amz-* parameters are signed as headers and forwarded as headers", "[proxy][sigv2]")
{
    // versionId is a sub-resource (signed), the token a header given as a parameter.
    const std::string sts = "GET\n\n\n2000000000\nx-amz-security-token:tok/en\n/b/k?versionId=v1";
    RequestHead head{"GET",
                     "/b/k?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature="
                         + sigv4::uri_encode(signature(k_secret, sts), false)
                         + "&Expires=2000000000&x-amz-security-token=tok%2Fen&versionId=v1",
                     {{"Host", "127.0.0.1:9090"}}};
    auto v = verify_request(head, k_creds, std::chrono::system_clock::from_time_t(1900000000));
    REQUIRE(v);
    std::vector<std::pair<std::string, std::string>> as_headers;
    auto kept = forwarded_query(*v, *sigv4::parse_query(head.raw_query()), as_headers);
    REQUIRE(kept.size() == 1);
    CHECK(kept[0].name == "versionId");
    REQUIRE(as_headers.size() == 1);
    CHECK(as_headers[0] == std::pair<std::string, std::string>("x-amz-security-token", "tok/en"));
}

TEST_CASE("unsupported signing is refused with an error naming it", "[proxy][sigv2]")
{
    const std::string date = "Tue, 27 Mar 2007 19:36:42 +0000";
    RequestHead chunked{"PUT",
                        "/b/k",
                        {{"Host", "127.0.0.1:9090"},
                         {"Date", date},
                         {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
                         {"Authorization", "AWS AKIAIOSFODNN7EXAMPLE:x"}}};
    auto c = verify_request(chunked, k_creds, at(date));
    REQUIRE_FALSE(c);
    CHECK(c.error().code == "InvalidRequest");
    CHECK(c.error().message.find("aws-chunked") != std::string::npos);

    RequestHead v4a{"GET", "/b/k", {{"Authorization", "AWS4-ECDSA-P256-SHA256 Credential=x, Signature=y"}}};
    auto a = verify_request(v4a, k_creds, at(date));
    REQUIRE_FALSE(a);
    CHECK(a.error().status == 501);
    CHECK(a.error().message.find("SigV4A") != std::string::npos);

    RequestHead form{"POST", "/b", {{"Content-Type", "multipart/form-data; boundary=x"}}};
    auto f = verify_request(form, k_creds, at(date));
    REQUIRE_FALSE(f);
    CHECK(f.error().status == 501);
    CHECK(f.error().message.find("POST uploads") != std::string::npos);
}
