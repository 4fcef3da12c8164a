// Text helpers (see text_style.hpp).
#include "text_style.hpp"

#include "roar/collector/byte_text.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
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
