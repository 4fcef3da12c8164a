// Lexical path handling for the collector: the shim reports raw paths
// relative to a dirfd or the process's cwd; these functions make them
// absolute and normal without touching the file system (the file may be
// gone by the time the event is read).
#pragma once

#include <string>
#include <string_view>

namespace roar::collector {

// `path` made absolute against `base` (an absolute directory) and
// normalised: "." and empty components dropped, ".." applied lexically.
std::string resolve_path(std::string_view base, std::string_view path);

// Whether `path` is `dir` itself or lies below it (both normalised).
bool path_is_within(std::string_view path, std::string_view dir);

} // namespace roar::collector
