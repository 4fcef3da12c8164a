// Where roar's own pieces live relative to the running binary. The build
// tree mirrors the installed layout (bin/ and lib/roar/), so one rule
// serves both: look next to ourselves first, then in the install prefix.
#pragma once

#include "roar/collector/result.hpp"

#include <filesystem>

namespace roar::collector {

// The directory holding the running executable (/proc/self/exe).
std::filesystem::path self_exe_dir();

// libroar_preload.so: $ROAR_PRELOAD_LIBRARY, <exe dir>/../lib/roar/, or
// the configured install prefix's lib/roar/.
Result<std::filesystem::path> find_preload_library();

// roar-guard (the job guard's program, job_guard.hpp): $ROAR_GUARD_PROGRAM,
// <exe dir>/../lib/roar/, or the install prefix's lib/roar/.
Result<std::filesystem::path> find_guard_program();

// roar-proxy: $ROAR_PROXY_BINARY, <exe dir>/roar-proxy, or the install
// prefix's bin/.
Result<std::filesystem::path> find_proxy_binary();

} // namespace roar::collector
