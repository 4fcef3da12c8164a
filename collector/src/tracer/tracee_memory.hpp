// Reading (and, for the one argument the tracer rewrites, writing) a
// stopped tracee's memory with process_vm_readv/writev: bounded, split at
// page boundaries so a string ending just before an unmapped page is still
// read, and never through ptrace word by word.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace roar::collector::tracer {

// Reads the NUL-terminated string at `addr` in thread `tid`, at most `max`
// bytes (not counting the NUL) into `out`. Returns false when nothing could
// be read; sets `truncated` when no NUL came within `max` bytes.
bool read_string(pid_t tid, uint64_t addr, size_t max, std::string& out, bool& truncated);

// Reads exactly `len` bytes at `addr` into `buf`.
bool read_bytes(pid_t tid, uint64_t addr, void* buf, size_t len);

// Writes `len` bytes from `buf` to `addr`.
bool write_bytes(pid_t tid, uint64_t addr, const void* buf, size_t len);

// Reads the NULL-terminated argv array at `addr`: at most `max_total` bytes
// of argument text in all (the shim's ROAR_MAX_ARGV_BYTES); sets
// `truncated` when arguments were left out or cut.
std::vector<std::string> read_argv(pid_t tid, uint64_t addr, size_t max_total, bool& truncated);

} // namespace roar::collector::tracer
