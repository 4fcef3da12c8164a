// Path handling for the collector: the shim reports raw paths relative to
// a dirfd or the process's cwd; these make them absolute and normal.
// resolve_path does it by text alone. PathResolver does what the kernel
// does with a ".." after a symbolic link (it goes up from the link's
// target, not from the link), looking at the file system only for a "..",
// and once per directory until told the file system changed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace roar::collector {

// `path` made absolute against `base` (an absolute directory) and
// normalised: "." and empty components dropped, ".." applied lexically.
std::string resolve_path(std::string_view base, std::string_view path);

// Whether `path` is `dir` itself or lies below it (both normalised).
bool path_is_within(std::string_view path, std::string_view dir);

// Whether `path` has a ".." component.
bool has_dot_dot(std::string_view path);

class PathResolver {
public:
    static constexpr size_t k_default_cached = 4096;

    // Remembers the parents of at most `max_cached` directories (then
    // starts over).
    explicit PathResolver(size_t max_cached = k_default_cached) : m_max_cached(max_cached) { }

    // `path` made absolute against `base` (an absolute, normalised
    // directory) and normalised as resolve_path does, except that ".."
    // after a symbolic link to a directory goes up from the link's target
    // (read from the file system now, so the path is the kernel's if the
    // links are still as they were when the process used it). A path
    // without ".." is resolved by text alone, with no system call.
    std::string resolve(std::string_view base, std::string_view path);

    // Drops what was learnt from the file system: call when a rename,
    // unlink or new symbolic link may have changed it.
    void forget()
    {
        if (!m_parents.empty()) { // clear() zeroes every bucket, even of an empty map: renames and unlinks are many
            m_parents.clear();
        }
    }

    // How many directories were looked up on the file system so far.
    uint64_t lookups() const { return m_lookups; }

private:
    // Appends `path`'s components to `out` (absolute, no trailing slash,
    // "" for the root); `depth` counts the links followed to get here.
    void append(std::string& out, std::string_view path, int depth);
    // What ".." after the directory `dir` names (as `out` in append).
    std::string parent_of(const std::string& dir, int depth);

    std::unordered_map<std::string, std::string> m_parents; // directory -> what its ".." names
    size_t m_max_cached;
    uint64_t m_lookups = 0;
};

} // namespace roar::collector
