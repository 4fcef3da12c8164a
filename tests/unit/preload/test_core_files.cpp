// Core of the open family, the fd table, namespace changes and data
// movement, driven through a fake libc table.
#include "fake_libc.hpp"

#include <fcntl.h>
#include <sys/mman.h>

using namespace roar::preload::test;

TEST_CASE("open reports dirfd, raw path, flags, mode and the fd after the call", "[preload][open]")
{
    ShimFixture f;
    errno = 1234;
    const int fd = roar_core_open(&f.L, f.S, ROAR_K_OPENAT, 5, "data/in.csv", O_RDONLY, 0);
    CHECK(fd == 7);
    CHECK(errno == 1234);
    auto ev = f.events();
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.op == ROAR_OP_OPEN);
    CHECK(ev[0].h.fd == 5);
    CHECK(ev[0].s1 == "data/in.csv");
    CHECK(ev[0].h.flags == O_RDONLY);
    CHECK(ev[0].h.result == 7);
    CHECK(ev[0].h.pid == 1000);
    REQUIRE(g_fake.calls.size() == 1);
    CHECK(g_fake.calls[0] == "openat data/in.csv");
}

TEST_CASE("a failed open reports -errno and leaves errno as the call set it", "[preload][open]")
{
    ShimFixture f;
    g_fake.fail_errno = ENOENT;
    CHECK(roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "missing", O_RDONLY, 0) == -1);
    CHECK(errno == ENOENT);
    auto ev = f.events_of(ROAR_OP_OPEN);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.result == -ENOENT);
    CHECK(ev[0].h.fd == ROAR_AT_FDCWD);
}

TEST_CASE("the mode is reported only when the flags create", "[preload][open]")
{
    ShimFixture f;
    g_fake.exists = false;
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "new", O_WRONLY | O_CREAT, 0640);
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "old", O_RDONLY, 0640);
    auto ev = f.events_of(ROAR_OP_OPEN);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.mode == 0640);
    CHECK(ev[1].h.mode == 0);
}

TEST_CASE("creat is reported as open with O_CREAT|O_WRONLY|O_TRUNC", "[preload][open]")
{
    ShimFixture f;
    g_fake.exists = false;
    roar_core_open(&f.L, f.S, ROAR_K_CREAT, ROAR_AT_FDCWD, "out.bin", 0, 0644);
    auto ev = f.events_of(ROAR_OP_OPEN);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.flags == (O_CREAT | O_WRONLY | O_TRUNC));
    CHECK(ev[0].h.mode == 0644);
}

TEST_CASE("a write-intent open of an existing file announces PRE_MODIFY before the call", "[preload][open][sync]")
{
    ShimFixture f;
    SECTION("O_TRUNC")
    {
        roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "model.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    SECTION("O_RDWR without O_CREAT (no existence check needed)")
    {
        g_fake.exists = false; // would suppress it if it were consulted
        roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "model.bin", O_RDWR, 0);
    }
    SECTION("fortified __openat_2")
    {
        roar_core_open(&f.L, f.S, ROAR_K_OPENAT_2, ROAR_AT_FDCWD, "model.bin", O_WRONLY | O_APPEND, 0);
    }
    auto ev = f.events();
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.op == ROAR_OP_PRE_MODIFY);
    CHECK(ev[0].s1 == "model.bin");
    CHECK(ev[0].h.fd == ROAR_AT_FDCWD);
    CHECK(ev[1].h.op == ROAR_OP_OPEN);
    CHECK(g_fake.head_at_call > 0); // the record was in the ring before the real open
}

TEST_CASE("no PRE_MODIFY when the open cannot change existing bytes", "[preload][open][sync]")
{
    ShimFixture f;
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "in.csv", O_RDONLY, 0);
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "x.tmp", O_WRONLY | O_CREAT | O_EXCL, 0600);
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "/dev/null", O_WRONLY, 0);
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "/proc/self/oom_score_adj", O_WRONLY, 0);
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, ".", O_RDWR | O_TMPFILE, 0600);
    g_fake.exists = false;
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "fresh.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(f.events_of(ROAR_OP_PRE_MODIFY).empty());
    CHECK(f.events_of(ROAR_OP_OPEN).size() == 6);
}

