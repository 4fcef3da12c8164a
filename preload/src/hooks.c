/* The exported hooks: every libc entry point the shim interposes. Each is a
 * one-line forward to its core function (core.h) with the real-libc table
 * and the shim state; variadic ones first collect their arguments the way
 * libc does. Nothing else in the library is exported (preload.map). */
#include "lifecycle.h"

#include <aio.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <sched.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* One line per hook, kept as a table: clang-format would spread it out. */
/* clang-format off */
#define ROAR_HOOK __attribute__((visibility("default")))
#define L_ (&g_roar_libc)
#define S_ (roar_shim_get())

/* open(2)'s optional mode argument, read only when the flags need it. */
#define ROAR_VA_MODE(last, flags)                                                                                   \
    mode_t mode = 0;                                                                                                \
    if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) {                                                  \
        va_list ap;                                                                                                 \
        va_start(ap, last);                                                                                         \
        mode = va_arg(ap, mode_t);                                                                                  \
        va_end(ap);                                                                                                 \
    }

/* Fortified opens (glibc's _FORTIFY_SOURCE): not declared unless fortified. */
int __open_2(const char* path, int flags);
int __open64_2(const char* path, int flags);
int __openat_2(int dirfd, const char* path, int flags);
int __openat64_2(int dirfd, const char* path, int flags);
pid_t __vfork(void);

/* ---- opens ---- */
ROAR_HOOK int open(const char* path, int flags, ...)
{
    ROAR_VA_MODE(flags, flags);
    return roar_core_open(L_, S_, ROAR_K_OPEN, ROAR_AT_FDCWD, path, flags, mode);
}
ROAR_HOOK int open64(const char* path, int flags, ...)
{
    ROAR_VA_MODE(flags, flags);
    return roar_core_open(L_, S_, ROAR_K_OPEN64, ROAR_AT_FDCWD, path, flags, mode);
}
ROAR_HOOK int openat(int dirfd, const char* path, int flags, ...)
{
    ROAR_VA_MODE(flags, flags);
    return roar_core_open(L_, S_, ROAR_K_OPENAT, dirfd, path, flags, mode);
}
ROAR_HOOK int openat64(int dirfd, const char* path, int flags, ...)
{
    ROAR_VA_MODE(flags, flags);
    return roar_core_open(L_, S_, ROAR_K_OPENAT64, dirfd, path, flags, mode);
}
ROAR_HOOK int __open_2(const char* path, int flags) { return roar_core_open(L_, S_, ROAR_K_OPEN_2, ROAR_AT_FDCWD, path, flags, 0); }
ROAR_HOOK int __open64_2(const char* path, int flags) { return roar_core_open(L_, S_, ROAR_K_OPEN64_2, ROAR_AT_FDCWD, path, flags, 0); }
ROAR_HOOK int __openat_2(int dirfd, const char* path, int flags) { return roar_core_open(L_, S_, ROAR_K_OPENAT_2, dirfd, path, flags, 0); }
ROAR_HOOK int __openat64_2(int dirfd, const char* path, int flags) { return roar_core_open(L_, S_, ROAR_K_OPENAT64_2, dirfd, path, flags, 0); }
ROAR_HOOK int creat(const char* path, mode_t mode) { return roar_core_open(L_, S_, ROAR_K_CREAT, ROAR_AT_FDCWD, path, 0, mode); }
ROAR_HOOK int creat64(const char* path, mode_t mode) { return roar_core_open(L_, S_, ROAR_K_CREAT64, ROAR_AT_FDCWD, path, 0, mode); }
ROAR_HOOK FILE* fopen(const char* path, const char* mode) { return roar_core_fopen(L_, S_, ROAR_K_FOPEN, path, mode, NULL); }
ROAR_HOOK FILE* fopen64(const char* path, const char* mode) { return roar_core_fopen(L_, S_, ROAR_K_FOPEN64, path, mode, NULL); }
ROAR_HOOK FILE* freopen(const char* path, const char* mode, FILE* stream) { return roar_core_fopen(L_, S_, ROAR_K_FREOPEN, path, mode, stream); }
ROAR_HOOK FILE* freopen64(const char* path, const char* mode, FILE* stream) { return roar_core_fopen(L_, S_, ROAR_K_FREOPEN64, path, mode, stream); }
ROAR_HOOK FILE* fdopen(int fd, const char* mode) { return roar_core_fdopen(L_, S_, fd, mode); }
ROAR_HOOK int fclose(FILE* stream) { return roar_core_fclose(L_, S_, stream); }
ROAR_HOOK int mkstemp(char* templ) { return roar_core_mkstemp(L_, S_, ROAR_K_MKSTEMP, templ, 0, 0); }
ROAR_HOOK int mkstemp64(char* templ) { return roar_core_mkstemp(L_, S_, ROAR_K_MKSTEMP64, templ, 0, 0); }
ROAR_HOOK int mkostemp(char* templ, int flags) { return roar_core_mkstemp(L_, S_, ROAR_K_MKOSTEMP, templ, 0, flags); }
ROAR_HOOK int mkostemp64(char* templ, int flags) { return roar_core_mkstemp(L_, S_, ROAR_K_MKOSTEMP64, templ, 0, flags); }
ROAR_HOOK int mkstemps(char* templ, int suffixlen) { return roar_core_mkstemp(L_, S_, ROAR_K_MKSTEMPS, templ, suffixlen, 0); }
ROAR_HOOK int mkstemps64(char* templ, int suffixlen) { return roar_core_mkstemp(L_, S_, ROAR_K_MKSTEMPS64, templ, suffixlen, 0); }
ROAR_HOOK int mkostemps(char* templ, int suffixlen, int flags) { return roar_core_mkstemp(L_, S_, ROAR_K_MKOSTEMPS, templ, suffixlen, flags); }
ROAR_HOOK int mkostemps64(char* templ, int suffixlen, int flags) { return roar_core_mkstemp(L_, S_, ROAR_K_MKOSTEMPS64, templ, suffixlen, flags); }
ROAR_HOOK FILE* tmpfile(void) { return roar_core_tmpfile(L_, S_, 0); }
ROAR_HOOK FILE* tmpfile64(void) { return roar_core_tmpfile(L_, S_, 1); }
ROAR_HOOK DIR* opendir(const char* path) { return roar_core_opendir(L_, S_, path); }
ROAR_HOOK DIR* fdopendir(int fd) { return roar_core_fdopendir(L_, S_, fd); }
ROAR_HOOK int closedir(DIR* dir) { return roar_core_closedir(L_, S_, dir); }

