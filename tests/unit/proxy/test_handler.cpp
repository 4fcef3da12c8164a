// The pure request step: operational endpoints, refusals as S3 XML, and
// the forward plan (path-style upstream URL, hop-by-hop headers dropped,
// aws-chunked headers rewritten, a signature valid for the upstream host).
#include "roar/proxy/handler.hpp"
#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/s3_error.hpp"
#include "roar/proxy/sigv2.hpp"

#include <catch2/catch.hpp>

using namespace roar::proxy;

namespace {

const Credentials k_creds{"AKIDTEST", "test/secret+key", "", "unit"};
const auto k_now = *parse_amz_date("20240301T120000Z");

// A client request to the proxy at 127.0.0.1:9090 signed with `secret`.
RequestHead signed_request(const std::string& method, const std::string& path, const std::string& query,
                           std::vector<std::pair<std::string, std::string>> extra, const std::string& payload_hash,
                           const std::string& secret = k_creds.secret_key, const std::string& host = "127.0.0.1:9090")
{
    OutboundRequest r{method,
                      *sigv4::canonical_uri(path),
                      sigv4::canonical_query(*sigv4::parse_query(query)),
                      {{"host", host}},
                      payload_hash};
    for (auto& h : extra) {
        r.headers.push_back(std::move(h));
    }
    sign_outbound(r, Credentials{k_creds.access_key, secret, "", ""}, "us-east-1", k_now);
    RequestHead head{method, path + (query.empty() ? "" : "?" + query), {}};
    for (const auto& [n, v] : r.headers) {
        head.headers.emplace_back(n, v);
    }
    return head;
}

HandlerConfig config()
{
    HandlerConfig c;
    c.upstream = "http://127.0.0.1:7000";
    c.metrics_text = [] { return std::string("roar_proxy_inflight_requests 0\n"); };
    return c;
}

std::string header(const ForwardPlan& p, const std::string& name)
{
    for (const auto& [n, v] : p.headers) {
        if (n == name) {
            return v;
        }
    }
    return "<absent>";
}

} // namespace

TEST_CASE("health and metrics need no signature", "[proxy][handler]")
{
    auto d = handle({"GET", "/_roar/health", {{"Host", "127.0.0.1:9090"}}}, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<LocalResponse>(d));
    CHECK(std::get<LocalResponse>(d).status == 200);
    CHECK(std::get<LocalResponse>(d).body == "ok\n");
    auto m = handle({"GET", "/_roar/metrics", {}}, config(), k_creds, k_now);
    CHECK(std::get<LocalResponse>(m).body.find("roar_proxy_inflight_requests") != std::string::npos);
    auto other = handle({"GET", "/_roar/nothing", {}}, config(), k_creds, k_now);
    CHECK(std::get<LocalResponse>(other).status == 404);
}

TEST_CASE("refusals are S3 XML errors with a request id", "[proxy][handler]")
{
    auto anon = handle({"GET", "/bucket/key", {{"Host", "127.0.0.1:9090"}}}, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<LocalResponse>(anon));
    const auto& r = std::get<LocalResponse>(anon);
    CHECK(r.status == 403);
    CHECK(r.content_type == "application/xml");
    CHECK(r.body.find("<Code>AccessDenied</Code>") != std::string::npos);
    CHECK(r.body.find("<RequestId>") != std::string::npos);

    auto wrong = handle(signed_request("GET", "/bucket/key", "", {}, std::string(sigv4::k_empty_sha256), "guess"),
                        config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<LocalResponse>(wrong));
    CHECK(std::get<LocalResponse>(wrong).status == 403);
    CHECK(std::get<LocalResponse>(wrong).error_code == "SignatureDoesNotMatch");
}

TEST_CASE("error XML escapes and carries the request id", "[proxy][handler]")
{
    const std::string xml = error_xml({400, "InvalidArgument", "a<b & \"c\""}, "/b/k&x", "REQ123");
    CHECK(xml
          == "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>"
             "<Message>a&lt;b &amp; &quot;c&quot;</Message><Resource>/b/k&amp;x</Resource>"
             "<RequestId>REQ123</RequestId></Error>\n");
    CHECK(new_request_id().size() == 16);
    CHECK(new_request_id() != new_request_id());
}

