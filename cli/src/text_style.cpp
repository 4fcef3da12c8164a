// Text helpers (see text_style.hpp).
#include "text_style.hpp"

#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <string_view>
#include <vector>
#include <unistd.h>

namespace roar::cli {

namespace {
int g_color_override = -1; // -1: decide per stream
}

std::string human_size(std::optional<uint64_t> bytes)
{
    if (!bytes) {
        return "?";
    }
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(*bytes);
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        ++u;
    }
    return u == 0 ? fmt::format("{} B", *bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string short_digest(const std::string& algorithm, const std::string& digest)
{
    return algorithm + ":" + digest.substr(0, algorithm == "etag" ? 18 : 12);
}

std::string human_duration(double s)
{
    if (s < 60) {
        return fmt::format("{:.2f} s", s);
    }
    if (s < 3600) {
        return fmt::format("{} min {} s", int(s) / 60, int(s) % 60);
    }
    return fmt::format("{} h {} min", int(s) / 3600, (int(s) % 3600) / 60);
}

std::string printable(std::string_view text)
{
    // One escaping for every text view: control characters (C0, DEL, C1)
    // and bytes that are not UTF-8 (collector/byte_text.hpp).
    return collector::escaped_text(text);
}

nlohmann::json printable(const nlohmann::json& doc)
{
    if (doc.is_string()) {
        return printable(doc.get_ref<const std::string&>());
    }
    if (doc.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& item : doc) {
            out.push_back(printable(item));
        }
        return out;
    }
    if (doc.is_object()) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [key, value] : doc.items()) {
            out[printable(key)] = printable(value);
        }
        return out;
    }
    return doc;
}

std::string display_command(const std::string& command)
{
    if (command.empty() || command.front() != '/') {
        return printable(command);
    }
    const size_t end = command.find(' ');
    const size_t slash = command.rfind('/', end == std::string::npos ? std::string::npos : end);
    return printable(std::string_view(command).substr(slash + 1));
}

namespace {

// Terminal columns of UTF-8 `text` (continuation bytes take none).
size_t columns(std::string_view text)
{
    size_t n = 0;
    for (char c : text) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

// The first `n` columns of `text`, or its last `n` when `from_end`, cut at a character boundary.
std::string_view take_columns(std::string_view text, size_t n, bool from_end)
{
    if (columns(text) <= n) {
        return text;
    }
    size_t seen = 0;
    if (!from_end) {
        for (size_t i = 0; i < text.size(); ++i) {
            if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && seen++ == n) {
                return text.substr(0, i);
            }
        }
        return text;
    }
    for (size_t i = text.size(); i-- > 0;) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80 && ++seen == n) {
            return text.substr(i);
        }
    }
    return text;
}

} // namespace

std::string elide_middle(const std::string& command, size_t width)
{
    constexpr std::string_view k_gap = " ... ";
    if (columns(command) <= width) {
        return command;
    }
    if (width <= k_gap.size() + 2) {
        return std::string(take_columns(command, width, false));
    }
    std::vector<std::string_view> words;
    std::string_view rest(command);
    while (!rest.empty()) {
        const size_t space = rest.find(' ');
        words.push_back(rest.substr(0, space));
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
    const size_t budget = width - k_gap.size(); // columns for the front and the back together
    // The front: the program, and the next word (the script) while it takes at most half.
    size_t front_words = 1;
    std::string front(words.front());
    if (words.size() > 2 && columns(front) + 1 + columns(words[1]) <= budget / 2) {
        front += " ";
        front += words[1];
        front_words = 2;
    }
    if (columns(front) > budget / 2) {
        front = std::string(take_columns(front, budget / 2, false));
        front_words = words.size() > 1 ? 1 : 0;
    }
    // The back: whole trailing words while they fit; else the end of the last one.
    const size_t room = budget - columns(front);
    std::string back;
    for (size_t i = words.size(); i-- > front_words;) {
        const size_t extra = columns(words[i]) + (back.empty() ? 0 : 1);
        if (columns(back) + extra > room) {
            break;
        }
        back = back.empty() ? std::string(words[i]) : std::string(words[i]) + " " + back;
    }
    if (back.empty()) {
        back = std::string(take_columns(command, room, true));
    }
    return front + std::string(k_gap) + back;
}

void set_color_enabled(bool enabled) { g_color_override = enabled ? 1 : 0; }

bool color_enabled(int fd)
{
    if (g_color_override >= 0) {
        return g_color_override == 1;
    }
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color && *no_color) {
        return false;
    }
    const char* term = std::getenv("TERM");
    return isatty(fd) && !(term && std::string(term) == "dumb");
}

std::string paint(int fd, const char* sgr, const std::string& text)
{
    if (!color_enabled(fd)) {
        return text;
    }
    return fmt::format("\x1b[{}m{}\x1b[0m", sgr, text);
}

} // namespace roar::cli
