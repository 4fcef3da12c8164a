/* The table through which the shim reaches the real libc functions it
 * interposes. The production table starts empty and each entry is filled
 * on first use with dlsym(RTLD_NEXT, name), so a hook that runs before the
 * constructor (or in a program that never lets it run first) still works
 * and a process pays only for the functions it calls. Unit tests pass a
 * table of fakes instead; an entry they leave NULL resolves to the real
 * libc function the same way.
 *
 * A few helpers the core needs but does not interpose (getpid, getppid,
 * faccessat) are in the table too, so tests can fake them. */
#ifndef ROAR_PRELOAD_LIBC_TABLE_H
#define ROAR_PRELOAD_LIBC_TABLE_H

#include <aio.h>
#include <dirent.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(return type, name, parameter list) for every interposed function whose
 * real implementation the core calls. */
#define ROAR_LIBC_FUNCS(X)                                                                                             \
    X(int, open, (const char*, int, ...))                                                                              \
    X(int, open64, (const char*, int, ...))                                                                            \
    X(int, openat, (int, const char*, int, ...))                                                                       \
    X(int, openat64, (int, const char*, int, ...))                                                                     \
    X(int, __open_2, (const char*, int))                                                                               \
    X(int, __open64_2, (const char*, int))                                                                             \
    X(int, __openat_2, (int, const char*, int))                                                                        \
    X(int, __openat64_2, (int, const char*, int))                                                                      \
    X(int, creat, (const char*, mode_t))                                                                               \
    X(int, creat64, (const char*, mode_t))                                                                             \
    X(FILE*, fopen, (const char*, const char*))                                                                        \
    X(FILE*, fopen64, (const char*, const char*))                                                                      \
    X(FILE*, freopen, (const char*, const char*, FILE*))                                                               \
    X(FILE*, freopen64, (const char*, const char*, FILE*))                                                             \
    X(FILE*, fdopen, (int, const char*))                                                                               \
    X(int, fclose, (FILE*))                                                                                            \
    X(int, mkstemp, (char*))                                                                                           \
    X(int, mkstemp64, (char*))                                                                                         \
    X(int, mkostemp, (char*, int))                                                                                     \
    X(int, mkostemp64, (char*, int))                                                                                   \
    X(int, mkstemps, (char*, int))                                                                                     \
    X(int, mkstemps64, (char*, int))                                                                                   \
    X(int, mkostemps, (char*, int, int))                                                                               \
    X(int, mkostemps64, (char*, int, int))                                                                             \
    X(FILE*, tmpfile, (void))                                                                                          \
    X(FILE*, tmpfile64, (void))                                                                                        \
    X(DIR*, opendir, (const char*))                                                                                    \
    X(DIR*, fdopendir, (int))                                                                                          \
    X(int, closedir, (DIR*))                                                                                           \
    X(int, close, (int))                                                                                               \
    X(int, close_range, (unsigned int, unsigned int, int))                                                             \
    X(void, closefrom, (int))                                                                                          \
    X(int, dup, (int))                                                                                                 \
    X(int, dup2, (int, int))                                                                                           \
    X(int, dup3, (int, int, int))                                                                                      \
    X(int, fcntl, (int, int, ...))                                                                                     \
    X(int, fcntl64, (int, int, ...))                                                                                   \
    X(int, chdir, (const char*))                                                                                       \
    X(int, fchdir, (int))                                                                                              \
    X(int, rename, (const char*, const char*))                                                                         \
    X(int, renameat, (int, const char*, int, const char*))                                                             \
    X(int, renameat2, (int, const char*, int, const char*, unsigned int))                                              \
    X(int, link, (const char*, const char*))                                                                           \
    X(int, linkat, (int, const char*, int, const char*, int))                                                          \
    X(int, symlink, (const char*, const char*))                                                                        \
    X(int, symlinkat, (const char*, int, const char*))                                                                 \
    X(int, unlink, (const char*))                                                                                      \
    X(int, unlinkat, (int, const char*, int))                                                                          \
    X(int, remove, (const char*))                                                                                      \
    X(int, rmdir, (const char*))                                                                                       \
    X(int, mkdir, (const char*, mode_t))                                                                               \
    X(int, mkdirat, (int, const char*, mode_t))                                                                        \
    X(int, truncate, (const char*, off_t))                                                                             \
    X(int, truncate64, (const char*, off_t))                                                                           \
    X(int, ftruncate, (int, off_t))                                                                                    \
    X(int, ftruncate64, (int, off_t))                                                                                  \
    X(ssize_t, copy_file_range, (int, off_t*, int, off_t*, size_t, unsigned int))                                      \
    X(ssize_t, sendfile, (int, int, off_t*, size_t))                                                                   \
    X(ssize_t, sendfile64, (int, int, off_t*, size_t))                                                                 \
    X(ssize_t, splice, (int, off_t*, int, off_t*, size_t, unsigned int))                                               \
    X(ssize_t, write, (int, const void*, size_t))                                                                      \
    X(ssize_t, pwrite, (int, const void*, size_t, off_t))                                                              \
    X(ssize_t, pwrite64, (int, const void*, size_t, off_t))                                                            \
    X(ssize_t, writev, (int, const struct iovec*, int))                                                                \
    X(ssize_t, pwritev, (int, const struct iovec*, int, off_t))                                                        \
    X(ssize_t, pwritev64, (int, const struct iovec*, int, off_t))                                                      \
    X(ssize_t, pwritev2, (int, const struct iovec*, int, off_t, int))                                                  \
    X(ssize_t, pwritev64v2, (int, const struct iovec*, int, off_t, int))                                               \
    X(void*, mmap, (void*, size_t, int, int, int, off_t))                                                              \
    X(void*, mmap64, (void*, size_t, int, int, int, off_t))                                                            \
    X(int, mprotect, (void*, size_t, int))                                                                             \
    X(int, aio_write, (struct aiocb*))                                                                                 \
    X(int, aio_write64, (struct aiocb64*))                                                                             \
    X(int, lio_listio, (int, struct aiocb* const*, int, struct sigevent*))                                             \
    X(int, lio_listio64, (int, struct aiocb64* const*, int, struct sigevent*))                                         \
    X(int, execve, (const char*, char* const*, char* const*))                                                          \
    X(int, execvpe, (const char*, char* const*, char* const*))                                                         \
    X(int, fexecve, (int, char* const*, char* const*))                                                                 \
    X(int, execveat, (int, const char*, char* const*, char* const*, int))                                              \
    X(int, posix_spawn,                                                                                                \
      (pid_t*, const char*, const posix_spawn_file_actions_t*, const posix_spawnattr_t*, char* const*, char* const*))  \
    X(int, posix_spawnp,                                                                                               \
      (pid_t*, const char*, const posix_spawn_file_actions_t*, const posix_spawnattr_t*, char* const*, char* const*))  \
    X(int, system, (const char*))                                                                                      \
    X(FILE*, popen, (const char*, const char*))                                                                        \
    X(pid_t, fork, (void))                                                                                             \
    X(pid_t, _Fork, (void))                                                                                            \
    X(int, clone, (int (*)(void*), void*, int, void*, ...))                                                            \
    X(void, exit, (int))                                                                                               \
    X(void, _exit, (int))                                                                                              \
    X(void, _Exit, (int))                                                                                              \
    X(pid_t, wait, (int*))                                                                                             \
    X(pid_t, waitpid, (pid_t, int*, int))                                                                              \
    X(pid_t, wait3, (int*, int, struct rusage*))                                                                       \
    X(pid_t, wait4, (pid_t, int*, int, struct rusage*))                                                                \
    X(int, waitid, (idtype_t, id_t, siginfo_t*, int))                                                                  \
    X(int, connect, (int, const struct sockaddr*, socklen_t))                                                          \
    X(ssize_t, recvmsg, (int, struct msghdr*, int))                                                                    \
    X(int, recvmmsg, (int, struct mmsghdr*, unsigned int, int, struct timespec*))                                      \
    X(int, getpeername, (int, struct sockaddr*, socklen_t*))                                                           \
    X(int, getaddrinfo, (const char*, const char*, const struct addrinfo*, struct addrinfo**))                         \
    X(struct hostent*, gethostbyname, (const char*))                                                                   \
    X(struct hostent*, gethostbyname2, (const char*, int))                                                             \
    X(int, gethostbyname_r, (const char*, struct hostent*, char*, size_t, struct hostent**, int*))                     \
    X(int, gethostbyname2_r, (const char*, int, struct hostent*, char*, size_t, struct hostent**, int*))