TEST_CASE("PRE_MODIFY is sent once per path and working directory", "[preload][open][sync]")
{
    ShimFixture f;
    for (int i = 0; i < 3; ++i) {
        roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "log.txt", O_WRONLY | O_APPEND, 0);
    }
    CHECK(f.events_of(ROAR_OP_PRE_MODIFY).size() == 1);
    roar_core_chdir(&f.L, f.S, "sub");
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "log.txt", O_WRONLY | O_APPEND, 0);
    CHECK(f.events_of(ROAR_OP_PRE_MODIFY).size() == 2);
    // Relative to a dirfd (which may be reused): always announced.
    roar_core_open(&f.L, f.S, ROAR_K_OPENAT, 9, "log.txt", O_WRONLY | O_APPEND, 0);
    roar_core_open(&f.L, f.S, ROAR_K_OPENAT, 9, "log.txt", O_WRONLY | O_APPEND, 0);
    CHECK(f.events_of(ROAR_OP_PRE_MODIFY).size() == 4);
}

TEST_CASE("an inactive shim is a pure pass-through", "[preload][passthrough]")
{
    ShimFixture f;
    SECTION("shim off") { f.S->status = ROAR_SHIM_OFF; }
    SECTION("inside the shim on this thread") { roar_t_depth = 1; }
    errno = 77;
    CHECK(roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "a", O_WRONLY | O_TRUNC, 0) == 7);
    CHECK(roar_core_close(&f.L, f.S, 7) == 0);
    CHECK(roar_core_write(&f.L, f.S, ROAR_K_WRITE, 7, "x", 1, nullptr, 0, 0, 0) == 1);
    CHECK(roar_core_rename(&f.L, f.S, ROAR_K_RENAME, ROAR_AT_FDCWD, "a", ROAR_AT_FDCWD, "b", 0) == 0);
    CHECK(errno == 77);
    roar_t_depth = 0;
    CHECK(f.events().empty());
    CHECK(g_fake.calls.size() == 4);
}

TEST_CASE("CLOSE is reported for fds the shim saw opened, and for fds beyond its table", "[preload][close]")
{
    ShimFixture f;
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "a", O_RDONLY, 0);
    roar_core_close(&f.L, f.S, 7);
    // In the ring before the number is released (another thread's OPEN of
    // the same number must come after it).
    CHECK(g_fake.head_at_call == f.events().back().h.nslots + f.events().front().h.nslots);
    roar_core_close(&f.L, f.S, 7);  // now unknown (e.g. a pipe got the number)
    roar_core_close(&f.L, f.S, 12); // never seen
    roar_core_close(&f.L, f.S, ROAR_FD_TRACKED + 5);
    auto ev = f.events_of(ROAR_OP_CLOSE);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.fd == 7);
    CHECK(ev[0].h.fd2 == 7);
    CHECK(ev[1].h.fd == ROAR_FD_TRACKED + 5);
}

TEST_CASE("close_range reports the range and forgets the fds", "[preload][close]")
{
    ShimFixture f;
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "a", O_RDONLY, 0);
    roar_core_close_range(&f.L, f.S, 3, ~0u, 0);
    roar_core_close(&f.L, f.S, 7);
    auto ev = f.events_of(ROAR_OP_CLOSE);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.fd == 3);
    CHECK(ev[0].h.fd2 == INT32_MAX);
}

