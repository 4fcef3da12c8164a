/* Core of the syscall(2) hook: a program's raw system call whose number the
 * libc hooks cover goes through the same core function as that hook (which
 * makes the call through libc's wrapper of the same system call), so it is
 * reported the same way; process-creating numbers are reported like fork.
 * The hook sends every other number straight to libc's syscall. */
#include "core_util.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>

#ifndef CLONE_VFORK
#define CLONE_VFORK 0x00004000
#endif

/* The argument registers as the types the core functions take. */
#define A_INT(i) ((int)a[i])
#define A_PTR(i) ((void*)a[i])
#define A_STR(i) ((const char*)a[i])

/* A raw fork-like call (its child has its own memory): reported as
 * roar_core_fork reports fork(). */
static long raw_fork(struct roar_libc* L, struct roar_shim* S, long number, const long a[6])
{
    const int active = roar_fork_begin(L, S);
    const long r = roar_libc_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    roar_fork_end(L, S, active, r);
    return r;
}

/* Whether clone flags make a child with its own memory that returns where
 * its parent does (no new stack): a fork. */
static int fork_like(unsigned long flags, unsigned long stack)
{
    return !(flags & (CLONE_VM | CLONE_VFORK | CLONE_THREAD)) && stack == 0;
}

long roar_core_syscall(struct roar_libc* L, struct roar_shim* S, long number, const long a[6])
{
    switch (number) {
    case SYS_open: return roar_core_open(L, S, ROAR_K_OPEN, ROAR_AT_FDCWD, A_STR(0), A_INT(1), (mode_t)a[2]);
    case SYS_openat: return roar_core_open(L, S, ROAR_K_OPENAT, A_INT(0), A_STR(1), A_INT(2), (mode_t)a[3]);
    case SYS_creat: return roar_core_open(L, S, ROAR_K_CREAT, ROAR_AT_FDCWD, A_STR(0), 0, (mode_t)a[1]);
    case SYS_openat2: return roar_core_openat2(L, S, A_INT(0), A_STR(1), A_PTR(2), (size_t)a[3]);
    case SYS_close: return roar_core_close(L, S, A_INT(0));
    case SYS_close_range: return roar_core_close_range(L, S, (unsigned int)a[0], (unsigned int)a[1], A_INT(2));
    case SYS_dup: return roar_core_dup(L, S, ROAR_K_DUP, A_INT(0), -1, 0);
    case SYS_dup2: return roar_core_dup(L, S, ROAR_K_DUP2, A_INT(0), A_INT(1), 0);
    case SYS_dup3: return roar_core_dup(L, S, ROAR_K_DUP3, A_INT(0), A_INT(1), A_INT(2));
    case SYS_fcntl:
        if (A_INT(1) == F_DUPFD || A_INT(1) == F_DUPFD_CLOEXEC) {
            return roar_core_fcntl(L, S, 0, A_INT(0), A_INT(1), A_PTR(2));
        }
        break;
    case SYS_chdir: return roar_core_chdir(L, S, A_STR(0));
    case SYS_fchdir: return roar_core_fchdir(L, S, A_INT(0));
    case SYS_rename: return roar_core_rename(L, S, ROAR_K_RENAME, ROAR_AT_FDCWD, A_STR(0), ROAR_AT_FDCWD, A_STR(1), 0);
    case SYS_renameat: return roar_core_rename(L, S, ROAR_K_RENAMEAT, A_INT(0), A_STR(1), A_INT(2), A_STR(3), 0);
    case SYS_renameat2:
        return roar_core_rename(L, S, ROAR_K_RENAMEAT2, A_INT(0), A_STR(1), A_INT(2), A_STR(3), (unsigned int)a[4]);
    case SYS_link: return roar_core_link(L, S, ROAR_K_LINK, ROAR_AT_FDCWD, A_STR(0), ROAR_AT_FDCWD, A_STR(1), 0);
    case SYS_linkat: return roar_core_link(L, S, ROAR_K_LINKAT, A_INT(0), A_STR(1), A_INT(2), A_STR(3), A_INT(4));
    case SYS_symlink: return roar_core_link(L, S, ROAR_K_SYMLINK, -1, A_STR(0), ROAR_AT_FDCWD, A_STR(1), 0);
    case SYS_symlinkat: return roar_core_link(L, S, ROAR_K_SYMLINKAT, -1, A_STR(0), A_INT(1), A_STR(2), 0);
    case SYS_unlink: return roar_core_unlink(L, S, ROAR_K_UNLINK, ROAR_AT_FDCWD, A_STR(0), 0);
    case SYS_unlinkat: return roar_core_unlink(L, S, ROAR_K_UNLINKAT, A_INT(0), A_STR(1), A_INT(2));
    case SYS_rmdir: return roar_core_unlink(L, S, ROAR_K_RMDIR, ROAR_AT_FDCWD, A_STR(0), 0);
    case SYS_mkdir: return roar_core_mkdir(L, S, ROAR_AT_FDCWD, A_STR(0), (mode_t)a[1]);
    case SYS_mkdirat: return roar_core_mkdir(L, S, A_INT(0), A_STR(1), (mode_t)a[2]);
    case SYS_truncate: return roar_core_truncate(L, S, 1, A_STR(0), (off_t)a[1]);
    case SYS_ftruncate: return roar_core_ftruncate(L, S, 1, A_INT(0), (off_t)a[1]);
    case SYS_write: return roar_core_write(L, S, ROAR_K_WRITE, A_INT(0), A_PTR(1), (size_t)a[2], NULL, 0, 0, 0);
    case SYS_pwrite64:
        return roar_core_write(L, S, ROAR_K_PWRITE64, A_INT(0), A_PTR(1), (size_t)a[2], NULL, 0, (off_t)a[3], 0);
    /* The vectored calls' iovec is read by the kernel only; pwritev and
     * pwritev2 take the offset as (low, high) words, whole in the low one
     * on a 64-bit ABI. */
    case SYS_writev: return roar_core_write(L, S, ROAR_K_WRITEV, A_INT(0), NULL, 0, A_PTR(1), A_INT(2), 0, 0);
    case SYS_pwritev:
        return roar_core_write(L, S, ROAR_K_PWRITEV64, A_INT(0), NULL, 0, A_PTR(1), A_INT(2), (off_t)a[3], 0);
    case SYS_pwritev2:
        return roar_core_write(L, S, ROAR_K_PWRITEV64V2, A_INT(0), NULL, 0, A_PTR(1), A_INT(2), (off_t)a[3], A_INT(5));
    case SYS_mmap:
        return (long)roar_core_mmap(L, S, 1, A_PTR(0), (size_t)a[1], A_INT(2), A_INT(3), A_INT(4), (off_t)a[5]);
    case SYS_sendfile:
        return roar_core_transfer(L, S, ROAR_K_SENDFILE64, A_INT(1), (off_t*)a[2], A_INT(0), NULL, (size_t)a[3], 0);
    case SYS_copy_file_range:
        return roar_core_transfer(L, S, ROAR_K_COPY_FILE_RANGE, A_INT(0), (off_t*)a[1], A_INT(2), (off_t*)a[3],
                                  (size_t)a[4], (unsigned int)a[5]);
    case SYS_splice:
        return roar_core_transfer(L, S, ROAR_K_SPLICE, A_INT(0), (off_t*)a[1], A_INT(2), (off_t*)a[3], (size_t)a[4],
                                  (unsigned int)a[5]);
    case SYS_execve:
        return roar_core_exec(L, S, ROAR_K_EXECVE, ROAR_AT_FDCWD, A_STR(0), (char* const*)a[1], (char* const*)a[2], 0);
    case SYS_execveat:
        return roar_core_exec(L, S, ROAR_K_EXECVEAT, A_INT(0), A_STR(1), (char* const*)a[2], (char* const*)a[3],
                              A_INT(4));
    case SYS_fork: return raw_fork(L, S, number, a);
    case SYS_clone:
        /* x86_64 order: flags, stack, parent_tid, child_tid, tls. */
        if (fork_like((unsigned long)a[0], (unsigned long)a[1])) {
            return raw_fork(L, S, number, a);
        }
        break;
    case SYS_clone3:
        /* struct clone_args: u64 flags, pidfd, child_tid, parent_tid,
         * exit_signal, stack, ... */
        if (a[0] && (size_t)a[1] >= 6 * sizeof(uint64_t)) {
            uint64_t args[6];
            memcpy(args, A_PTR(0), sizeof args);
            if (fork_like((unsigned long)args[0], (unsigned long)args[5])) {
                return raw_fork(L, S, number, a);
            }
        }
        break;
    case SYS_exit_group: roar_core_exit(L, S, ROAR_K__EXIT, A_INT(0));
    case SYS_connect: return roar_core_connect(L, S, A_INT(0), (const struct sockaddr*)a[1], (socklen_t)a[2]);
    case SYS_recvmsg: return roar_core_recvmsg(L, S, A_INT(0), (struct msghdr*)a[1], A_INT(2));
    case SYS_recvmmsg:
        return roar_core_recvmmsg(L, S, A_INT(0), (struct mmsghdr*)a[1], (unsigned int)a[2], A_INT(3),
                                  (struct timespec*)a[4]);
    default: break;
    }
    return roar_libc_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
