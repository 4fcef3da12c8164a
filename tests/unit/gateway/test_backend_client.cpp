// The backend client's pure parts: signed requests (checked by the proxy's
// own SigV4 verifier, which S3 servers agree with), addressing styles, and
// the parsing of backend answers.
#include "gateway_test_support.hpp"

#include "roar/proxy/gateway/backend_client.hpp"
#include "roar/proxy/gateway/xml_tree.hpp"
#include "roar/proxy/request_auth.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace roar::test;
using namespace roar::proxy::gateway;
namespace proxy = roar::proxy;

namespace {

const auto k_now = *proxy::parse_amz_date("20240301T120000Z");

// The request a server receives for `r`.
proxy::RequestHead as_received(const SignedRequest& r)
{
    const auto host_start = r.url.find("://") + 3;
    const auto path_start = r.url.find('/', host_start);
    proxy::RequestHead head;
    head.method = r.method;
    head.target = r.url.substr(path_start);
    for (const auto& [n, v] : r.headers) {
        head.headers.emplace_back(n, v);
    }
    return head;
}

// A loopback server that answers every request with `answer`, whatever
// was asked, until it is destroyed.
class CannedServer {
public:
    explicit CannedServer(std::string answer) : m_answer(std::move(answer))
    {
        m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(m_fd, 8) == 0);
        REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~CannedServer()
    {
        ::shutdown(m_fd, SHUT_RDWR); // wakes accept()
        m_thread.join();
        ::close(m_fd);
    }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }

private:
    void serve()
    {
        for (;;) {
            const int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0) {
                return;
            }
            std::string request;
            char buf[4096];
            while (request.find("\r\n\r\n") == std::string::npos) {
                const ssize_t n = ::read(c, buf, sizeof buf);
                if (n <= 0) {
                    break;
                }
                request.append(buf, std::size_t(n));
            }
            for (std::size_t off = 0; off < m_answer.size();) {
                const ssize_t n = ::write(c, m_answer.data() + off, m_answer.size() - off);
                if (n <= 0) {
                    break;
                }
                off += std::size_t(n);
            }
            ::close(c);
        }
    }

    std::string m_answer;
    int m_fd = -1;
    unsigned short m_port = 0;
    std::thread m_thread;
};

} // namespace

TEST_CASE("a path-style request is signed so that a SigV4 verifier accepts it", "[gateway][backend]")
{
    const GatewayConfig c = example_config();
    const BackendConfig& a = c.backends[0];
    const SignedRequest r =
        sign_backend_request(a, "PUT", "store-a", "dir/a b+c~v.bin", {{"partNumber", "2"}, {"uploadId", "x/y="}},
                             {{"content-type", "text/plain"}}, "UNSIGNED-PAYLOAD", k_now);
    CHECK(r.url == "http://127.0.0.1:7001/store-a/dir/a%20b%2Bc~v.bin?partNumber=2&uploadId=x%2Fy%3D");
    auto verified = proxy::verify_request(as_received(r), a.credentials, k_now);
    REQUIRE(verified);
    CHECK(verified->credential.access_key == "akey");
    CHECK(verified->credential.region == "us-east-1");
    // Another secret does not verify.
    proxy::Credentials wrong = a.credentials;
    wrong.secret_key = "other";
    CHECK_FALSE(proxy::verify_request(as_received(r), wrong, k_now));
}

TEST_CASE("a virtual-host request puts the bucket in the host", "[gateway][backend]")
{
    GatewayConfig c = example_config();
    BackendConfig b = c.backends[1];
    b.path_style = false;
    b.endpoint = "https://s3.example.com";
    const SignedRequest r = sign_backend_request(b, "GET", "store-b", "k", {}, {}, proxy::sigv4::k_empty_sha256, k_now);
    CHECK(r.url == "https://store-b.s3.example.com/k");
    bool host_ok = false;
    for (const auto& [n, v] : r.headers) {
        host_ok = host_ok || (n == "host" && v == "store-b.s3.example.com");
    }
    CHECK(host_ok);
    CHECK(proxy::verify_request(as_received(r), b.credentials, k_now));
    const SignedRequest bucket_call = sign_backend_request(c.backends[1], "GET", "store-b", "", {{"list-type", "2"}},
                                                           {}, proxy::sigv4::k_empty_sha256, k_now);
    CHECK(bucket_call.url == "http://127.0.0.1:7002/store-b?list-type=2");
}

