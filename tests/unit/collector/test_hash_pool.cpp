// The hashing thread pool: results in order and equal to single-threaded
// BLAKE3, errors per file, futures fulfilled even when the pool is
// destroyed with work still queued.
#include "roar/collector/hash_pool.hpp"

#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace roar::collector;
using roar::test::TempDir;

TEST_CASE("hash_all returns every file's BLAKE3 in the order given", "[collector][hash_pool]")
{
    TempDir dir;
    std::vector<std::string> paths, contents;
    for (int i = 0; i < 200; ++i) {
        // Sizes across BLAKE3's 1 KiB chunk and the hasher's 1 MiB read block.
        std::string content(size_t(i) * 7919 % (3 << 20), char('a' + i % 26));
        content += std::to_string(i);
        const auto path = dir / ("f" + std::to_string(i));
        roar::test::write_file(path, content);
        paths.push_back(path.string());
        contents.push_back(std::move(content));
    }
    paths.push_back((dir / "missing").string());
    HashPool pool(3);
    auto results = pool.hash_all(paths);
    REQUIRE(results.size() == paths.size());
    for (size_t i = 0; i < contents.size(); ++i) {
        REQUIRE(results[i]);
        CHECK(results[i]->blake3 == blake3_hex(contents[i]));
        CHECK(results[i]->identity.size == contents[i].size());
    }
    REQUIRE_FALSE(results.back());
    CHECK(results.back().error().message.find("missing") != std::string::npos);
    CHECK(pool.hash_all({}).empty());
}

TEST_CASE("submitted files are hashed; the destructor finishes queued work", "[collector][hash_pool]")
{
    TempDir dir;
    std::vector<std::shared_future<roar::Result<FileDigest>>> futures;
    {
        HashPool pool(1);
        for (int i = 0; i < 50; ++i) {
            const auto path = dir / ("s" + std::to_string(i));
            roar::test::write_file(path, std::string(100000, char('0' + i % 10)));
            futures.push_back(pool.submit(path.string()));
        }
    }
    for (int i = 0; i < 50; ++i) {
        REQUIRE(futures[size_t(i)].wait_for(std::chrono::seconds(0)) == std::future_status::ready);
        auto result = futures[size_t(i)].get();
        REQUIRE(result);
        CHECK(result->blake3 == blake3_hex(std::string(100000, char('0' + i % 10))));
    }
}

TEST_CASE("default_threads leaves a core for the caller and respects the cap", "[collector][hash_pool]")
{
    CHECK(HashPool::default_threads() >= 1);
    CHECK(HashPool::default_threads(1) == 1);
    CHECK(HashPool::default_threads(0) == 1);
}
