// Numbers the CLI reads from its arguments (@N, --session N, -n N): one
// parser, std::from_chars with a range, and one-line errors that say the
// valid range, so no text reaches std::sto* or overflows silently.
#pragma once

#include "roar/collector/result.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <string_view>

namespace roar::cli {

// `text` as a decimal integer in [min, max]. `what` names it in the error
// ("step number", "-n"): "'x' is not a number ..." or "... is out of range
// (valid: MIN to MAX)".
inline Result<int64_t> parse_number(std::string_view text, int64_t min, int64_t max, std::string_view what)
{
    int64_t value = 0;
    const char* end = text.data() + text.size();
    const bool digits = !text.empty() && (text.front() != '+') && (text.front() != '-' || text.size() > 1);
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (!digits || ptr != end || (ec != std::errc() && ec != std::errc::result_out_of_range)) {
        return fail("{} '{}' is not a whole number (valid: {} to {})", what, text, min, max);
    }
    if (ec == std::errc::result_out_of_range || value < min || value > max) {
        return fail("{} {} is out of range (valid: {} to {})", what, text, min, max);
    }
    return value;
}

} // namespace roar::cli