/* ---- the fd table ---- */
ROAR_HOOK int close(int fd) { return roar_core_close(L_, S_, fd); }
ROAR_HOOK int close_range(unsigned int first, unsigned int last, int flags) { return roar_core_close_range(L_, S_, first, last, flags); }
ROAR_HOOK void closefrom(int lowfd) { roar_core_closefrom(L_, S_, lowfd); }
ROAR_HOOK int dup(int oldfd) { return roar_core_dup(L_, S_, ROAR_K_DUP, oldfd, -1, 0); }
ROAR_HOOK int dup2(int oldfd, int newfd) { return roar_core_dup(L_, S_, ROAR_K_DUP2, oldfd, newfd, 0); }
ROAR_HOOK int dup3(int oldfd, int newfd, int flags) { return roar_core_dup(L_, S_, ROAR_K_DUP3, oldfd, newfd, flags); }
/* fcntl's third argument is an int or a pointer depending on cmd; like
 * glibc, read it as a pointer-sized value and pass it on unchanged. */
ROAR_HOOK int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    return roar_core_fcntl(L_, S_, 0, fd, cmd, arg);
}
ROAR_HOOK int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void* arg = va_arg(ap, void*);
    va_end(ap);
    return roar_core_fcntl(L_, S_, 1, fd, cmd, arg);
}