TEST_CASE("a signed GET becomes a re-signed path-style upstream request", "[proxy][handler]")
{
    auto head = signed_request("GET", "/bucket/dir/a%20b.txt", "versionId=v1",
                               {{"range", "bytes=0-9"},
                                {"connection", "keep-alive, x-hop"},
                                {"x-hop", "1"},
                                {"te", "trailers"},
                                {"user-agent", "unit"}},
                               std::string(sigv4::k_empty_sha256));
    auto d = handle(head, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d));
    const auto& p = std::get<ForwardPlan>(d);
    CHECK(p.op == S3Op::GetObject);
    CHECK(p.target.uri() == "s3://bucket/dir/a b.txt");
    CHECK(p.url == "http://127.0.0.1:7000/bucket/dir/a%20b.txt?versionId=v1");
    CHECK(p.range == "bytes=0-9");
    CHECK(p.version_id == "v1");
    CHECK(header(p, "host") == "127.0.0.1:7000");
    CHECK(header(p, "range") == "bytes=0-9");
    CHECK(header(p, "user-agent") == "unit");
    CHECK(header(p, "connection") == "<absent>");
    CHECK(header(p, "x-hop") == "<absent>");
    CHECK(header(p, "te") == "<absent>");

    // The upstream request verifies against the same credentials.
    RequestHead up{"GET", "/bucket/dir/a%20b.txt?versionId=v1", {}};
    for (const auto& h : p.headers) {
        up.headers.push_back(h);
    }
    CHECK(verify_request(up, k_creds, k_now));
}

TEST_CASE("virtual-host requests go upstream path-style", "[proxy][handler]")
{
    auto head = signed_request("PUT", "/key.bin", "", {{"content-length", "5"}}, sigv4::sha256_hex("hello"),
                               k_creds.secret_key, "bucket.localhost:9090");
    auto d = handle(head, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d));
    const auto& p = std::get<ForwardPlan>(d);
    CHECK(p.url == "http://127.0.0.1:7000/bucket/key.bin");
    CHECK(p.op == S3Op::PutObject);
    CHECK(p.body == BodyKind::Plain);
    CHECK(p.upstream_length == 5);
    CHECK(header(p, "x-amz-content-sha256") == sigv4::sha256_hex("hello")); // reused unchanged
}

