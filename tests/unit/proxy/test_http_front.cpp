// The HTTP front as pure functions: request-head parsing (framing,
// limits, refusals that close the connection), the chunked body decoder,
// and the first-bytes classification of a connection.
#include "roar/proxy/http_front.hpp"
#include "roar/proxy/preamble.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace roar::proxy;

namespace {

HeadResult parse(const std::string& text, const HeadLimits& limits = {}) { return parse_request_head(text, limits); }

std::string with_headers(const std::string& fields)
{
    return "PUT /b/k HTTP/1.1\r\nHost: 127.0.0.1:9090\r\n" + fields + "\r\n";
}

} // namespace

TEST_CASE("a complete head parses with its framing and leaves the body alone", "[proxy][http_front]")
{
    const std::string head = "PUT /b/k?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
                             "X-Amz-Meta-A:  spaced value \t\r\n\r\n";
    const auto r = parse(head + "hello" + "GET /next HTTP/1.1\r\n");
    REQUIRE(r.status == HeadStatus::Complete);
    CHECK(r.parsed.size == head.size());
    CHECK(r.parsed.head.method == "PUT");
    CHECK(r.parsed.head.target == "/b/k?x=1");
    CHECK(r.parsed.framing == BodyFraming::Length);
    CHECK(r.parsed.content_length == 5);
    CHECK(r.parsed.expect_continue);
    CHECK(r.parsed.keep_alive);
    CHECK(r.parsed.head.header("x-amz-meta-a") == "spaced value");
    CHECK(r.parsed.head.headers.size() == 4);
}

TEST_CASE("an unfinished head asks for more; a too large one is 431", "[proxy][http_front]")
{
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\n").status == HeadStatus::Incomplete);
    CHECK(parse("").status == HeadStatus::Incomplete);
    HeadLimits small;
    small.max_bytes = 64;
    const auto r = parse("GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(100, 'a'), small);
    REQUIRE(r.status == HeadStatus::Invalid);
    CHECK(r.error.status == 431);
}

TEST_CASE("more header fields than the limit is 431", "[proxy][http_front]")
{
    std::string fields;
    for (int i = 0; i < 100; ++i) {
        fields += "X-F" + std::to_string(i) + ": v\r\n";
    }
    // Host plus 99 more is exactly 100 fields: accepted.
    const auto at_limit = parse("GET / HTTP/1.1\r\nHost: h\r\n" + fields.substr(fields.find("X-F1:")) + "\r\n");
    CHECK(at_limit.status == HeadStatus::Complete);
    const auto over = parse(with_headers(fields));
    REQUIRE(over.status == HeadStatus::Invalid);
    CHECK(over.error.status == 431);
    CHECK(over.error.code == "RequestHeaderSectionTooLarge");
}

TEST_CASE("transfer codings other than one chunked are refused", "[proxy][http_front]")
{
    for (const std::string te :
         {"chunked, identity", "identity", "gzip, chunked", "chunked, chunked", "chunkedx", ""}) {
        const auto r = parse(with_headers("Transfer-Encoding: " + te + "\r\n"));
        INFO(te);
        REQUIRE(r.status == HeadStatus::Invalid);
        CHECK(r.error.status == 400);
    }
    // Split over two fields is the same list.
    CHECK(parse(with_headers("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n")).status
          == HeadStatus::Invalid);
    const auto ok = parse(with_headers("Transfer-Encoding:  Chunked \r\n"));
    REQUIRE(ok.status == HeadStatus::Complete);
    CHECK(ok.parsed.framing == BodyFraming::Chunked);
    // Not in HTTP/1.0.
    CHECK(parse("PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").status == HeadStatus::Invalid);
}

TEST_CASE("Content-Length with Transfer-Encoding, or a bad Content-Length, is refused", "[proxy][http_front]")
{
    CHECK(parse(with_headers("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")).status == HeadStatus::Invalid);
    CHECK(parse(with_headers("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")).status == HeadStatus::Invalid);
    for (const std::string cl : {"abc", "-1", "+5", "5 5", "1e3", "", "99999999999999999999999", "0x10", "5, 6"}) {
        INFO(cl);
        const auto r = parse(with_headers("Content-Length: " + cl + "\r\n"));
        REQUIRE(r.status == HeadStatus::Invalid);
        CHECK(r.error.status == 400);
    }
    CHECK(parse(with_headers("Content-Length: 5\r\nContent-Length: 6\r\n")).status == HeadStatus::Invalid);
    const auto same = parse(with_headers("Content-Length: 5\r\nContent-Length: 5, 5\r\n"));
    REQUIRE(same.status == HeadStatus::Complete);
    CHECK(same.parsed.content_length == 5);
    const auto zero = parse(with_headers("Content-Length: 0\r\n"));
    REQUIRE(zero.status == HeadStatus::Complete);
    CHECK(zero.parsed.framing == BodyFraming::None);
}

TEST_CASE("malformed request lines and fields are 400, other versions 505", "[proxy][http_front]")
{
    for (const std::string bad :
         {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "GET / HTTP/1.1 x\r\nHost: h\r\n\r\n",
          "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", "GET / HTTP/1.1\r\nHost : h\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: h\r\nNo-colon\r\n\r\n", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: h\r\nX: a\nY: b\r\n\r\n", "GET / HTTP/1.1\r\n\r\n",
          "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "GET / HTTP/1.x\r\nHost: h\r\n\r\n",
          "GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"}) {
        INFO(bad);
        const auto r = parse(bad);
        REQUIRE(r.status == HeadStatus::Invalid);
        CHECK(r.error.status == 400);
    }
    const auto v2 = parse("GET / HTTP/2.0\r\nHost: h\r\n\r\n");
    REQUIRE(v2.status == HeadStatus::Invalid);
    CHECK(v2.error.status == 505);
}

TEST_CASE("keep-alive follows the version and the Connection header", "[proxy][http_front]")
{
    CHECK_FALSE(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").parsed.keep_alive);
    CHECK_FALSE(parse("GET / HTTP/1.0\r\n\r\n").parsed.keep_alive);
    CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").parsed.keep_alive);
    CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, TE\r\n\r\n").parsed.keep_alive);
}

TEST_CASE("leading empty lines are skipped; the end of a head is found across reads", "[proxy][http_front]")
{
    const std::string text = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\nrest";
    const auto r = parse(text);
    REQUIRE(r.status == HeadStatus::Complete);
    CHECK(r.parsed.size == text.size() - 4);
    // Fed byte by byte with the scan position carried over.
    std::size_t scanned = 0;
    std::size_t found = std::string::npos;
    for (std::size_t i = 1; i <= text.size() && found == std::string::npos; ++i) {
        found = find_head_end(std::string_view(text).substr(0, i), scanned);
        scanned = i;
    }
    CHECK(found == text.size() - 4);
}

TEST_CASE("the chunked decoder yields the payload and stops at the end of the body", "[proxy][http_front][chunked]")
{
    const std::string body = "5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n";
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{7}, body.size()}) {
        ChunkedBodyDecoder d;
        std::string out;
        std::string buffer;
        std::size_t fed = 0;
        while (!d.done()) {
            REQUIRE(fed <= body.size() + 4);
            buffer += body.substr(fed, piece);
            fed += piece;
            for (;;) {
                const auto s = d.step(buffer);
                REQUIRE_FALSE(s.error);
                out.append(s.data);
                buffer.erase(0, s.consumed);
                if (s.consumed == 0 || d.done()) {
                    break;
                }
            }
        }
        CHECK(out == "helloabcdefghijklmnopqrstuvwxyz");
        CHECK(d.decoded() == 31);
    }
    // Bytes after the body are not consumed.
    ChunkedBodyDecoder d;
    const std::string two = "0\r\n\r\nGET /next";
    const auto s = d.step(two);
    CHECK(d.done());
    CHECK(s.consumed == 5);
}

