// The job guard's own process: run in the `roar-guard` program that
// JobGuard::start spawns, or in a child it forks when that program is not
// installed. Only async-signal-safe calls from its start to its exit.
#pragma once

#include <cstddef>

namespace roar::collector {

// Waits on `fd` (the read end of roar run's pipe): a 'q' means the job
// ended and roar run is recording it, and the guard exits; EOF means roar
// run died, and the guard ends every process whose initial environment
// holds `marker` (NAME=VALUE, `length` bytes), SIGTERM first, SIGKILL after
// a grace period. Moves `fd` to 3 and closes every other descriptor.
[[noreturn]] void run_job_guard(int fd, const char* marker, size_t length);

// Whether the NUL-separated environment block `block` (as in
// /proc/PID/environ) holds the entry `marker` exactly.
bool block_holds(const char* block, size_t size, const char* marker, size_t length);

} // namespace roar::collector
