// HashPool: per-body ordered job queues served by a fixed set of threads.
#include "hash_pool.hpp"

#include <boost/asio/post.hpp>

namespace roar::proxy {

struct HashPool::Job {
    BlockPtr block; // null: the final job
    std::size_t len = 0;
    boost::asio::io_context* loop = nullptr;
    std::function<void()> done;
    std::function<void(std::string)> final;
};

class HashPool::Digest {
public:
    explicit Digest(std::shared_ptr<BodySink> sink) : m_sink(std::move(sink)) { blake3_hasher_init(&m_hasher); }

private:
    friend class HashPool;
    std::shared_ptr<BodySink> m_sink; // null: the bytes go to m_hasher
    blake3_hasher m_hasher{};         // touched only by the thread that holds `m_scheduled`
    std::deque<Job> m_jobs;           // guarded by the pool's mutex
    bool m_scheduled = false;         // in the ready queue or being hashed
};

std::string blake3_hex(const blake3_hasher& hasher)
{
    std::uint8_t out[BLAKE3_OUT_LEN];
    blake3_hasher_finalize(&hasher, out, BLAKE3_OUT_LEN);
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string s;
    s.reserve(2 * BLAKE3_OUT_LEN);
    for (const auto b : out) {
        s.push_back(k_digits[b >> 4]);
        s.push_back(k_digits[b & 0xf]);
    }
    return s;
}

HashPool::HashPool(std::size_t threads)
{
    for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
        m_threads.emplace_back([this] { work(); });
    }
}

HashPool::~HashPool()
{
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
    }
    m_cv.notify_all();
    for (auto& t : m_threads) {
        t.join();
    }
}

std::shared_ptr<HashPool::Digest> HashPool::start(std::shared_ptr<BodySink> sink)
{
    return std::make_shared<Digest>(std::move(sink));
}

void HashPool::schedule(const std::shared_ptr<Digest>& digest, Job job)
{
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        digest->m_jobs.push_back(std::move(job));
        if (digest->m_scheduled) {
            return;
        }
        digest->m_scheduled = true;
        m_ready.push_back(digest);
    }
    m_cv.notify_one();
}

void HashPool::submit(const std::shared_ptr<Digest>& digest, BlockPtr block, std::size_t len,
                      boost::asio::io_context& loop, std::function<void()> done)
{
    Job job;
    job.block = std::move(block);
    job.len = len;
    job.loop = &loop;
    job.done = std::move(done);
    schedule(digest, std::move(job));
}

void HashPool::finish(const std::shared_ptr<Digest>& digest, boost::asio::io_context& loop,
                      std::function<void(std::string)> done)
{
    Job job;
    job.loop = &loop;
    job.final = std::move(done);
    schedule(digest, std::move(job));
}

void HashPool::work()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_cv.wait(lock, [this] { return !m_ready.empty() || m_stopping; });
        if (m_ready.empty()) {
            return;
        }
        std::shared_ptr<Digest> digest = std::move(m_ready.front());
        m_ready.pop_front();
        while (!digest->m_jobs.empty()) {
            Job job = std::move(digest->m_jobs.front());
            digest->m_jobs.pop_front();
            lock.unlock();
            if (job.block) {
                if (digest->m_sink) {
                    digest->m_sink->update(reinterpret_cast<const std::uint8_t*>(job.block->data.get()), job.len);
                } else {
                    blake3_hasher_update(&digest->m_hasher, job.block->data.get(), job.len);
                }
                boost::asio::post(*job.loop, [block = std::move(job.block), done = std::move(job.done)]() mutable {
                    block.reset();
                    done();
                });
                lock.lock();
            } else {
                std::string hex;
                if (digest->m_sink) {
                    digest->m_sink->finish();
                } else {
                    hex = blake3_hex(digest->m_hasher);
                }
                boost::asio::post(*job.loop, [hex = std::move(hex), done = std::move(job.final)] { done(hex); });
                lock.lock();
            }
        }
        digest->m_scheduled = false;
    }
}

} // namespace roar::proxy
