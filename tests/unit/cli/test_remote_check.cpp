// `roar status --remote` without a network: which endpoint a HEAD goes to,
// how the request is addressed and signed, and how an answer is judged
// against the record. That moto accepts the signature is the functional
// test's (tests/functional/proxy/status_remote.sh).
#include "remote_check.hpp"

#include "roar/proxy/sigv4.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace roar::cli;
using roar::proxy::Credentials;

namespace {

roar::proxy::EnvLookup env_of(std::map<std::string, std::string> vars)
{
    return [vars](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
}

Credentials keys(std::string token = "")
{
    return Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", std::move(token), "env", "eu-west-1"};
}

std::string header(const HeadRequest& r, std::string_view name)
{
    for (const auto& h : r.headers) {
        if (h.rfind(std::string(name) + ": ", 0) == 0) {
            return h.substr(name.size() + 2);
        }
    }
    return "<absent>";
}

RemoteObject recorded(std::string etag, std::optional<int64_t> size)
{
    return RemoteObject{"s3://b/k", std::move(etag), size};
}

} // namespace

TEST_CASE("the S3 endpoint variables come before the proxy's upstream and roar.toml", "[cli][remote]")
{
    CHECK(remote_endpoint(env_of({{"AWS_ENDPOINT_URL", "http://a:1/"}, {"AWS_ENDPOINT_URL_S3", "http://s3:2"}}),
                          "http://toml:3")
          == "http://s3:2");
    CHECK(remote_endpoint(env_of({{"AWS_ENDPOINT_URL", "http://a:1/"}}), "http://toml:3") == "http://a:1");
    CHECK(remote_endpoint(env_of({{"ROAR_UPSTREAM_S3_ENDPOINT", "http://up:4"}}), "http://toml:3") == "http://up:4");
    CHECK(remote_endpoint(env_of({{"AWS_ENDPOINT_URL_S3", ""}}), "http://toml:3/") == "http://toml:3");
    CHECK(remote_endpoint(env_of({}), "").empty());
}

TEST_CASE("a custom endpoint is addressed path-style with the key encoded and its port in Host", "[cli][remote]")
{
    auto r = signed_head("s3://my.bucket/dir/a b+c.txt", "http://127.0.0.1:9000", keys(), "20130524T000000Z");
    REQUIRE(r);
    CHECK(r->url == "http://127.0.0.1:9000/my.bucket/dir/a%20b%2Bc.txt");
    CHECK(header(*r, "host") == "127.0.0.1:9000");
    CHECK(header(*r, "x-amz-date") == "20130524T000000Z");
    CHECK(header(*r, "x-amz-content-sha256") == roar::proxy::sigv4::k_empty_sha256);
    CHECK(header(*r, "x-amz-security-token") == "<absent>");
}

TEST_CASE("AWS is addressed virtual-hosted in the credentials' region unless the bucket has dots", "[cli][remote]")
{
    auto plain = signed_head("s3://data-bucket/k", "", keys(), "20130524T000000Z");
    REQUIRE(plain);
    CHECK(plain->url == "https://data-bucket.s3.eu-west-1.amazonaws.com/k");
    auto dotted = signed_head("s3://data.bucket/k", "", keys(), "20130524T000000Z");
    REQUIRE(dotted);
    CHECK(dotted->url == "https://s3.eu-west-1.amazonaws.com/data.bucket/k");
}

TEST_CASE("the Authorization names the scope and the signed headers, the session token among them", "[cli][remote]")
{
    auto r = signed_head("s3://b/k", "http://h:1", keys("TOKEN"), "20130524T000000Z");
    REQUIRE(r);
    CHECK(header(*r, "x-amz-security-token") == "TOKEN");
    auto auth = roar::proxy::sigv4::parse_authorization(header(*r, "authorization"));
    REQUIRE(auth);
    CHECK(auth->credential.access_key == "AKIDEXAMPLE");
    CHECK(auth->credential.scope() == "20130524/eu-west-1/s3/aws4_request");
    CHECK(auth->signed_headers
          == std::vector<std::string>{"host", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token"});
    CHECK(roar::proxy::sigv4::is_hex_sha256(auth->signature));
    // The signature covers the token: another token signs differently.
    auto other = signed_head("s3://b/k", "http://h:1", keys("OTHER"), "20130524T000000Z");
    REQUIRE(other);
    CHECK(header(*other, "authorization") != header(*r, "authorization"));
}

TEST_CASE("a URI without a key or an endpoint without a scheme is refused", "[cli][remote]")
{
    CHECK_FALSE(signed_head("s3://bucket", "", keys(), "20130524T000000Z"));
    CHECK_FALSE(signed_head("s3://bucket/", "", keys(), "20130524T000000Z"));
    CHECK_FALSE(signed_head("/local/file", "", keys(), "20130524T000000Z"));
    CHECK_FALSE(signed_head("s3://b/k", "127.0.0.1:9000", keys(), "20130524T000000Z"));
}

TEST_CASE("a HEAD answer is judged by ETag, then by size", "[cli][remote]")
{
    CHECK(judge_head(recorded("\"abc\"", 10), 200, "\"abc\"", 10, "", "").state == RemoteState::present);
    CHECK(judge_head(recorded("abc", 10), 200, "W/\"abc\"", 10, "", "").state == RemoteState::present);
    auto changed = judge_head(recorded("\"abc\"", 10), 200, "\"def\"", 10, "", "");
    CHECK(changed.state == RemoteState::modified);
    CHECK(changed.reason == "ETag \"def\", recorded \"abc\"");
    auto resized = judge_head(recorded("", 10), 200, "\"def\"", 12, "", "");
    CHECK(resized.state == RemoteState::modified);
    CHECK(resized.reason == "12 bytes, recorded 10");
    CHECK(judge_head(recorded("", std::nullopt), 200, "\"def\"", 12, "", "").state == RemoteState::not_checked);
}

TEST_CASE("404 is missing and every other failure is not checked with its reason", "[cli][remote]")
{
    CHECK(judge_head(recorded("\"abc\"", 10), 404, "", std::nullopt, "", "").state == RemoteState::missing);
    auto denied = judge_head(recorded("\"abc\"", 10), 403, "", std::nullopt, "", "");
    CHECK(denied.state == RemoteState::not_checked);
    CHECK(denied.reason == "HTTP 403: these credentials may not read it");
    auto elsewhere = judge_head(recorded("\"abc\"", 10), 301, "", std::nullopt, "us-west-2", "");
    CHECK(elsewhere.reason == "HTTP 301: the bucket is in us-west-2 (set AWS_REGION=us-west-2)");
    auto down = judge_head(recorded("\"abc\"", 10), 0, "", std::nullopt, "", "Connection refused");
    CHECK(down.state == RemoteState::not_checked);
    CHECK(down.reason == "network error: Connection refused");
}

TEST_CASE("without credentials every object is not checked and nothing is sent", "[cli][remote]")
{
    RemoteCheckOptions options{"http://127.0.0.1:1", tl::unexpected(std::string("no AWS credentials found"))};
    auto results = check_remote({recorded("\"abc\"", 10), recorded("\"def\"", 1)}, options);
    REQUIRE(results.size() == 2);
    for (const auto& r : results) {
        CHECK(r.state == RemoteState::not_checked);
        CHECK(r.reason == "no credentials: no AWS credentials found");
    }
}
