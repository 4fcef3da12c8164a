/* The seccomp-BPF program of roar's ptrace tracer: which system calls stop
 * a traced process (SECCOMP_RET_TRACE, answered by roar run's tracer
 * thread) and which run at full speed (SECCOMP_RET_ALLOW). Plain C, static
 * inline, raw syscalls and caller-provided buffers only, because three
 * places install it before an execve: the shim (preload/src/trace_handoff.c)
 * in a process handing itself to the tracer, the launcher's child for a
 * traced root command, and the tracer's own availability check.
 *
 * An openat whose flags carry ROAR_OPEN_OWN (roar's own probes inside a
 * job's process), and a close carrying ROAR_CLOSE_OWN (its close), are
 * allowed unstopped. So is a read-only open or openat
 * (no O_WRONLY, O_RDWR, O_CREAT or O_TRUNC), and so is one that creates
 * or replaces a whole file (a write access mode with O_CREAT and either
 * O_TRUNC or O_EXCL, creat(2) included): the tracer learns its fd at the
 * process's next stop that needs it (the fd's close, a dup, an exec,
 * exit_group, a call that may change a file) from /proc, which saves the
 * two stops that would cost on the commonest file syscalls. Such a write
 * open has no PRE_MODIFY sync point: docs/ARCHITECTURE.md ("Unknown fds")
 * says what that costs. Other write opens (O_TRUNC alone, an append,
 * O_RDWR in place, O_TMPFILE) still stop.
 *
 * In-kernel copies (sendfile, copy_file_range, splice) never stop: the
 * file read from is an input through its open, and the file written to is
 * an output through its open (one that creates or replaces it) or through
 * the change the tracer finds at the fd's close, as for write(2).
 *
 * Only the x86_64 syscall ABI is decoded. Calls made through any other ABI
 * (i386 `int 0x80`, x32) are allowed untouched: a 32-bit program under the
 * filter runs at full speed and unobserved (its EXEC carries
 * ROAR_EXEC_32BIT), never with a stop the tracer could not decode.
 *
 * A RET_TRACE filter makes a syscall fail with ENOSYS when no tracer with
 * PTRACE_O_TRACESECCOMP is attached. Installers therefore install it only
 * once the tracer has seized them (PTRACE_O_EXITKILL kills the tracee if
 * the tracer dies), so a job never sees that ENOSYS. */
#ifndef ROAR_COLLECTOR_SYSCALL_FILTER_H
#define ROAR_COLLECTOR_SYSCALL_FILTER_H

#include "roar/collector/event_format.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Newer syscalls older headers may lack (x86_64 numbers). */
#if defined(__x86_64__)
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

/* roar_filter_build flags. */
#define ROAR_FILTER_CONNECT 0x1 /* also stop on connect and getpeername (S3 routing of traced programs) */

/* Open flags that may create or change a file: an open or openat without
 * any of them reads, and runs unstopped. With them it stops, unless it
 * creates or replaces a whole file (O_WRONLY or O_RDWR, O_CREAT, and
 * O_TRUNC or O_EXCL), which runs unstopped too. */
#define ROAR_FILTER_OPEN_CHANGES (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)

/* The mode of an OPEN the tracer publishes for an fd it learnt from /proc
 * at a stop after the call (an open this filter let run unstopped), not at
 * the call; creation modes use only the low 12 bits. With a write access
 * mode (and O_CREAT | O_TRUNC added: the kernel keeps neither in the fd's
 * flags) it stands for an open that created or replaced the file at some
 * moment before the event, so the collector cannot order it against other
 * processes' events (job_tracker.cpp, learnt_replacement). With
 * O_RDONLY it may carry s2 = the file's BLAKE3 (hex) and s3 = its size
 * (decimal): the tracer hashed the file when it learnt the fd, its inode
 * unchanged since before the job, so these are the bytes the job read
 * (tracer.cpp, read_digest). */
#define ROAR_OPEN_LEARNT 0x80000000u

/* Longest program roar_filter_build writes. */
#define ROAR_FILTER_MAX 96

#if defined(__x86_64__)
/* The system calls that stop a traced process (open and openat only with
 * ROAR_FILTER_OPEN_CHANGES flags and not creating or replacing a whole
 * file, creat never, fcntl only for F_DUPFD and
 * F_DUPFD_CLOEXEC; connect and getpeername only with ROAR_FILTER_CONNECT). The tracer's
 * decoder (syscall_decoder.cpp) gives each its event. */
static const int roar_filter_syscalls[] = {
    /* opens (open and openat are checked before the list, by their flags) */
    SYS_openat2,
    /* the fd table (close is checked before the list, for ROAR_CLOSE_OWN) */
    SYS_close_range, SYS_dup, SYS_dup2, SYS_dup3,
    /* the namespace */
    SYS_rename, SYS_renameat, SYS_renameat2, SYS_link, SYS_linkat, SYS_symlink, SYS_symlinkat, SYS_unlink, SYS_unlinkat,
    SYS_rmdir, SYS_truncate, SYS_ftruncate, SYS_mkdir, SYS_mkdirat, SYS_chdir, SYS_fchdir,
    /* processes */
    SYS_execve, SYS_execveat, SYS_clone, SYS_clone3, SYS_fork, SYS_vfork, SYS_exit_group,
    /* I/O the tracer cannot follow, reported as a note */
    SYS_io_uring_setup};
#define ROAR_FILTER_NSYSCALLS (sizeof roar_filter_syscalls / sizeof roar_filter_syscalls[0])
#endif

static inline struct sock_filter roar_bpf(unsigned short code, unsigned char jt, unsigned char jf, unsigned k)
{
    struct sock_filter f;
    f.code = code;
    f.jt = jt;
    f.jf = jf;
    f.k = k;
    return f;
}

