// One hex digit's value, header-only and free of dependencies, so every
// component parses percent-escapes and digests the same way: the
// collector's text views, the SigV4 signer (roar::aws_auth, which does not
// link the collector) and the fuzz targets.
#pragma once

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

} // namespace roar::collector
