// A fake libc table and a shim attached to a ring in ordinary memory, so
// the core functions can be driven without interposing anything. Fakes
// record what they were called with and the ring head at the time (to
// check that an event came before the real call).
#pragma once

#include "roar/preload/core.h"
#include "roar/preload/env_repair.h"
#include "roar/preload/event_emit.h"

#include <catch2/catch.hpp>

#include <cerrno>
#include <csetjmp>
#include <cstdlib>
#include <string>
#include <vector>

namespace roar::preload::test {

struct Event {
    roar_event h{};
    bool has1 = false, has2 = false, has3 = false;
    std::string s1, s2, s3;
};

struct FakeState {
    int next_fd = 7;    // what a successful open/dup returns
    int fail_errno = 0; // non-zero: the next real call fails with it
    bool exists = true; // what faccessat reports
    pid_t pid = 1000, ppid = 999;
    pid_t fork_result = 4242;
    pid_t new_pid = 0; // getpid after a fake fork returned 0
    int wait_status = 0;
    siginfo_t waitid_info{};
    std::vector<std::string> calls;
    std::vector<std::string> env_seen; // envp handed to exec/spawn
    std::vector<std::string> argv_seen;
    uint64_t head_at_call = UINT64_MAX;
    roar_ring_header* hdr = nullptr;
    std::jmp_buf* exit_jump = nullptr;
    int exit_status = -1;
};

extern FakeState g_fake;

// Fills `L` with fakes for every function the tests use.
void install_fakes(roar_libc& L);

struct ShimFixture {
    static constexpr uint64_t k_slots = 8192;
    std::vector<uint64_t> memory;
    roar_shim* S = nullptr;
    roar_libc L{};

    ShimFixture();
    ~ShimFixture();
    ShimFixture(const ShimFixture&) = delete;
    ShimFixture& operator=(const ShimFixture&) = delete;

    roar_ring_header* header() { return reinterpret_cast<roar_ring_header*>(memory.data()); }
    // Every committed record from the start of the ring.
    std::vector<Event> events() const;
    // The committed records of `op`.
    std::vector<Event> events_of(uint16_t op) const;
};

// argv strings split at NULs.
std::vector<std::string> split_nul(const std::string& s);

} // namespace roar::preload::test
