// Event publication from the shim: argv gathering and truncation, drops
// when the ring is full, the cached tid.
#include "fake_libc.hpp"

#include <fcntl.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

using namespace roar::preload::test;

TEST_CASE("argv is joined with NULs", "[preload][emit]")
{
    ShimFixture f;
    char* argv[] = {(char*)"python3", (char*)"", (char*)"train.py", nullptr};
    roar_emit_argv(f.S, 0, ROAR_OP_EXEC, ROAR_AT_FDCWD, -1, 0, 0, 0, "/usr/bin/python3", nullptr, argv, 0);
    auto ev = f.events();
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].s1 == "/usr/bin/python3");
    CHECK_FALSE(ev[0].has2);
    CHECK(ev[0].h.len3 == sizeof "python3" + 1 + sizeof "train.py");
    CHECK(split_nul(ev[0].s3) == std::vector<std::string>{"python3", "", "train.py"});
}

TEST_CASE("an argv longer than the limit is cut and flagged", "[preload][emit]")
{
    ShimFixture f;
    std::string big(20000, 'x');
    char* argv[] = {big.data(), big.data(), nullptr};
    roar_emit_argv(f.S, 0, ROAR_OP_PROC_START, 1, -1, 0, 0, 0, "/bin/x", "/", argv, ROAR_START_ARGV_TRUNCATED);
    auto ev = f.events();
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.len3 == ROAR_MAX_ARGV_BYTES);
    CHECK((ev[0].h.flags & ROAR_START_ARGV_TRUNCATED) != 0);
    CHECK((ev[0].h.flags & ROAR_FLAG_TRUNCATED) != 0);
    CHECK(f.header()->truncated == 1);
    auto parts = split_nul(ev[0].s3);
    REQUIRE(parts.size() == 2);
    CHECK(parts[0] == big);
    CHECK(parts[1].size() == ROAR_MAX_ARGV_BYTES - 1 - 20001);
}

TEST_CASE("a full ring drops the event, counts it, and the call still happens", "[preload][emit]")
{
    ShimFixture f;
    f.header()->tail = 0;
    f.header()->head = ShimFixture::k_slots; // full
    errno = 5;
    CHECK(roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "a", O_RDONLY, 0) == 7);
    CHECK(errno == 5);
    CHECK(f.header()->dropped == 1);
    CHECK(g_fake.calls.size() == 1);
}

TEST_CASE("a sync point does not wait when no consumer is alive", "[preload][emit][sync]")
{
    ShimFixture f;
    f.header()->heartbeat_ns = 0;
    roar_pre_modify(f.S, ROAR_AT_FDCWD, "x", 0);
    CHECK(f.events_of(ROAR_OP_PRE_MODIFY).size() == 1);
    CHECK(f.header()->sync_timeouts == 0);
}

TEST_CASE("a sync point with a stalled consumer gives up after the timeout", "[preload][emit][sync]")
{
    ShimFixture f;
    f.header()->heartbeat_ns = roar_clock_ns(CLOCK_MONOTONIC); // alive, but never drains
    const uint64_t start = roar_clock_ns(CLOCK_MONOTONIC);
    roar_pre_modify(f.S, ROAR_AT_FDCWD, "x", 0);
    const uint64_t waited = roar_clock_ns(CLOCK_MONOTONIC) - start;
    CHECK(waited >= 9000000ull);   // sync_timeout_ms = 10
    CHECK(waited < 1000000000ull); // bounded
    CHECK(f.header()->sync_timeouts == 1);
}

TEST_CASE("events carry the pid and the calling thread's tid", "[preload][emit]")
{
    ShimFixture f;
    roar_emit(f.S, ROAR_OP_NOTE, -1, -1, 0, 0, 0, "hello", nullptr);
    auto ev = f.events();
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.pid == 1000);
    CHECK(ev[0].h.tid == (uint32_t)syscall(SYS_gettid));
    CHECK(ev[0].s1 == "hello");
    CHECK(ev[0].h.time_ns > 0);
}

TEST_CASE("process records take the precise clock, file records the coarse one", "[preload][emit]")
{
    ShimFixture f;
    // The coarse clock lags by up to a few ticks (more on a tickless idle
    // CPU); a second is far beyond that and far below any wrong clock.
    const uint64_t slack = 1000000000u;
    const uint64_t before = roar_clock_ns(CLOCK_REALTIME);
    roar_emit(f.S, ROAR_OP_PROC_EXIT, -1, -1, 0, 0, 0, nullptr, nullptr);
    roar_emit(f.S, ROAR_OP_OPEN, ROAR_AT_FDCWD, -1, 0, 0, 3, "f", nullptr);
    const uint64_t after = roar_clock_ns(CLOCK_REALTIME);
    auto ev = f.events();
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.time_ns >= before);
    CHECK(ev[0].h.time_ns <= after);
    CHECK(ev[1].h.time_ns + slack >= before);
    CHECK(ev[1].h.time_ns <= after);
}
