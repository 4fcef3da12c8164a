// Long lists in text views: past a limit, what is left is summarised as a
// count and grouped by directory ("data/train/  1,996 files, 7.8 MiB"), so
// a job reading thousands of files prints a screenful, not thousands of
// lines. JSON output always lists everything.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roar::cli {

// One entry of a file list as shown (a path relative to the project, or an
// absolute path or s3:// URL) and its size when known.
struct ListedFile {
    std::string path;
    std::optional<uint64_t> size;
};

// `n` with a comma every three digits: 1996 -> "1,996".
std::string human_count(uint64_t n);

// One line per directory holding the most of `rest` (at most `max_groups`
// of them, most files first, ties by name), "data/train/  1,996 files,
// 7.8 MiB", then "... in N other directories" for whatever is left; an
// entry without a directory counts under "./". Empty when `rest` is.
std::vector<std::string> directory_groups(const std::vector<ListedFile>& rest, size_t max_groups = 5);

// The programs one pid ran, in exec order, `programs`, joined by '>'
// ("sh>python3"); past three, the middle ones are counted instead
// ("env>+4>python3": wrapper scripts such as pyenv's shims exec several).
std::string exec_chain(const std::vector<std::string>& programs);

} // namespace roar::cli