/* ---- working directory and namespace ---- */
ROAR_HOOK int chdir(const char* path) { return roar_core_chdir(L_, S_, path); }
ROAR_HOOK int fchdir(int fd) { return roar_core_fchdir(L_, S_, fd); }
ROAR_HOOK int rename(const char* oldpath, const char* newpath) { return roar_core_rename(L_, S_, ROAR_K_RENAME, ROAR_AT_FDCWD, oldpath, ROAR_AT_FDCWD, newpath, 0); }
ROAR_HOOK int renameat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath) { return roar_core_rename(L_, S_, ROAR_K_RENAMEAT, olddirfd, oldpath, newdirfd, newpath, 0); }
ROAR_HOOK int renameat2(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, unsigned int flags) { return roar_core_rename(L_, S_, ROAR_K_RENAMEAT2, olddirfd, oldpath, newdirfd, newpath, flags); }
ROAR_HOOK int link(const char* oldpath, const char* newpath) { return roar_core_link(L_, S_, ROAR_K_LINK, ROAR_AT_FDCWD, oldpath, ROAR_AT_FDCWD, newpath, 0); }
ROAR_HOOK int linkat(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, int flags) { return roar_core_link(L_, S_, ROAR_K_LINKAT, olddirfd, oldpath, newdirfd, newpath, flags); }
ROAR_HOOK int symlink(const char* target, const char* linkpath) { return roar_core_link(L_, S_, ROAR_K_SYMLINK, -1, target, ROAR_AT_FDCWD, linkpath, 0); }
ROAR_HOOK int symlinkat(const char* target, int newdirfd, const char* linkpath) { return roar_core_link(L_, S_, ROAR_K_SYMLINKAT, -1, target, newdirfd, linkpath, 0); }
ROAR_HOOK int unlink(const char* path) { return roar_core_unlink(L_, S_, ROAR_K_UNLINK, ROAR_AT_FDCWD, path, 0); }
ROAR_HOOK int unlinkat(int dirfd, const char* path, int flags) { return roar_core_unlink(L_, S_, ROAR_K_UNLINKAT, dirfd, path, flags); }
ROAR_HOOK int remove(const char* path) { return roar_core_unlink(L_, S_, ROAR_K_REMOVE, ROAR_AT_FDCWD, path, 0); }
ROAR_HOOK int rmdir(const char* path) { return roar_core_unlink(L_, S_, ROAR_K_RMDIR, ROAR_AT_FDCWD, path, 0); }
ROAR_HOOK int mkdir(const char* path, mode_t mode) { return roar_core_mkdir(L_, S_, ROAR_AT_FDCWD, path, mode); }
ROAR_HOOK int mkdirat(int dirfd, const char* path, mode_t mode) { return roar_core_mkdir(L_, S_, dirfd, path, mode); }
ROAR_HOOK int truncate(const char* path, off_t length) { return roar_core_truncate(L_, S_, 0, path, length); }
ROAR_HOOK int truncate64(const char* path, off_t length) { return roar_core_truncate(L_, S_, 1, path, length); }
ROAR_HOOK int ftruncate(int fd, off_t length) { return roar_core_ftruncate(L_, S_, 0, fd, length); }
ROAR_HOOK int ftruncate64(int fd, off_t length) { return roar_core_ftruncate(L_, S_, 1, fd, length); }

