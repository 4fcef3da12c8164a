/* Core of the open family, stdio and directory streams, and the fd table
 * (close, close_range, closefrom, dup*, fcntl F_DUPFD*). */
#include "core_util.h"
#include "roar/preload/reopen_cache.h"

#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* glibc's stdio flag for a stream in write mode (libio.h). */
#define ROAR_IO_CURRENTLY_PUTTING 0x0800

static int call_open(struct roar_libc* L, enum roar_open_kind kind, int dirfd, const char* path, int flags, mode_t mode)
{
    switch (kind) {
    case ROAR_K_OPEN: return ROAR_REAL(L, open)(path, flags, mode);
    case ROAR_K_OPEN64: return ROAR_REAL(L, open64)(path, flags, mode);
    case ROAR_K_OPENAT: return ROAR_REAL(L, openat)(dirfd, path, flags, mode);
    case ROAR_K_OPENAT64: return ROAR_REAL(L, openat64)(dirfd, path, flags, mode);
    case ROAR_K_OPEN_2: return ROAR_REAL(L, __open_2)(path, flags);
    case ROAR_K_OPEN64_2: return ROAR_REAL(L, __open64_2)(path, flags);
    case ROAR_K_OPENAT_2: return ROAR_REAL(L, __openat_2)(dirfd, path, flags);
    case ROAR_K_OPENAT64_2: return ROAR_REAL(L, __openat64_2)(dirfd, path, flags);
    case ROAR_K_CREAT: return ROAR_REAL(L, creat)(path, mode);
    case ROAR_K_CREAT64: return ROAR_REAL(L, creat64)(path, mode);
    }
    errno = ENOSYS;
    return -1;
}

/* An open of dirfd/path with `flags` returned `fd` (-1: errno says why):
 * the fd is known, and OPEN reports the result, unless the reopen cache
 * says the collector already has this open (the fd is then only marked).
 * Preserves errno. */
static void open_done(struct roar_shim* S, int dirfd, const char* path, int flags, mode_t mode, int fd)
{
    const int err = errno;
    struct roar_reopen_probe probe;
    probe.len = 0;
    if (fd >= 0 && fd < ROAR_FD_TRACKED) {
        if (roar_reopen_seen(S, dirfd, path, flags, &probe)) {
            roar_fd_set(S, fd, ROAR_FD_ELIDED);
            errno = err;
            return;
        }
    }
    roar_fd_opened(S, fd);
    if (roar_emit(S, ROAR_OP_OPEN, dirfd, -1, flags, roar_needs_mode(flags) ? (uint32_t)mode : 0, fd >= 0 ? fd : -err,
                  path, NULL)
        >= 0) {
        roar_reopen_remember(S, path, flags, &probe);
    }
    errno = err;
}

int roar_core_open(struct roar_libc* L, struct roar_shim* S, enum roar_open_kind kind, int dirfd, const char* path,
                   int flags, mode_t mode)
{
    if (!roar_active(S)) {
        return call_open(L, kind, dirfd, path, flags, mode);
    }
    if (kind == ROAR_K_CREAT || kind == ROAR_K_CREAT64) {
        flags = O_CREAT | O_WRONLY | O_TRUNC;
    }
    roar_before_write_open(L, S, dirfd, path, flags);
    const int fd = call_open(L, kind, dirfd, path, flags, mode);
    open_done(S, dirfd, path, flags, mode, fd);
    return fd;
}

