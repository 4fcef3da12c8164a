/* The core of every hook. Each exported hook in hooks.c is a one-line
 * forward to one of these functions, passing the real-libc table `L`, the
 * shim state `S`, a `kind` saying which libc entry point was called, and
 * the caller's arguments. The core calls the real function through `L`
 * and reports through `S`'s ring; unit tests drive it with a fake table.
 *
 * Every core function: passes through untouched when the shim is not
 * active, preserves errno on every path, and never blocks beyond the
 * ring's sync timeout. */
#ifndef ROAR_PRELOAD_CORE_H
#define ROAR_PRELOAD_CORE_H

#include "roar/preload/libc_table.h"
#include "roar/preload/shim_state.h"

#include <dirent.h>
#include <netdb.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum roar_open_kind {
    ROAR_K_OPEN,
    ROAR_K_OPEN64,
    ROAR_K_OPENAT,
    ROAR_K_OPENAT64,
    ROAR_K_OPEN_2,
    ROAR_K_OPEN64_2,
    ROAR_K_OPENAT_2,
    ROAR_K_OPENAT64_2,
    ROAR_K_CREAT,
    ROAR_K_CREAT64
};
enum roar_fopen_kind { ROAR_K_FOPEN, ROAR_K_FOPEN64, ROAR_K_FREOPEN, ROAR_K_FREOPEN64 };
enum roar_mkstemp_kind {
    ROAR_K_MKSTEMP,
    ROAR_K_MKSTEMP64,
    ROAR_K_MKOSTEMP,
    ROAR_K_MKOSTEMP64,
    ROAR_K_MKSTEMPS,
    ROAR_K_MKSTEMPS64,
    ROAR_K_MKOSTEMPS,
    ROAR_K_MKOSTEMPS64
};
enum roar_dup_kind { ROAR_K_DUP, ROAR_K_DUP2, ROAR_K_DUP3 };
enum roar_rename_kind { ROAR_K_RENAME, ROAR_K_RENAMEAT, ROAR_K_RENAMEAT2 };
enum roar_link_kind { ROAR_K_LINK, ROAR_K_LINKAT, ROAR_K_SYMLINK, ROAR_K_SYMLINKAT };
enum roar_unlink_kind { ROAR_K_UNLINK, ROAR_K_UNLINKAT, ROAR_K_REMOVE, ROAR_K_RMDIR };
enum roar_write_kind {
    ROAR_K_WRITE,
    ROAR_K_PWRITE,
    ROAR_K_PWRITE64,
    ROAR_K_WRITEV,
    ROAR_K_PWRITEV,
    ROAR_K_PWRITEV64,
    ROAR_K_PWRITEV2,
    ROAR_K_PWRITEV64V2
};
enum roar_transfer_kind { ROAR_K_COPY_FILE_RANGE, ROAR_K_SENDFILE, ROAR_K_SENDFILE64, ROAR_K_SPLICE };
enum roar_exec_kind { ROAR_K_EXECVE, ROAR_K_EXECV, ROAR_K_EXECVP, ROAR_K_EXECVPE, ROAR_K_FEXECVE, ROAR_K_EXECVEAT };
enum roar_fork_kind { ROAR_K_FORK, ROAR_K_VFORK, ROAR_K__FORK };
enum roar_exit_kind { ROAR_K_EXIT, ROAR_K__EXIT, ROAR_K__EXIT2 };
enum roar_wait_kind { ROAR_K_WAIT, ROAR_K_WAITPID, ROAR_K_WAIT3, ROAR_K_WAIT4 };

/* Opens: OPEN after the call (fd = dirfd, s1 = path, flags, mode, result),
 * PRE_MODIFY + sync before a write-intent open of an existing file. */
int roar_core_open(struct roar_libc* L, struct roar_shim* S, enum roar_open_kind kind, int dirfd, const char* path,
                   int flags, mode_t mode);
/* openat2(2), which glibc reaches only through syscall(): as roar_core_open
 * with the flags and mode of `how` (passed through untouched when `size`
 * is too small to hold them). */
long roar_core_openat2(struct roar_libc* L, struct roar_shim* S, int dirfd, const char* path, const void* how,
                       size_t size);
