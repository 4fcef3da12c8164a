// The reopen cache: a read-only open the process already reported, with
// nothing changed in the job since, publishes nothing; its fd is told to
// the collector only when a record names it.
#include "fake_libc.hpp"
#include "roar/preload/reopen_cache.h"

#include <fcntl.h>
#include <unistd.h>

using namespace roar::preload::test;

namespace {

int open_close(ShimFixture& f, const char* path, int flags = O_RDONLY, int dirfd = ROAR_AT_FDCWD)
{
    const int fd =
        roar_core_open(&f.L, f.S, dirfd == ROAR_AT_FDCWD ? ROAR_K_OPEN : ROAR_K_OPENAT, dirfd, path, flags, 0);
    roar_core_close(&f.L, f.S, fd);
    return fd;
}

} // namespace

TEST_CASE("reopening a file read-only with nothing changed publishes neither OPEN nor CLOSE", "[preload][reopen]")
{
    ShimFixture f;
    for (int i = 0; i < 5; ++i) {
        open_close(f, "/data/shard-0");
    }
    CHECK(f.events_of(ROAR_OP_OPEN).size() == 1);
    CHECK(f.events_of(ROAR_OP_CLOSE).size() == 1);
    CHECK(g_fake.calls.size() == 10); // every real call still happens
}

TEST_CASE("a change anywhere in the job makes the next reopen reported", "[preload][reopen]")
{
    ShimFixture f;
    open_close(f, "/data/in");
    SECTION("another producer's rename (the ring's count, not this process)")
    {
        roar_ring_note_changes(&f.S->ring, ROAR_OP_RENAME, 0);
    }
    SECTION("this process opening some file for writing") { open_close(f, "/data/out", O_WRONLY | O_TRUNC); }
    SECTION("a read-only open that may create") { open_close(f, "/data/new", O_RDONLY | O_CREAT); }
    open_close(f, "/data/in");
    auto opens = f.events_of(ROAR_OP_OPEN);
    REQUIRE(opens.size() >= 2);
    CHECK(opens.front().s1 == "/data/in");
    CHECK(opens.back().s1 == "/data/in");
}

TEST_CASE("what is not a change leaves the cache alone", "[preload][reopen]")
{
    ShimFixture f;
    open_close(f, "/data/in");
    open_close(f, "/data/other");
    roar_core_chdir(&f.L, f.S, "/tmp");
    open_close(f, "/data/in");
    open_close(f, "/data/other");
    CHECK(f.events_of(ROAR_OP_OPEN).size() == 2);
}

TEST_CASE("relative paths are cached per working directory, dirfd-relative ones never", "[preload][reopen]")
{
    ShimFixture f;
    open_close(f, "cfg.toml");
    open_close(f, "cfg.toml");
    CHECK(f.events_of(ROAR_OP_OPEN).size() == 1);
    roar_core_chdir(&f.L, f.S, "sub");
    open_close(f, "cfg.toml");
    CHECK(f.events_of(ROAR_OP_OPEN).size() == 2);
    open_close(f, "cfg.toml", O_RDONLY, 9);
    open_close(f, "cfg.toml", O_RDONLY, 9);
    CHECK(f.events_of(ROAR_OP_OPEN).size() == 4);
}

TEST_CASE("flags are part of the entry; write-intent and failed opens are always reported", "[preload][reopen]")
{
    ShimFixture f;
    open_close(f, "/data/in");
    open_close(f, "/data/in", O_RDONLY | O_CLOEXEC);
    open_close(f, "/data/in", O_RDONLY | O_CLOEXEC);
    CHECK(f.events_of(ROAR_OP_OPEN).size() == 2);
    open_close(f, "/data/log", O_WRONLY | O_APPEND);
    open_close(f, "/data/log", O_WRONLY | O_APPEND);
    CHECK(f.events_of(ROAR_OP_OPEN).size() == 4);
    g_fake.fail_errno = ENOENT;
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "/data/gone", O_RDONLY, 0);
    g_fake.fail_errno = ENOENT;
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "/data/gone", O_RDONLY, 0);
    CHECK(f.events_of(ROAR_OP_OPEN).size() == 6);
}

TEST_CASE("a fork child reports its own first reads", "[preload][reopen]")
{
    ShimFixture f;
    open_close(f, "/data/in");
    roar_fork_child(&f.L, f.S, 2000);
    open_close(f, "/data/in");
    auto opens = f.events_of(ROAR_OP_OPEN);
    REQUIRE(opens.size() == 2);
    CHECK(opens[1].h.pid == 2000);
}

TEST_CASE("an elided fd is announced before the first record that names it", "[preload][reopen]")
{
    ShimFixture f;
    // A real fd, so that /proc/self/fd names it.
    char dir[] = "/tmp/roar-reopen-XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    const int real = ::open(dir, O_RDONLY | O_CLOEXEC);
    REQUIRE(real >= 0);
    g_fake.next_fd = real;
    open_close(f, dir);
    const int fd = roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, dir, O_RDONLY, 0);
    REQUIRE(fd == real);
    REQUIRE(f.events_of(ROAR_OP_OPEN).size() == 1);
    SECTION("as the dirfd of an openat")
    {
        g_fake.next_fd = 7;
        roar_core_open(&f.L, f.S, ROAR_K_OPENAT, fd, "child", O_RDONLY, 0);
        auto ev = f.events();
        REQUIRE(ev.size() >= 4);
        const Event& announced = ev[ev.size() - 2];
        CHECK(announced.h.op == ROAR_OP_FD_INHERITED);
        CHECK(announced.h.fd == fd);
        CHECK(announced.s1 == dir);
        CHECK(ev.back().h.op == ROAR_OP_OPEN);
        CHECK(ev.back().h.fd == fd);
        // Known from now on: its close is reported.
        roar_core_close(&f.L, f.S, fd);
        CHECK(f.events().back().h.op == ROAR_OP_CLOSE);
    }
    SECTION("as the source of a dup, whose copy is then known too")
    {
        g_fake.next_fd = 11;
        CHECK(roar_core_dup(&f.L, f.S, ROAR_K_DUP, fd, -1, 0) == 11);
        auto ev = f.events();
        REQUIRE(ev.size() >= 4);
        CHECK(ev[ev.size() - 2].h.op == ROAR_OP_FD_INHERITED);
        CHECK(ev.back().h.op == ROAR_OP_DUP);
        CHECK((roar_fd_get(f.S, 11) & ROAR_FD_KNOWN) != 0);
    }
    SECTION("a close names it to no one: nothing is published")
    {
        const size_t before = f.events().size();
        roar_core_close(&f.L, f.S, fd);
        CHECK(f.events().size() == before);
        CHECK(roar_fd_get(f.S, fd) == 0);
    }
    ::close(real);
    ::rmdir(dir);
}

TEST_CASE("with the tracer publishing file syscalls, nothing is cached", "[preload][reopen]")
{
    ShimFixture f;
    f.S->fs_by_tracer = 1;
    struct roar_reopen_probe probe;
    CHECK(roar_reopen_seen(f.S, ROAR_AT_FDCWD, "/data/in", O_RDONLY, &probe) == 0);
    CHECK(probe.len == 0);
}