long roar_core_openat2(struct roar_libc* L, struct roar_shim* S, int dirfd, const char* path, const void* how,
                       size_t size)
{
    /* struct open_how starts with u64 flags, u64 mode (OPEN_HOW_SIZE_VER0
     * is 24); a shorter size is the kernel's EINVAL. */
    if (!roar_active(S) || !how || size < 2 * sizeof(uint64_t)) {
        return roar_libc_syscall()(SYS_openat2, dirfd, path, how, size);
    }
    uint64_t fields[2];
    memcpy(fields, how, sizeof fields);
    const int flags = (int)fields[0];
    const mode_t mode = (mode_t)fields[1];
    roar_before_write_open(L, S, dirfd, path, flags);
    const long fd = roar_libc_syscall()(SYS_openat2, dirfd, path, how, size);
    open_done(S, dirfd, path, flags, mode, fd < 0 || fd > INT_MAX ? -1 : (int)fd);
    return fd;
}

int roar_fopen_flags(const char* mode)
{
    int flags;
    switch (mode ? mode[0] : 'r') {
    case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
    case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
    default: flags = O_RDONLY; break;
    }
    for (const char* p = mode ? mode + 1 : ""; *p && *p != ','; ++p) {
        switch (*p) {
        case '+': flags = (flags & ~O_ACCMODE) | O_RDWR; break;
        case 'x': flags |= O_EXCL; break;
        case 'e': flags |= O_CLOEXEC; break;
        default: break;
        }
    }
    return flags;
}

/* Whether stdio has been writing to `stream` (glibc's FILE layout is ABI). */
static int stream_putting(FILE* stream)
{
    return stream && ((stream->_flags & ROAR_IO_CURRENTLY_PUTTING) || stream->_IO_write_ptr > stream->_IO_write_base);
}

/* A stdio stream with write access was opened on `fd`: stdio's writes go
 * through libc-internal calls the shim cannot see, so an append or update
 * stream counts as written from the start ("w" streams are already
 * written through O_TRUNC). */
static void stream_opened(struct roar_shim* S, int fd, int flags)
{
    if ((flags & O_ACCMODE) != O_RDONLY && !(flags & O_TRUNC)) {
        roar_fd_written(S, fd);
    }
}

/* `fd` is about to be closed: forget its bookkeeping and report CLOSE if
 * the shim knows it. Done before the real close, while the number is still
 * ours: once it is released another thread may get it from open(), and its
 * OPEN must come after this CLOSE in the ring. */
static void fd_closing(struct roar_shim* S, int fd)
{
    const uint8_t f = roar_fd_get(S, fd);
    if (f) {
        roar_fd_set(S, fd, 0);
    }
    if ((f & ROAR_FD_KNOWN) || fd >= ROAR_FD_TRACKED) {
        roar_emit(S, ROAR_OP_CLOSE, fd, fd, 0, 0, 0, NULL, NULL);
    }
}

FILE* roar_core_fopen(struct roar_libc* L, struct roar_shim* S, enum roar_fopen_kind kind, const char* path,
                      const char* mode, FILE* stream)
{
    const int reopen = kind == ROAR_K_FREOPEN || kind == ROAR_K_FREOPEN64;
    if (!roar_active(S)) {
        switch (kind) {
        case ROAR_K_FOPEN: return ROAR_REAL(L, fopen)(path, mode);
        case ROAR_K_FOPEN64: return ROAR_REAL(L, fopen64)(path, mode);
        case ROAR_K_FREOPEN: return ROAR_REAL(L, freopen)(path, mode, stream);
        default: return ROAR_REAL(L, freopen64)(path, mode, stream);
        }
    }
    const int saved = errno;
    const int flags = roar_fopen_flags(mode);
    const int old_fd = reopen && stream ? fileno(stream) : -1;
    roar_before_write_open(L, S, ROAR_AT_FDCWD, path, flags);
    if (old_fd >= 0 && path) {
        fd_closing(S, old_fd); /* freopen closes it inside libc */
    }
    errno = saved;
    roar_t_depth++; /* libc may implement these with hooked calls */
    FILE* f;
    switch (kind) {
    case ROAR_K_FOPEN: f = ROAR_REAL(L, fopen)(path, mode); break;
    case ROAR_K_FOPEN64: f = ROAR_REAL(L, fopen64)(path, mode); break;
    case ROAR_K_FREOPEN: f = ROAR_REAL(L, freopen)(path, mode, stream); break;
    default: f = ROAR_REAL(L, freopen64)(path, mode, stream); break;
    }
    roar_t_depth--;
    const int err = errno;
    const int fd = f ? fileno(f) : -1;
    if (path) {
        roar_fd_opened(S, fd);
        roar_emit(S, ROAR_OP_OPEN, ROAR_AT_FDCWD, -1, flags, (flags & O_CREAT) ? 0666 : 0, f ? fd : -err, path, NULL);
    }
    if (f) {
        stream_opened(S, fd, flags);
    }
    errno = err;
    return f;
}

