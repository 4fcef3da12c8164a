// Lexical resolution of shim-reported paths (see path_resolver.hpp).
#include "roar/collector/path_resolver.hpp"

#include <vector>

namespace roar::collector {

std::string resolve_path(std::string_view base, std::string_view path)
{
    std::string joined;
    if (!path.empty() && path.front() == '/') {
        joined = path;
    } else {
        joined.reserve(base.size() + 1 + path.size());
        joined = base;
        joined += '/';
        joined += path;
    }
    std::vector<std::string_view> parts;
    std::string_view rest = joined;
    while (!rest.empty()) {
        const size_t slash = rest.find('/');
        const std::string_view part = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
        if (part.empty() || part == ".") {
            continue;
        }
        if (part == "..") {
            if (!parts.empty()) {
                parts.pop_back();
            }
            continue;
        }
        parts.push_back(part);
    }
    std::string out;
    out.reserve(joined.size());
    for (const auto& part : parts) {
        out += '/';
        out += part;
    }
    return out.empty() ? std::string("/") : out;
}

bool path_is_within(std::string_view path, std::string_view dir)
{
    if (dir == "/") {
        return !path.empty() && path.front() == '/';
    }
    return path.size() >= dir.size() && path.substr(0, dir.size()) == dir
           && (path.size() == dir.size() || path[dir.size()] == '/');
}

} // namespace roar::collector
