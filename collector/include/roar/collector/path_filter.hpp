// Which paths count as a job's inputs and outputs. System and interpreter
// files (/usr, /lib, /proc, site-packages, .pyc, .roar/ ...) are excluded by
// default; roar.toml's [filter] section replaces or extends the lists.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

// Whether `text` matches `pattern`, in which '*' stands for any bytes
// ('/' included) and every other byte for itself: fnmatch(pattern, text, 0)
// for a pattern without '?', '[' or '\\'.
bool star_match(std::string_view pattern, std::string_view text);

class PathFilter {
public:
    // Patterns: a pattern ending in "/" is a directory prefix; anything
    // else is an fnmatch(3) glob in which '*' also matches '/'. A leading
    // "~/" means the user's home directory.
    PathFilter(std::vector<std::string> exclude, std::vector<std::string> include);

    // The built-in exclusions, plus `project_dir`/.roar/.
    static std::vector<std::string> default_excludes();

    // Whether `path` (absolute, normalised) may be recorded.
    bool accepts(std::string_view path) const;

private:
    // A pattern, sorted once by how it is matched.
    struct Pattern {
        enum class Kind { directory, stars, glob };
        Kind kind = Kind::glob;
        std::string text;
        static Pattern of(std::string text);
        bool matches(std::string_view path) const;
    };

    std::vector<Pattern> m_exclude;
    std::vector<Pattern> m_include;
};

} // namespace roar::collector
