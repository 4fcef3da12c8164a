// Copies between backends: streamed, hashed, verified, multipart above the
// threshold, and failures on either side.
#include "memory_backend.hpp"

#include "roar/proxy/etag.hpp"
#include "roar/proxy/gateway/object_copy.hpp"

#include <blake3.h>

#include <catch2/catch.hpp>

using namespace roar::test;
using namespace roar::proxy::gateway;
using roar::proxy::is_plain_md5_etag;
using roar::proxy::unquote_etag;

namespace {

std::string blake3_hex(const std::string& data)
{
    blake3_hasher h;
    blake3_hasher_init(&h);
    blake3_hasher_update(&h, data.data(), data.size());
    std::uint8_t out[BLAKE3_OUT_LEN];
    blake3_hasher_finalize(&h, out, BLAKE3_OUT_LEN);
    std::string hex;
    for (auto b : out) {
        hex += fmt::format("{:02x}", b);
    }
    return hex;
}

std::string pattern(std::size_t n)
{
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<char>((i * 7919) % 251);
    }
    return s;
}

CopyRequest request(MemoryBackend& from, MemoryBackend& to, std::size_t size)
{
    CopyRequest r;
    r.source = &from;
    r.from = {"a", "src", "k"};
    r.target = &to;
    r.to = {"b", "dst", "k2"};
    r.size = size;
    r.pipe_bytes = 8192; // much smaller than the object: the pipe must cycle
    return r;
}

} // namespace

TEST_CASE("a copy streams the bytes, sets the metadata and returns the BLAKE3", "[gateway][copy]")
{
    MemoryBackend a("a"), b("b");
    const std::string data = pattern(300000);
    a.put_raw("src", "k", data);
    b.create_bucket("dst");
    CopyRequest r = request(a, b, data.size());
    r.put.content_type = "application/x-test";
    r.put.meta = {{"roar-blake3", "x"}};
    auto result = stream_copy(r);
    REQUIRE(result);
    const auto* copy = b.find("dst", "k2");
    REQUIRE(copy);
    CHECK(copy->data == data);
    CHECK(copy->content_type == "application/x-test");
    CHECK(copy->meta.size() == 1);
    CHECK(result->etag == "\"" + md5_hex(data) + "\"");
    CHECK(result->blake3 == blake3_hex(data));
}

TEST_CASE("above the threshold a copy goes as a multipart upload of ranged reads", "[gateway][copy]")
{
    MemoryBackend a("a"), b("b");
    const std::string data = pattern(100000);
    a.put_raw("src", "k", data);
    b.create_bucket("dst");
    CopyRequest r = request(a, b, data.size());
    r.multipart_threshold = 50000;
    r.part_size = 30000;
    auto result = stream_copy(r);
    REQUIRE(result);
    CHECK(b.find("dst", "k2")->data == data);
    CHECK(result->etag.find("-4\"") != std::string::npos); // 4 parts
    CHECK(result->blake3 == blake3_hex(data));
    CHECK(std::count_if(a.calls.begin(), a.calls.end(), [](const std::string& c) { return c.rfind("GET", 0) == 0; })
          == 4);
}

TEST_CASE("an empty object copies", "[gateway][copy]")
{
    MemoryBackend a("a"), b("b");
    a.put_raw("src", "k", "");
    b.create_bucket("dst");
    auto result = stream_copy(request(a, b, 0));
    REQUIRE(result);
    CHECK(b.find("dst", "k2")->data.empty());
}

TEST_CASE("copy failures are reported and leave no multipart upload behind", "[gateway][copy]")
{
    MemoryBackend a("a"), b("b");
    const std::string data = pattern(100000);
    a.put_raw("src", "k", data);
    b.create_bucket("dst");
    SECTION("the source is down")
    {
        a.fail_gets = true;
        auto r = stream_copy(request(a, b, data.size()));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == "Transport");
        CHECK(b.find("dst", "k2") == nullptr);
    }
    SECTION("the target refuses writes")
    {
        b.fail_puts = true;
        auto r = stream_copy(request(a, b, data.size()));
        REQUIRE_FALSE(r);
        CHECK(r.error().status == 503);
    }
    SECTION("the source holds fewer bytes than recorded")
    {
        auto r = stream_copy(request(a, b, data.size() + 10));
        REQUIRE_FALSE(r);
        CHECK(b.find("dst", "k2") == nullptr);
    }
    SECTION("the source holds more bytes than recorded")
    {
        auto r = stream_copy(request(a, b, data.size() - 10));
        REQUIRE_FALSE(r);
    }
    SECTION("the target stores other bytes than it was sent")
    {
        b.corrupt_puts = true; // its ETag is the MD5 of what it stored
        auto r = stream_copy(request(a, b, data.size()));
        REQUIRE_FALSE(r);
        CHECK(r.error().code == "BadDigest");
    }
    SECTION("a multipart copy whose source fails midway is aborted")
    {
        CopyRequest req = request(a, b, data.size());
        req.multipart_threshold = 10;
        req.part_size = 30000;
        a.fail_gets = true;
        auto r = stream_copy(req);
        REQUIRE_FALSE(r);
        CHECK(b.open_uploads() == 0);
    }
}

TEST_CASE("ETags are recognised as plain MD5s or not", "[gateway][copy]")
{
    CHECK(is_plain_md5_etag("\"d41d8cd98f00b204e9800998ecf8427e\""));
    CHECK(is_plain_md5_etag("d41d8cd98f00b204e9800998ecf8427e"));
    CHECK_FALSE(is_plain_md5_etag("\"d41d8cd98f00b204e9800998ecf8427e-2\""));
    CHECK_FALSE(is_plain_md5_etag("\"\""));
    CHECK(unquote_etag("\"abc\"") == "abc");
}