TEST_CASE("backend errors are read from their XML, or from the status alone", "[gateway][backend]")
{
    auto e = parse_backend_error(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>nope</Message></Error>");
    CHECK(e.code == "SignatureDoesNotMatch");
    CHECK(e.message == "nope");
    CHECK_FALSE(e.retryable());
    CHECK(parse_backend_error(404, "").code == "NotFound");
    CHECK(parse_backend_error(404, "").not_found());
    CHECK(parse_backend_error(503, "garbage").retryable());
    CHECK(parse_backend_error(429, "").retryable());
    CHECK(BackendError{0, "Transport", "refused"}.retryable());
    CHECK(BackendError{0, "Transport", "refused"}.describe() == "Transport: refused");
    CHECK(parse_backend_error(500, "").describe() == "HTTP 500 InternalError: the backend answered HTTP 500");
}

TEST_CASE("listing responses are parsed with their continuation", "[gateway][backend]")
{
    auto page = parse_list_objects_response(
        R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
        R"(<Name>b</Name><IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken>)"
        R"(<Contents><Key>a&amp;b</Key><LastModified>2024-03-01T12:00:00.500Z</LastModified>)"
        R"(<ETag>&quot;abc&quot;</ETag><Size>42</Size></Contents><CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>)"
        R"(</ListBucketResult>)");
    REQUIRE(page);
    REQUIRE(page->objects.size() == 1);
    CHECK(page->objects[0].key == "a&b");
    CHECK(page->objects[0].size == 42);
    CHECK(page->objects[0].etag == "\"abc\"");
    CHECK(page->objects[0].last_modified == 1709294400500);
    CHECK(page->prefixes == std::vector<std::string>{"d/"});
    CHECK(page->truncated);
    CHECK(page->next_token == "tok");
    CHECK_FALSE(parse_list_objects_response("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"));
    CHECK_FALSE(parse_list_objects_response("<Error/>"));
}

TEST_CASE("a listed object without a valid size fails the listing", "[gateway][backend]")
{
    const auto listing = [](const std::string& size) {
        return parse_list_objects_response("<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
                                           + size + "<ETag>e</ETag></Contents></ListBucketResult>");
    };
    REQUIRE(listing("<Size>0</Size>"));
    CHECK(listing("<Size>18446744073709551615</Size>")->objects.at(0).size == 18446744073709551615ull);
    for (const char* bad : {"", "<Size></Size>", "<Size>-1</Size>", "<Size>12x</Size>", "<Size> 12</Size>",
                            "<Size>18446744073709551616</Size>"}) {
        INFO(bad);
        const auto page = listing(bad);
        REQUIRE_FALSE(page);
        CHECK(page.error() == "object \"k\" is listed without a valid Size");
    }
}

TEST_CASE("multipart and copy answers are parsed, including errors sent with 200", "[gateway][backend]")
{
    CHECK(*parse_upload_id("<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>")
          == "u1");
    CHECK_FALSE(parse_upload_id("<InitiateMultipartUploadResult/>"));
    CHECK(*parse_etag_result("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>") == "\"e\"");
    auto late = parse_etag_result("<Error><Code>InternalError</Code><Message>try again</Message></Error>");
    REQUIRE_FALSE(late);
    CHECK(late.error().code == "InternalError");
    CHECK(late.error().retryable());
    auto body = complete_multipart_body({{1, "\"a\""}, {2, "\"b\""}});
    auto doc = parse_xml(body);
    REQUIRE(doc);
    CHECK(doc->children_named("Part").size() == 2);
    CHECK(doc->children[1].child_text("ETag") == "\"b\"");
}

TEST_CASE("a client to a closed port reports a retryable transport error", "[gateway][backend]")
{
    GatewayConfig c = example_config();
    BackendConfig b = c.backends[0];
    b.endpoint = "http://127.0.0.1:1"; // nothing listens on port 1
    b.connect_timeout = std::chrono::seconds(2);
    BackendClient client(b);
    auto head = client.head_object("store-a", "k");
    REQUIRE_FALSE(head);
    CHECK(head.error().status == 0);
    CHECK(head.error().retryable());
}

TEST_CASE("an object read whose answer has no valid length is refused before any byte is passed on",
          "[gateway][backend]")
{
    const auto get = [](const std::string& answer) {
        CannedServer server(answer);
        BackendConfig b = example_config().backends[0];
        b.endpoint = server.endpoint();
        BackendClient client(b);
        bool head_seen = false;
        std::string body;
        const HeadCallback on_head = [&](const GetResponse&) { return head_seen = true; };
        const BodySink sink = [&](const char* data, std::size_t n) {
            body.append(data, n);
            return true;
        };
        auto got = client.get_object("store-a", "k", {}, on_head, sink);
        return std::tuple(std::move(got), head_seen, body);
    };
    {
        auto [got, head_seen, body] = get("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"e\"\r\n\r\nhello");
        REQUIRE(got);
        CHECK(got->content_length == 5);
        CHECK(head_seen);
        CHECK(body == "hello");
    }
    for (const char* answer : {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                               "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello"}) {
        INFO(answer);
        auto [got, head_seen, body] = get(answer);
        REQUIRE_FALSE(got);
        CHECK(got.error().code == "BadResponse");
        CHECK(got.error().describe().find("Content-Length") != std::string::npos);
        CHECK_FALSE(head_seen);
        CHECK(body.empty());
    }
}

TEST_CASE("an object's head without a valid length is refused, not taken as size 0", "[gateway][backend]")
{
    const auto head = [](const std::string& answer) {
        CannedServer server(answer);
        BackendConfig b = example_config().backends[0];
        b.endpoint = server.endpoint();
        return BackendClient(b).head_object("store-a", "k");
    };
    const auto good = head("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nETag: \"e\"\r\n\r\n");
    REQUIRE(good);
    CHECK(good->size == 12);
    CHECK(good->etag == "\"e\"");
    const auto empty = head("HTTP/1.1 200 OK\r\nETag: \"e\"\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(empty);
    CHECK(empty->size == 0);
    for (const char* answer : {"HTTP/1.1 200 OK\r\nETag: \"e\"\r\nConnection: close\r\n\r\n",
                               "HTTP/1.1 200 OK\r\nETag: \"e\"\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
        INFO(answer);
        const auto got = head(answer);
        REQUIRE_FALSE(got);
        CHECK(got.error().code == "BadResponse");
    }
}