TEST_CASE("malformed chunked framing is an error", "[proxy][http_front][chunked]")
{
    for (const std::string bad : {"x\r\n", "5\r\nhelloXY", "5\nhello\r\n", "11111111111111111\r\n", "-1\r\n",
                                  "5;\x01\r\n", "0\r\n: bad\r\n\r\n", "0\r\nX: a\x01\r\n\r\n", "0\r\n\rX"}) {
        INFO(bad);
        ChunkedBodyDecoder d;
        std::string_view rest = bad;
        bool failed = false;
        while (!rest.empty() && !d.done()) {
            const auto s = d.step(rest);
            if (s.error) {
                failed = true;
                break;
            }
            if (s.consumed == 0) {
                break;
            }
            rest.remove_prefix(s.consumed);
        }
        CHECK(failed);
    }
}

TEST_CASE("the first bytes tell a PROXY v2 header from HTTP", "[proxy][preamble]")
{
    const std::string sig(k_proxy_v2_signature);
    CHECK(classify_preamble("") == PreambleKind::NeedMore);
    CHECK(classify_preamble(sig.substr(0, 5)) == PreambleKind::NeedMore);
    CHECK(classify_preamble(sig) == PreambleKind::ProxyV2);
    CHECK(classify_preamble(sig + "\x21\x11") == PreambleKind::ProxyV2);
    CHECK(classify_preamble("G") == PreambleKind::Http);
    CHECK(classify_preamble("\r\nGET / HTTP/1.1") == PreambleKind::Http);
    CHECK(classify_preamble(sig.substr(0, 4) + "X") == PreambleKind::Http);
}
