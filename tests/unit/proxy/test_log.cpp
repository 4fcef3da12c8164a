// Redaction: no credential-bearing query parameter (SigV2 and SigV4), no
// Authorization field and no secret header reaches a log line, whatever
// the call site formats, in text or JSON records; what is not secret stays
// readable.
#include "roar/proxy/log.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>
#include <unistd.h>

using namespace roar::proxy;

TEST_CASE("SigV2 presigned query parameters are redacted, Expires and the rest kept", "[proxy][log]")
{
    CHECK(redact_target("/bucket/key.bin?AWSAccessKeyId=AKIDEXAMPLE&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D"
                        "&Expires=1141889120&versionId=v1")
          == "/bucket/key.bin?AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=1141889120&versionId=v1");
    // Raw '+', '/' and '=' of an unencoded base64 signature are all part of the value.
    CHECK(redact_target("/b/k?Signature=ab+c/d==&x=1") == "/b/k?Signature=REDACTED&x=1");
    // Names are matched without regard to case or percent-encoding.
    CHECK(redact_target("/b/k?awsaccesskeyid=A&SIGNATURE=B&%53ignature=C")
          == "/b/k?awsaccesskeyid=REDACTED&SIGNATURE=REDACTED&%53ignature=REDACTED");
}

TEST_CASE("SigV4 presigned query parameters are redacted", "[proxy][log]")
{
    const std::string target = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                               "&X-Amz-Credential=AKIDEXAMPLE%2F20240301%2Fus-east-1%2Fs3%2Faws4_request"
                               "&X-Amz-Date=20240301T120000Z&X-Amz-Expires=600&X-Amz-SignedHeaders=host"
                               "&X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE&X-Amz-Signature=0123abcd";
    const std::string r = redact_target(target);
    CHECK(r
          == "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED&X-Amz-Date=20240301T120000Z"
             "&X-Amz-Expires=600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED");
    CHECK(r.find("AKIDEXAMPLE") == std::string::npos);
}

TEST_CASE("secret headers are redacted whole, Authorization fields inside text too", "[proxy][log]")
{
    CHECK(redact_header("Authorization", "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=") == "REDACTED");
    CHECK(redact_header("x-amz-security-token", "tok") == "REDACTED");
    CHECK(redact_header("Cookie", "session=1") == "REDACTED");
    CHECK(redact_header("X-Amz-Server-Side-Encryption-Customer-Key", "a2V5") == "REDACTED");
    CHECK(redact_header("Content-Type", "text/plain") == "text/plain");
    CHECK(redact_header("Referer", "http://h/b/k?X-Amz-Signature=abc") == "http://h/b/k?X-Amz-Signature=REDACTED");

    CHECK(
        redact(
            "authz AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240301/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024")
        == "authz AWS4-HMAC-SHA256 Credential=REDACTED, SignedHeaders=host;x-amz-date, Signature=REDACTED");
    CHECK(redact("a\r\nAuthorization: AWS AKIDEXAMPLE:sig=\r\nHost: h\r\n")
          == "a\r\nAuthorization: REDACTED\r\nHost: h\r\n");
    CHECK(redact("3e8;chunk-signature=0055627c9e19") == "3e8;chunk-signature=REDACTED");
    // Look-alike names and empty values are left alone.
    CHECK(redact("MySignature=1 Signatures=2 Signature= x") == "MySignature=1 Signatures=2 Signature= x");
    CHECK(redact("") == "");
}