TEST_CASE("WRITE_FD once per fd per open, again after reopen or dup onto it", "[preload][write]")
{
    ShimFixture f;
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "db.sqlite", O_RDWR, 0);
    for (int i = 0; i < 5; ++i) {
        roar_core_write(&f.L, f.S, ROAR_K_PWRITE64, 7, "x", 1, nullptr, 0, 4096, 0);
    }
    CHECK(f.events_of(ROAR_OP_WRITE_FD).size() == 1);
    roar_core_close(&f.L, f.S, 7);
    roar_core_open(&f.L, f.S, ROAR_K_OPEN, ROAR_AT_FDCWD, "other", O_WRONLY, 0);
    roar_core_write(&f.L, f.S, ROAR_K_WRITE, 7, "x", 1, nullptr, 0, 0, 0);
    CHECK(f.events_of(ROAR_OP_WRITE_FD).size() == 2);
    roar_core_dup(&f.L, f.S, ROAR_K_DUP2, 3, 7, 0);
    roar_core_write(&f.L, f.S, ROAR_K_WRITE, 7, "x", 1, nullptr, 0, 0, 0);
    auto ev = f.events_of(ROAR_OP_WRITE_FD);
    REQUIRE(ev.size() == 3);
    CHECK(ev[2].h.fd == 7);
}

TEST_CASE("WRITE_FD is in the ring before the write happens", "[preload][write]")
{
    ShimFixture f;
    roar_core_write(&f.L, f.S, ROAR_K_WRITE, 1, "x", 1, nullptr, 0, 0, 0);
    CHECK(g_fake.head_at_call == 1);
}

TEST_CASE("a shared writable mapping of an fd counts as a write", "[preload][mmap]")
{
    ShimFixture f;
    roar_core_mmap(&f.L, f.S, 0, nullptr, 4096, PROT_READ, MAP_SHARED, 7, 0);
    roar_core_mmap(&f.L, f.S, 0, nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, 7, 0);
    roar_core_mmap(&f.L, f.S, 0, nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(f.events_of(ROAR_OP_WRITE_FD).empty());
    roar_core_mmap(&f.L, f.S, 0, nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, 7, 0);
    auto ev = f.events_of(ROAR_OP_WRITE_FD);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].h.fd == 7);
}

TEST_CASE("sendfile and copy_file_range report fd = in, fd2 = out, result = bytes", "[preload][transfer]")
{
    ShimFixture f;
    roar_core_transfer(&f.L, f.S, ROAR_K_SENDFILE, 3, nullptr, 4, nullptr, 100, 0);
    roar_core_transfer(&f.L, f.S, ROAR_K_COPY_FILE_RANGE, 5, nullptr, 6, nullptr, 200, 0);
    auto ev = f.events_of(ROAR_OP_TRANSFER);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.fd == 3);
    CHECK(ev[0].h.fd2 == 4);
    CHECK(ev[0].h.result == 100);
    CHECK(ev[1].h.fd == 5);
    CHECK(ev[1].h.fd2 == 6);
    CHECK(ev[1].h.result == 200);
}

TEST_CASE("dup family and F_DUPFD report old fd and result", "[preload][dup]")
{
    ShimFixture f;
    roar_core_dup(&f.L, f.S, ROAR_K_DUP2, 3, 1, 0);
    roar_core_dup(&f.L, f.S, ROAR_K_DUP2, 4, 4, 0); // a no-op: not reported
    roar_core_fcntl(&f.L, f.S, 0, 3, F_DUPFD_CLOEXEC, reinterpret_cast<void*>(10));
    roar_core_fcntl(&f.L, f.S, 0, 3, F_GETFL, nullptr);
    auto ev = f.events_of(ROAR_OP_DUP);
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.fd == 3);
    CHECK(ev[0].h.result == 1);
    CHECK(ev[1].h.fd == 3);
    CHECK(ev[1].h.result == 7);
    CHECK(ev[1].h.flags == O_CLOEXEC);
}

