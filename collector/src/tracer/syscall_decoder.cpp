// The meaning of each system call the filter stops on (see
// syscall_decoder.hpp). The events mirror the shim's for the libc call of
// the same name (preload/src/core_*.c), so the collector needs no second
// set of rules: argument order is the x86_64 kernel's.
#include "roar/collector/syscall_decoder.hpp"

#include "roar/collector/syscall_filter.h"

#include <climits>
#include <fcntl.h>
#include <sched.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

namespace roar::collector {

namespace {

int as_fd(uint64_t v) { return int(int32_t(uint32_t(v))); }

SyscallCall make(SyscallKind kind, uint16_t op)
{
    SyscallCall c;
    c.kind = kind;
    c.op = op;
    return c;
}

SyscallCall open_call(int dirfd, uint64_t path, int64_t flags, uint32_t mode)
{
    SyscallCall c = make(SyscallKind::open, ROAR_OP_OPEN);
    c.dirfd = dirfd;
    c.path = path;
    apply_open_flags(c, flags, mode);
    return c;
}

SyscallCall two_paths(SyscallKind kind, uint16_t op, int dirfd, uint64_t path, int dirfd2, uint64_t path2,
                      int64_t flags)
{
    SyscallCall c = make(kind, op);
    c.dirfd = dirfd;
    c.path = path;
    c.dirfd2 = dirfd2;
    c.path2 = path2;
    c.flags = flags;
    return c;
}

SyscallCall rename_call(int dirfd, uint64_t path, int dirfd2, uint64_t path2, int64_t flags)
{
    SyscallCall c = two_paths(SyscallKind::rename, ROAR_OP_RENAME, dirfd, path, dirfd2, path2, flags);
    // Only an existing target loses bytes; RENAME_NOREPLACE never replaces one.
    c.follows_symlinks = false;
    if (flags & RENAME_EXCHANGE) {
        c.pre_modify = PreModify::both_paths;
    } else if (!(flags & RENAME_NOREPLACE)) {
        c.pre_modify = PreModify::path2;
    }
    return c;
}

SyscallCall unlink_call(int dirfd, uint64_t path, int64_t flags)
{
    SyscallCall c = make(SyscallKind::unlink, ROAR_OP_UNLINK);
    c.dirfd = dirfd;
    c.path = path;
    c.flags = flags;
    c.follows_symlinks = false;
    if (!(flags & AT_REMOVEDIR)) {
        c.pre_modify = PreModify::path;
    }
    return c;
}

SyscallCall fork_call(int64_t flags)
{
    SyscallCall c = make(SyscallKind::fork, ROAR_OP_FORK);
    c.flags = flags;
    c.new_thread = (flags & CLONE_THREAD) != 0;
    c.needs_result = false; // the child arrives as a ptrace fork/clone event
    return c;
}

} // namespace

bool open_can_write(int64_t flags) { return (flags & O_ACCMODE) != O_RDONLY; }

void apply_open_flags(SyscallCall& c, int64_t flags, uint32_t mode)
{
    c.flags = flags;
    c.mode = mode;
    c.pre_modify = PreModify::none;
    c.follows_symlinks = !(flags & O_NOFOLLOW);
    c.anonymous = (flags & O_TMPFILE) == O_TMPFILE;
    const bool write_intent = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    const bool exclusive = (flags & O_CREAT) && (flags & O_EXCL);
    if (write_intent && !exclusive && !c.anonymous) {
        c.pre_modify = PreModify::path;
        c.pre_modify_flags = int(flags);
    }
}

SyscallCall decode_syscall(long nr, const uint64_t a[6])
{
#if defined(__x86_64__)
    switch (nr) {
    case SYS_open: return open_call(ROAR_AT_FDCWD, a[0], int64_t(a[1]), uint32_t(a[2]));
    case SYS_openat:
        if (a[2] & ROAR_OPEN_OWN) {
            return {}; // the shim's own probe (the filter normally lets it pass)
        }
        return open_call(as_fd(a[0]), a[1], int64_t(a[2]), uint32_t(a[3]));
    case SYS_creat: return open_call(ROAR_AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, uint32_t(a[1]));
    case SYS_openat2: {
        SyscallCall c = make(SyscallKind::open, ROAR_OP_OPEN);
        c.dirfd = as_fd(a[0]);
        c.path = a[1];
        c.open_how = a[2];
        return c;
    }
    case SYS_close: {
        SyscallCall c = make(SyscallKind::close, ROAR_OP_CLOSE);
        c.fd = c.fd2 = as_fd(a[0]);
        c.needs_result = false;
        return c;
    }
    case SYS_close_range: {
        if (a[2] & CLOSE_RANGE_CLOEXEC) {
            return {}; // marks the fds close-on-exec; closes nothing now
        }
        SyscallCall c = make(SyscallKind::close, ROAR_OP_CLOSE);
        c.fd = uint32_t(a[0]) > uint32_t(INT_MAX) ? INT_MAX : int(uint32_t(a[0]));
        c.fd2 = uint32_t(a[1]) > uint32_t(INT_MAX) ? INT_MAX : int(uint32_t(a[1]));
        c.needs_result = false;
        return c;
    }
    case SYS_dup:
    case SYS_dup2:
    case SYS_dup3: {
        SyscallCall c = make(SyscallKind::dup, ROAR_OP_DUP);
        c.fd = as_fd(a[0]);
        if (nr != SYS_dup) {
            c.fd2 = as_fd(a[1]); // closed first if open
        }
        return c;
    }
    case SYS_fcntl: {
        const int cmd = int(uint32_t(a[1]));
        if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) {
            return {};
        }
        SyscallCall c = make(SyscallKind::dup, ROAR_OP_DUP);
        c.fd = as_fd(a[0]);
        return c;
    }
    case SYS_rename: return rename_call(ROAR_AT_FDCWD, a[0], ROAR_AT_FDCWD, a[1], 0);
    case SYS_renameat: return rename_call(as_fd(a[0]), a[1], as_fd(a[2]), a[3], 0);
    case SYS_renameat2: return rename_call(as_fd(a[0]), a[1], as_fd(a[2]), a[3], int64_t(uint32_t(a[4])));
    case SYS_link: return two_paths(SyscallKind::link, ROAR_OP_LINK, ROAR_AT_FDCWD, a[0], ROAR_AT_FDCWD, a[1], 0);
    case SYS_linkat:
        return two_paths(SyscallKind::link, ROAR_OP_LINK, as_fd(a[0]), a[1], as_fd(a[2]), a[3],
                         int64_t(int32_t(uint32_t(a[4]))));
    case SYS_symlink:
        // s1 is the link's target text, not resolved against anything.
        return two_paths(SyscallKind::symlink, ROAR_OP_SYMLINK, -1, a[0], ROAR_AT_FDCWD, a[1], 0);
    case SYS_symlinkat: return two_paths(SyscallKind::symlink, ROAR_OP_SYMLINK, -1, a[0], as_fd(a[1]), a[2], 0);
    case SYS_unlink: return unlink_call(ROAR_AT_FDCWD, a[0], 0);
    case SYS_unlinkat: return unlink_call(as_fd(a[0]), a[1], int64_t(int32_t(uint32_t(a[2]))));
    case SYS_rmdir: return unlink_call(ROAR_AT_FDCWD, a[0], AT_REMOVEDIR);
    case SYS_truncate: {
        SyscallCall c = make(SyscallKind::truncate, ROAR_OP_TRUNCATE);
        c.path = a[0];
        c.pre_modify = PreModify::path;
        c.pre_modify_flags = O_WRONLY | O_TRUNC;
        return c;
    }
    case SYS_ftruncate: {
        SyscallCall c = make(SyscallKind::truncate, ROAR_OP_TRUNCATE);
        c.dirfd = c.fd = as_fd(a[0]);
        c.pre_modify = PreModify::fd;
        return c;
    }
    case SYS_mkdir:
    case SYS_mkdirat: {
        SyscallCall c = make(SyscallKind::mkdir, ROAR_OP_MKDIR);
        const bool at = nr == SYS_mkdirat;
        c.dirfd = at ? as_fd(a[0]) : ROAR_AT_FDCWD;
        c.path = at ? a[1] : a[0];
        c.mode = uint32_t(at ? a[2] : a[1]);
        return c;
    }
    case SYS_chdir: {
        SyscallCall c = make(SyscallKind::chdir, ROAR_OP_CHDIR);
        c.path = a[0];
        return c;
    }
    case SYS_fchdir: {
        SyscallCall c = make(SyscallKind::chdir, ROAR_OP_CHDIR);
        c.dirfd = c.fd = as_fd(a[0]);
        return c;
    }
    case SYS_execve:
    case SYS_execveat: {
        SyscallCall c = make(SyscallKind::exec, ROAR_OP_EXEC);
        const bool at = nr == SYS_execveat;
        c.dirfd = at ? as_fd(a[0]) : ROAR_AT_FDCWD;
        c.path = at ? a[1] : a[0];
        c.argv = at ? a[2] : a[1];
        c.flags = at ? int64_t(int32_t(uint32_t(a[4]))) : 0;
        return c;
    }
    case SYS_clone: return fork_call(int64_t(a[0]));
    case SYS_clone3: {
        SyscallCall c = fork_call(0);
        c.flags_in_memory = true;
        c.argv = a[0]; // struct clone_args: flags is its first member
        return c;
    }
    case SYS_fork:
    case SYS_vfork: return fork_call(0);
    case SYS_exit_group: {
        SyscallCall c = make(SyscallKind::exit_group, ROAR_OP_PROC_EXIT);
        c.flags = int64_t(int32_t(uint32_t(a[0])));
        c.needs_result = false;
        return c;
    }
    case SYS_io_uring_setup: return make(SyscallKind::io_uring, ROAR_OP_NOTE);
    case SYS_connect: {
        SyscallCall c = make(SyscallKind::connect, 0);
        c.fd = as_fd(a[0]);
        c.path = a[1]; // the sockaddr
        c.mode = uint32_t(a[2]);
        c.needs_result = false;
        return c;
    }
    case SYS_getpeername: {
        SyscallCall c = make(SyscallKind::getpeername, 0);
        c.fd = as_fd(a[0]);
        c.path = a[1]; // the sockaddr to fill
        c.argv = a[2]; // its socklen_t, in and out
        c.needs_result = false;
        return c;
    }
    default: return {};
    }
#else
    (void)nr;
    (void)a;
    return {};
#endif
}

} // namespace roar::collector
