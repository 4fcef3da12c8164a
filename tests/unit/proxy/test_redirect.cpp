// Redirected connections: which PROXY v2 headers the proxy admits (loopback
// peer, the job's secret, a destination its routing rules redirect) and
// the transparent forward plan (headers as sent, the original destination
// or the configured upstream, aws-chunked passed through undecoded and
// hashed from a decoded copy).
#include "roar/collector/proxy_header.h"
#include "roar/proxy/redirect.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

using namespace roar::proxy;

namespace {

const std::string k_secret(64, 'a');

std::string header(const std::string& authority, const uint8_t (&dst)[4], uint16_t port,
                   const std::string& secret = k_secret, uint32_t pid = 4242)
{
    roar_pp2 h{};
    h.src_addr[0] = 127;
    h.src_addr[3] = 1;
    std::memcpy(h.dst_addr, dst, 4);
    h.src_port = 40000;
    h.dst_port = port;
    h.authority_len = static_cast<uint16_t>(authority.size());
    std::memcpy(h.authority, authority.data(), authority.size());
    if (!secret.empty()) {
        h.has_secret = 1;
        std::memcpy(h.secret, secret.data(), std::min<size_t>(secret.size(), ROAR_PP2_SECRET_LEN));
    }
    h.has_pid = 1;
    h.pid = pid;
    unsigned char buf[ROAR_PP2_MAX_HEADER];
    const long n = roar_pp2_encode(&h, buf, sizeof buf);
    REQUIRE(n > 0);
    return std::string(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

const uint8_t k_minio[4] = {10, 0, 0, 7};

} // namespace

TEST_CASE("admit_redirect admits the job's header and names the destination and pid", "[proxy][redirect]")
{
    const auto policy = RedirectPolicy::from(k_secret, "minio.internal:9000");
    const std::string bytes = header("minio.internal", k_minio, 9000) + "GET / HTTP/1.1\r\n";
    const auto v = admit_redirect(bytes, "127.0.0.1", policy);
    REQUIRE(v.kind == RedirectVerdict::Kind::Admitted);
    CHECK(bytes.substr(v.consumed).rfind("GET /", 0) == 0);
    CHECK(v.route.mode == ConnectionRoute::Mode::Forward);
    CHECK(v.route.pid == 4242);
    CHECK(v.route.authority == "minio.internal");
    CHECK(v.route.destination == "10.0.0.7:9000");
    CHECK_FALSE(v.route.tls);
}

TEST_CASE("admit_redirect waits for the rest of a header", "[proxy][redirect]")
{
    const auto policy = RedirectPolicy::from(k_secret, "minio.internal:9000");
    const std::string bytes = header("minio.internal", k_minio, 9000);
    for (size_t n : {size_t(5), size_t(12), size_t(20), bytes.size() - 1}) {
        CHECK(admit_redirect(bytes.substr(0, n), "127.0.0.1", policy).kind == RedirectVerdict::Kind::NeedMore);
    }
}

TEST_CASE("admit_redirect refuses what must not be relayed", "[proxy][redirect]")
{
    const auto policy = RedirectPolicy::from(k_secret, "minio.internal:9000,10.0.0.9:9000");
    const auto refused = [&](const std::string& bytes, const std::string& peer = "127.0.0.1") {
        const auto v = admit_redirect(bytes, peer, policy);
        INFO(v.reason);
        return v.kind == RedirectVerdict::Kind::Refused;
    };
    SECTION("a peer that is not loopback") { CHECK(refused(header("minio.internal", k_minio, 9000), "10.1.2.3")); }
    SECTION("no secret or the wrong one")
    {
        CHECK(refused(header("minio.internal", k_minio, 9000, "")));
        CHECK(refused(header("minio.internal", k_minio, 9000, std::string(64, 'b'))));
    }
    SECTION("a proxy without a secret admits nothing")
    {
        const auto none = RedirectPolicy::from("", "minio.internal:9000");
        CHECK(admit_redirect(header("minio.internal", k_minio, 9000), "127.0.0.1", none).kind
              == RedirectVerdict::Kind::Refused);
    }
    SECTION("a destination the routing rules do not redirect")
    {
        CHECK(refused(header("sts.amazonaws.com", k_minio, 443)));
        CHECK(refused(header("minio.internal", k_minio, 9001)));
        CHECK(refused(header("", k_minio, 9000)));
    }
    SECTION("the metadata address behind an S3 name")
    {
        const uint8_t metadata[4] = {169, 254, 169, 254};
        CHECK(refused(header("s3.amazonaws.com", metadata, 80)));
    }
    SECTION("a malformed header") { CHECK(refused(std::string("\r\n\r\n\0\r\nQUIT\n\x20\x11\0\0", 16))); }
}

TEST_CASE("admit_redirect matches literal addresses and built-in names", "[proxy][redirect]")
{
    const auto policy = RedirectPolicy::from(k_secret, "10.0.0.7:9000");
    CHECK(admit_redirect(header("", k_minio, 9000), "127.0.0.1", policy).kind == RedirectVerdict::Kind::Admitted);
    const auto v = admit_redirect(header("bucket.s3.eu-west-1.amazonaws.com", k_minio, 443), "::1", policy);
    REQUIRE(v.kind == RedirectVerdict::Kind::Admitted);
    CHECK(v.route.tls);
}

TEST_CASE("is_loopback_ip", "[proxy][redirect]")
{
    CHECK(is_loopback_ip("127.0.0.1"));
    CHECK(is_loopback_ip("127.9.8.7"));
    CHECK(is_loopback_ip("::1"));
    CHECK(is_loopback_ip("::ffff:127.0.0.1"));
    CHECK_FALSE(is_loopback_ip("10.0.0.1"));
    CHECK_FALSE(is_loopback_ip("::ffff:10.0.0.1"));
    CHECK_FALSE(is_loopback_ip("localhost"));
}

TEST_CASE("forward_plan sends the request unchanged to its destination", "[proxy][redirect]")
{
    ConnectionRoute route;
    route.mode = ConnectionRoute::Mode::Forward;
    route.destination = "10.0.0.7:9000";
    route.authority = "minio.internal";
    route.pid = 77;
    RequestHead head{"PUT",
                     "/bucket/dir/a%20b.txt?x-id=PutObject",
                     {{"Host", "minio.internal:9000"},
                      {"Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240301/us-east-1/s3/aws4_request, "
                                        "SignedHeaders=host, Signature=abc"},
                      {"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"},
                      {"Content-Length", "5"},
                      {"Connection", "keep-alive, X-Hop"},
                      {"X-Hop", "1"},
                      {"Expect", "100-continue"}}};
    const auto d = forward_plan(head, route, HandlerConfig{});
    const auto* plan = std::get_if<ForwardPlan>(&d);
    REQUIRE(plan != nullptr);
    CHECK(plan->url == "http://10.0.0.7:9000/bucket/dir/a%20b.txt?x-id=PutObject");
    CHECK(plan->op == S3Op::PutObject);
    CHECK(plan->target.uri() == "s3://bucket/dir/a b.txt");
    CHECK(plan->body == BodyKind::Plain);
    CHECK(plan->upstream_length == 5);
    CHECK(plan->hash_body);
    CHECK(plan->expect_continue);
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"host", "minio.internal:9000"},
        {"authorization", "AWS4-HMAC-SHA256 Credential=AKID/20240301/us-east-1/s3/aws4_request, "
                          "SignedHeaders=host, Signature=abc"},
        {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}};
    CHECK(plan->headers == expected);

