// The tracer's syscall decoder: each x86_64 system call the filter stops on
// becomes the event the shim publishes for the libc call of the same name,
// with the right fds, flags, path arguments and sync-point rule.
#include "roar/collector/syscall_decoder.hpp"

#include "roar/collector/syscall_filter.h"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <csignal>
#include <sched.h>
#include <sys/syscall.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

using namespace roar::collector;

namespace {

SyscallCall decode(long nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0, uint64_t a4 = 0,
                   uint64_t a5 = 0)
{
    const uint64_t args[6] = {a0, a1, a2, a3, a4, a5};
    return decode_syscall(nr, args);
}

constexpr uint64_t k_path = 0x1000;
constexpr uint64_t k_path2 = 0x2000;
constexpr uint64_t k_cwd = uint64_t(uint32_t(AT_FDCWD)); // as the kernel sees an int argument

} // namespace

TEST_CASE("every syscall the filter stops on is decoded", "[collector][tracer][decoder]")
{
    for (int nr : roar_filter_syscalls) {
        INFO("syscall " << nr);
        CHECK(decode(nr).kind != SyscallKind::none);
    }
    // open and openat stop only with flags that may change a file (checked before the list).
    CHECK(decode(SYS_open, k_path, O_WRONLY).kind == SyscallKind::open);
    CHECK(decode(SYS_openat, k_cwd, k_path, O_WRONLY).kind == SyscallKind::open);
    CHECK(decode(SYS_read).kind == SyscallKind::none);
    CHECK(decode(SYS_fcntl, 3, F_GETFL).kind == SyscallKind::none);
}

