// BLAKE3 digests against the official test vectors' well-known values.
#include "roar/collector/file_hasher.hpp"

#include "temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace roar::collector;

TEST_CASE("BLAKE3 of known inputs", "[collector][hash]")
{
    CHECK(blake3_hex("") == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    CHECK(blake3_hex("abc") == "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
}

TEST_CASE("file digests equal in-memory digests across read-block boundaries", "[collector][hash]")
{
    roar::test::TempDir dir;
    std::string content;
    for (int i = 0; i < (3 << 20) + 17; ++i) {
        content.push_back(char('a' + i % 26));
    }
    roar::test::write_file(dir / "big", content);
    auto digest = blake3_file((dir / "big").string());
    REQUIRE(digest);
    CHECK(digest->blake3 == blake3_hex(content));
    CHECK(digest->identity.size == content.size());
    CHECK(digest->identity.is_regular);
    CHECK_FALSE(digest->changed_while_hashing);
}

TEST_CASE("hashing a missing file or a directory is an error naming it", "[collector][hash]")
{
    roar::test::TempDir dir;
    auto missing = blake3_file((dir / "nope").string());
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("nope") != std::string::npos);
    CHECK_FALSE(blake3_file(dir.path().string()));
}
