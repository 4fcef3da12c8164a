/* Core of data movement the open flags alone do not reveal: the first
 * write-like use of an fd (write family, shared writable mmap, POSIX AIO
 * write requests) and in-kernel copies (copy_file_range, sendfile,
 * splice). */
#include "core_util.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

ssize_t roar_core_write(struct roar_libc* L, struct roar_shim* S, enum roar_write_kind kind, int fd, const void* buf,
                        size_t count, const struct iovec* iov, int iovcnt, off_t offset, int flags)
{
    /* Hot path: one byte load once the fd has been reported. Reported
     * before the write so a process killed mid-write still shows it. */
    if (roar_active(S) && !(roar_fd_get(S, fd) & ROAR_FD_WRITTEN) && fd >= 0) {
        const int saved = errno;
        roar_fd_written(S, fd);
        errno = saved;
    }
    switch (kind) {
    case ROAR_K_WRITE: return ROAR_REAL(L, write)(fd, buf, count);
    case ROAR_K_PWRITE: return ROAR_REAL(L, pwrite)(fd, buf, count, offset);
    case ROAR_K_PWRITE64: return ROAR_REAL(L, pwrite64)(fd, buf, count, offset);
    case ROAR_K_WRITEV: return ROAR_REAL(L, writev)(fd, iov, iovcnt);
    case ROAR_K_PWRITEV: return ROAR_REAL(L, pwritev)(fd, iov, iovcnt, offset);
    case ROAR_K_PWRITEV64: return ROAR_REAL(L, pwritev64)(fd, iov, iovcnt, offset);
    case ROAR_K_PWRITEV2: return ROAR_REAL(L, pwritev2)(fd, iov, iovcnt, offset, flags);
    case ROAR_K_PWRITEV64V2: return ROAR_REAL(L, pwritev64v2)(fd, iov, iovcnt, offset, flags);
    }
    errno = ENOSYS;
    return -1;
}

void* roar_core_mmap(struct roar_libc* L, struct roar_shim* S, int is64, void* addr, size_t length, int prot, int flags,
                     int fd, off_t offset)
{
    void* p = is64 ? ROAR_REAL(L, mmap64)(addr, length, prot, flags, fd, offset)
                   : ROAR_REAL(L, mmap)(addr, length, prot, flags, fd, offset);
    /* MAP_SHARED_VALIDATE (0x3) has the MAP_SHARED bit too. */
    if (fd >= 0 && p != MAP_FAILED && (flags & MAP_SHARED) && roar_active(S)) {
        if (prot & PROT_WRITE) {
            const int err = errno;
            roar_fd_written(S, fd);
            errno = err;
        } else if (!__atomic_load_n(&S->shared_ro_maps, __ATOMIC_RELAXED)) {
            __atomic_store_n(&S->shared_ro_maps, 1, __ATOMIC_RELAXED);
        }
    }
    return p;
}

