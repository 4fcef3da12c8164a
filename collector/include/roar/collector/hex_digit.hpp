// One hex digit's value, header-only and free of dependencies, so every
// component parses percent-escapes and digests the same way: the
// collector's text views, the SigV4 signer (roar::aws_auth, which does not
// link the collector) and the fuzz targets.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace roar::collector {

// The value of hex digit `c` (either case), or -1 when it is none.
constexpr int hex_digit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// The 32 bytes `hex` spells when it is 64 hex digits (either case), else
// nothing: a BLAKE3 or SHA-256 digest's text as its bytes.
inline std::optional<std::array<uint8_t, 32>> digest_bytes(std::string_view hex)
{
    if (hex.size() != 64) {
        return std::nullopt;
    }
    std::array<uint8_t, 32> out{};
    for (size_t i = 0; i < 32; ++i) {
        const int hi = hex_digit_value(hex[2 * i]), lo = hex_digit_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out[i] = uint8_t(hi * 16 + lo);
    }
    return out;
}

} // namespace roar::collector