FILE* roar_core_fdopen(struct roar_libc* L, struct roar_shim* S, int fd, const char* mode)
{
    FILE* f = ROAR_REAL(L, fdopen)(fd, mode);
    if (f && roar_active(S)) {
        const int err = errno;
        stream_opened(S, fd, roar_fopen_flags(mode) & ~O_TRUNC);
        errno = err;
    }
    return f;
}

int roar_core_fclose(struct roar_libc* L, struct roar_shim* S, FILE* stream)
{
    if (!roar_active(S) || !stream) {
        return ROAR_REAL(L, fclose)(stream);
    }
    const int saved = errno;
    const int fd = fileno(stream);
    if (fd >= 0) {
        if (stream_putting(stream)) {
            roar_fd_written(S, fd);
        }
        fd_closing(S, fd);
    }
    errno = saved;
    roar_t_depth++;
    const int r = ROAR_REAL(L, fclose)(stream);
    roar_t_depth--;
    return r;
}

void roar_check_stdio(struct roar_shim* S)
{
    FILE* const streams[2] = {stdout, stderr};
    for (int i = 0; i < 2; ++i) {
        if (stream_putting(streams[i]) && streams[i]->_fileno >= 0) {
            roar_fd_written(S, streams[i]->_fileno);
        }
    }
}

int roar_core_mkstemp(struct roar_libc* L, struct roar_shim* S, enum roar_mkstemp_kind kind, char* templ, int suffixlen,
                      int flags)
{
    int fd;
    const int active = roar_active(S);
    if (active) {
        roar_t_depth++;
    }
    switch (kind) {
    case ROAR_K_MKSTEMP: fd = ROAR_REAL(L, mkstemp)(templ); break;
    case ROAR_K_MKSTEMP64: fd = ROAR_REAL(L, mkstemp64)(templ); break;
    case ROAR_K_MKOSTEMP: fd = ROAR_REAL(L, mkostemp)(templ, flags); break;
    case ROAR_K_MKOSTEMP64: fd = ROAR_REAL(L, mkostemp64)(templ, flags); break;
    case ROAR_K_MKSTEMPS: fd = ROAR_REAL(L, mkstemps)(templ, suffixlen); break;
    case ROAR_K_MKSTEMPS64: fd = ROAR_REAL(L, mkstemps64)(templ, suffixlen); break;
    case ROAR_K_MKOSTEMPS: fd = ROAR_REAL(L, mkostemps)(templ, suffixlen, flags); break;
    default: fd = ROAR_REAL(L, mkostemps64)(templ, suffixlen, flags); break;
    }
    if (!active) {
        return fd;
    }
    roar_t_depth--;
    const int err = errno;
    roar_fd_opened(S, fd);
    roar_emit(S, ROAR_OP_OPEN, ROAR_AT_FDCWD, -1, O_RDWR | O_CREAT | O_EXCL | flags, 0600, fd >= 0 ? fd : -err, templ,
              NULL);
    errno = err;
    return fd;
}