/* Parses a hex number at *p, advancing it. */
static uintptr_t parse_hex(const char** p)
{
    uintptr_t v = 0;
    for (;; ++*p) {
        const char c = **p;
        if (c >= '0' && c <= '9') {
            v = v * 16 + (uintptr_t)(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v = v * 16 + (uintptr_t)(c - 'a' + 10);
        } else {
            return v;
        }
    }
}

/* One line of /proc/self/maps ("lo-hi perms offset dev inode  path"): a
 * NOTE when it is a shared mapping of a file overlapping [lo, hi). */
static void note_if_shared(struct roar_shim* S, const char* line, uintptr_t lo, uintptr_t hi)
{
    static const char k_before[] = "a shared mapping of ";
    static const char k_after[] = " was made writable with mprotect: writes through it are not observed";
    const char* p = line;
    const uintptr_t start = parse_hex(&p);
    if (*p++ != '-') {
        return;
    }
    const uintptr_t end = parse_hex(&p);
    if (*p++ != ' ' || strnlen(p, 4) < 4 || p[3] != 's' || start >= hi || end <= lo) {
        return;
    }
    const char* path = strchr(p, '/');
    if (!path) {
        return;
    }
    char text[sizeof k_before + ROAR_MAX_PATH_BYTES + sizeof k_after];
    const size_t len = strnlen(path, ROAR_MAX_PATH_BYTES);
    memcpy(text, k_before, sizeof k_before - 1);
    memcpy(text + sizeof k_before - 1, path, len);
    memcpy(text + sizeof k_before - 1 + len, k_after, sizeof k_after);
    roar_emit(S, ROAR_OP_NOTE, -1, -1, 0, 0, 0, text, NULL);
}

int roar_core_mprotect(struct roar_libc* L, struct roar_shim* S, void* addr, size_t length, int prot)
{
    const int r = ROAR_REAL(L, mprotect)(addr, length, prot);
    /* Only processes that made a read-only shared file mapping pay for
     * reading /proc/self/maps (JITs call mprotect constantly). */
    if (r != 0 || !(prot & PROT_WRITE) || !__atomic_load_n(&S->shared_ro_maps, __ATOMIC_RELAXED) || !roar_active(S)) {
        return r;
    }
    const int saved = errno;
    const long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC | ROAR_OPEN_OWN);
    if (fd >= 0) {
        const uintptr_t lo = (uintptr_t)addr;
        const uintptr_t hi = lo + length;
        char buf[4096];
        size_t have = 0;
        long n;
        while ((n = syscall(SYS_read, fd, buf + have, sizeof buf - 1 - have)) > 0) {
            have += (size_t)n;
            buf[have] = 0;
            size_t start = 0;
            for (char* nl; (nl = memchr(buf + start, '\n', have - start)) != NULL; start = (size_t)(nl - buf) + 1) {
                *nl = 0;
                note_if_shared(S, buf + start, lo, hi);
            }
            /* A line longer than the buffer (a very long path) is dropped. */
            have = start == 0 && have == sizeof buf - 1 ? 0 : have - start;
            memmove(buf, buf + start, have);
        }
        syscall(SYS_close, (unsigned long long)fd | ROAR_CLOSE_OWN);
    }
    errno = saved;
    return r;
}

/* The *64 entry points share the core: one layout on this ABI. */
_Static_assert(sizeof(struct aiocb) == sizeof(struct aiocb64), "struct aiocb64 differs from struct aiocb");

int roar_core_aio_write(struct roar_libc* L, struct roar_shim* S, int is64, struct aiocb* cb)
{
    if (cb && cb->aio_fildes >= 0 && roar_active(S)) {
        const int saved = errno;
        roar_fd_written(S, cb->aio_fildes);
        errno = saved;
    }
    return is64 ? ROAR_REAL(L, aio_write64)((struct aiocb64*)cb) : ROAR_REAL(L, aio_write)(cb);
}

int roar_core_lio_listio(struct roar_libc* L, struct roar_shim* S, int is64, int mode, struct aiocb* const list[],
                         int nent, struct sigevent* sig)
{
    if (list && roar_active(S)) {
        const int saved = errno;
        for (int i = 0; i < nent; ++i) {
            if (list[i] && list[i]->aio_lio_opcode == LIO_WRITE && list[i]->aio_fildes >= 0) {
                roar_fd_written(S, list[i]->aio_fildes);
            }
        }
        errno = saved;
    }
    return is64 ? ROAR_REAL(L, lio_listio64)(mode, (struct aiocb64* const*)list, nent, sig)
                : ROAR_REAL(L, lio_listio)(mode, list, nent, sig);
}

ssize_t roar_core_transfer(struct roar_libc* L, struct roar_shim* S, enum roar_transfer_kind kind, int fd_in,
                           off_t* off_in, int fd_out, off_t* off_out, size_t length, unsigned int flags)
{
    ssize_t r;
    switch (kind) {
    case ROAR_K_COPY_FILE_RANGE:
        r = ROAR_REAL(L, copy_file_range)(fd_in, off_in, fd_out, off_out, length, flags);
        break;
    case ROAR_K_SENDFILE: r = ROAR_REAL(L, sendfile)(fd_out, fd_in, off_in, length); break;
    case ROAR_K_SENDFILE64: r = ROAR_REAL(L, sendfile64)(fd_out, fd_in, off_in, length); break;
    default: r = ROAR_REAL(L, splice)(fd_in, off_in, fd_out, off_out, length, flags); break;
    }
    if (roar_active(S)) {
        const int err = errno;
        roar_emit(S, ROAR_OP_TRANSFER, fd_in, fd_out, (int)flags, 0, r >= 0 ? r : -err, NULL, NULL);
        errno = err;
    }
    return r;
}
