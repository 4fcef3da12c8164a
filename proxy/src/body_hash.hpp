// BLAKE3 of a body streaming through the relay, computed beside it: the
// relay copies the bytes it moves into 256 KiB blocks and a helper thread
// hashes each full block while the relay moves the next ones. Hashing is
// most of the relay's own CPU per byte, so on two cores this overlap (and
// feeding BLAKE3 whole blocks instead of curl's 16 KiB pieces) is what
// lets a proxied transfer keep up with a direct one. At most k_blocks
// blocks exist per body; when all of them wait to be hashed, update()
// waits, so memory stays bounded however large the body.
// A body may also have a sink (a proxied GET: the write to the client):
// the helper then passes each block to the sink before hashing it, so the
// relay's thread only receives and copies while the helper sends and
// hashes. Once a sink fails, later blocks are hashed but not sunk, so the
// relay never waits for a block that nobody will release.
#pragma once

#include "blake3.h"

#include <atomic>
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

class BodyHash {
public:
    static constexpr std::size_t k_block = 256 * 1024;
    static constexpr std::size_t k_blocks = 4;

    // `expected_size`: the body's length when known; a body that fits in
    // one block is hashed inline by update(), with no block and no thread.
    explicit BodyHash(std::uint64_t expected_size = UINT64_MAX);
    ~BodyHash();
    BodyHash(const BodyHash&) = delete;
    BodyHash& operator=(const BodyHash&) = delete;

    // Whether this body is hashed inline (small): use update() only.
    bool is_inline() const { return m_inline; }
    // Appends the `n` bytes at `data` to the hashed body.
    void update(const char* data, std::size_t n);
    // Zero-copy variant for a caller that gathers bytes in blocks anyway:
    // take_block() lends a k_block-byte block (waiting while all blocks are
    // queued), submit() appends its first `len` bytes to the body. The
    // caller may still read the block after submit() (e.g. to send it) but
    // must not write it, until its next take_block(). Not to be mixed with
    // update() on one body.
    std::unique_ptr<char[]> take_block();
    void submit(std::unique_ptr<char[]> block, std::size_t len);
    // Waits for the blocks still being hashed and returns the lowercase hex
    // BLAKE3 of everything passed to update(); call once, last.
    std::string finish_hex();

    // Sink for lent blocks: `sink(data, len)` is called on the helper
    // thread with each submitted block, in body order, before it is hashed;
    // false means it failed (then it is not called again). Set before the
    // first submit(); once set, the caller must not read a block after
    // submitting it, and finish_hex() (or the destructor) is the point after
    // which the sink is no longer running.
    void set_sink(std::function<bool(const char*, std::size_t)> sink) { m_sink = std::move(sink); }
    // Whether the sink has failed (may be called while the helper runs).
    bool sink_failed() const { return m_sink_failed.load(std::memory_order_acquire); }

private:
    struct Block {
        std::unique_ptr<char[]> data;
        std::size_t len = 0;
    };
    void work();

    blake3_hasher m_hasher{}; // only the helper thread touches it while it runs
    bool m_inline = false;
    Block m_current; // being filled by update()

    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<Block> m_full;  // waiting for the helper, in body order
    std::vector<Block> m_free; // hashed, ready to be filled again
    std::size_t m_allocated = 0;
    bool m_closing = false;
    std::function<bool(const char*, std::size_t)> m_sink; // run by the helper only
    std::atomic<bool> m_sink_failed{false};
    std::thread m_helper; // started with the first full block
};

} // namespace roar::proxy