TEST_CASE("rename announces an existing target, then reports both paths", "[preload][rename][sync]")
{
    ShimFixture f;
    roar_core_rename(&f.L, f.S, ROAR_K_RENAME, ROAR_AT_FDCWD, "out.tmp", ROAR_AT_FDCWD, "out.bin", 0);
    auto ev = f.events();
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.op == ROAR_OP_PRE_MODIFY);
    CHECK(ev[0].s1 == "out.bin");
    CHECK(ev[1].h.op == ROAR_OP_RENAME);
    CHECK(ev[1].s1 == "out.tmp");
    CHECK(ev[1].s2 == "out.bin");
    CHECK(ev[1].h.fd == ROAR_AT_FDCWD);
    CHECK(ev[1].h.fd2 == ROAR_AT_FDCWD);
    CHECK(ev[1].h.result == 0);
}

TEST_CASE("rename without an existing target or with RENAME_NOREPLACE has no sync point", "[preload][rename]")
{
    ShimFixture f;
    g_fake.exists = false;
    roar_core_rename(&f.L, f.S, ROAR_K_RENAME, ROAR_AT_FDCWD, "a", ROAR_AT_FDCWD, "b", 0);
    g_fake.exists = true;
    roar_core_rename(&f.L, f.S, ROAR_K_RENAMEAT2, 3, "a", 4, "b", 1 /* RENAME_NOREPLACE */);
    CHECK(f.events_of(ROAR_OP_PRE_MODIFY).empty());
    auto ev = f.events_of(ROAR_OP_RENAME);
    REQUIRE(ev.size() == 2);
    CHECK(ev[1].h.flags == 1);
    CHECK(ev[1].h.fd == 3);
    CHECK(ev[1].h.fd2 == 4);
}

TEST_CASE("unlink announces the file; rmdir does not", "[preload][unlink]")
{
    ShimFixture f;
    roar_core_unlink(&f.L, f.S, ROAR_K_UNLINK, ROAR_AT_FDCWD, "old.csv", 0);
    roar_core_unlink(&f.L, f.S, ROAR_K_RMDIR, ROAR_AT_FDCWD, "dir", 0);
    auto ev = f.events();
    REQUIRE(ev.size() == 3);
    CHECK(ev[0].h.op == ROAR_OP_PRE_MODIFY);
    CHECK(ev[1].h.op == ROAR_OP_UNLINK);
    CHECK(ev[1].s1 == "old.csv");
    CHECK(ev[2].h.op == ROAR_OP_UNLINK);
    CHECK(ev[2].h.flags == AT_REMOVEDIR);
}

TEST_CASE("ftruncate announces the fd once, then counts as written", "[preload][truncate]")
{
    ShimFixture f;
    roar_core_ftruncate(&f.L, f.S, 0, 7, 0);
    roar_core_ftruncate(&f.L, f.S, 0, 7, 10);
    roar_core_write(&f.L, f.S, ROAR_K_WRITE, 7, "x", 1, nullptr, 0, 0, 0);
    auto pre = f.events_of(ROAR_OP_PRE_MODIFY);
    REQUIRE(pre.size() == 1);
    CHECK(pre[0].h.fd == 7);
    CHECK_FALSE(pre[0].has1);
    CHECK(f.events_of(ROAR_OP_TRUNCATE).size() == 2);
    CHECK(f.events_of(ROAR_OP_WRITE_FD).empty());
}

TEST_CASE("symlink reports the target text and the link path", "[preload][link]")
{
    ShimFixture f;
    roar_core_link(&f.L, f.S, ROAR_K_SYMLINK, -1, "../data", ROAR_AT_FDCWD, "latest", 0);
    auto ev = f.events_of(ROAR_OP_SYMLINK);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].s1 == "../data");
    CHECK(ev[0].s2 == "latest");
    CHECK(ev[0].h.fd2 == ROAR_AT_FDCWD);
}

