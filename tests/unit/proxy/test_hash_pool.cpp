// The hashing pool: BLAKE3 of blocks submitted by several bodies at once,
// hashed off the submitting loop in body order, equals a one-shot BLAKE3
// of each whole body; completions and the final digest come back on the loop.
#include "hash_pool.hpp"

#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <string>
#include <vector>

using namespace roar::proxy;

namespace {

std::string one_shot(const std::string& data)
{
    blake3_hasher h;
    blake3_hasher_init(&h);
    blake3_hasher_update(&h, data.data(), data.size());
    return blake3_hex(h);
}

std::string random_bytes(std::size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) {
        c = static_cast<char>(rng());
    }
    return s;
}

} // namespace

TEST_CASE("the pool's digest of interleaved bodies equals BLAKE3 of each", "[proxy][hash_pool]")
{
    boost::asio::io_context loop;
    HashPool pool(GENERATE(1, 3));
    const std::vector<std::string> bodies = {random_bytes(0, 1), random_bytes(1, 2), random_bytes(300 * 1024 + 7, 3),
                                             random_bytes(2 * 1024 * 1024 + 1, 4)};
    std::vector<std::shared_ptr<HashPool::Digest>> digests;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        digests.push_back(pool.start());
    }
    std::size_t released = 0;
    std::vector<std::size_t> offsets(bodies.size(), 0);
    bool more = true;
    while (more) { // round robin over the bodies, blocks of varying size
        more = false;
        for (std::size_t i = 0; i < bodies.size(); ++i) {
            const std::size_t left = bodies[i].size() - offsets[i];
            if (left == 0) {
                continue;
            }
            more = true;
            const std::size_t len = std::min<std::size_t>(left, 1000 + 77777 * (i + 1));
            auto block = std::make_shared<Block>(len);
            std::memcpy(block->data.get(), bodies[i].data() + offsets[i], len);
            block->len = len;
            offsets[i] += len;
            pool.submit(digests[i], block, len, loop, [&released] { ++released; });
        }
    }
    std::vector<std::string> hex(bodies.size());
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        pool.finish(digests[i], loop, [&hex, i](std::string h) { hex[i] = std::move(h); });
    }
    // The completions arrive as posted handlers: run the loop until they have.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline
           && !std::all_of(hex.begin(), hex.end(), [](const std::string& h) { return !h.empty(); })) {
        loop.restart();
        loop.poll();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (std::size_t i = 0; i < bodies.size(); ++i) {
        CHECK(hex[i] == one_shot(bodies[i]));
    }
    CHECK(released > 0);
}
