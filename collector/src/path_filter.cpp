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

} // namespace

// A '*' that fails to extend the match is retried one byte further; only
// the last '*' is ever retried, so this takes at most |pattern| x |text| steps.
bool star_match(std::string_view pattern, std::string_view text)
{
    size_t p = 0, s = 0;
    size_t star = std::string_view::npos, resume = 0;
    while (s < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = s;
        } else if (p < pattern.size() && pattern[p] == text[s]) {
            ++p;
            ++s;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') {
        ++p;
    }
    return p == pattern.size();
}

PathFilter::Pattern PathFilter::Pattern::of(std::string text)
{
    Pattern out;
    if (!text.empty() && text.back() == '/') {
        out.kind = Kind::directory;
    } else if (text.find_first_of("?[\\") == std::string::npos) {
        out.kind = Kind::stars;
    } else {
        out.kind = Kind::glob;
    }
    out.text = std::move(text);
    return out;
}

bool PathFilter::Pattern::matches(std::string_view path) const
{
    switch (kind) {
    case Kind::directory: {
        const std::string_view dir(text.data(), text.size() - 1);
        return path == dir || (path.size() > dir.size() && path.substr(0, text.size()) == text);
    }
    case Kind::stars: return star_match(text, path);
    case Kind::glob: return fnmatch(text.c_str(), std::string(path).c_str(), 0) == 0;
    }
    return false;
}

PathFilter::PathFilter(std::vector<std::string> exclude, std::vector<std::string> include)
{
    for (auto& p : exclude) {
        m_exclude.push_back(Pattern::of(expand_home(p)));
    }
    for (auto& p : include) {
        m_include.push_back(Pattern::of(expand_home(p)));
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
        if (p.matches(path)) {
            return true;
        }
    }
    for (const auto& p : m_exclude) {
        if (p.matches(path)) {
            return false;
        }
    }
    return true;
}

} // namespace roar::collector
