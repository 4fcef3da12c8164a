// The S3 routing rules shared by the shim, the tracer and the proxy
// (s3_route.h): every built-in pattern, non-S3 hosts refused, and the
// ROAR_S3_HOSTS entries with their ports, schemes and addresses.
#include "roar/collector/s3_route.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cstring>
#include <string>

namespace {

int name_at(const roar_s3_routes* routes, const std::string& host, uint16_t port)
{
    return roar_s3_match_name(routes, host.data(), host.size(), port);
}

int builtin(const std::string& host, uint16_t port = 443) { return name_at(nullptr, host, port); }

roar_s3_routes routes_of(const char* list)
{
    roar_s3_routes r{};
    roar_s3_routes_parse(&r, list);
    return r;
}

int addr4_at(const roar_s3_routes& r, const char* ip, uint16_t port)
{
    uint8_t a[4];
    REQUIRE(inet_pton(AF_INET, ip, a) == 1);
    return roar_s3_match_addr(&r, a, 4, port);
}

int addr6_at(const roar_s3_routes& r, const char* ip, uint16_t port)
{
    uint8_t a[16];
    REQUIRE(inet_pton(AF_INET6, ip, a) == 1);
    return roar_s3_match_addr(&r, a, 16, port);
}

} // namespace

TEST_CASE("every built-in AWS S3 endpoint form is S3, with and without a bucket", "[collector][s3_route]")
{
    for (const char* host : {
             "s3.amazonaws.com",
             "s3.us-east-1.amazonaws.com",
             "s3.eu-central-2.amazonaws.com",
             "s3-us-west-2.amazonaws.com",
             "s3-external-1.amazonaws.com",
             "s3.dualstack.ap-southeast-1.amazonaws.com",
             "s3-fips.us-gov-west-1.amazonaws.com",
             "s3-fips.dualstack.us-east-2.amazonaws.com",
             "s3.cn-north-1.amazonaws.com.cn",
             "s3.dualstack.cn-northwest-1.amazonaws.com.cn",
             "my-bucket.s3.amazonaws.com",
             "my.dotted.bucket.s3.us-east-1.amazonaws.com",
             "b.s3-us-west-2.amazonaws.com",
             "b.s3.dualstack.eu-west-1.amazonaws.com",
             "b.s3-fips.us-east-1.amazonaws.com",
             "b.s3-fips.dualstack.us-east-1.amazonaws.com",
             "b.s3.cn-north-1.amazonaws.com.cn",
             "S3.US-EAST-1.AmazonAWS.com",
             "s3.amazonaws.com.",
         }) {
        INFO(host);
        CHECK(builtin(host, 443) == ROAR_S3_TLS);
        CHECK(builtin(host, 80) == ROAR_S3_PLAIN);
        CHECK(builtin(host, 0) != ROAR_S3_NO_MATCH);
        CHECK(builtin(host, 8080) == ROAR_S3_NO_MATCH);
    }
}

TEST_CASE("Google Cloud Storage and Cloudflare R2 hosts are S3", "[collector][s3_route]")
{
    CHECK(builtin("storage.googleapis.com") == ROAR_S3_TLS);
    CHECK(builtin("my-bucket.storage.googleapis.com") == ROAR_S3_TLS);
    CHECK(builtin("0123456789abcdef.r2.cloudflarestorage.com") == ROAR_S3_TLS);
    CHECK(builtin("bucket.0123456789abcdef.r2.cloudflarestorage.com") == ROAR_S3_TLS);
    CHECK(builtin("acct.eu.r2.cloudflarestorage.com") == ROAR_S3_TLS);
    CHECK(builtin("r2.cloudflarestorage.com") == ROAR_S3_NO_MATCH);
    CHECK(builtin("xstorage.googleapis.com") == ROAR_S3_NO_MATCH);
    CHECK(builtin("www.googleapis.com") == ROAR_S3_NO_MATCH);
}

