// Resolution of shim-reported paths (see path_resolver.hpp).
#include "roar/collector/path_resolver.hpp"

#include <climits>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace roar::collector {

namespace {

// As the kernel's limit on links followed in one lookup (ELOOP).
constexpr int k_max_links = 40;

} // namespace

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

bool has_dot_dot(std::string_view path)
{
    for (size_t at = path.find(".."); at != std::string_view::npos; at = path.find("..", at + 1)) {
        const bool starts = at == 0 || path[at - 1] == '/';
        const bool ends = at + 2 == path.size() || path[at + 2] == '/';
        if (starts && ends) {
            return true;
        }
    }
    return false;
}

std::string PathResolver::resolve(std::string_view base, std::string_view path)
{
    if (!has_dot_dot(path)) {
        return resolve_path(base, path);
    }
    std::string out;
    if (path.empty() || path.front() != '/') {
        out = resolve_path("/", base);
        if (out == "/") {
            out.clear();
        }
    }
    out.reserve(out.size() + 1 + path.size());
    append(out, path, 0);
    return out.empty() ? std::string("/") : out;
}

void PathResolver::append(std::string& out, std::string_view path, int depth)
{
    while (!path.empty()) {
        const size_t slash = path.find('/');
        const std::string_view part = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
        if (part.empty() || part == ".") {
            continue;
        }
        if (part == "..") {
            out = parent_of(out, depth);
            continue;
        }
        out += '/';
        out += part;
    }
}

std::string PathResolver::parent_of(const std::string& dir, int depth)
{
    if (dir.empty()) {
        return dir; // the root's ".." is the root
    }
    if (auto known = m_parents.find(dir); known != m_parents.end()) {
        return known->second;
    }
    // ".." after a directory named by a real entry is the directory that
    // entry is in, however that was named: only a link's ".." is elsewhere.
    std::string parent = dir.substr(0, dir.rfind('/'));
    struct stat sb { };
    ++m_lookups;
    if (lstat(dir.c_str(), &sb) != 0) {
        return parent; // the call it came from failed: nothing to remember
    }
    if (S_ISLNK(sb.st_mode) && depth < k_max_links) {
        char target[PATH_MAX];
        const ssize_t n = readlink(dir.c_str(), target, sizeof target);
        if (n > 0 && size_t(n) < sizeof target) {
            std::string to =
                target[0] == '/' ? std::string() : parent; // a relative target is from the link's directory
            append(to, std::string_view(target, size_t(n)), depth + 1);
            parent = parent_of(to, depth + 1); // the target may be a link too
        }
    }
    if (m_parents.size() >= m_max_cached) {
        m_parents.clear();
    }
    m_parents.emplace(dir, parent);
    return parent;
}

} // namespace roar::collector
