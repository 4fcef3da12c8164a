// One-line log records to stderr or a file, as text or as one JSON object
// per line, with secrets redacted: every message and every string field
// passes through redact() on its way out, so no call site can print an
// Authorization header, a SigV2 or SigV4 signature, a credential, a
// security token or a cookie, whatever it formats. redact_target() and
// redact_header() are the same rules for callers that want the redacted
// value itself.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

namespace roar::proxy {

enum class LogFormat {
    text, // "<UTC time> roar-proxy[pid] <level>: <message> name=value ..."
    json, // {"time":...,"level":...,"pid":...,"msg":...,<fields>}
};

// A named value of a structured log record.
struct LogField {
    std::string name;
    std::variant<std::string, std::uint64_t, double> value;
};

class Logger {
public:
    // Logs to `path` (appending) or stderr when empty; `verbose` enables debug lines.
    bool open(const std::string& path, bool verbose);
    bool verbose() const { return m_verbose; }
    // Chooses the line format (before other threads log).
    void set_format(LogFormat format) { m_format = format; }
    LogFormat format() const { return m_format; }
    // Writes one record of `level` with the redacted `text`.
    void write(std::string_view level, std::string_view text) { write_record(level, text, {}); }
    // Writes one record of `level`: `message` and `fields`, every string redacted.
    void write_record(std::string_view level, std::string_view message, const std::vector<LogField>& fields);
    ~Logger();

private:
    std::mutex m_mutex;
    std::FILE* m_file = stderr;
    bool m_verbose = false;
    LogFormat m_format = LogFormat::text;
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

// The redacted form of a secret.
inline constexpr std::string_view k_redacted = "REDACTED";

// Whether a query parameter or `key=value` field named `name` carries a
// credential: SigV4's X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token and the Credential/Signature fields of its
// Authorization header, SigV2's AWSAccessKeyId and Signature, chunk and
// trailer signatures, and the usual token names. `name` may be
// percent-encoded; case does not matter.
bool is_secret_parameter(std::string_view name);
// Whether the whole value of header `name` is secret (Authorization,
// Proxy-Authorization, Cookie, Set-Cookie, X-Amz-Security-Token, SSE-C keys).
bool is_secret_header(std::string_view name);

// `text` with the value of every credential-bearing `name=value` (query
// parameters, Authorization header fields), of every secret header
// written as `Name: value` (to the end of its line) and the password of
// every `scheme://user:password@host` replaced by REDACTED.
std::string redact(std::string_view text);
// `target` (path?query) with the value of every secret query parameter
// replaced by REDACTED.
std::string redact_target(std::string_view target);
// `value` of header `name`, or REDACTED when is_secret_header(name) (and
// with secret fields redacted otherwise).
std::string redact_header(std::string_view name, std::string_view value);

} // namespace roar::proxy
