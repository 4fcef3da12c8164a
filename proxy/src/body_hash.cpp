// BodyHash: a bounded pipeline of 256 KiB blocks between the relay's
// thread (filling) and one helper thread (sinking and hashing), see
// body_hash.hpp.
#include "body_hash.hpp"

#include <algorithm>
#include <cstring>

namespace roar::proxy {

BodyHash::BodyHash(std::uint64_t expected_size) : m_inline(expected_size <= k_block) { blake3_hasher_init(&m_hasher); }

BodyHash::~BodyHash()
{
    if (m_helper.joinable()) {
        {
            const std::lock_guard<std::mutex> lock(m_mutex);
            m_closing = true;
        }
        m_cv.notify_all();
        m_helper.join();
    }
}

void BodyHash::update(const char* data, std::size_t n)
{
    if (m_inline) {
        blake3_hasher_update(&m_hasher, data, n);
        return;
    }
    while (n > 0) {
        if (!m_current.data) {
            m_current.data = take_block();
            m_current.len = 0;
        }
        const std::size_t take = std::min(n, k_block - m_current.len);
        std::memcpy(m_current.data.get() + m_current.len, data, take);
        m_current.len += take;
        data += take;
        n -= take;
        if (m_current.len == k_block) {
            submit(std::move(m_current.data), k_block);
            m_current = Block{};
        }
    }
}

std::unique_ptr<char[]> BodyHash::take_block()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    if (m_free.empty() && m_allocated == k_blocks) {
        m_cv.wait(lock, [this] { return !m_free.empty(); });
    }
    if (!m_free.empty()) {
        auto b = std::move(m_free.back().data);
        m_free.pop_back();
        return b;
    }
    ++m_allocated;
    return std::unique_ptr<char[]>(new char[k_block]); // not zeroed: every byte hashed is written first
}

void BodyHash::submit(std::unique_ptr<char[]> block, std::size_t len)
{
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        m_full.push_back(Block{std::move(block), len});
    }
    if (!m_helper.joinable()) {
        m_helper = std::thread([this] { work(); });
    } else {
        m_cv.notify_all();
    }
}

void BodyHash::work()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_cv.wait(lock, [this] { return !m_full.empty() || m_closing; });
        if (m_full.empty()) {
            return;
        }
        Block b = std::move(m_full.front());
        m_full.pop_front();
        lock.unlock();
        if (m_sink && !m_sink_failed.load(std::memory_order_relaxed) && !m_sink(b.data.get(), b.len)) {
            m_sink_failed.store(true, std::memory_order_release);
        }
        blake3_hasher_update(&m_hasher, b.data.get(), b.len);
        lock.lock();
        m_free.push_back(std::move(b));
        m_cv.notify_all();
    }
}

std::string BodyHash::finish_hex()
{
    if (m_helper.joinable()) {
        {
            const std::lock_guard<std::mutex> lock(m_mutex);
            m_closing = true;
        }
        m_cv.notify_all();
        m_helper.join(); // the helper drains m_full before it leaves
    }
    if (m_current.data && m_current.len > 0) {
        blake3_hasher_update(&m_hasher, m_current.data.get(), m_current.len);
        m_current.len = 0;
    }
    std::uint8_t out[BLAKE3_OUT_LEN];
    blake3_hasher_finalize(&m_hasher, out, BLAKE3_OUT_LEN);
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * BLAKE3_OUT_LEN);
    for (const auto b : out) {
        s.push_back(k_digits[b >> 4]);
        s.push_back(k_digits[b & 0xf]);
    }
    return s;
}

} // namespace roar::proxy
