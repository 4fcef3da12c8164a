// The progress line (see progress.hpp).
#include "roar/collector/progress.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace roar::collector {

namespace {

std::string bytes_text(double bytes)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        ++u;
    }
    return u == 0 ? fmt::format("{:.0f} {}", bytes, units[u]) : fmt::format("{:.1f} {}", bytes, units[u]);
}

std::string count_text(uint64_t n)
{
    std::string digits = std::to_string(n);
    for (int at = int(digits.size()) - 3; at > 0; at -= 3) {
        digits.insert(size_t(at), ",");
    }
    return digits;
}

void write_all(int fd, const std::string& text)
{
    size_t off = 0;
    while (off < text.size()) {
        const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
        if (n <= 0) {
            return; // a progress line is never worth an error
        }
        off += size_t(n);
    }
}

} // namespace

bool stderr_shows_progress()
{
    const char* term = std::getenv("TERM");
    return isatty(2) && !(term && std::strcmp(term, "dumb") == 0);
}

std::chrono::milliseconds progress_delay()
{
    const char* given = std::getenv("ROAR_PROGRESS_DELAY_MS");
    int64_t ms = 0;
    if (given && *given) {
        const char* end = given + std::strlen(given);
        if (auto [ptr, ec] = std::from_chars(given, end, ms); ec == std::errc() && ptr == end && ms >= 0) {
            return std::chrono::milliseconds(ms);
        }
    }
    return std::chrono::milliseconds(1000);
}

std::string progress_text(const std::string& label, uint64_t done, uint64_t total, uint64_t bytes,
                          double elapsed_seconds, const std::string& unit)
{
    std::string out = label + ": " + count_text(done);
    if (total > 0) {
        out += "/" + count_text(total);
    }
    out += " " + unit;
    if (bytes > 0) {
        out += ", " + bytes_text(double(bytes));
        if (elapsed_seconds > 0) {
            out += fmt::format(" ({}/s)", bytes_text(double(bytes) / elapsed_seconds));
        }
    }
    if (total > 0 && done > 0 && done < total && elapsed_seconds > 0) {
        const auto left = uint64_t(elapsed_seconds * double(total - done) / double(done) + 0.5);
        out +=
            left >= 60 ? fmt::format(", {} min {:02} s left", left / 60, left % 60) : fmt::format(", {} s left", left);
    }
    return out;
}

ProgressLine::ProgressLine(bool enabled, std::string label, int fd, std::chrono::milliseconds delay, std::string unit)
    : m_label(std::move(label)), m_unit(std::move(unit)), m_fd(fd), m_start(std::chrono::steady_clock::now())
{
    if (enabled) {
        m_thread = std::thread([this, delay] { run(delay); });
    }
}

ProgressLine::~ProgressLine()
{
    if (!m_thread.joinable()) {
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
    if (m_shown) {
        write_all(m_fd, "\r\x1b[K"); // the line goes; what follows starts on a clean one
    }
}

void ProgressLine::run(std::chrono::milliseconds delay)
{
    std::unique_lock lock(m_mutex);
    if (delay.count() > 0 && m_wake.wait_for(lock, delay, [this] { return m_stop; })) {
        return; // done before it was worth showing
    }
    auto draw = [this] {
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
        write_all(m_fd, "\r"
                            + progress_text(m_label, m_done.load(std::memory_order_relaxed),
                                            m_total.load(std::memory_order_relaxed),
                                            m_bytes.load(std::memory_order_relaxed), elapsed, m_unit)
                            + "\x1b[K");
        m_shown = true;
    };
    do {
        draw();
    } while (!m_wake.wait_for(lock, std::chrono::milliseconds(250), [this] { return m_stop; }));
    if (delay.count() == 0) {
        // No delay (ROAR_PROGRESS_DELAY_MS=0, for tests): drawn once more
        // with the final counts, however soon the work ended.
        draw();
    }
}

} // namespace roar::collector