/* ---- data ---- */
ROAR_HOOK ssize_t write(int fd, const void* buf, size_t count) { return roar_core_write(L_, S_, ROAR_K_WRITE, fd, buf, count, NULL, 0, 0, 0); }
ROAR_HOOK ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) { return roar_core_write(L_, S_, ROAR_K_PWRITE, fd, buf, count, NULL, 0, offset, 0); }
ROAR_HOOK ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) { return roar_core_write(L_, S_, ROAR_K_PWRITE64, fd, buf, count, NULL, 0, offset, 0); }
ROAR_HOOK ssize_t writev(int fd, const struct iovec* iov, int iovcnt) { return roar_core_write(L_, S_, ROAR_K_WRITEV, fd, NULL, 0, iov, iovcnt, 0, 0); }
ROAR_HOOK ssize_t pwritev(int fd, const struct iovec* iov, int iovcnt, off_t offset) { return roar_core_write(L_, S_, ROAR_K_PWRITEV, fd, NULL, 0, iov, iovcnt, offset, 0); }
ROAR_HOOK ssize_t pwritev64(int fd, const struct iovec* iov, int iovcnt, off_t offset) { return roar_core_write(L_, S_, ROAR_K_PWRITEV64, fd, NULL, 0, iov, iovcnt, offset, 0); }
ROAR_HOOK ssize_t pwritev2(int fd, const struct iovec* iov, int iovcnt, off_t offset, int flags) { return roar_core_write(L_, S_, ROAR_K_PWRITEV2, fd, NULL, 0, iov, iovcnt, offset, flags); }
ROAR_HOOK ssize_t pwritev64v2(int fd, const struct iovec* iov, int iovcnt, off_t offset, int flags) { return roar_core_write(L_, S_, ROAR_K_PWRITEV64V2, fd, NULL, 0, iov, iovcnt, offset, flags); }
ROAR_HOOK void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) { return roar_core_mmap(L_, S_, 0, addr, length, prot, flags, fd, offset); }
ROAR_HOOK void* mmap64(void* addr, size_t length, int prot, int flags, int fd, off_t offset) { return roar_core_mmap(L_, S_, 1, addr, length, prot, flags, fd, offset); }
ROAR_HOOK int mprotect(void* addr, size_t length, int prot) { return roar_core_mprotect(L_, S_, addr, length, prot); }
ROAR_HOOK int aio_write(struct aiocb* cb) { return roar_core_aio_write(L_, S_, 0, cb); }
ROAR_HOOK int aio_write64(struct aiocb64* cb) { return roar_core_aio_write(L_, S_, 1, (struct aiocb*)cb); }
ROAR_HOOK int lio_listio(int mode, struct aiocb* const list[], int nent, struct sigevent* sig) { return roar_core_lio_listio(L_, S_, 0, mode, list, nent, sig); }
ROAR_HOOK int lio_listio64(int mode, struct aiocb64* const list[], int nent, struct sigevent* sig) { return roar_core_lio_listio(L_, S_, 1, mode, (struct aiocb* const*)list, nent, sig); }
ROAR_HOOK ssize_t copy_file_range(int fd_in, off_t* off_in, int fd_out, off_t* off_out, size_t len, unsigned int flags) { return roar_core_transfer(L_, S_, ROAR_K_COPY_FILE_RANGE, fd_in, off_in, fd_out, off_out, len, flags); }
ROAR_HOOK ssize_t sendfile(int out_fd, int in_fd, off_t* offset, size_t count) { return roar_core_transfer(L_, S_, ROAR_K_SENDFILE, in_fd, offset, out_fd, NULL, count, 0); }
ROAR_HOOK ssize_t sendfile64(int out_fd, int in_fd, off_t* offset, size_t count) { return roar_core_transfer(L_, S_, ROAR_K_SENDFILE64, in_fd, offset, out_fd, NULL, count, 0); }
ROAR_HOOK ssize_t splice(int fd_in, off_t* off_in, int fd_out, off_t* off_out, size_t len, unsigned int flags) { return roar_core_transfer(L_, S_, ROAR_K_SPLICE, fd_in, off_in, fd_out, off_out, len, flags); }

/* ---- exec family ---- */
ROAR_HOOK int execve(const char* path, char* const argv[], char* const envp[]) { return roar_core_exec(L_, S_, ROAR_K_EXECVE, ROAR_AT_FDCWD, path, argv, envp, 0); }
ROAR_HOOK int execv(const char* path, char* const argv[]) { return roar_core_exec(L_, S_, ROAR_K_EXECV, ROAR_AT_FDCWD, path, argv, NULL, 0); }
ROAR_HOOK int execvp(const char* file, char* const argv[]) { return roar_core_exec(L_, S_, ROAR_K_EXECVP, ROAR_AT_FDCWD, file, argv, NULL, 0); }
ROAR_HOOK int execvpe(const char* file, char* const argv[], char* const envp[]) { return roar_core_exec(L_, S_, ROAR_K_EXECVPE, ROAR_AT_FDCWD, file, argv, envp, 0); }
ROAR_HOOK int fexecve(int fd, char* const argv[], char* const envp[]) { return roar_core_exec(L_, S_, ROAR_K_FEXECVE, fd, NULL, argv, envp, 0); }
ROAR_HOOK int execveat(int dirfd, const char* path, char* const argv[], char* const envp[], int flags) { return roar_core_exec(L_, S_, ROAR_K_EXECVEAT, dirfd, path, argv, envp, flags); }

