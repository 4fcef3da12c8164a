// A few threads that hash files with blake3_file, so that the outputs and
// uncached inputs of a job are hashed on every core instead of one, and
// files can be hashed while the job still runs.
#pragma once

#include "roar/collector/file_hasher.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace roar::collector {

class HashPool {
public:
    // Starts `threads` worker threads (at least one).
    explicit HashPool(unsigned threads);
    HashPool(const HashPool&) = delete;
    HashPool& operator=(const HashPool&) = delete;
    // Waits for the task being run on each thread; queued tasks still run
    // first, so no future handed out is left unfulfilled.
    ~HashPool();

    // The number of workers suited to this machine: one per core beyond
    // the caller's, at least one, at most `cap`.
    static unsigned default_threads(unsigned cap = 4);

    // Queues the hashing of `path`; the future holds blake3_file's result.
    std::shared_future<Result<FileDigest>> submit(std::string path);

    // blake3_file of every one of `paths`, in the same order; the calling
    // thread hashes too, so this never waits behind queued work alone.
    std::vector<Result<FileDigest>> hash_all(const std::vector<std::string>& paths);

    // Calls `work` with every index in [0, count), on the workers and the
    // calling thread together, in no set order; returns when every call
    // has returned. `work` must be safe to call from several threads.
    void for_each(size_t count, const std::function<void(size_t)>& work);

    // Queues `task` to run on a worker thread (after the tasks queued
    // before it); the destructor still runs it if it has not started.
    void post(std::function<void()> task);

private:
    void run_worker();

    std::mutex m_mutex;
    std::condition_variable m_ready;
    std::deque<std::function<void()>> m_tasks;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
};

} // namespace roar::collector