TEST_CASE("other AWS services, the metadata address and look-alikes are not S3", "[collector][s3_route]")
{
    for (const char* host : {
             "sts.amazonaws.com",
             "sts.us-east-1.amazonaws.com",
             "dynamodb.us-east-1.amazonaws.com",
             "ec2.us-west-2.amazonaws.com",
             "iam.amazonaws.com",
             "s3-control.amazonaws.com",
             "123456789012.s3-control.us-east-1.amazonaws.com",
             "s3-accesspoint.us-east-1.amazonaws.com",
             "b.s3-website-us-east-1.amazonaws.com",
             "b.s3-website.eu-west-1.amazonaws.com",
             "us-east-1.amazonaws.com",
             "amazonaws.com",
             "s3.amazonaws.com.evil.example",
             "s3amazonaws.com",
             "169.254.169.254",
             "localhost",
             "",
             "s3..amazonaws.com",
             "bad host.s3.amazonaws.com",
         }) {
        INFO(host);
        CHECK(builtin(host, 443) == ROAR_S3_NO_MATCH);
        CHECK(builtin(host, 0) == ROAR_S3_NO_MATCH);
    }
}

TEST_CASE("ROAR_S3_HOSTS names match their port and say TLS by scheme or port 443", "[collector][s3_route]")
{
    const auto r = routes_of("minio:9000, https://ceph.internal:7480,http://plain.example,*.objects.example,anyport");
    REQUIRE(r.count == 5);
    CHECK(r.rejected == 0);
    CHECK(name_at(&r, "minio", 9000) == ROAR_S3_PLAIN);
    CHECK(name_at(&r, "MINIO.", 9000) == ROAR_S3_PLAIN);
    CHECK(name_at(&r, "minio", 9001) == ROAR_S3_NO_MATCH);
    CHECK(name_at(&r, "minio", 0) == ROAR_S3_PLAIN);
    CHECK(name_at(&r, "ceph.internal", 7480) == ROAR_S3_TLS);
    CHECK(name_at(&r, "plain.example", 80) == ROAR_S3_PLAIN);
    CHECK(name_at(&r, "plain.example", 8080) == ROAR_S3_NO_MATCH); // a scheme without a port means its default
    CHECK(name_at(&r, "a.objects.example", 443) == ROAR_S3_TLS);
    CHECK(name_at(&r, "a.b.objects.example", 9000) == ROAR_S3_PLAIN);
    CHECK(name_at(&r, "objects.example", 443) == ROAR_S3_NO_MATCH);
    CHECK(name_at(&r, "xobjects.example", 443) == ROAR_S3_NO_MATCH);
    CHECK(name_at(&r, "anyport", 1) == ROAR_S3_PLAIN);
    CHECK(name_at(&r, "anyport", 443) == ROAR_S3_TLS);
    CHECK(name_at(&r, "other", 9000) == ROAR_S3_NO_MATCH);
    CHECK(name_at(&r, "s3.amazonaws.com", 443) == ROAR_S3_TLS); // built-ins still apply
}

TEST_CASE("ROAR_S3_HOSTS addresses match IPv4, IPv6 and IPv4-mapped destinations", "[collector][s3_route]")
{
    const auto r = routes_of("127.0.0.1:9000,10.1.2.3,[::1]:9100,https://[fd00::5]:8443,fd00::7,http://192.168.1.9");
    REQUIRE(r.count == 6);
    CHECK(r.rejected == 0);
    CHECK(addr4_at(r, "127.0.0.1", 9000) == ROAR_S3_PLAIN);
    CHECK(addr4_at(r, "127.0.0.1", 9001) == ROAR_S3_NO_MATCH);
    CHECK(addr4_at(r, "10.1.2.3", 1234) == ROAR_S3_PLAIN);
    CHECK(addr4_at(r, "10.1.2.3", 443) == ROAR_S3_TLS);
    CHECK(addr4_at(r, "10.1.2.4", 1234) == ROAR_S3_NO_MATCH);
    CHECK(addr4_at(r, "192.168.1.9", 80) == ROAR_S3_PLAIN);
    CHECK(addr4_at(r, "192.168.1.9", 9000) == ROAR_S3_NO_MATCH);
    CHECK(addr6_at(r, "::1", 9100) == ROAR_S3_PLAIN);
    CHECK(addr6_at(r, "::1", 9000) == ROAR_S3_NO_MATCH);
    CHECK(addr6_at(r, "fd00::5", 8443) == ROAR_S3_TLS);
    CHECK(addr6_at(r, "fd00::7", 7) == ROAR_S3_PLAIN);
    CHECK(addr6_at(r, "::ffff:127.0.0.1", 9000) == ROAR_S3_PLAIN);
    CHECK(addr6_at(r, "::ffff:127.0.0.1", 9001) == ROAR_S3_NO_MATCH);
    // Names never match address entries and addresses never match names.
    CHECK(name_at(&r, "127.0.0.1", 9000) == ROAR_S3_NO_MATCH);
    const auto names = routes_of("minio:9000");
    CHECK(addr4_at(names, "127.0.0.1", 9000) == ROAR_S3_NO_MATCH);
    CHECK(roar_s3_match_addr(nullptr, reinterpret_cast<const uint8_t*>("\x7f\0\0\1"), 4, 9000) == ROAR_S3_NO_MATCH);
}