TEST_CASE("fopen modes translate to open flags", "[preload][fopen]")
{
    CHECK(roar_fopen_flags("r") == O_RDONLY);
    CHECK(roar_fopen_flags("rb") == O_RDONLY);
    CHECK(roar_fopen_flags("r+") == O_RDWR);
    CHECK(roar_fopen_flags("w") == (O_WRONLY | O_CREAT | O_TRUNC));
    CHECK(roar_fopen_flags("wbx") == (O_WRONLY | O_CREAT | O_TRUNC | O_EXCL));
    CHECK(roar_fopen_flags("a+e") == (O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC));
    CHECK(roar_fopen_flags("r,ccs=UTF-8") == O_RDONLY);
}

TEST_CASE("an append stream counts as written at once; a read stream does not", "[preload][fopen]")
{
    ShimFixture f;
    FILE* r = roar_core_fopen(&f.L, f.S, ROAR_K_FOPEN, "in.txt", "r", nullptr);
    REQUIRE(r);
    CHECK(f.events_of(ROAR_OP_WRITE_FD).empty());
    FILE* a = roar_core_fopen(&f.L, f.S, ROAR_K_FOPEN, "log.txt", "a", nullptr);
    REQUIRE(a);
    auto opens = f.events_of(ROAR_OP_OPEN);
    REQUIRE(opens.size() == 2);
    CHECK(opens[1].h.flags == (O_WRONLY | O_CREAT | O_APPEND));
    CHECK(opens[1].h.result == fileno(a));
    auto writes = f.events_of(ROAR_OP_WRITE_FD);
    REQUIRE(writes.size() == 1);
    CHECK(writes[0].h.fd == fileno(a));
    const int afd = fileno(a);
    CHECK(roar_core_fclose(&f.L, f.S, a) == 0);
    roar_core_fclose(&f.L, f.S, r);
    auto closes = f.events_of(ROAR_OP_CLOSE);
    REQUIRE(closes.size() == 2);
    CHECK(closes[0].h.fd == afd);
}

TEST_CASE("a raw syscall of an open or rename is reported through the libc hook's core", "[preload][syscall]")
{
    ShimFixture f;
    errno = 1234;
    const long open_args[6] = {5, reinterpret_cast<long>("data/in.csv"), O_RDONLY, 0, 0, 0};
    CHECK(roar_core_syscall(&f.L, f.S, SYS_openat, open_args) == 7);
    CHECK(errno == 1234);
    g_fake.exists = false;
    const long rename_args[6] = {
        ROAR_AT_FDCWD, reinterpret_cast<long>("a.tmp"), ROAR_AT_FDCWD, reinterpret_cast<long>("a.txt"), 0, 0};
    CHECK(roar_core_syscall(&f.L, f.S, SYS_renameat2, rename_args) == 0);
    auto ev = f.events();
    REQUIRE(ev.size() == 2);
    CHECK(ev[0].h.op == ROAR_OP_OPEN);
    CHECK(ev[0].h.fd == 5);
    CHECK(ev[0].s1 == "data/in.csv");
    CHECK(ev[0].h.result == 7);
    CHECK(ev[1].h.op == ROAR_OP_RENAME);
    CHECK(ev[1].s1 == "a.tmp");
    CHECK(ev[1].s2 == "a.txt");
    REQUIRE(g_fake.calls.size() == 2);
    CHECK(g_fake.calls[0] == "openat data/in.csv");
}

TEST_CASE("the syscall hook observes file and process numbers only", "[preload][syscall]")
{
    CHECK(roar_syscall_observed(SYS_openat));
    CHECK(roar_syscall_observed(SYS_openat2));
    CHECK(roar_syscall_observed(SYS_write));
    CHECK(roar_syscall_observed(SYS_fork));
    CHECK_FALSE(roar_syscall_observed(SYS_futex));
    CHECK_FALSE(roar_syscall_observed(SYS_read));
    CHECK_FALSE(roar_syscall_observed(SYS_getpid));
    CHECK_FALSE(roar_syscall_observed(SYS_exit));
}