TEST_CASE("aws-chunked uploads are forwarded decoded and unsigned-payload", "[proxy][handler]")
{
    auto head = signed_request("PUT", "/bucket/k", "",
                               {{"content-encoding", "aws-chunked"},
                                {"content-length", "52"},
                                {"x-amz-decoded-content-length", "11"},
                                {"x-amz-trailer", "x-amz-checksum-crc32"},
                                {"expect", "100-continue"}},
                               "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    auto d = handle(head, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d));
    const auto& p = std::get<ForwardPlan>(d);
    CHECK(p.body == BodyKind::AwsChunked);
    CHECK(p.client_length == 52);
    CHECK(p.upstream_length == 11);
    CHECK_FALSE(p.chunk_signing);
    CHECK(p.expect_continue);
    CHECK(header(p, "content-encoding") == "<absent>");
    CHECK(header(p, "x-amz-decoded-content-length") == "<absent>");
    CHECK(header(p, "x-amz-trailer") == "<absent>");
    CHECK(header(p, "expect") == "<absent>");
    CHECK(header(p, "x-amz-content-sha256") == "UNSIGNED-PAYLOAD");

    auto signed_head = signed_request(
        "PUT", "/bucket/k", "",
        {{"content-encoding", "aws-chunked,gzip"}, {"content-length", "300"}, {"x-amz-decoded-content-length", "100"}},
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    auto s = handle(signed_head, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(s));
    CHECK(std::get<ForwardPlan>(s).chunk_signing.has_value());
    CHECK(header(std::get<ForwardPlan>(s), "content-encoding") == "gzip");

    auto no_length =
        signed_request("PUT", "/bucket/k", "", {{"content-length", "300"}}, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    auto e = handle(no_length, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<LocalResponse>(e));
    CHECK(std::get<LocalResponse>(e).error_code == "MissingContentLength");
}

TEST_CASE("single PUT above 5 GiB is refused before any byte moves", "[proxy][handler]")
{
    auto head = signed_request("PUT", "/bucket/huge", "", {{"content-length", "5368709121"}}, "UNSIGNED-PAYLOAD");
    auto d = handle(head, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<LocalResponse>(d));
    CHECK(std::get<LocalResponse>(d).error_code == "EntityTooLarge");
}

TEST_CASE("default upstream is the regional AWS endpoint", "[proxy][handler]")
{
    HandlerConfig c = config();
    c.upstream.clear();
    auto d = handle(signed_request("GET", "/bucket/k", "", {}, std::string(sigv4::k_empty_sha256)), c, k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d));
    CHECK(std::get<ForwardPlan>(d).url == "https://s3.us-east-1.amazonaws.com/bucket/k");
    CHECK(parse_endpoint("http://[::1]:9000/")->authority() == "[::1]:9000");
    CHECK_FALSE(parse_endpoint("ftp://x"));
    CHECK_FALSE(parse_endpoint("http://host/path"));
}

TEST_CASE("a raw '+' in the query is a space: verified, re-signed and forwarded as %20", "[proxy][handler]")
{
    // The client signs prefix=a%20b (how S3 reads prefix=a+b) and sends the raw '+'.
    auto head = signed_request("GET", "/bucket", "list-type=2&prefix=a+b", {}, std::string(sigv4::k_empty_sha256));
    CHECK(head.target == "/bucket?list-type=2&prefix=a+b");
    auto d = handle(head, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d));
    const auto& p = std::get<ForwardPlan>(d);
    CHECK(p.url == "http://127.0.0.1:7000/bucket?list-type=2&prefix=a%20b");
    RequestHead up{"GET", "/bucket?list-type=2&prefix=a%20b", {}};
    for (const auto& h : p.headers) {
        up.headers.push_back(h);
    }
    CHECK(verify_request(up, k_creds, k_now)); // what is sent is what was signed

    // An encoded plus stays a plus.
    auto plus = handle(signed_request("GET", "/bucket", "prefix=a%2Bb", {}, std::string(sigv4::k_empty_sha256)),
                       config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(plus));
    CHECK(std::get<ForwardPlan>(plus).url == "http://127.0.0.1:7000/bucket?prefix=a%2Bb");
}

TEST_CASE("a SigV2 presigned GET is forwarded re-signed with SigV4, without its auth parameters", "[proxy][handler]")
{
    Credentials creds = k_creds;
    creds.region = "eu-west-1";
    const auto expires = std::chrono::system_clock::to_time_t(k_now) + 600;
    const std::string sts = "GET\n\n\n" + std::to_string(expires) + "\n/bucket/dir/a%20b.txt";
    RequestHead head{"GET",
                     "/bucket/dir/a%20b.txt?AWSAccessKeyId=AKIDTEST&Signature="
                         + sigv4::uri_encode(sigv2::signature(creds.secret_key, sts), false)
                         + "&Expires=" + std::to_string(expires),
                     {{"Host", "127.0.0.1:9090"}}};
    auto d = handle(head, config(), creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d));
    const auto& p = std::get<ForwardPlan>(d);
    CHECK(p.op == S3Op::GetObject); // the auth parameters are no sub-resources
    CHECK(p.url == "http://127.0.0.1:7000/bucket/dir/a%20b.txt");
    CHECK(header(p, "authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDTEST/20240301/eu-west-1/s3/", 0) == 0);
    CHECK(header(p, "x-amz-content-sha256") == "UNSIGNED-PAYLOAD");
    RequestHead up{"GET", "/bucket/dir/a%20b.txt", {}};
    for (const auto& h : p.headers) {
        up.headers.push_back(h);
    }
    CHECK(verify_request(up, creds, k_now));

    // Without a configured region, us-east-1 (SigV2 names none).
    HandlerConfig aws = config();
    aws.upstream.clear();
    auto d2 = handle(head, aws, k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d2));
    CHECK(std::get<ForwardPlan>(d2).url == "https://s3.us-east-1.amazonaws.com/bucket/dir/a%20b.txt");
}

TEST_CASE("an unsigned CORS preflight is forwarded unsigned; other unsigned OPTIONS are refused", "[proxy][handler]")
{
    RequestHead preflight{"OPTIONS",
                          "/bucket/key",
                          {{"Host", "127.0.0.1:9090"},
                           {"Origin", "http://app.example"},
                           {"Access-Control-Request-Method", "PUT"},
                           {"Access-Control-Request-Headers", "content-type"}}};
    auto d = handle(preflight, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d));
    const auto& p = std::get<ForwardPlan>(d);
    CHECK(p.method == "OPTIONS");
    CHECK(p.url == "http://127.0.0.1:7000/bucket/key");
    CHECK(p.body == BodyKind::None);
    CHECK(header(p, "host") == "127.0.0.1:7000");
    CHECK(header(p, "origin") == "http://app.example");
    CHECK(header(p, "access-control-request-method") == "PUT");
    CHECK(header(p, "access-control-request-headers") == "content-type");
    CHECK(header(p, "authorization") == "<absent>");
    CHECK(header(p, "x-amz-date") == "<absent>");

    RequestHead no_origin{
        "OPTIONS", "/bucket/key", {{"Host", "127.0.0.1:9090"}, {"Access-Control-Request-Method", "PUT"}}};
    auto refused = handle(no_origin, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<LocalResponse>(refused));
    CHECK(std::get<LocalResponse>(refused).status == 403);

    RequestHead with_body = preflight;
    with_body.headers.emplace_back("Content-Length", "5");
    CHECK(std::holds_alternative<LocalResponse>(handle(with_body, config(), k_creds, k_now)));
}

