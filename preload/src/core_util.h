/* Small helpers shared by the core_*.c files: fd bookkeeping after opens
 * and closes, and the write-intent test for PRE_MODIFY. Private to the
 * preload library. */
#ifndef ROAR_PRELOAD_CORE_UTIL_H
#define ROAR_PRELOAD_CORE_UTIL_H

#include "roar/preload/core.h"
#include "roar/preload/event_emit.h"

#include <errno.h>
#include <fcntl.h>

/* Whether open flags can change the file's bytes. */
static inline int roar_write_intent(int flags) { return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC); }

/* Whether open(2) reads its mode argument for these flags. */
static inline int roar_needs_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

/* A successful open/dup returned `fd`: CLOSE will be reported, and the
 * first write will be again. */
static inline void roar_fd_opened(struct roar_shim* S, int fd)
{
    if (fd >= 0 && roar_fd_get(S, fd) != ROAR_FD_KNOWN) {
        roar_fd_set(S, fd, ROAR_FD_KNOWN);
    }
}

/* Reports the first write-like use of `fd` since it was opened. */
static inline void roar_fd_written(struct roar_shim* S, int fd)
{
    const uint8_t f = roar_fd_get(S, fd);
    if (f & ROAR_FD_WRITTEN) {
        return;
    }
    roar_fd_set(S, fd, (uint8_t)(f | ROAR_FD_WRITTEN));
    roar_emit(S, ROAR_OP_WRITE_FD, fd, -1, 0, 0, 0, NULL, NULL);
}

/* Before a write-intent open of dirfd/path with `flags`: announce the file
 * unless the open can only create it. Preserves errno. */
static inline void roar_before_write_open(struct roar_libc* L, struct roar_shim* S, int dirfd, const char* path,
                                          int flags)
{
    if (!path || !roar_write_intent(flags) || (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)
        || (flags & O_TMPFILE) == O_TMPFILE) {
        return;
    }
    const int saved = errno;
    if (!(flags & O_CREAT) || L->faccessat_fn(dirfd, path, F_OK, 0) == 0) {
        roar_pre_modify(S, dirfd, path, flags);
    }
    errno = saved;
}

#endif
