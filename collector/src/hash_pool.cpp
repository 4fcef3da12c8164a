// The hashing thread pool (see hash_pool.hpp). for_each (and hash_all on
// it) shares one atomic cursor between the caller and the workers, so a
// batch of many small files costs one queue operation per thread, not one
// per file.
#include "roar/collector/hash_pool.hpp"

#include <algorithm>
#include <atomic>
#include <memory>

namespace roar::collector {

namespace {

// One for_each call: the work, how many items, and how far it got.
struct Batch {
    const std::function<void(size_t)>* work = nullptr;
    size_t total = 0;
    std::atomic<size_t> next{0};
    std::mutex mutex;
    std::condition_variable finished;
    size_t done = 0; // guarded by mutex

    // Does items until none are left; safe to call after the batch ended
    // (`work` is then never called: it may be gone).
    void run()
    {
        size_t mine = 0;
        for (size_t i = next.fetch_add(1); i < total; i = next.fetch_add(1)) {
            (*work)(i);
            ++mine;
        }
        if (mine > 0) {
            std::lock_guard lock(mutex);
            done += mine;
            if (done == total) {
                finished.notify_all();
            }
        }
    }
};

} // namespace

HashPool::HashPool(unsigned threads)
{
    threads = std::max(1u, threads);
    for (unsigned i = 0; i < threads; ++i) {
        m_threads.emplace_back([this] { run_worker(); });
    }
}

HashPool::~HashPool()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_ready.notify_all();
    for (auto& t : m_threads) {
        t.join();
    }
}

unsigned HashPool::default_threads(unsigned cap)
{
    const unsigned cores = std::thread::hardware_concurrency();
    return std::clamp(cores > 1 ? cores - 1 : 1u, 1u, std::max(1u, cap));
}

void HashPool::run_worker()
{
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(m_mutex);
            m_ready.wait(lock, [this] { return m_stopping || !m_tasks.empty(); });
            if (m_tasks.empty()) {
                return; // stopping, and nothing left that a future waits for
            }
            task = std::move(m_tasks.front());
            m_tasks.pop_front();
        }
        task();
    }
}

void HashPool::post(std::function<void()> task)
{
    {
        std::lock_guard lock(m_mutex);
        m_tasks.push_back(std::move(task));
    }
    m_ready.notify_one();
}

std::shared_future<Result<FileDigest>> HashPool::submit(std::string path)
{
    auto task = std::make_shared<std::packaged_task<Result<FileDigest>()>>(
        [path = std::move(path)] { return blake3_file(path); });
    std::shared_future<Result<FileDigest>> future = task->get_future().share();
    post([task] { (*task)(); });
    return future;
}

void HashPool::for_each(size_t count, const std::function<void(size_t)>& work)
{
    if (count == 0) {
        return;
    }
    auto batch = std::make_shared<Batch>();
    batch->work = &work;
    batch->total = count;
    // Helpers that start after the batch is done find no item left and
    // touch nothing but their shared_ptr.
    const size_t helpers = std::min(m_threads.size(), count - 1);
    for (size_t i = 0; i < helpers; ++i) {
        post([batch] { batch->run(); });
    }
    batch->run();
    std::unique_lock lock(batch->mutex);
    batch->finished.wait(lock, [&] { return batch->done == count; });
}

std::vector<Result<FileDigest>> HashPool::hash_all(const std::vector<std::string>& paths)
{
    std::vector<Result<FileDigest>> out(paths.size());
    for_each(paths.size(), [&](size_t i) { out[i] = blake3_file(paths[i]); });
    return out;
}

} // namespace roar::collector