TEST_CASE("every line the logger writes is redacted", "[proxy][log]")
{
    const auto path = std::filesystem::temp_directory_path() / ("roar-log-test-" + std::to_string(getpid()) + ".log");
    std::filesystem::remove(path);
    {
        Logger log;
        REQUIRE(log.open(path.string(), true));
        log.write("info", "GET /b/k?AWSAccessKeyId=AKIDEXAMPLE&Signature=c2VjcmV0&Expires=9 -> 403");
        log.write("warn", "header Authorization: AWS AKIDEXAMPLE:c2VjcmV0");
    }
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::filesystem::remove(path);
    CHECK(text.str().find("AWSAccessKeyId=REDACTED&Signature=REDACTED&Expires=9 -> 403") != std::string::npos);
    CHECK(text.str().find("Authorization: REDACTED") != std::string::npos);
    CHECK(text.str().find("c2VjcmV0") == std::string::npos);
    CHECK(text.str().find("AKIDEXAMPLE") == std::string::npos);
}

namespace {

// A log file path of this process for test `name`, removed if it exists.
std::filesystem::path fresh_log_path(const std::string& name)
{
    const auto path =
        std::filesystem::temp_directory_path() / ("roar-log-" + name + "-test-" + std::to_string(getpid()) + ".log");
    std::filesystem::remove(path);
    return path;
}

// The contents of the log at `path`, which is removed.
std::string take_log(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::filesystem::remove(path);
    return text.str();
}

} // namespace

TEST_CASE("JSON log records are one object per line with every string field redacted", "[proxy][log]")
{
    const auto path = fresh_log_path("json");
    {
        Logger log;
        REQUIRE(log.open(path.string(), false));
        log.set_format(LogFormat::json);
        log.write("warn", "header Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=c2VjcmV0");
        log.write_record("info", "gateway request",
                         {{"request_id", std::string("R1")},
                          {"key", std::string("k\"ey\n?X-Amz-Signature=c2VjcmV0")},
                          {"status", std::uint64_t{200}},
                          {"duration_ms", 1.5}});
    }
    const std::string all = take_log(path);
    std::vector<nlohmann::json> records;
    std::istringstream in(all);
    for (std::string line; std::getline(in, line);) {
        records.push_back(nlohmann::json::parse(line));
    }
    REQUIRE(records.size() == 2);
    CHECK(records[0]["level"] == "warn");
    CHECK(records[0]["msg"] == "header Authorization: REDACTED");
    CHECK(records[0]["pid"] == getpid());
    CHECK(records[0]["time"].get<std::string>().back() == 'Z');
    CHECK(records[1]["msg"] == "gateway request");
    CHECK(records[1]["request_id"] == "R1");
    CHECK(records[1]["key"] == "k\"ey\n?X-Amz-Signature=REDACTED");
    CHECK(records[1]["status"] == 200);
    CHECK(records[1]["duration_ms"] == 1.5);
    CHECK(all.find("c2VjcmV0") == std::string::npos);
    CHECK(all.find("AKIDEXAMPLE") == std::string::npos);
}

TEST_CASE("text log records append their fields as name=value, redacted", "[proxy][log]")
{
    const auto path = fresh_log_path("fields");
    {
        Logger log;
        REQUIRE(log.open(path.string(), false));
        log.write_record(
            "info", "gateway request",
            {{"op", std::string("GetObject")}, {"status", std::uint64_t{404}}, {"token", std::string("x")}});
    }
    CHECK(take_log(path).find("info: gateway request op=GetObject status=404 token=REDACTED\n") != std::string::npos);
}

TEST_CASE("a password in a URL is redacted, the user and host kept", "[proxy][log]")
{
    CHECK(redact("upstream 'http://user:PwSecret987@127.0.0.1:9' is not an http(s)://host[:port] URL")
          == "upstream 'http://user:REDACTED@127.0.0.1:9' is not an http(s)://host[:port] URL");
    CHECK(redact("https://a:b@h/x?y=1 and https://token@h/") == "https://a:REDACTED@h/x?y=1 and https://token@h/");
    CHECK(redact("https://h.example/p@q:r") == "https://h.example/p@q:r"); // an @ in the path is no userinfo
    CHECK(redact("mailto: x@y and a:b@c") == "mailto: x@y and a:b@c");
}
