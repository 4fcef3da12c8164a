// Path filtering for inputs/outputs (see path_filter.hpp).
#include "roar/collector/path_filter.hpp"

#include <cstdlib>
#include <fnmatch.h>

namespace roar::collector {

namespace {

std::string expand_home(const std::string& pattern)
{
    if (pattern.rfind("~/", 0) == 0) {
        const char* home = std::getenv("HOME");
        return std::string(home && *home ? home : "/root") + pattern.substr(1);
    }
    return pattern;
}

bool matches(const std::string& pattern, std::string_view path)
{
    if (!pattern.empty() && pattern.back() == '/') {
        const std::string_view dir(pattern.data(), pattern.size() - 1);
        return path == dir || (path.size() > dir.size() && path.substr(0, pattern.size()) == pattern);
    }
    return fnmatch(pattern.c_str(), std::string(path).c_str(), 0) == 0;
}

} // namespace

PathFilter::PathFilter(std::vector<std::string> exclude, std::vector<std::string> include)
{
    for (auto& p : exclude) {
        m_exclude.push_back(expand_home(p));
    }
    for (auto& p : include) {
        m_include.push_back(expand_home(p));
    }
}

std::vector<std::string> PathFilter::default_excludes()
{
    return {
        "/usr/",
        "/lib/",
        "/lib32/",
        "/lib64/",
        "/libx32/",
        "/bin/",
        "/sbin/",
        "/etc/",
        "/proc/",
        "/sys/",
        "/dev/",
        "/run/",
        "/var/lib/",
        "/var/cache/",
        "/var/run/",
        "*/.roar/*",
        "*/site-packages/*",
        "*/dist-packages/*",
        "*/lib/python3*/*",
        "*/__pycache__/*",
        "*.pyc",
        "~/.pyenv/",
        "~/.cache/",
        "~/.aws/",
        "~/.config/",
        "~/.local/lib/",
        "~/.npm/",
        "*/node_modules/*",
        "/tmp/.X11-unix/",
        "/nonexistent/",
    };
}

bool PathFilter::accepts(std::string_view path) const
{
    for (const auto& p : m_include) {
        if (matches(p, path)) {
            return true;
        }
    }
    for (const auto& p : m_exclude) {
        if (matches(p, path)) {
            return false;
        }
    }
    return true;
}

} // namespace roar::collector