FILE* roar_core_fopen(struct roar_libc* L, struct roar_shim* S, enum roar_fopen_kind kind, const char* path,
                      const char* mode, FILE* stream);
FILE* roar_core_fdopen(struct roar_libc* L, struct roar_shim* S, int fd, const char* mode);
int roar_core_fclose(struct roar_libc* L, struct roar_shim* S, FILE* stream);
int roar_core_mkstemp(struct roar_libc* L, struct roar_shim* S, enum roar_mkstemp_kind kind, char* templ, int suffixlen,
                      int flags);
FILE* roar_core_tmpfile(struct roar_libc* L, struct roar_shim* S, int is64);
DIR* roar_core_opendir(struct roar_libc* L, struct roar_shim* S, const char* path);
DIR* roar_core_fdopendir(struct roar_libc* L, struct roar_shim* S, int fd);
int roar_core_closedir(struct roar_libc* L, struct roar_shim* S, DIR* dir);

/* The fd table. */
int roar_core_close(struct roar_libc* L, struct roar_shim* S, int fd);
int roar_core_close_range(struct roar_libc* L, struct roar_shim* S, unsigned int first, unsigned int last, int flags);
void roar_core_closefrom(struct roar_libc* L, struct roar_shim* S, int lowfd);
int roar_core_dup(struct roar_libc* L, struct roar_shim* S, enum roar_dup_kind kind, int oldfd, int newfd, int flags);
int roar_core_fcntl(struct roar_libc* L, struct roar_shim* S, int is64, int fd, int cmd, void* arg);
/* recvmsg/recvmmsg: after the call, each fd an SCM_RIGHTS control message
 * carried is reported with roar_report_received_fd. */
ssize_t roar_core_recvmsg(struct roar_libc* L, struct roar_shim* S, int fd, struct msghdr* msg, int flags);
int roar_core_recvmmsg(struct roar_libc* L, struct roar_shim* S, int fd, struct mmsghdr* vec, unsigned int vlen,
                       int flags, struct timespec* timeout);

/* Working directory and namespace changes. */
int roar_core_chdir(struct roar_libc* L, struct roar_shim* S, const char* path);
int roar_core_fchdir(struct roar_libc* L, struct roar_shim* S, int fd);
int roar_core_rename(struct roar_libc* L, struct roar_shim* S, enum roar_rename_kind kind, int olddirfd,
                     const char* oldpath, int newdirfd, const char* newpath, unsigned int flags);
int roar_core_link(struct roar_libc* L, struct roar_shim* S, enum roar_link_kind kind, int olddirfd,
                   const char* oldpath, int newdirfd, const char* newpath, int flags);
int roar_core_unlink(struct roar_libc* L, struct roar_shim* S, enum roar_unlink_kind kind, int dirfd, const char* path,
                     int flags);
int roar_core_mkdir(struct roar_libc* L, struct roar_shim* S, int dirfd, const char* path, mode_t mode);
int roar_core_truncate(struct roar_libc* L, struct roar_shim* S, int is64, const char* path, off_t length);
int roar_core_ftruncate(struct roar_libc* L, struct roar_shim* S, int is64, int fd, off_t length);

/* Data written without an open for writing being enough to tell. */
ssize_t roar_core_write(struct roar_libc* L, struct roar_shim* S, enum roar_write_kind kind, int fd, const void* buf,
                        size_t count, const struct iovec* iov, int iovcnt, off_t offset, int flags);
void* roar_core_mmap(struct roar_libc* L, struct roar_shim* S, int is64, void* addr, size_t length, int prot, int flags,
                     int fd, off_t offset);
/* mprotect adding PROT_WRITE, in a process that made a read-only shared
 * file mapping: a NOTE naming each shared file mapping in the range
 * (writes through it are not observed). */
int roar_core_mprotect(struct roar_libc* L, struct roar_shim* S, void* addr, size_t length, int prot);
/* POSIX AIO: glibc's helper threads write with libc-internal calls the
 * shim cannot see, so each write request counts as the first write of its
 * fd when it is submitted (aio_write, the LIO_WRITE entries of lio_listio;
 * `is64`: the *64 entry point, same layout on 64-bit ABIs). */