/* The execl* variants gather their argument list into a stack vector, as
 * glibc does, and continue as the matching execv*. */
#define ROAR_GATHER_ARGS(first, argv, ap_after)                                                                     \
    size_t argc_ = 1;                                                                                               \
    va_list ap;                                                                                                     \
    va_start(ap, first);                                                                                            \
    while (va_arg(ap, const char*)) {                                                                               \
        ++argc_;                                                                                                    \
    }                                                                                                               \
    va_end(ap);                                                                                                     \
    char* argv[argc_ + 1];                                                                                          \
    argv[0] = (char*)(first);                                                                                       \
    va_start(ap, first);                                                                                            \
    for (size_t i_ = 1; i_ <= argc_; ++i_) {                                                                        \
        argv[i_] = va_arg(ap, char*);                                                                               \
    }                                                                                                               \
    ap_after;                                                                                                       \
    va_end(ap)

ROAR_HOOK int execl(const char* path, const char* arg, ...)
{
    ROAR_GATHER_ARGS(arg, argv, (void)0);
    return roar_core_exec(L_, S_, ROAR_K_EXECV, ROAR_AT_FDCWD, path, argv, NULL, 0);
}
ROAR_HOOK int execlp(const char* file, const char* arg, ...)
{
    ROAR_GATHER_ARGS(arg, argv, (void)0);
    return roar_core_exec(L_, S_, ROAR_K_EXECVP, ROAR_AT_FDCWD, file, argv, NULL, 0);
}
ROAR_HOOK int execle(const char* path, const char* arg, ...)
{
    char* const* envp;
    ROAR_GATHER_ARGS(arg, argv, envp = va_arg(ap, char* const*));
    return roar_core_exec(L_, S_, ROAR_K_EXECVE, ROAR_AT_FDCWD, path, argv, envp, 0);
}

/* ---- spawn ---- */
ROAR_HOOK int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* actions, const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) { return roar_core_spawn(L_, S_, 0, pid, path, actions, attr, argv, envp); }
ROAR_HOOK int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions, const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) { return roar_core_spawn(L_, S_, 1, pid, file, actions, attr, argv, envp); }
ROAR_HOOK int system(const char* command) { return roar_core_system(L_, S_, command); }
ROAR_HOOK FILE* popen(const char* command, const char* type) { return roar_core_popen(L_, S_, command, type); }

/* ---- fork, clone, exit, wait ---- */
ROAR_HOOK pid_t fork(void) { return roar_core_fork(L_, S_, ROAR_K_FORK); }
ROAR_HOOK pid_t vfork(void) { return roar_core_fork(L_, S_, ROAR_K_VFORK); }
ROAR_HOOK pid_t __vfork(void) { return roar_core_fork(L_, S_, ROAR_K_VFORK); }
ROAR_HOOK pid_t _Fork(void) { return roar_core_fork(L_, S_, ROAR_K__FORK); }
/* clone's trailing arguments exist only for some flags; like glibc, read
 * all three and pass them on. */