struct roar_libc {
#define ROAR_LIBC_MEMBER(ret, name, params) ret(*name) params;
    ROAR_LIBC_FUNCS(ROAR_LIBC_MEMBER)
#undef ROAR_LIBC_MEMBER
    /* Helpers the core uses but does not interpose; never resolved lazily. */
    pid_t (*getpid_fn)(void);
    pid_t (*getppid_fn)(void);
    int (*faccessat_fn)(int dirfd, const char* path, int mode, int flags);
};

/* Resolves `name` with dlsym(RTLD_NEXT) and stores it in `*slot`; returns
 * the function, or NULL when libc has no such symbol. */
void* roar_libc_resolve(void** slot, const char* name);

/* Resolves, once, the real functions a fork child typically calls before
 * exec (exec family, fd table, open, chdir, _exit): a first dlsym in the
 * child of a multi-threaded parent could wait on a loader lock that a
 * thread which no longer exists held at fork time. */
void roar_libc_preresolve_for_fork(struct roar_libc* libc);

/* Points the helpers of `libc` at raw-syscall implementations. */
void roar_libc_init_helpers(struct roar_libc* libc);

/* The raw-syscall helpers themselves (faccessat ignores `flags`). */
pid_t roar_sys_getpid(void);
pid_t roar_sys_getppid(void);
int roar_sys_faccessat(int dirfd, const char* path, int mode, int flags);

/* libc's own syscall(2). The shim exports a `syscall` hook, so a plain
 * call from inside the shim would come back to it: the preload sources are
 * compiled with `syscall` defined as roar_own_syscall (CMakeLists.txt),
 * which forwards the number and six arguments to the function this
 * returns (dlsym(RTLD_NEXT) on first use, like the table's entries). */
typedef long (*roar_syscall_fn)(long, ...);
extern roar_syscall_fn roar_libc_syscall_slot;
roar_syscall_fn roar_libc_syscall_resolve(void);
static inline roar_syscall_fn roar_libc_syscall(void)
{
    const roar_syscall_fn fn = __atomic_load_n(&roar_libc_syscall_slot, __ATOMIC_RELAXED);
    return fn ? fn : roar_libc_syscall_resolve();
}
long roar_own_syscall(long number, ...);

/* The real `fn` of table `L`, resolved on first use. */
#define ROAR_REAL(L, fn)                                                                                               \
    (__atomic_load_n(&(L)->fn, __ATOMIC_RELAXED) ? (L)->fn                                                             \
                                                 : (__typeof__((L)->fn))roar_libc_resolve((void**)&(L)->fn, #fn))

#ifdef __cplusplus
}
#endif

#endif
