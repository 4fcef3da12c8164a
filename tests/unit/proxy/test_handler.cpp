// The pure request step: operational endpoints, refusals as S3 XML, and
// the forward plan (path-style upstream URL, hop-by-hop headers dropped,
// aws-chunked headers rewritten, a signature valid for the upstream host).
#include "roar/proxy/handler.hpp"
#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/s3_error.hpp"

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