TEST_CASE("a scheme keeps only the authority of a URL", "[collector][s3_route]")
{
    roar_s3_entry e{};
    const std::string url = "HTTPS://Minio.Example:9443/some/path?x=1";
    REQUIRE(roar_s3_parse_entry(url.data(), url.size(), &e) == 0);
    CHECK(e.kind == ROAR_S3_NAME);
    CHECK(e.scheme == ROAR_S3_SCHEME_HTTPS);
    CHECK(e.port == 9443);
    CHECK(std::string(e.host) == "minio.example");
    const std::string slash = "http://minio/";
    REQUIRE(roar_s3_parse_entry(slash.data(), slash.size(), &e) == 0);
    CHECK(e.port == 80);
    CHECK(std::string(e.host) == "minio");
}

TEST_CASE("malformed ROAR_S3_HOSTS entries are refused and counted", "[collector][s3_route]")
{
    for (const char* bad : {
             "host:0",
             "host:65536",
             "host:",
             "host:x",
             ":9000",
             "user@minio:9000",
             "http://user:pw@minio",
             "[::1",
             "[::1]x",
             "[::1]:",
             "[zz::1]:80",
             "*.",
             "*",
             "a..b",
             "bad_chars!",
             "minio/path",
             "http://",
             "1.2.3.4:5:6:7",
             "-",
         }) {
        INFO(bad);
        roar_s3_entry e{};
        CHECK(roar_s3_parse_entry(bad, std::strlen(bad), &e) == -1);
    }
    const auto r = routes_of("good:1,user@bad,,  , also-good");
    CHECK(r.count == 2);
    CHECK(r.rejected == 1);
    CHECK(std::string(r.entries[1].host) == "also-good");
}

TEST_CASE("more entries than the table holds are counted as rejected", "[collector][s3_route]")
{
    std::string list;
    for (int i = 0; i < ROAR_S3_ROUTES_MAX + 3; ++i) {
        list += "h" + std::to_string(i) + ",";
    }
    const auto r = routes_of(list.c_str());
    CHECK(r.count == ROAR_S3_ROUTES_MAX);
    CHECK(r.rejected == 3);
    CHECK(routes_of(nullptr).count == 0);
    CHECK(routes_of("").count == 0);
}

TEST_CASE("a 253-byte host name is accepted and a longer one refused", "[collector][s3_route]")
{
    std::string name;
    while (name.size() < 253) {
        name += name.empty() ? "" : ".";
        name += std::string(std::min<size_t>(63, 253 - name.size()), 'a');
    }
    REQUIRE(name.size() == 253);
    roar_s3_entry e{};
    CHECK(roar_s3_parse_entry(name.data(), name.size(), &e) == 0);
    CHECK(e.host_len == 253);
    const std::string longer = name + "a";
    CHECK(roar_s3_parse_entry(longer.data(), longer.size(), &e) == -1);
    const std::string label64 = std::string(64, 'a') + ".example";
    CHECK(roar_s3_parse_entry(label64.data(), label64.size(), &e) == -1);
}
