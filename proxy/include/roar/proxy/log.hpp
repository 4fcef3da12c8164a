// One-line log records to stderr or a file, with secrets redacted: the
// proxy never logs Authorization, X-Amz-Signature, security tokens or
// secret keys; redact_target() and redact_header() are the only ways
// request data reaches a log line.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace roar::proxy {

class Logger {
public:
    // Logs to `path` (appending) or stderr when empty; `verbose` enables debug lines.
    bool open(const std::string& path, bool verbose);
    bool verbose() const { return m_verbose; }
    // Writes one line "<UTC time> roar-proxy[pid] <level>: <text>".
    void write(std::string_view level, std::string_view text);
    ~Logger();

private:
    std::mutex m_mutex;
    std::FILE* m_file = stderr;
    bool m_verbose = false;
};

Logger& logger();

template <typename... Args> void log_info(fmt::format_string<Args...> f, Args&&... args)
{
    logger().write("info", fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void log_warn(fmt::format_string<Args...> f, Args&&... args)
{
    logger().write("warn", fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args> void log_debug(fmt::format_string<Args...> f, Args&&... args)
{
    if (logger().verbose()) {
        logger().write("debug", fmt::format(f, std::forward<Args>(args)...));
    }
}

// `target` (path?query) with the values of X-Amz-Signature,
// X-Amz-Security-Token and X-Amz-Credential replaced by "REDACTED".
std::string redact_target(std::string_view target);
// `value` of header `name`, or "REDACTED" for Authorization, tokens and cookies.
std::string redact_header(std::string_view name, std::string_view value);

} // namespace roar::proxy