    SECTION("to the configured upstream when there is one")
    {
        HandlerConfig config;
        config.upstream = "http://127.0.0.1:5000/";
        const auto up = forward_plan(head, route, config);
        REQUIRE(std::get_if<ForwardPlan>(&up) != nullptr);
        CHECK(std::get<ForwardPlan>(up).url == "http://127.0.0.1:5000/bucket/dir/a%20b.txt?x-id=PutObject");
    }
    SECTION("aws-chunked passes through undecoded and is hashed from a decoded copy")
    {
        head.headers.emplace_back("Content-Encoding", "aws-chunked");
        head.headers.emplace_back("x-amz-trailer", "x-amz-checksum-crc32");
        head.headers.emplace_back("x-amz-decoded-content-length", "1234");
        head.headers[2].second = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
        const auto up = forward_plan(head, route, HandlerConfig{});
        const auto& p = std::get<ForwardPlan>(up);
        CHECK(p.body == BodyKind::Plain);
        CHECK(p.hash_body);
        CHECK(p.hash_decodes_aws_chunked);
        CHECK(p.hash_trailer == "x-amz-checksum-crc32");
        CHECK(p.decoded_length == std::optional<std::uint64_t>(1234));
        CHECK(std::find(p.headers.begin(), p.headers.end(),
                        std::pair<std::string, std::string>{"content-encoding", "aws-chunked"})
              != p.headers.end());
    }
    SECTION("a TLS destination the proxy did not terminate is not forwarded in clear")
    {
        route.tls = true;
        const auto local = forward_plan(head, route, HandlerConfig{});
        REQUIRE(std::get_if<LocalResponse>(&local) != nullptr);
        CHECK(std::get<LocalResponse>(local).status == 501);
    }
    SECTION("a terminated TLS connection goes on over https to the name it asked for, at its address")
    {
        route.tls = true;
        route.tls_server_name = "bucket.s3.us-east-1.amazonaws.com";
        route.dst_ip = "52.216.1.2";
        route.dst_port = 443;
        route.destination = "52.216.1.2:443";
        const auto up = forward_plan(head, route, HandlerConfig{});
        REQUIRE(std::get_if<ForwardPlan>(&up) != nullptr);
        const auto& p = std::get<ForwardPlan>(up);
        CHECK(p.url == "https://bucket.s3.us-east-1.amazonaws.com:443/bucket/dir/a%20b.txt?x-id=PutObject");
        CHECK(p.connect_to == "bucket.s3.us-east-1.amazonaws.com:443:52.216.1.2:443");
        CHECK(p.headers == expected);
    }
    SECTION("a Content-Length that is not a number")
    {
        head.headers[3].second = "5x";
        const auto local = forward_plan(head, route, HandlerConfig{});
        REQUIRE(std::get_if<LocalResponse>(&local) != nullptr);
        CHECK(std::get<LocalResponse>(local).status == 400);
    }
}
