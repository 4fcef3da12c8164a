/* Core of data movement the open flags alone do not reveal: the first
 * write-like use of an fd (write family, shared writable mmap) and
 * in-kernel copies (copy_file_range, sendfile, splice). */
#include "core_util.h"

#include <sys/mman.h>

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
    if (fd >= 0 && p != MAP_FAILED && (prot & PROT_WRITE) && (flags & MAP_SHARED) && roar_active(S)) {
        const int err = errno;
        roar_fd_written(S, fd);
        errno = err;
    }
    return p;
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