ROAR_HOOK int clone(int (*fn)(void*), void* stack, int flags, void* arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    void* parent_tid = va_arg(ap, void*);
    void* tls = va_arg(ap, void*);
    void* child_tid = va_arg(ap, void*);
    va_end(ap);
    return roar_core_clone(L_, S_, fn, stack, flags, arg, parent_tid, tls, child_tid);
}
ROAR_HOOK void exit(int status) { roar_core_exit(L_, S_, ROAR_K_EXIT, status); }
ROAR_HOOK void _exit(int status) { roar_core_exit(L_, S_, ROAR_K__EXIT, status); }
ROAR_HOOK void _Exit(int status) { roar_core_exit(L_, S_, ROAR_K__EXIT2, status); }
ROAR_HOOK pid_t wait(int* status) { return roar_core_wait(L_, S_, ROAR_K_WAIT, -1, status, 0, NULL); }
ROAR_HOOK pid_t waitpid(pid_t pid, int* status, int options) { return roar_core_wait(L_, S_, ROAR_K_WAITPID, pid, status, options, NULL); }
ROAR_HOOK pid_t wait3(int* status, int options, struct rusage* usage) { return roar_core_wait(L_, S_, ROAR_K_WAIT3, -1, status, options, usage); }
ROAR_HOOK pid_t wait4(pid_t pid, int* status, int options, struct rusage* usage) { return roar_core_wait(L_, S_, ROAR_K_WAIT4, pid, status, options, usage); }
ROAR_HOOK int waitid(idtype_t idtype, id_t id, siginfo_t* info, int options) { return roar_core_waitid(L_, S_, idtype, id, info, options); }

/* ---- raw system calls ---- */
/* The build defines syscall as roar_own_syscall for the shim's own calls
 * (CMakeLists.txt); this is the program's. Six arguments whatever the
 * number, as glibc's wrapper reads them; an unobserved number (futex, the
 * hot one) costs the switch and one call. */
#undef syscall
long syscall(long number, ...);
ROAR_HOOK long syscall(long number, ...)
{
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; ++i) { /* one by one: an initializer list's order is unspecified */
        a[i] = va_arg(ap, long);
    }
    va_end(ap);
    if (!roar_syscall_observed(number)) {
        return roar_libc_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
    return roar_core_syscall(L_, S_, number, a);
}

/* ---- S3 routing: connect, getpeername and the resolver; fds received
 * over a Unix socket ---- */
/* With _GNU_SOURCE glibc declares the sockaddr arguments as transparent
 * unions; __sockaddr__ is the plain pointer inside. */
ROAR_HOOK int connect(int fd, __CONST_SOCKADDR_ARG addr, socklen_t len) { return roar_core_connect(L_, S_, fd, addr.__sockaddr__, len); }
ROAR_HOOK ssize_t recvmsg(int fd, struct msghdr* msg, int flags) { return roar_core_recvmsg(L_, S_, fd, msg, flags); }
ROAR_HOOK int recvmmsg(int fd, struct mmsghdr* vec, unsigned int vlen, int flags, struct timespec* timeout) { return roar_core_recvmmsg(L_, S_, fd, vec, vlen, flags, timeout); }
ROAR_HOOK int getpeername(int fd, __SOCKADDR_ARG addr, socklen_t* __restrict len) { return roar_core_getpeername(L_, S_, fd, addr.__sockaddr__, len); }
ROAR_HOOK int getaddrinfo(const char* __restrict node, const char* __restrict service, const struct addrinfo* __restrict hints, struct addrinfo** __restrict res) { return roar_core_getaddrinfo(L_, S_, node, service, hints, res); }
ROAR_HOOK struct hostent* gethostbyname(const char* name) { return roar_core_gethostbyname(L_, S_, ROAR_K_GETHOSTBYNAME, name, AF_INET); }
ROAR_HOOK struct hostent* gethostbyname2(const char* name, int af) { return roar_core_gethostbyname(L_, S_, ROAR_K_GETHOSTBYNAME2, name, af); }
ROAR_HOOK int gethostbyname_r(const char* __restrict name, struct hostent* __restrict ret, char* __restrict buf, size_t buflen, struct hostent** __restrict result, int* __restrict h_errnop) { return roar_core_gethostbyname_r(L_, S_, ROAR_K_GETHOSTBYNAME_R, name, AF_INET, ret, buf, buflen, result, h_errnop); }
ROAR_HOOK int gethostbyname2_r(const char* __restrict name, int af, struct hostent* __restrict ret, char* __restrict buf, size_t buflen, struct hostent** __restrict result, int* __restrict h_errnop) { return roar_core_gethostbyname_r(L_, S_, ROAR_K_GETHOSTBYNAME2_R, name, af, ret, buf, buflen, result, h_errnop); }
/* clang-format on */