FILE* roar_core_tmpfile(struct roar_libc* L, struct roar_shim* S, int is64)
{
    if (!roar_active(S)) {
        return is64 ? ROAR_REAL(L, tmpfile64)() : ROAR_REAL(L, tmpfile)();
    }
    roar_t_depth++;
    FILE* f = is64 ? ROAR_REAL(L, tmpfile64)() : ROAR_REAL(L, tmpfile)();
    roar_t_depth--;
    const int err = errno;
    const int fd = f ? fileno(f) : -1;
    roar_fd_opened(S, fd);
    /* s1 absent: an anonymous file that can never be an output. */
    roar_emit(S, ROAR_OP_OPEN, ROAR_AT_FDCWD, -1, O_RDWR | O_TMPFILE | O_EXCL, 0600, f ? fd : -err, NULL, NULL);
    errno = err;
    return f;
}

DIR* roar_core_opendir(struct roar_libc* L, struct roar_shim* S, const char* path)
{
    if (!roar_active(S)) {
        return ROAR_REAL(L, opendir)(path);
    }
    roar_t_depth++;
    DIR* d = ROAR_REAL(L, opendir)(path);
    roar_t_depth--;
    const int err = errno;
    const int fd = d ? dirfd(d) : -1;
    roar_fd_opened(S, fd);
    roar_emit(S, ROAR_OP_OPEN, ROAR_AT_FDCWD, -1, O_RDONLY | O_DIRECTORY, 0, d ? fd : -err, path, NULL);
    errno = err;
    return d;
}

DIR* roar_core_fdopendir(struct roar_libc* L, struct roar_shim* S, int fd)
{
    DIR* d = ROAR_REAL(L, fdopendir)(fd);
    if (roar_active(S)) {
        const int err = errno;
        /* No new fd: "" relative to fd names the directory itself. */
        roar_fd_opened(S, d ? fd : -1);
        roar_emit(S, ROAR_OP_OPEN, fd, -1, O_RDONLY | O_DIRECTORY, 0, d ? fd : -err, "", NULL);
        errno = err;
    }
    return d;
}

int roar_core_closedir(struct roar_libc* L, struct roar_shim* S, DIR* dir)
{
    if (!roar_active(S) || !dir) {
        return ROAR_REAL(L, closedir)(dir);
    }
    const int saved = errno;
    const int fd = dirfd(dir);
    if (fd >= 0) {
        fd_closing(S, fd);
    }
    errno = saved;
    roar_t_depth++;
    const int r = ROAR_REAL(L, closedir)(dir);
    roar_t_depth--;
    return r;
}

int roar_core_close(struct roar_libc* L, struct roar_shim* S, int fd)
{
    if (roar_active(S) && fd >= 0) {
        /* Before the call (see fd_closing); Linux releases the fd even
         * when close reports an error, so result is always 0. */
        const int saved = errno;
        fd_closing(S, fd);
        errno = saved;
    }
    return ROAR_REAL(L, close)(fd);
}

/* Forgets the bookkeeping of fds first..last after a range close. */
static void fds_closed(struct roar_shim* S, unsigned int first, unsigned int last)
{
    if (first < ROAR_FD_TRACKED) {
        const unsigned int end = last < ROAR_FD_TRACKED - 1 ? last : ROAR_FD_TRACKED - 1;
        if (end >= first) {
            memset(S->fd_flags + first, 0, end - first + 1);
        }
    }
}

int roar_core_close_range(struct roar_libc* L, struct roar_shim* S, unsigned int first, unsigned int last, int flags)
{
    /* CLOSE_RANGE_CLOEXEC closes nothing now; the next image's
     * FD_INHERITED snapshot shows what survived. */
    if (roar_active(S) && !(flags & CLOSE_RANGE_CLOEXEC) && first <= last) {
        const int saved = errno;
        fds_closed(S, first, last);
        roar_emit(S, ROAR_OP_CLOSE, first > INT_MAX ? INT_MAX : (int)first, last > INT_MAX ? INT_MAX : (int)last, 0, 0,
                  0, NULL, NULL);
        errno = saved;
    }
    return ROAR_REAL(L, close_range)(first, last, flags);
}

