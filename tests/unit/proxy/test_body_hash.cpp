// BodyHash: the relay's off-thread BLAKE3 must equal a one-shot BLAKE3 of
// the same bytes for every size and every way of feeding it (copying
// update() in odd pieces, lent blocks with a short last one), including
// bodies of many more blocks than the pipeline holds at once.
#include "body_hash.hpp"

#include "blake3.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using roar::proxy::BodyHash;

namespace {

std::string reference_hex(const std::vector<char>& data)
{
    blake3_hasher h;
    blake3_hasher_init(&h);
    blake3_hasher_update(&h, data.data(), data.size());
    std::uint8_t out[BLAKE3_OUT_LEN];
    blake3_hasher_finalize(&h, out, BLAKE3_OUT_LEN);
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string s;
    for (const auto b : out) {
        s.push_back(k_digits[b >> 4]);
        s.push_back(k_digits[b & 0xf]);
    }
    return s;
}

std::vector<char> random_bytes(std::size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::vector<char> v(n);
    for (auto& c : v) {
        c = static_cast<char>(rng());
    }
    return v;
}

} // namespace

TEST_CASE("BodyHash of pieces equals BLAKE3 of the whole", "[proxy][body_hash]")
{
    const std::size_t block = BodyHash::k_block;
    const std::size_t size =
        GENERATE_COPY(std::size_t{0}, std::size_t{1}, std::size_t{1023}, std::size_t{1024}, block - 1, block, block + 1,
                      3 * block + 17, (BodyHash::k_blocks * 3) * block + 4097);
    const std::size_t piece = GENERATE(std::size_t{1000}, std::size_t{16384}, std::size_t{400000});
    const auto data = random_bytes(size, static_cast<unsigned>(size + piece));
    // Told the size (small bodies are then hashed inline) or not.
    const bool hinted = GENERATE(false, true);
    BodyHash h(hinted ? size : UINT64_MAX);
    CHECK(h.is_inline() == (hinted && size <= block));
    for (std::size_t at = 0; at < size; at += piece) {
        h.update(data.data() + at, std::min(piece, size - at));
    }
    CHECK(h.finish_hex() == reference_hex(data));
}

TEST_CASE("BodyHash with lent blocks equals BLAKE3 of the whole", "[proxy][body_hash]")
{
    const std::size_t block = BodyHash::k_block;
    // Full blocks then a short one, more blocks than the pipeline owns.
    const std::size_t size =
        GENERATE_COPY(std::size_t{5}, block, 2 * block + 3, (BodyHash::k_blocks * 4) * block + 999);
    const auto data = random_bytes(size, static_cast<unsigned>(size));
    BodyHash h;
    std::vector<const char*> seen;
    for (std::size_t at = 0; at < size; at += block) {
        auto b = h.take_block();
        REQUIRE(b);
        const std::size_t len = std::min(block, size - at);
        std::memcpy(b.get(), data.data() + at, len);
        seen.push_back(b.get());
        h.submit(std::move(b), len);
    }
    CHECK(h.finish_hex() == reference_hex(data));
    // Blocks are recycled: never more distinct blocks than the bound.
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    CHECK(seen.size() <= BodyHash::k_blocks);
}

TEST_CASE("BodyHash abandoned mid-body joins its helper", "[proxy][body_hash]")
{
    const auto data = random_bytes(3 * BodyHash::k_block, 7);
    {
        BodyHash h;
        h.update(data.data(), data.size());
    } // destructor must not hang or leak the thread (ASan/TSan builds check)
    BodyHash empty;
    CHECK(empty.finish_hex() == reference_hex({}));
}

TEST_CASE("BodyHash sink gets every block in order before it is reused", "[proxy][body_hash][sink]")
{
    const std::size_t block = BodyHash::k_block;
    // Full blocks and short ones (a slow upstream's partial flushes), more
    // blocks than the pipeline owns.
    const auto data = random_bytes((BodyHash::k_blocks * 5) * block + 12345, 11);
    BodyHash h;
    std::string sunk; // only the helper appends, read after finish_hex()
    std::size_t calls = 0;
    h.set_sink([&](const char* p, std::size_t n) {
        sunk.append(p, n);
        ++calls;
        return true;
    });
    std::size_t at = 0;
    std::size_t submitted = 0;
    while (at < data.size()) {
        auto b = h.take_block();
        const std::size_t len = std::min(submitted % 3 == 2 ? block / 3 : block, data.size() - at);
        std::memcpy(b.get(), data.data() + at, len);
        h.submit(std::move(b), len);
        at += len;
        ++submitted;
    }
    CHECK(h.finish_hex() == reference_hex(data));
    CHECK(calls == submitted);
    CHECK(!h.sink_failed());
    CHECK(sunk == std::string(data.begin(), data.end()));
}

TEST_CASE("BodyHash sink failure stops the sink, not the relay", "[proxy][body_hash][sink]")
{
    const std::size_t block = BodyHash::k_block;
    const auto data = random_bytes((BodyHash::k_blocks * 3) * block, 12);
    BodyHash h;
    std::size_t calls = 0;
    h.set_sink([&](const char*, std::size_t) { return ++calls < 2; }); // the 2nd write fails
    // The caller keeps getting blocks (no deadlock once the sink is dead)
    // and the hash still covers everything submitted.
    for (std::size_t at = 0; at < data.size(); at += block) {
        auto b = h.take_block();
        std::memcpy(b.get(), data.data() + at, block);
        h.submit(std::move(b), block);
    }
    CHECK(h.finish_hex() == reference_hex(data));
    CHECK(h.sink_failed());
    CHECK(calls == 2);
}