/* Writes the filter into `out` (room for `cap` instructions) and returns
 * its length, or 0 when `cap` is too small or this is not x86_64. */
static inline unsigned roar_filter_build(struct sock_filter* out, unsigned cap, unsigned flags)
{
#if defined(__x86_64__)
    /* Layout: checks first, then the two returns; jumps are forward
     * offsets to ALLOW (n - 2) or TRACE (n - 1), patched at the end. */
    const unsigned n = 4 + 11 + 3 + (unsigned)ROAR_FILTER_NSYSCALLS + 4 + ((flags & ROAR_FILTER_CONNECT) ? 2 : 0) + 2;
    if (cap < n || n > ROAR_FILTER_MAX) {
        return 0;
    }
    const unsigned allow = n - 2;
    const unsigned trace = n - 1;
    unsigned i = 0;
#define ROAR_JUMP_TO(target) ((unsigned char)((target)-i - 1))
    out[i] = roar_bpf(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, 0, ROAR_JUMP_TO(allow), AUDIT_ARCH_X86_64);
    ++i;
    out[i] = roar_bpf(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JGE | BPF_K, ROAR_JUMP_TO(allow), 0, __X32_SYSCALL_BIT);
    ++i;
    /* open and openat: their flags (args[1], args[2]) decide. roar's own
     * openat calls (ROAR_OPEN_OWN), read-only opens and opens creating or
     * replacing a whole file pass; other opens that may create or change
     * a file stop. Anything else goes on to the list with nr still in the
     * accumulator. */
    out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, 0, 3, SYS_openat);
    ++i;
    out[i] = roar_bpf(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, args[2]));
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JSET | BPF_K, ROAR_JUMP_TO(allow), 0, ROAR_OPEN_OWN);
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JA, 0, 0, 2); /* to the flag check */
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, 0, 6, SYS_open); /* past the flag checks */
    ++i;
    out[i] = roar_bpf(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, args[1]));
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JSET | BPF_K, 0, ROAR_JUMP_TO(allow), ROAR_FILTER_OPEN_CHANGES);
    ++i;
    /* The flags are still in the accumulator (JSET does not change it):
     * a write access mode, O_CREAT, then O_TRUNC or O_EXCL pass. */
    out[i] = roar_bpf(BPF_JMP | BPF_JSET | BPF_K, 0, ROAR_JUMP_TO(trace), O_ACCMODE);
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JSET | BPF_K, 0, ROAR_JUMP_TO(trace), O_CREAT);
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JSET | BPF_K, ROAR_JUMP_TO(allow), 0, O_TRUNC);
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JSET | BPF_K, ROAR_JUMP_TO(allow), ROAR_JUMP_TO(trace), O_EXCL);
    ++i;
    /* close: roar's own (ROAR_CLOSE_OWN, in the upper half of args[0])
     * pass; the others stop. */
    out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, SYS_close);
    ++i;
    out[i] = roar_bpf(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, args[0]) + 4);
    ++i;
    out[i] =
        roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, ROAR_JUMP_TO(allow), ROAR_JUMP_TO(trace), (unsigned)(ROAR_CLOSE_OWN >> 32));
    ++i;
    for (unsigned s = 0; s < ROAR_FILTER_NSYSCALLS; ++s) {
        out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, ROAR_JUMP_TO(trace), 0, (unsigned)roar_filter_syscalls[s]);
        ++i;
    }
    if (flags & ROAR_FILTER_CONNECT) {
        out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, ROAR_JUMP_TO(trace), 0, SYS_connect);
        ++i;
        out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, ROAR_JUMP_TO(trace), 0, SYS_getpeername);
        ++i;
    }
    /* fcntl stops only when it duplicates: the command is args[1] (an
     * int: the low half of the 64-bit argument on little-endian). */
    out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, 0, ROAR_JUMP_TO(allow), SYS_fcntl);
    ++i;
    out[i] = roar_bpf(BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, args[1]));
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, ROAR_JUMP_TO(trace), 0, F_DUPFD);
    ++i;
    out[i] = roar_bpf(BPF_JMP | BPF_JEQ | BPF_K, ROAR_JUMP_TO(trace), ROAR_JUMP_TO(allow), F_DUPFD_CLOEXEC);
    ++i;
#undef ROAR_JUMP_TO
    out[i++] = roar_bpf(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
    out[i++] = roar_bpf(BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE);
    return i;
#else
    (void)out;
    (void)cap;
    (void)flags;
    return 0;
#endif
}

/* Installs `len` instructions at `prog` on the calling thread. Without
 * CAP_SYS_ADMIN the kernel requires no_new_privs, which is then set (so a
 * setuid program the process later runs gets no privileges from it); with
 * it (root), no_new_privs is left alone. Asks the kernel not to force the
 * speculative-store-bypass mitigation a filter otherwise brings. Returns 0
 * or -errno; clobbers errno. Async-signal-safe. */
static inline int roar_filter_install(const struct sock_filter* prog, unsigned len)
{
    if (len == 0) {
        return -ENOSYS;
    }
    struct sock_fprog fp;
    fp.len = (unsigned short)len;
    fp.filter = (struct sock_filter*)prog;
    unsigned long flags = SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    for (int attempt = 0; attempt < 4; ++attempt) {
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fp) == 0) {
            return 0;
        }
        const int err = errno;
        if (err == EINVAL && flags != 0) {
            flags = 0; /* a kernel older than 4.17 */
        } else if (err == EACCES) {
            if (syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
                return -errno;
            }
        } else {
            return -err;
        }
    }
    return -EACCES;
}

#ifdef __cplusplus
}
#endif

#endif