int roar_core_aio_write(struct roar_libc* L, struct roar_shim* S, int is64, struct aiocb* cb);
int roar_core_lio_listio(struct roar_libc* L, struct roar_shim* S, int is64, int mode, struct aiocb* const list[],
                         int nent, struct sigevent* sig);
ssize_t roar_core_transfer(struct roar_libc* L, struct roar_shim* S, enum roar_transfer_kind kind, int fd_in,
                           off_t* off_in, int fd_out, off_t* off_out, size_t length, unsigned int flags);

/* Processes. */
int roar_core_exec(struct roar_libc* L, struct roar_shim* S, enum roar_exec_kind kind, int dirfd, const char* path,
                   char* const argv[], char* const envp[], int flags);
int roar_core_spawn(struct roar_libc* L, struct roar_shim* S, int search, pid_t* pid, const char* path,
                    const posix_spawn_file_actions_t* actions, const posix_spawnattr_t* attr, char* const argv[],
                    char* const envp[]);
int roar_core_system(struct roar_libc* L, struct roar_shim* S, const char* command);
FILE* roar_core_popen(struct roar_libc* L, struct roar_shim* S, const char* command, const char* type);
pid_t roar_core_fork(struct roar_libc* L, struct roar_shim* S, enum roar_fork_kind kind);
/* Around any call that forks (fork(), a raw fork syscall): FORK before it,
 * returning whether the shim reports; the child's PROC_START after it
 * when `result` is 0. Both preserve errno. */
int roar_fork_begin(struct roar_libc* L, struct roar_shim* S);
void roar_fork_end(struct roar_libc* L, struct roar_shim* S, int active, long result);
int roar_core_clone(struct roar_libc* L, struct roar_shim* S, int (*fn)(void*), void* stack, int flags, void* arg,
                    void* parent_tid, void* tls, void* child_tid);
void roar_core_exit(struct roar_libc* L, struct roar_shim* S, enum roar_exit_kind kind, int status)
    __attribute__((noreturn));
pid_t roar_core_wait(struct roar_libc* L, struct roar_shim* S, enum roar_wait_kind kind, pid_t pid, int* status,
                     int options, struct rusage* usage);
int roar_core_waitid(struct roar_libc* L, struct roar_shim* S, idtype_t idtype, id_t id, siginfo_t* info, int options);

/* S3 routing (core_net.c; the contract is in s3_route.h and proxy_header.h).
 * With routing off (no ROAR_S3_PROXY) each is the real call after one
 * branch. */
enum roar_resolve_kind { ROAR_K_GETHOSTBYNAME, ROAR_K_GETHOSTBYNAME2 };
enum roar_resolve_r_kind { ROAR_K_GETHOSTBYNAME_R, ROAR_K_GETHOSTBYNAME2_R };

/* connect: a TCP connection to an S3 destination goes to the job's proxy,
 * which gets a PROXY v2 header first; a TLS one without ROAR_S3_TLS is
 * connected as asked and reported once per host with a NOTE. */
int roar_core_connect(struct roar_libc* L, struct roar_shim* S, int fd, const struct sockaddr* addr, socklen_t len);
/* getpeername: a redirected socket answers its original destination. */
int roar_core_getpeername(struct roar_libc* L, struct roar_shim* S, int fd, struct sockaddr* addr, socklen_t* len);
/* The resolver entry points: remember which addresses a name resolved to,
 * so connect can match the address by the name. */
int roar_core_getaddrinfo(struct roar_libc* L, struct roar_shim* S, const char* node, const char* service,
                          const struct addrinfo* hints, struct addrinfo** res);
struct hostent* roar_core_gethostbyname(struct roar_libc* L, struct roar_shim* S, enum roar_resolve_kind kind,
                                        const char* name, int af);
int roar_core_gethostbyname_r(struct roar_libc* L, struct roar_shim* S, enum roar_resolve_r_kind kind, const char* name,
                              int af, struct hostent* ret, char* buf, size_t buflen, struct hostent** result,
                              int* h_errnop);
