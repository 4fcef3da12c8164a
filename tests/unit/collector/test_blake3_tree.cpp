// BLAKE3's tree used directly (blake3_tree.cpp): parallel subtrees and
// digests assembled from pieces must equal the reference hasher's digest
// of the same bytes, for lengths around every chunk, block and subtree
// boundary and for pieces split anywhere and fed in any order.
#include "roar/collector/blake3_tree.hpp"
#include "roar/collector/file_hasher.hpp"

#include "temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

using namespace roar::collector;

namespace {

std::vector<uint8_t> random_bytes(size_t n, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<uint8_t> data(n);
    for (auto& b : data) {
        b = uint8_t(rng());
    }
    return data;
}

std::string reference(const std::vector<uint8_t>& data, size_t len)
{
    return blake3_hex(std::string_view(reinterpret_cast<const char*>(data.data()), len));
}

// Lengths at and around the boundaries the tree code treats specially.
std::vector<size_t> boundary_lengths()
{
    std::vector<size_t> lens = {0, 1, 63, 64, 65, 1023, 1024, 1025, 2047, 2048, 2049, 3072, 5000, 65535, 65536};
    for (size_t base : {size_t(1) << 19, size_t(1) << 20, size_t(3) << 20, size_t(9) << 20}) {
        lens.insert(lens.end(), {base - 1, base, base + 1, base + 1024, base + 1500});
    }
    return lens;
}

} // namespace

TEST_CASE("tree hashing on 1, 2 and 4 threads equals the reference digest", "[collector][hash][blake3_tree]")
{
    const auto data = random_bytes((9 << 20) + 1500, 1);
    for (size_t len : boundary_lengths()) {
        const std::string want = reference(data, len);
        for (unsigned threads : {1u, 2u, 4u}) {
            INFO("length " << len << ", threads " << threads);
            CHECK(blake3::hash_parallel(data.data(), len, threads) == want);
        }
    }
}

TEST_CASE("pieces split anywhere and fed in any order give the reference digest", "[collector][hash][blake3_tree]")
{
    const auto data = random_bytes((9 << 20) + 1500, 2);
    std::mt19937_64 rng(3);
    for (size_t len : boundary_lengths()) {
        for (int trial = 0; trial < 4; ++trial) {
            std::vector<uint64_t> cuts = {0, len};
            if (trial == 1) {
                for (uint64_t c = 1 << 20; c < len; c += 1 << 20) {
                    cuts.push_back(c); // equal 1 MiB parts, as multipart uploads have
                }
            } else if (len > 0) {
                for (int k = int(rng() % 5); k > 0; --k) {
                    cuts.push_back(rng() % len);
                }
            }
            std::sort(cuts.begin(), cuts.end());
            cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
            std::vector<std::pair<uint64_t, uint64_t>> pieces;
            for (size_t i = 0; i + 1 < cuts.size(); ++i) {
                pieces.emplace_back(cuts[i], cuts[i + 1]);
            }
            std::shuffle(pieces.begin(), pieces.end(), rng);
            blake3::PieceHasher hasher;
            for (auto [from, to] : pieces) {
                hasher.begin_piece(from);
                for (uint64_t at = from; at < to;) {
                    const uint64_t n = std::min<uint64_t>(to - at, 1 + rng() % 300000);
                    hasher.update(data.data() + at, n);
                    at += n;
                }
                hasher.end_piece();
            }
            INFO("length " << len << ", " << pieces.size() << " pieces, trial " << trial);
            auto digest = hasher.finalize(len);
            REQUIRE(digest);
            CHECK(blake3::to_hex(*digest) == reference(data, len));
        }
    }
}

TEST_CASE("pieces that do not cover the content exactly give no digest", "[collector][hash][blake3_tree]")
{
    const auto data = random_bytes(3 << 20, 4);
    blake3::PieceHasher hasher;
    hasher.begin_piece(0);
    hasher.update(data.data(), 1 << 20);
    hasher.end_piece();
    hasher.begin_piece(2 << 20); // [1 MiB, 2 MiB) missing
    hasher.update(data.data() + (2 << 20), 1 << 20);
    hasher.end_piece();
    CHECK_FALSE(hasher.finalize(3 << 20));
    CHECK_FALSE(hasher.finalize(2 << 20));

    blake3::PieceHasher whole;
    whole.begin_piece(0);
    whole.update(data.data(), data.size());
    whole.end_piece();
    CHECK(whole.finalize(data.size()));
    CHECK_FALSE(whole.finalize(data.size() + 1)); // claims more than was seen
    CHECK_FALSE(whole.finalize(data.size() - 1));
}

TEST_CASE("files large enough for several threads hash like the reference", "[collector][hash][blake3_tree]")
{
    roar::test::TempDir dir;
    const auto data = random_bytes((40 << 20) + 4321, 5);
    roar::test::write_file(dir / "big", std::string(reinterpret_cast<const char*>(data.data()), data.size()));
    auto digest = blake3_file((dir / "big").string());
    REQUIRE(digest);
    CHECK(digest->blake3 == reference(data, data.size()));
    CHECK_FALSE(digest->changed_while_hashing);
}
