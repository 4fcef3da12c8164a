/* Building and publishing events from the shim: header fields (pid, tid,
 * time) filled in one place, paths measured with a bound, argv vectors
 * gathered straight into the ring so no 32 KiB staging buffer is needed on
 * small thread stacks. */
#ifndef ROAR_PRELOAD_EVENT_EMIT_H
#define ROAR_PRELOAD_EVENT_EMIT_H

#include "roar/preload/shim_state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Publishes one event of `op` from this process with up to two strings
 * (NULL = absent). Returns the record index or -1 when dropped. */
int64_t roar_emit(struct roar_shim* S, uint16_t op, int32_t fd, int32_t fd2, int32_t flags, uint32_t mode,
                  int64_t result, const char* s1, const char* s2);

/* Like roar_emit, with s3 given as `len` bytes at `s3` (may hold NULs). */
int64_t roar_emit3(struct roar_shim* S, uint16_t op, int32_t fd, int32_t fd2, int32_t flags, uint32_t mode,
                   int64_t result, const char* s1, const char* s2, const char* s3, uint32_t len3);

/* Like roar_emit, with s3 = the NULL-terminated vector `argv` joined with
 * NULs (cut at ROAR_MAX_ARGV_BYTES; `trunc_flag` is or-ed into flags then).
 * `argv` NULL counts as an empty vector. `pid` overrides the cached pid when not 0
 * (exec may run in a child that shares the parent's memory). */
int64_t roar_emit_argv(struct roar_shim* S, uint32_t pid, uint16_t op, int32_t fd, int32_t fd2, int32_t flags,
                       uint32_t mode, int64_t result, const char* s1, const char* s2, char* const* argv,
                       int32_t trunc_flag);

/* Announces that dirfd/path (or the fd alone when `path` is NULL) is about
 * to be modified, and waits (bounded) until the collector has seen it, so
 * it can hash the old bytes. Skips /dev, /proc and /sys, and paths already
 * announced by this process. */
void roar_pre_modify(struct roar_shim* S, int dirfd, const char* path, int flags);

/* Marks `fd` known and publishes FD_INHERITED for it, as /proc names it
 * (`target`), when that is a path (pipes and sockets carry no lineage).
 * Returns its F_GETFL flags, or -1 when it is not a path. */
int roar_announce_fd(struct roar_shim* S, int fd, const char* target);

/* What /proc/self/fd names `fd`, written into `buf` of `cap` bytes;
 * NULL when it cannot be read. */
const char* roar_fd_target(int fd, char* buf, size_t cap);

/* roar_fd_announce_elided's slow path. */
void roar_fd_announce_elided_slow(struct roar_shim* S, int fd);

/* Tells the collector of `fd` when the reopen cache kept its OPEN back
 * (ROAR_FD_ELIDED): before any record that names it, and before a dup.
 * Preserves errno. */
static inline void roar_fd_announce_elided(struct roar_shim* S, int fd)
{
    if (__builtin_expect(roar_fd_get(S, fd) & ROAR_FD_ELIDED, 0)) {
        roar_fd_announce_elided_slow(S, fd);
    }
}

#ifdef __cplusplus
}
#endif

#endif