TEST_CASE("an aws-chunked trailer is declared to the decoder, and what it cannot verify is refused up front",
          "[proxy][handler]")
{
    auto head = signed_request("PUT", "/bucket/k", "",
                               {{"content-encoding", "aws-chunked"},
                                {"content-length", "52"},
                                {"x-amz-decoded-content-length", "11"},
                                {"x-amz-sdk-checksum-algorithm", "CRC32"},
                                {"x-amz-trailer", "x-amz-checksum-crc32"}},
                               "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    auto d = handle(head, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d));
    const auto& p = std::get<ForwardPlan>(d);
    CHECK(p.trailer == "x-amz-checksum-crc32");
    // The checksum stays with the proxy, so S3 must not expect one.
    CHECK(header(p, "x-amz-sdk-checksum-algorithm") == "<absent>");

    auto crc64 = signed_request("PUT", "/bucket/k", "",
                                {{"content-encoding", "aws-chunked"},
                                 {"content-length", "52"},
                                 {"x-amz-decoded-content-length", "11"},
                                 {"x-amz-trailer", "x-amz-checksum-crc64nvme"}},
                                "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    auto e = handle(crc64, config(), k_creds, k_now);
    REQUIRE(std::holds_alternative<LocalResponse>(e));
    CHECK(std::get<LocalResponse>(e).status == 400);
    CHECK(std::get<LocalResponse>(e).error_code == "InvalidRequest");
    CHECK(std::get<LocalResponse>(e).body.find("x-amz-checksum-crc64nvme") != std::string::npos);
}

TEST_CASE("with forward_checksums a trailing checksum goes upstream as a signed unsigned-trailer aws-chunked body",
          "[proxy][handler]")
{
    HandlerConfig c = config();
    c.forward_checksums = true;
    auto head = signed_request("PUT", "/bucket/k", "",
                               {{"content-encoding", "aws-chunked,gzip"},
                                {"content-length", "52"},
                                {"x-amz-decoded-content-length", "11"},
                                {"x-amz-sdk-checksum-algorithm", "CRC32"},
                                {"x-amz-trailer", "x-amz-checksum-crc32"}},
                               "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    auto d = handle(head, c, k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(d));
    const auto& p = std::get<ForwardPlan>(d);
    CHECK(p.forward_checksum);
    CHECK(p.trailer == "x-amz-checksum-crc32");
    // "b\r\n" + 11 bytes + "\r\n", "0\r\n", "x-amz-checksum-crc32:" + 8 + "\r\n\r\n".
    CHECK(p.upstream_length == AwsChunkedEncoder::encoded_length(11, ChecksumAlgorithm::Crc32));
    CHECK(p.upstream_length == 3 + 11 + 2 + 3 + 21 + 8 + 4);
    CHECK(p.decoded_length == 11u);
    CHECK(p.hash_decodes_aws_chunked);
    CHECK(header(p, "content-encoding") == "aws-chunked,gzip");
    CHECK(header(p, "x-amz-decoded-content-length") == "11");
    CHECK(header(p, "x-amz-trailer") == "x-amz-checksum-crc32");
    CHECK(header(p, "x-amz-sdk-checksum-algorithm") == "CRC32");
    CHECK(header(p, "x-amz-content-sha256") == "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    CHECK(header(p, "authorization").find("x-amz-trailer") != std::string::npos); // signed

    // Without a trailer nothing changes: the body goes decoded.
    auto plain = signed_request(
        "PUT", "/bucket/k", "",
        {{"content-encoding", "aws-chunked"}, {"content-length", "52"}, {"x-amz-decoded-content-length", "11"}},
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER");
    auto q = handle(plain, c, k_creds, k_now);
    REQUIRE(std::holds_alternative<ForwardPlan>(q));
    CHECK_FALSE(std::get<ForwardPlan>(q).forward_checksum);
    CHECK(std::get<ForwardPlan>(q).upstream_length == 11);
    CHECK(header(std::get<ForwardPlan>(q), "content-encoding") == "<absent>");
}
