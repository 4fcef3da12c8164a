// Shared by the fuzz targets: an invariant check that aborts (a finding)
// with a message naming what broke.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace roar::fuzz {

// Aborts with `what` when `ok` is false, so libFuzzer records the input.
inline void require(bool ok, const char* what)
{
    if (!ok) {
        std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
        std::abort();
    }
}

} // namespace roar::fuzz