void roar_core_closefrom(struct roar_libc* L, struct roar_shim* S, int lowfd)
{
    if (roar_active(S) && lowfd >= 0) {
        const int saved = errno;
        fds_closed(S, (unsigned int)lowfd, UINT_MAX);
        roar_emit(S, ROAR_OP_CLOSE, lowfd, INT_MAX, 0, 0, 0, NULL, NULL);
        errno = saved;
    }
    ROAR_REAL(L, closefrom)(lowfd);
}

/* A dup made `newfd` a copy of `oldfd`. */
static void fd_duplicated(struct roar_shim* S, int oldfd, int newfd, int result, int flags)
{
    roar_fd_announce_elided(S, oldfd); /* the copy must be known too */
    if (result >= 0) {
        roar_fd_set(S, newfd, (uint8_t)(roar_fd_get(S, oldfd) & ROAR_FD_KNOWN));
    }
    roar_emit(S, ROAR_OP_DUP, oldfd, newfd, flags, 0, result, NULL, NULL);
}

int roar_core_dup(struct roar_libc* L, struct roar_shim* S, enum roar_dup_kind kind, int oldfd, int newfd, int flags)
{
    int r;
    switch (kind) {
    case ROAR_K_DUP: r = ROAR_REAL(L, dup)(oldfd); break;
    case ROAR_K_DUP2: r = ROAR_REAL(L, dup2)(oldfd, newfd); break;
    default: r = ROAR_REAL(L, dup3)(oldfd, newfd, flags); break;
    }
    if (roar_active(S) && (kind == ROAR_K_DUP || oldfd != newfd)) {
        const int err = errno;
        fd_duplicated(S, oldfd, r >= 0 ? r : newfd, r >= 0 ? r : -err, flags);
        errno = err;
    }
    return r;
}

int roar_core_fcntl(struct roar_libc* L, struct roar_shim* S, int is64, int fd, int cmd, void* arg)
{
    const int r = is64 ? ROAR_REAL(L, fcntl64)(fd, cmd, arg) : ROAR_REAL(L, fcntl)(fd, cmd, arg);
    if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && roar_active(S)) {
        const int err = errno;
        fd_duplicated(S, fd, r, r >= 0 ? r : -err, cmd == F_DUPFD_CLOEXEC ? O_CLOEXEC : 0);
        errno = err;
    }
    return r;
}

/* Reports each fd the SCM_RIGHTS control messages of `msg` carried. */
static void fds_received(struct roar_shim* S, struct msghdr* msg)
{
    for (struct cmsghdr* c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0)) {
            continue;
        }
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const unsigned char* data = CMSG_DATA(c);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            memcpy(&fd, data + i * sizeof fd, sizeof fd);
            roar_report_received_fd(S, fd);
        }
    }
}

ssize_t roar_core_recvmsg(struct roar_libc* L, struct roar_shim* S, int fd, struct msghdr* msg, int flags)
{
    const ssize_t r = ROAR_REAL(L, recvmsg)(fd, msg, flags);
    if (r >= 0 && msg && msg->msg_control && msg->msg_controllen > 0 && roar_active(S)) {
        const int err = errno;
        fds_received(S, msg);
        errno = err;
    }
    return r;
}

int roar_core_recvmmsg(struct roar_libc* L, struct roar_shim* S, int fd, struct mmsghdr* vec, unsigned int vlen,
                       int flags, struct timespec* timeout)
{
    const int r = ROAR_REAL(L, recvmmsg)(fd, vec, vlen, flags, timeout);
    if (r > 0 && roar_active(S)) {
        const int err = errno;
        for (int i = 0; i < r; ++i) {
            if (vec[i].msg_hdr.msg_control && vec[i].msg_hdr.msg_controllen > 0) {
                fds_received(S, &vec[i].msg_hdr);
            }
        }
        errno = err;
    }
    return r;
}
