// BLAKE3 of bodies streaming through the relay, computed off the event
// loops: a small fixed pool of threads hashes the blocks each body submits,
// strictly in body order (one body is hashed by at most one thread at a
// time), and posts each completion back to the submitting loop, where the
// block's reference is released. Hashing is the relay's largest CPU cost
// per byte, so the loop only copies and moves bytes while the pool hashes.
#pragma once

#include "block.hpp"

#include "blake3.h"

#include <boost/asio/io_context.hpp>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace roar::proxy {

// The lowercase hex BLAKE3 of what `hasher` has seen.
std::string blake3_hex(const blake3_hasher& hasher);

// Where a body's bytes go instead of the pool's plain BLAKE3 (an upload
// part's pieces, its spool file). Called by one pool thread at a time, in
// body order.
class BodySink {
public:
    virtual ~BodySink() = default;
    // The next `len` bytes of the body at `data`.
    virtual void update(const std::uint8_t* data, std::size_t len) = 0;
    // The body ended.
    virtual void finish() = 0;
};

class HashPool {
public:
    // Starts `threads` hashing threads (at least one).
    explicit HashPool(std::size_t threads);
    // Hashes what is queued, then joins the threads.
    ~HashPool();
    HashPool(const HashPool&) = delete;
    HashPool& operator=(const HashPool&) = delete;

    class Digest;
    // A new, empty body hash; with `sink`, the bytes go to it instead and
    // finish() reports an empty hex.
    std::shared_ptr<Digest> start(std::shared_ptr<BodySink> sink = nullptr);
    // Appends the first `len` bytes of `block` to `digest`; once hashed,
    // `done` is posted to `loop` (the pool's reference to the block is
    // released on `loop` just before). The caller must not write the block
    // until then.
    void submit(const std::shared_ptr<Digest>& digest, BlockPtr block, std::size_t len, boost::asio::io_context& loop,
                std::function<void()> done);
    // After every block submitted so far, posts `done(hex)` to `loop`.
    void finish(const std::shared_ptr<Digest>& digest, boost::asio::io_context& loop,
                std::function<void(std::string)> done);

private:
    struct Job;
    void schedule(const std::shared_ptr<Digest>& digest, Job job);
    void work();

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<std::shared_ptr<Digest>> m_ready;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
};

} // namespace roar::proxy
