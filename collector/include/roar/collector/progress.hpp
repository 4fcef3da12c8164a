// A progress line on a terminal for work that can take long (hashing and
// recording a job's many files, a status over a large tree, an export):
// nothing for the first second, then one line on stderr, rewritten in
// place a few times a second (files and bytes done, rate, time left) and
// erased when the work ends. Callers enable it only when stderr is a
// terminal and the output is for a person (no -q, no --json).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace roar::collector {

// Whether stderr is a terminal that can show a progress line.
bool stderr_shows_progress();

// How long work runs before its progress line shows: a second, or
// ROAR_PROGRESS_DELAY_MS milliseconds when set (tests use 0).
std::chrono::milliseconds progress_delay();

// The line for `label` after `elapsed` seconds: "label: done/total unit"
// (or "done unit" when the total is unknown, 0), bytes and rate when
// known, time left when a total is. `unit` names what is counted.
std::string progress_text(const std::string& label, uint64_t done, uint64_t total, uint64_t bytes,
                          double elapsed_seconds, const std::string& unit = "files");

class ProgressLine {
public:
    // Disabled (no thread, no output) unless `enabled`. `fd`: where the
    // line goes (stderr); `delay`: how long work may take before it shows
    // (zero: drawn at once, and again with the final counts at the end);
    // `unit`: what add() counts ("files", "jobs").
    ProgressLine(bool enabled, std::string label, int fd = 2, std::chrono::milliseconds delay = progress_delay(),
                 std::string unit = "files");
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;
    ~ProgressLine(); // erases the line if it was shown

    bool enabled() const { return m_thread.joinable(); }
    void set_total(uint64_t items) { m_total.store(items, std::memory_order_relaxed); }
    // Any thread: `items` more done, `bytes` more processed.
    void add(uint64_t items, uint64_t bytes = 0)
    {
        m_done.fetch_add(items, std::memory_order_relaxed);
        m_bytes.fetch_add(bytes, std::memory_order_relaxed);
    }

private:
    void run(std::chrono::milliseconds delay);

    std::string m_label;
    std::string m_unit;
    int m_fd;
    std::atomic<uint64_t> m_done{0}, m_total{0}, m_bytes{0};
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    bool m_shown = false;
    std::chrono::steady_clock::time_point m_start;
    std::thread m_thread;
};

} // namespace roar::collector