TEST_CASE("opens: dirfd, path, flags and mode, published with the fd", "[collector][tracer][decoder]")
{
    SyscallCall c = decode(SYS_openat, 5, k_path, O_RDONLY | O_CLOEXEC, 0);
    CHECK(c.kind == SyscallKind::open);
    CHECK(c.op == ROAR_OP_OPEN);
    CHECK(c.dirfd == 5);
    CHECK(c.path == k_path);
    CHECK(c.flags == (O_RDONLY | O_CLOEXEC));
    CHECK(c.needs_result);
    CHECK(c.pre_modify == PreModify::none);

    c = decode(SYS_openat, k_cwd, k_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(c.dirfd == ROAR_AT_FDCWD);
    CHECK(c.mode == 0644);
    CHECK(c.pre_modify == PreModify::path); // an existing file would lose its bytes
    CHECK(c.pre_modify_flags == (O_WRONLY | O_CREAT | O_TRUNC));

    c = decode(SYS_open, k_path, O_RDWR);
    CHECK(c.dirfd == ROAR_AT_FDCWD);
    CHECK(c.pre_modify == PreModify::path);

    c = decode(SYS_creat, k_path, 0600);
    CHECK(c.flags == (O_CREAT | O_WRONLY | O_TRUNC));
    CHECK(c.pre_modify == PreModify::path);
}

TEST_CASE("opens that cannot touch an existing file's bytes have no sync point", "[collector][tracer][decoder]")
{
    CHECK(decode(SYS_openat, k_cwd, k_path, O_WRONLY | O_CREAT | O_EXCL, 0644).pre_modify == PreModify::none);
    const SyscallCall tmp = decode(SYS_openat, k_cwd, k_path, O_TMPFILE | O_RDWR, 0600);
    CHECK(tmp.pre_modify == PreModify::none);
    CHECK(tmp.anonymous); // published without a path: never an output
    CHECK(decode(SYS_openat, k_cwd, k_path, O_RDONLY | O_NOFOLLOW).follows_symlinks == false);
    // roar's own probe inside a traced process is not reported at all.
    CHECK(decode(SYS_openat, k_cwd, k_path, O_RDONLY | ROAR_OPEN_OWN).kind == SyscallKind::none);
}

TEST_CASE("openat2's flags are read from struct open_how, then decide", "[collector][tracer][decoder]")
{
    SyscallCall c = decode(SYS_openat2, k_cwd, k_path, 0x3000, 24);
    CHECK(c.kind == SyscallKind::open);
    CHECK(c.open_how == 0x3000);
    apply_open_flags(c, O_WRONLY | O_TRUNC, 0);
    CHECK(c.flags == (O_WRONLY | O_TRUNC));
    CHECK(c.pre_modify == PreModify::path);
}

TEST_CASE("the fd table: close before the call, dup with the new fd", "[collector][tracer][decoder]")
{
    SyscallCall c = decode(SYS_close, 7);
    CHECK(c.op == ROAR_OP_CLOSE);
    CHECK(c.fd == 7);
    CHECK(c.fd2 == 7);
    CHECK_FALSE(c.needs_result);

    c = decode(SYS_close_range, 3, ~0u, 0);
    CHECK(c.fd == 3);
    CHECK(c.fd2 == INT_MAX);
    CHECK(decode(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC).kind == SyscallKind::none); // closes nothing now

    for (long nr : {long(SYS_dup), long(SYS_dup2), long(SYS_dup3)}) {
        c = decode(nr, 4, 9, 0);
        CHECK(c.op == ROAR_OP_DUP);
        CHECK(c.fd == 4);
        CHECK(c.fd2 == (nr == SYS_dup ? -1 : 9)); // dup2/dup3 close it first: the tracer learns it
        CHECK(c.needs_result);
    }
    CHECK(decode(SYS_fcntl, 4, F_DUPFD_CLOEXEC, 10).op == ROAR_OP_DUP);
}

TEST_CASE("the namespace: renames, links, unlinks, truncates", "[collector][tracer][decoder]")
{
    SyscallCall c = decode(SYS_renameat2, 3, k_path, 4, k_path2, 0);
    CHECK(c.op == ROAR_OP_RENAME);
    CHECK(c.dirfd == 3);
    CHECK(c.dirfd2 == 4);
    CHECK(c.path2 == k_path2);
    CHECK(c.pre_modify == PreModify::path2); // the target, if it exists, loses its bytes
    CHECK_FALSE(c.follows_symlinks);
    CHECK(decode(SYS_renameat2, 3, k_path, 4, k_path2, RENAME_NOREPLACE).pre_modify == PreModify::none);
    CHECK(decode(SYS_renameat2, 3, k_path, 4, k_path2, RENAME_EXCHANGE).pre_modify == PreModify::both_paths);
    CHECK(decode(SYS_rename, k_path, k_path2).dirfd2 == ROAR_AT_FDCWD);

    c = decode(SYS_symlink, k_path, k_path2);
    CHECK(c.op == ROAR_OP_SYMLINK);
    CHECK(c.dirfd == -1); // the target text is not resolved against anything
    CHECK(c.path2 == k_path2);

    c = decode(SYS_linkat, 3, k_path, k_cwd, k_path2, 0);
    CHECK(c.op == ROAR_OP_LINK);
    CHECK(c.dirfd2 == ROAR_AT_FDCWD);

    c = decode(SYS_unlinkat, 3, k_path, 0);
    CHECK(c.op == ROAR_OP_UNLINK);
    CHECK(c.pre_modify == PreModify::path);
    c = decode(SYS_unlinkat, 3, k_path, AT_REMOVEDIR);
    CHECK(c.flags == AT_REMOVEDIR);
    CHECK(c.pre_modify == PreModify::none);
    CHECK(decode(SYS_rmdir, k_path).flags == AT_REMOVEDIR);

    c = decode(SYS_truncate, k_path, 4);
    CHECK(c.op == ROAR_OP_TRUNCATE);
    CHECK(c.path == k_path);
    CHECK(c.pre_modify_flags == (O_WRONLY | O_TRUNC));
    c = decode(SYS_ftruncate, 6, 0);
    CHECK(c.fd == 6);
    CHECK(c.path == 0);
    CHECK(c.pre_modify == PreModify::fd);

    c = decode(SYS_mkdirat, 3, k_path, 0755);
    CHECK(c.op == ROAR_OP_MKDIR);
    CHECK(c.mode == 0755);
    CHECK(decode(SYS_chdir, k_path).path == k_path);
    CHECK(decode(SYS_fchdir, 5).fd == 5);
}

TEST_CASE("processes: exec, fork and clone, exit", "[collector][tracer][decoder]")
{
    SyscallCall c = decode(SYS_execve, k_path, 0x5000, 0x6000);
    CHECK(c.op == ROAR_OP_EXEC);
    CHECK(c.path == k_path);
    CHECK(c.argv == 0x5000);
    c = decode(SYS_execveat, 3, k_path, 0x5000, 0x6000, AT_EMPTY_PATH);
    CHECK(c.dirfd == 3);
    CHECK(c.flags == AT_EMPTY_PATH);

    CHECK(decode(SYS_fork).kind == SyscallKind::fork);
    CHECK(decode(SYS_vfork).kind == SyscallKind::fork);
    c = decode(SYS_clone, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD);
    CHECK(c.new_thread);
    CHECK_FALSE(c.needs_result); // the child arrives as a ptrace event
    CHECK_FALSE(decode(SYS_clone, SIGCHLD).new_thread);
    c = decode(SYS_clone3, 0x7000, 88);
    CHECK(c.flags_in_memory);
    CHECK(c.argv == 0x7000);

    c = decode(SYS_exit_group, 3);
    CHECK(c.op == ROAR_OP_PROC_EXIT);
    CHECK(c.flags == 3);
    CHECK(decode(SYS_io_uring_setup, 8, 0).kind == SyscallKind::io_uring);
}

TEST_CASE("write-capable opens are the ones the tracer counts as written", "[collector][tracer][decoder]")
{
    CHECK_FALSE(open_can_write(O_RDONLY));
    CHECK_FALSE(open_can_write(O_RDONLY | O_CLOEXEC));
    CHECK(open_can_write(O_WRONLY));
    CHECK(open_can_write(O_RDWR | O_APPEND));
}

TEST_CASE("S3 routing: connect and getpeername name the fd and where their sockaddr is", "[collector][tracer][decoder]")
{
    const SyscallCall c = decode(SYS_connect, 5, k_path, 16);
    CHECK(c.kind == SyscallKind::connect);
    CHECK(c.fd == 5);
    CHECK(c.path == k_path);
    CHECK(c.mode == 16);
    CHECK_FALSE(c.needs_result);
    const SyscallCall g = decode(SYS_getpeername, 7, k_path, k_path2);
    CHECK(g.kind == SyscallKind::getpeername);
    CHECK(g.fd == 7);
    CHECK(g.path == k_path);
    CHECK(g.argv == k_path2);
    CHECK_FALSE(g.needs_result);
}
