// Reading the small text files environment capture learns from
// (/etc/os-release, dpkg's lists, dist-info metadata): whole files with one
// read loop, and "Key: value" / "KEY=value" lines. Private to the collector
// (git_state.cpp reads .git/config with read_file too).
#pragma once

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <fcntl.h>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>

namespace roar::collector::text {

// The first `limit` bytes of `path`, or nothing if it cannot be opened.
inline std::optional<std::string> read_file(const std::string& path, size_t limit = size_t(64) << 20)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return std::nullopt;
    }
    std::string out;
    char buf[65536];
    while (out.size() < limit) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        out.append(buf, size_t(n));
    }
    ::close(fd);
    if (out.size() > limit) {
        out.resize(limit);
    }
    return out;
}

// Calls `fn(line)` for each line of `text`, without its newline (and
// without a trailing carriage return).
template <typename Fn> void for_each_line(std::string_view text, Fn&& fn)
{
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        fn(line);
        if (nl == std::string_view::npos) {
            break;
        }
        text.remove_prefix(nl + 1);
    }
}

inline std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

// The value of `line` if it is "Key: value" (RFC 822 style, as in dpkg's
// status and Python's METADATA), else nothing.
inline std::optional<std::string_view> header_value(std::string_view line, std::string_view key)
{
    if (line.size() <= key.size() || line.compare(0, key.size(), key) != 0 || line[key.size()] != ':') {
        return std::nullopt;
    }
    return trim(line.substr(key.size() + 1));
}

// An unsigned decimal number in `s` (surrounding blanks allowed).
inline std::optional<uint64_t> parse_u64(std::string_view s)
{
    s = trim(s);
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

inline bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
inline bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

} // namespace roar::collector::text
