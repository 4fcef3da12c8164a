// The one-line forms of a list of results, for tests that compare a whole
// list at once (the reproduce plan's package differences, roar diff's
// environment changes).
#pragma once

#include <string>
#include <vector>

namespace roar::cli::test {

// `describe(item)` for each item of `items`, in order.
template <typename Item, typename Describe>
std::vector<std::string> lines_of(const std::vector<Item>& items, Describe describe)
{
    std::vector<std::string> out;
    for (const auto& item : items) {
        out.push_back(describe(item));
    }
    return out;
}

} // namespace roar::cli::test
