#include "use_lists.hpp"

#include <charconv>
#include <limits>

namespace roar::collector::store_detail {

std::string use_list_text(std::span<const ScannedUse> uses)
{
    std::string text;
    text.reserve(uses.size() * 10);
    char number[24];
    int64_t previous = 0;
    for (const ScannedUse& use : uses) {
        if (!text.empty()) {
            text += ',';
        }
        auto end = std::to_chars(number, number + sizeof number, use.path_id - previous).ptr;
        text.append(number, end);
        text += ':';
        end = std::to_chars(number, number + sizeof number, use.artifact).ptr;
        text.append(number, end);
        previous = use.path_id;
    }
    return text;
}

bool parse_use_list(std::string_view text, std::vector<ScannedUse>& out)
{
    const size_t before = out.size();
    const char* at = text.data();
    const char* const end = at + text.size();
    // A decimal number ending at `stop` (an item's last may end the text
    // instead of a ","), and `at` moved past both.
    auto read = [&at, end](int64_t& value, char stop) {
        const auto [next, ec] = std::from_chars(at, end, value);
        if (ec != std::errc() || next == at) {
            return false;
        }
        if (next == end) {
            at = end;
            return stop == ',';
        }
        at = next + 1;
        return *next == stop;
    };
    int64_t path = 0;
    while (at != end) {
        int64_t delta = 0, artifact = 0;
        const bool item = read(delta, ':') && read(artifact, ',');
        if (!item || delta < 1 || artifact < 0 || path > std::numeric_limits<int64_t>::max() - delta
            || (at == end && text.back() == ',')) {
            out.resize(before);
            return false;
        }
        path += delta;
        out.push_back({path, artifact});
    }
    return true;
}

} // namespace roar::collector::store_detail