/* Reads the ROAR_S3_* values (each may be NULL) into S->s3 and turns
 * routing on when `proxy` is a literal ip:port and `secret` 64 lowercase
 * hex chars. Called once at start, before the hooks report. Returns 1
 * (routing on), 0 (no ROAR_S3_PROXY: off) or -1 (malformed: off). */
int roar_s3_setup(struct roar_shim* S, const char* proxy, const char* secret, const char* hosts, const char* tls);
/* After PROC_START: a NOTE when setup returned -1 or ignored entries. */
void roar_s3_report_setup(struct roar_shim* S, int status);

/* Raw system calls (syscall(2)). */

/* Whether the shim reports system call `number` when a program makes it
 * through syscall(): the file and process calls its libc hooks cover. Every
 * other number goes straight to libc's syscall. */
static inline int roar_syscall_observed(long number)
{
    switch (number) {
    case SYS_open:
    case SYS_openat:
    case SYS_openat2:
    case SYS_creat:
    case SYS_close:
    case SYS_close_range:
    case SYS_dup:
    case SYS_dup2:
    case SYS_dup3:
    case SYS_fcntl:
    case SYS_chdir:
    case SYS_fchdir:
    case SYS_rename:
    case SYS_renameat:
    case SYS_renameat2:
    case SYS_link:
    case SYS_linkat:
    case SYS_symlink:
    case SYS_symlinkat:
    case SYS_unlink:
    case SYS_unlinkat:
    case SYS_rmdir:
    case SYS_mkdir:
    case SYS_mkdirat:
    case SYS_truncate:
    case SYS_ftruncate:
    case SYS_write:
    case SYS_pwrite64:
    case SYS_writev:
    case SYS_pwritev:
    case SYS_pwritev2:
    case SYS_mmap:
    case SYS_sendfile:
    case SYS_copy_file_range:
    case SYS_splice:
    case SYS_execve:
    case SYS_execveat:
    case SYS_fork:
    case SYS_clone:
    case SYS_clone3:
    case SYS_exit_group:
    case SYS_connect:
    case SYS_recvmsg:
    case SYS_recvmmsg: return 1;
    default: return 0;
    }
}
/* syscall(number, a[0..5]) for an observed number: the same events as the
 * matching libc hook (the core function that hook calls, which performs
 * the call through libc's wrapper of the same system call), the same
 * result and errno. Forks that do not share memory (fork, clone and clone3
 * without CLONE_VM, CLONE_VFORK or CLONE_THREAD) are reported like fork();
 * fcntl only for F_DUPFD and F_DUPFD_CLOEXEC; everything else is passed to
 * libc's syscall unchanged. */
long roar_core_syscall(struct roar_libc* L, struct roar_shim* S, long number, const long a[6]);

/* Lifecycle (also used by lifecycle.c). */

/* Reports this process: PROC_START (ppid, exe, cwd, argv from `argv` or
 * /proc/self/cmdline when NULL) then FD_INHERITED per inherited path fd. */
void roar_report_start(struct roar_libc* L, struct roar_shim* S, char* const* argv);
/* In a fork child: refreshes the pid if `new_pid` differs from the cached
 * one and reports PROC_START with ROAR_START_FORKED. Idempotent. */
void roar_fork_child(struct roar_libc* L, struct roar_shim* S, uint32_t new_pid);
/* `fd` arrived in an SCM_RIGHTS message: FD_INHERITED (path and F_GETFL
 * flags, as at start) when it names a path, and READ_FD when it is
 * read-only, so the collector knows it like an fd this process opened. */
void roar_report_received_fd(struct roar_shim* S, int fd);
/* Reports PROC_EXIT once (status, or ROAR_EXIT_STATUS_UNKNOWN when
 * `unknown`), preceded by notes on what the shim could not see. */
void roar_report_exit(struct roar_shim* S, int status, int unknown);
/* Emits WRITE_FD for stdout/stderr when stdio has written to them (stdio
 * writes bypass the write() hook). */
void roar_check_stdio(struct roar_shim* S);
/* Translates an fopen mode string into open(2) flags. */
int roar_fopen_flags(const char* mode);

#ifdef __cplusplus
}
#endif

#endif
