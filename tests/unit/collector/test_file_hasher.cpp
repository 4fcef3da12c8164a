// BLAKE3 digests against the official test vectors' well-known values.
#include "roar/collector/file_hasher.hpp"

#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

using namespace roar::collector;

namespace {

std::string pattern(size_t n)
{
    std::string s;
    s.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        s.push_back(char('a' + i % 23));
    }
    return s;
}

} // namespace

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

TEST_CASE("files of every size around one read block are hashed whole", "[collector][hash]")
{
    // One read is 1 MiB: an empty file, a file that ends inside the first
    // read, one that fills it exactly (the read after it returns 0) and one
    // that spills into a second.
    roar::test::TempDir dir;
    for (size_t size : {size_t(0), size_t(1), size_t(8), size_t(4095), size_t(1 << 20) - 1, size_t(1 << 20),
                        size_t(1 << 20) + 1, size_t(2 << 20)}) {
        INFO("size " << size);
        const std::string content = pattern(size);
        roar::test::write_file(dir / "f", content);
        auto digest = blake3_file((dir / "f").string());
        REQUIRE(digest);
        CHECK(digest->blake3 == blake3_hex(content));
        CHECK(digest->identity.size == size);
        CHECK_FALSE(digest->changed_while_hashing);
    }
}

TEST_CASE("a digest not marked changed is the digest of the file at the size it reports", "[collector][hash]")
{
    // A writer appends to the file while it is hashed again and again. A
    // digest may cover more bytes than the size fstat gave before the read
    // (the file grew in between): it must then be marked changed. Every
    // unmarked digest is checked against the bytes the file held at its size.
    roar::test::TempDir dir;
    const auto path = (dir / "growing").string();
    const std::string content = pattern(256 << 10);
    roar::test::write_file(dir / "growing", content.substr(0, 1));
    std::atomic<bool> done{false};
    std::thread writer([&] {
        const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
        for (size_t at = 1; at < content.size() && !done.load(); at += 7) {
            const size_t n = std::min<size_t>(7, content.size() - at);
            if (::write(fd, content.data() + at, n) != ssize_t(n)) {
                break;
            }
        }
        ::close(fd);
        done = true;
    });
    for (int i = 0; i < 2000 && !done.load(); ++i) {
        auto digest = blake3_file(path);
        REQUIRE(digest);
        if (!digest->changed_while_hashing) {
            REQUIRE(digest->identity.size <= content.size());
            CHECK(digest->blake3 == blake3_hex(std::string_view(content).substr(0, digest->identity.size)));
        }
    }
    done = true;
    writer.join();
    auto last = blake3_file(path);
    REQUIRE(last);
    CHECK(last->blake3 == blake3_hex(std::string_view(content).substr(0, last->identity.size)));
}

TEST_CASE("hashing a missing file or a directory is an error naming it", "[collector][hash]")
{
    roar::test::TempDir dir;
    auto missing = blake3_file((dir / "nope").string());
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("nope") != std::string::npos);
    CHECK_FALSE(blake3_file(dir.path().string()));
}
