/* Core of the process tree: exec family (with env repair and the exec
 * probe), posix_spawn/system/popen, fork/vfork/_Fork/clone, exit and the
 * wait family; plus process start and exit reports. */
#include "core_util.h"
#include "roar/collector/exec_probe.h"
#include "roar/preload/env_repair.h"
#include "roar/preload/reopen_cache.h"
#include "roar/preload/trace_handoff.h"

#include <limits.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char** environ;

/* ---- start and exit reports ---------------------------------------- */

/* Start-up runs on one thread (the status CAS in lifecycle.c), so these
 * buffers need not live on a possibly small thread stack. */
static char g_start_exe[ROAR_MAX_PATH_BYTES];
static char g_start_cwd[ROAR_MAX_PATH_BYTES];
static char g_start_cmdline[ROAR_MAX_ARGV_BYTES];
static char g_start_link[ROAR_MAX_PATH_BYTES];

static const char* read_link(int dirfd, const char* path, char* buf, size_t cap)
{
    const long n = syscall(SYS_readlinkat, dirfd, path, buf, cap - 1);
    if (n < 0) {
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

/* Calls `fn` for each fd open in this process except the directory's own,
 * with what /proc/self/fd names it. Stops at, and returns, the first
 * non-zero value `fn` returns; 0 otherwise. */
static int for_each_fd(struct roar_shim* S, char* link, size_t cap,
                       int (*fn)(struct roar_shim* S, int fd, const char* target))
{
    const long dfd = syscall(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC | ROAR_OPEN_OWN);
    if (dfd < 0) {
        return 0;
    }
    char buf[1024] __attribute__((aligned(8)));
    int stop = 0;
    long n;
    while (!stop && (n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n && !stop;) {
            const unsigned short reclen = *(const unsigned short*)(buf + off + 16);
            const char* name = buf + off + 19;
            off += reclen;
            if (name[0] < '0' || name[0] > '9') {
                continue;
            }
            long fd = 0;
            for (const char* c = name; *c >= '0' && *c <= '9' && fd <= INT_MAX; ++c) {
                fd = fd * 10 + (*c - '0');
            }
            if (fd == dfd || fd > INT_MAX) {
                continue;
            }
            const char* target = read_link((int)dfd, name, link, cap);
            if (target) {
                stop = fn(S, (int)fd, target);
            }
        }
    }
    syscall(SYS_close, (unsigned long long)dfd | ROAR_CLOSE_OWN);
    return stop;
}

static int report_inherited_fd(struct roar_shim* S, int fd, const char* target)
{
    (void)roar_announce_fd(S, fd, target);
    return 0;
}

void roar_report_received_fd(struct roar_shim* S, int fd)
{
    char link[ROAR_MAX_PATH_BYTES];
    const char* target = roar_fd_target(fd, link, sizeof link);
    const int flags = target ? roar_announce_fd(S, fd, target) : -1;
    /* Like a read-only open, receiving a read-only fd counts as a read. */
    if (flags >= 0 && (flags & O_ACCMODE) == O_RDONLY) {
        roar_emit(S, ROAR_OP_READ_FD, fd, -1, 0, 0, 0, NULL, NULL);
    }
}

void roar_report_start(struct roar_libc* L, struct roar_shim* S, char* const* argv)
{
    const int ppid = (int)L->getppid_fn();
    const int traced = S->fs_by_tracer ? ROAR_START_FS_TRACED : 0;
    const char* exe = read_link(AT_FDCWD, "/proc/self/exe", g_start_exe, sizeof g_start_exe);
    const char* cwd = syscall(SYS_getcwd, g_start_cwd, sizeof g_start_cwd) > 0 ? g_start_cwd : NULL;
    if (argv) {
        roar_emit_argv(S, 0, ROAR_OP_PROC_START, ppid, -1, traced, 0, 0, exe, cwd, argv, ROAR_START_ARGV_TRUNCATED);
    } else {
        /* No constructor arguments (a hook ran first): /proc/self/cmdline. */
        int flags = traced;
        long len = 0;
        const long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/cmdline", O_RDONLY | O_CLOEXEC | ROAR_OPEN_OWN);
        if (fd >= 0) {
            long n;
            while (len < (long)sizeof g_start_cmdline
                   && (n = syscall(SYS_read, fd, g_start_cmdline + len, sizeof g_start_cmdline - len)) > 0) {
                len += n;
            }
            char extra;
            if (len == (long)sizeof g_start_cmdline && syscall(SYS_read, fd, &extra, 1) > 0) {
                flags |= ROAR_START_ARGV_TRUNCATED;
            }
            syscall(SYS_close, (unsigned long long)fd | ROAR_CLOSE_OWN);
        }
        if (len > 0 && g_start_cmdline[len - 1] == 0) {
            --len; /* the file ends each argument with a NUL; s3 separates them */
        }
        roar_emit3(S, ROAR_OP_PROC_START, ppid, -1, flags, 0, 0, exe, cwd, g_start_cmdline, (uint32_t)len);
    }
    for_each_fd(S, g_start_link, sizeof g_start_link, report_inherited_fd);
    /* A Go program (even with cgo, when the shim does load) makes its own
     * file system calls with raw syscalls: say so, from the process itself. */
    if (roar_exec_probe_at(AT_FDCWD, "/proc/self/exe") & ROAR_EXEC_GO) {
        roar_emit(S, ROAR_OP_NOTE, -1, -1, 0, 0, 0, "Go binary: its file I/O bypasses libc and was not observed", NULL);
    }
}

static int find_io_uring(struct roar_shim* S, int fd, const char* target)
{
    (void)S;
    (void)fd;
    return strcmp(target, "anon_inode:[io_uring]") == 0;
}

void roar_report_exit(struct roar_shim* S, int status, int unknown)
{
    if (__atomic_exchange_n(&S->exit_sent, 1, __ATOMIC_ACQ_REL)) {
        return;
    }
    roar_check_stdio(S);
    char link[64];
    if (for_each_fd(S, link, sizeof link, find_io_uring)) {
        roar_emit(S, ROAR_OP_NOTE, -1, -1, 0, 0, 0, "io_uring in use: its file I/O is not observed", NULL);
    }
    roar_emit(S, ROAR_OP_PROC_EXIT, -1, -1, unknown ? ROAR_EXIT_STATUS_UNKNOWN : 0, 0, unknown ? 0 : status, NULL,
              NULL);
}

/* ---- exec family ----------------------------------------------------- */

static int call_exec(struct roar_libc* L, enum roar_exec_kind kind, int dirfd, const char* path, char* const argv[],
                     char* const envp[], int flags)
{
    switch (kind) {
    case ROAR_K_EXECVE:
    case ROAR_K_EXECV: return ROAR_REAL(L, execve)(path, argv, envp);
    case ROAR_K_EXECVP:
    case ROAR_K_EXECVPE: return ROAR_REAL(L, execvpe)(path, argv, envp);
    case ROAR_K_FEXECVE: return ROAR_REAL(L, fexecve)(dirfd, argv, envp);
    case ROAR_K_EXECVEAT: return ROAR_REAL(L, execveat)(dirfd, path, argv, envp, flags);
    }
    errno = ENOSYS;
    return -1;
}

/* Probes an fd-named target (fexecve, execveat with AT_EMPTY_PATH). */
static int probe_fd(int fd)
{
    char interp[ROAR_PROBE_INTERP_MAX];
    int flags = roar_exec_probe_fd(fd, interp);
    if (interp[0]) {
        flags |= roar_exec_probe_at(AT_FDCWD, interp)
                 & (ROAR_EXEC_STATIC | ROAR_EXEC_SETID | ROAR_EXEC_FILECAPS | ROAR_EXEC_GO);
    }
    return flags;
}

int roar_core_exec(struct roar_libc* L, struct roar_shim* S, enum roar_exec_kind kind, int dirfd, const char* path,
                   char* const argv[], char* const envp[], int flags)
{
    char* const* env = (kind == ROAR_K_EXECV || kind == ROAR_K_EXECVP) ? environ : envp;
    if (!roar_active(S)) {
        return call_exec(L, kind, dirfd, path, argv, env, flags);
    }
    const int saved = errno;
    /* A vfork-like child shares our memory: take the pid fresh, write
     * nothing to S. */
    const uint32_t pid = (uint32_t)L->getpid_fn();
    roar_check_stdio(S);
    struct roar_env_scratch scratch;
    char* const* fixed = roar_env_repair(S, env, &scratch);

    char resolved[PATH_MAX];
    const char* target = path;
    int probe = 0;
    int fd = dirfd;
    if (kind == ROAR_K_FEXECVE || (kind == ROAR_K_EXECVEAT && (flags & AT_EMPTY_PATH) && path && !path[0])) {
        char proc[32] = "/proc/self/fd/";
        char digits[12];
        int n = 0;
        for (unsigned v = (unsigned)dirfd; n == 0 || v; v /= 10) {
            digits[n++] = (char)('0' + v % 10);
        }
        size_t len = strlen(proc);
        while (n > 0) {
            proc[len++] = digits[--n];
        }
        proc[len] = 0;
        target = read_link(AT_FDCWD, proc, resolved, sizeof resolved);
        probe = probe_fd(dirfd);
    } else if (path && (kind == ROAR_K_EXECVP || kind == ROAR_K_EXECVPE)) {
        target = roar_exec_resolve(path, getenv("PATH"), resolved, sizeof resolved);
        probe = roar_exec_probe_at(AT_FDCWD, target);
    } else if (path) {
        probe = roar_exec_probe_at(kind == ROAR_K_EXECVEAT ? dirfd : AT_FDCWD, path);
        fd = kind == ROAR_K_EXECVEAT ? dirfd : ROAR_AT_FDCWD;
    }
    /* A target the shim cannot enter is handed to roar run's tracer: the
     * EXEC is then a sync point naming this thread (mode), answered with
     * PTRACE_SEIZE, after which the filter goes in just before execve. */
    const int handoff = roar_handoff_wanted(S, probe);
    const uint32_t self = handoff ? (uint32_t)syscall(SYS_gettid) : 0;
    const int64_t index = roar_emit_argv(S, pid, ROAR_OP_EXEC, fd, -1, probe | (handoff ? ROAR_EXEC_TRACE_REQUEST : 0),
                                         self, 0, target, NULL, argv, 0);
    if (handoff) {
        roar_handoff_complete(S, index);
    }
    errno = saved;
    /* No reentry guard here: a memory-sharing child that execs would leave
     * it raised in its parent's thread. libc's exec* do not re-enter. */
    const int r = call_exec(L, kind, dirfd, path, argv, fixed, flags);
    const int err = errno;
    roar_env_release(&scratch);
    roar_emit_argv(S, pid, ROAR_OP_EXEC_FAILED, fd, -1, 0, 0, -err, NULL, NULL, NULL, 0);
    errno = err;
    return r;
}

/* ---- spawn, system, popen ------------------------------------------ */

int roar_core_spawn(struct roar_libc* L, struct roar_shim* S, int search, pid_t* pid, const char* path,
                    const posix_spawn_file_actions_t* actions, const posix_spawnattr_t* attr, char* const argv[],
                    char* const envp[])
{
    if (!roar_active(S)) {
        return search ? ROAR_REAL(L, posix_spawnp)(pid, path, actions, attr, argv, envp)
                      : ROAR_REAL(L, posix_spawn)(pid, path, actions, attr, argv, envp);
    }
    struct roar_env_scratch scratch;
    char* const* fixed = roar_env_repair(S, envp, &scratch);
    pid_t local = 0;
    pid_t* out = pid ? pid : &local;
    roar_t_depth++;
    const int r = search ? ROAR_REAL(L, posix_spawnp)(out, path, actions, attr, argv, fixed)
                         : ROAR_REAL(L, posix_spawn)(out, path, actions, attr, argv, fixed);
    roar_t_depth--;
    const int err = errno;
    roar_env_release(&scratch);
    char resolved[PATH_MAX];
    const char* target = path;
    if (path && search) {
        target = roar_exec_resolve(path, getenv("PATH"), resolved, sizeof resolved);
    }
    const int probe = target ? roar_exec_probe_at(AT_FDCWD, target) : 0;
    roar_emit_argv(S, 0, ROAR_OP_SPAWN, -1, -1, probe, 0, r == 0 ? *out : -r, target, NULL, argv, 0);
    errno = err;
    return r;
}

/* system() and popen() spawn "/bin/sh -c command" with the process's own
 * environ: when that lacks the shim's variables, environ points at a
 * repaired copy for the duration of the call. */
static void shell_spawned(struct roar_shim* S, const char* command)
{
    char* argv[] = {(char*)"sh", (char*)"-c", (char*)command, NULL};
    /* The child's pid is not known here (result 0); its PROC_START names
     * this process as its parent. */
    roar_emit_argv(S, 0, ROAR_OP_SPAWN, -1, -1, 0, 0, 0, "/bin/sh", NULL, argv, 0);
}

int roar_core_system(struct roar_libc* L, struct roar_shim* S, const char* command)
{
    if (!roar_active(S) || !command) {
        return ROAR_REAL(L, system)(command);
    }
    struct roar_env_scratch scratch;
    char** const before = environ;
    char* const* fixed = roar_env_repair(S, before, &scratch);
    environ = (char**)fixed;
    roar_t_depth++;
    const int r = ROAR_REAL(L, system)(command);
    roar_t_depth--;
    const int err = errno;
    if (environ == (char**)fixed) {
        environ = before; /* unless the program replaced it meanwhile */
    }
    roar_env_release(&scratch);
    shell_spawned(S, command);
    errno = err;
    return r;
}

FILE* roar_core_popen(struct roar_libc* L, struct roar_shim* S, const char* command, const char* type)
{
    if (!roar_active(S) || !command) {
        return ROAR_REAL(L, popen)(command, type);
    }
    struct roar_env_scratch scratch;
    char** const before = environ;
    char* const* fixed = roar_env_repair(S, before, &scratch);
    environ = (char**)fixed;
    roar_t_depth++;
    FILE* f = ROAR_REAL(L, popen)(command, type);
    roar_t_depth--;
    const int err = errno;
    if (environ == (char**)fixed) {
        environ = before;
    }
    roar_env_release(&scratch);
    if (f) {
        shell_spawned(S, command);
    }
    errno = err;
    return f;
}

/* ---- fork, clone ------------------------------------------------------ */

void roar_fork_child(struct roar_libc* L, struct roar_shim* S, uint32_t new_pid)
{
    if (new_pid == S->pid || __atomic_load_n(&S->status, __ATOMIC_ACQUIRE) != ROAR_SHIM_READY) {
        return; /* already done (atfork handler, then the fork hook) */
    }
    S->pid = new_pid;
    __atomic_fetch_add(&S->fork_generation, 1, __ATOMIC_RELAXED);
    S->exit_called = 0;
    S->exit_sent = 0;
    /* The collector keeps each process's reads: the parent's reports are
     * not the child's. */
    roar_reopen_reset(S);
    /* fork does not copy the page table of a shared file mapping. */
    S->prefault_state = 0;
    S->prefault_countdown = 0;
    S->prefault_due = 0;
    roar_emit(S, ROAR_OP_PROC_START, (int)L->getppid_fn(), -1,
              ROAR_START_FORKED | (S->fs_by_tracer ? ROAR_START_FS_TRACED : 0), 0, 0, NULL, NULL);
}

int roar_fork_begin(struct roar_libc* L, struct roar_shim* S)
{
    const int active = roar_active(S);
    if (active) {
        const int saved = errno;
        roar_libc_preresolve_for_fork(L);
        roar_emit(S, ROAR_OP_FORK, -1, -1, 0, 0, 0, NULL, NULL);
        errno = saved;
    }
    return active;
}

void roar_fork_end(struct roar_libc* L, struct roar_shim* S, int active, long result)
{
    if (result == 0 && active) {
        const int err = errno;
        roar_fork_child(L, S, (uint32_t)L->getpid_fn());
        errno = err;
    }
}

pid_t roar_core_fork(struct roar_libc* L, struct roar_shim* S, enum roar_fork_kind kind)
{
    /* vfork is always a real fork: a vfork child borrows the parent's
     * memory and stack, where neither the shim nor a wrapper function
     * could safely run. */
    const int active = roar_fork_begin(L, S);
    const pid_t r = kind == ROAR_K__FORK ? ROAR_REAL(L, _Fork)() : ROAR_REAL(L, fork)();
    roar_fork_end(L, S, active, r);
    return r;
}

struct roar_clone_ctx {
    int (*fn)(void*);
    void* arg;
    struct roar_libc* L;
    struct roar_shim* S;
};

static int clone_child(void* p)
{
    /* Without CLONE_VM the child has its own copy of the parent's stack,
     * so the context is still there. */
    const struct roar_clone_ctx* c = (const struct roar_clone_ctx*)p;
    roar_fork_child(c->L, c->S, (uint32_t)c->L->getpid_fn());
    return c->fn(c->arg);
}

int roar_core_clone(struct roar_libc* L, struct roar_shim* S, int (*fn)(void*), void* stack, int flags, void* arg,
                    void* parent_tid, void* tls, void* child_tid)
{
    /* Threads and memory-sharing children are left alone; a memory-sharing
     * child that is not a vfork (its parent runs on) gets a note, as it
     * reports with this process's pid and state until it execs. */
    if (!roar_active(S) || (flags & (CLONE_VM | CLONE_THREAD)) || !fn) {
        if ((flags & (CLONE_VM | CLONE_THREAD | CLONE_VFORK)) == CLONE_VM && roar_active(S)) {
            const int saved = errno;
            roar_emit(S, ROAR_OP_NOTE, -1, -1, 0, 0, 0,
                      "a child started with clone(CLONE_VM) shares this process's memory: until it execs, what it "
                      "does is recorded as this process's",
                      NULL);
            errno = saved;
        }
        return ROAR_REAL(L, clone)(fn, stack, flags, arg, parent_tid, tls, child_tid);
    }
    const int saved = errno;
    roar_emit(S, ROAR_OP_FORK, -1, -1, 0, 0, 0, NULL, NULL);
    errno = saved;
    struct roar_clone_ctx ctx = {fn, arg, L, S};
    return ROAR_REAL(L, clone)(clone_child, stack, flags, &ctx, parent_tid, tls, child_tid);
}

/* ---- exit, wait ------------------------------------------------------- */

void roar_core_exit(struct roar_libc* L, struct roar_shim* S, enum roar_exit_kind kind, int status)
{
    if (roar_active(S)) {
        if (kind == ROAR_K_EXIT) {
            /* atexit handlers may still write files: the destructor, which
             * runs after them, reports the exit. */
            S->exit_status = status;
            S->exit_called = 1;
        } else {
            roar_report_exit(S, status, 0);
        }
    }
    switch (kind) {
    case ROAR_K_EXIT: ROAR_REAL(L, exit)(status); break;
    case ROAR_K__EXIT: ROAR_REAL(L, _exit)(status); break;
    default: ROAR_REAL(L, _Exit)(status); break;
    }
    for (;;) {
        syscall(SYS_exit_group, status);
    }
}

pid_t roar_core_wait(struct roar_libc* L, struct roar_shim* S, enum roar_wait_kind kind, pid_t pid, int* status,
                     int options, struct rusage* usage)
{
    int local = 0;
    int* st = status ? status : &local;
    pid_t r;
    switch (kind) {
    case ROAR_K_WAIT: r = ROAR_REAL(L, wait)(st); break;
    case ROAR_K_WAITPID: r = ROAR_REAL(L, waitpid)(pid, st, options); break;
    case ROAR_K_WAIT3: r = ROAR_REAL(L, wait3)(st, options, usage); break;
    default: r = ROAR_REAL(L, wait4)(pid, st, options, usage); break;
    }
    if (r > 0 && (WIFEXITED(*st) || WIFSIGNALED(*st)) && roar_active(S)) {
        const int err = errno;
        roar_emit(S, ROAR_OP_WAIT, r, -1, 0, 0, *st, NULL, NULL);
        errno = err;
    }
    return r;
}

int roar_core_waitid(struct roar_libc* L, struct roar_shim* S, idtype_t idtype, id_t id, siginfo_t* info, int options)
{
    siginfo_t local;
    siginfo_t* si = info;
    if (!si) {
        memset(&local, 0, sizeof local);
        si = &local;
    }
    const int r = ROAR_REAL(L, waitid)(idtype, id, si, options);
    if (r == 0 && !(options & WNOWAIT) && si->si_pid > 0 && roar_active(S)) {
        int status = -1;
        switch (si->si_code) {
        case CLD_EXITED: status = (si->si_status & 0xff) << 8; break;
        case CLD_KILLED: status = si->si_status & 0x7f; break;
        case CLD_DUMPED: status = (si->si_status & 0x7f) | 0x80; break;
        default: break; /* stopped/continued: not reaped */
        }
        if (status >= 0) {
            const int err = errno;
            roar_emit(S, ROAR_OP_WAIT, si->si_pid, -1, 0, 0, status, NULL, NULL);
            errno = err;
        }
    }
    return r;
}
