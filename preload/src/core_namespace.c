/* Core of working-directory and namespace changes: chdir, rename, link,
 * symlink, unlink, mkdir, truncate. The ones that destroy or replace a
 * file's bytes announce it first with PRE_MODIFY (a sync point). */
#include "core_util.h"

#include <stdio.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

int roar_core_chdir(struct roar_libc* L, struct roar_shim* S, const char* path)
{
    const int r = ROAR_REAL(L, chdir)(path);
    if (roar_active(S)) {
        const int err = errno;
        if (r == 0) {
            __atomic_fetch_add(&S->cwd_generation, 1, __ATOMIC_RELAXED);
        }
        roar_emit(S, ROAR_OP_CHDIR, ROAR_AT_FDCWD, -1, 0, 0, r == 0 ? 0 : -err, path, NULL);
        errno = err;
    }
    return r;
}

int roar_core_fchdir(struct roar_libc* L, struct roar_shim* S, int fd)
{
    const int r = ROAR_REAL(L, fchdir)(fd);
    if (roar_active(S)) {
        const int err = errno;
        if (r == 0) {
            __atomic_fetch_add(&S->cwd_generation, 1, __ATOMIC_RELAXED);
        }
        roar_emit(S, ROAR_OP_CHDIR, fd, -1, 0, 0, r == 0 ? 0 : -err, NULL, NULL);
        errno = err;
    }
    return r;
}

int roar_core_rename(struct roar_libc* L, struct roar_shim* S, enum roar_rename_kind kind, int olddirfd,
                     const char* oldpath, int newdirfd, const char* newpath, unsigned int flags)
{
    const int active = roar_active(S);
    if (active && newpath && !(flags & RENAME_NOREPLACE)) {
        const int saved = errno;
        /* Only an existing target loses bytes (the atomic-save pattern
         * replaces one); skip the sync point when there is none. */
        if (L->faccessat_fn(newdirfd, newpath, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
            roar_pre_modify(S, newdirfd, newpath, 0);
        }
        if ((flags & RENAME_EXCHANGE) && oldpath) {
            roar_pre_modify(S, olddirfd, oldpath, 0);
        }
        errno = saved;
    }
    int r;
    switch (kind) {
    case ROAR_K_RENAME: r = ROAR_REAL(L, rename)(oldpath, newpath); break;
    case ROAR_K_RENAMEAT: r = ROAR_REAL(L, renameat)(olddirfd, oldpath, newdirfd, newpath); break;
    default: r = ROAR_REAL(L, renameat2)(olddirfd, oldpath, newdirfd, newpath, flags); break;
    }
    if (active) {
        const int err = errno;
        roar_emit(S, ROAR_OP_RENAME, olddirfd, newdirfd, (int)flags, 0, r == 0 ? 0 : -err, oldpath, newpath);
        errno = err;
    }
    return r;
}

int roar_core_link(struct roar_libc* L, struct roar_shim* S, enum roar_link_kind kind, int olddirfd,
                   const char* oldpath, int newdirfd, const char* newpath, int flags)
{
    int r;
    switch (kind) {
    case ROAR_K_LINK: r = ROAR_REAL(L, link)(oldpath, newpath); break;
    case ROAR_K_LINKAT: r = ROAR_REAL(L, linkat)(olddirfd, oldpath, newdirfd, newpath, flags); break;
    case ROAR_K_SYMLINK: r = ROAR_REAL(L, symlink)(oldpath, newpath); break;
    default: r = ROAR_REAL(L, symlinkat)(oldpath, newdirfd, newpath); break;
    }
    if (roar_active(S)) {
        const int err = errno;
        const int symbolic = kind == ROAR_K_SYMLINK || kind == ROAR_K_SYMLINKAT;
        /* A symlink's s1 is its target text, not resolved against anything. */
        roar_emit(S, symbolic ? ROAR_OP_SYMLINK : ROAR_OP_LINK, symbolic ? -1 : olddirfd, newdirfd, flags, 0,
                  r == 0 ? 0 : -err, oldpath, newpath);
        errno = err;
    }
    return r;
}

int roar_core_unlink(struct roar_libc* L, struct roar_shim* S, enum roar_unlink_kind kind, int dirfd, const char* path,
                     int flags)
{
    const int active = roar_active(S);
    if (kind == ROAR_K_RMDIR) {
        flags = AT_REMOVEDIR;
    }
    if (active && path && !(flags & AT_REMOVEDIR)) {
        const int saved = errno;
        roar_pre_modify(S, dirfd, path, 0);
        errno = saved;
    }
    int r;
    if (active && kind == ROAR_K_REMOVE) {
        roar_t_depth++; /* remove() is unlink or rmdir */
    }
    switch (kind) {
    case ROAR_K_UNLINK: r = ROAR_REAL(L, unlink)(path); break;
    case ROAR_K_UNLINKAT: r = ROAR_REAL(L, unlinkat)(dirfd, path, flags); break;
    case ROAR_K_REMOVE: r = ROAR_REAL(L, remove)(path); break;
    default: r = ROAR_REAL(L, rmdir)(path); break;
    }
    if (active) {
        if (kind == ROAR_K_REMOVE) {
            roar_t_depth--;
        }
        const int err = errno;
        roar_emit(S, ROAR_OP_UNLINK, dirfd, -1, flags, 0, r == 0 ? 0 : -err, path, NULL);
        errno = err;
    }
    return r;
}

int roar_core_mkdir(struct roar_libc* L, struct roar_shim* S, int dirfd, const char* path, mode_t mode)
{
    const int r = dirfd == ROAR_AT_FDCWD ? ROAR_REAL(L, mkdir)(path, mode) : ROAR_REAL(L, mkdirat)(dirfd, path, mode);
    if (roar_active(S)) {
        const int err = errno;
        roar_emit(S, ROAR_OP_MKDIR, dirfd, -1, 0, (uint32_t)mode, r == 0 ? 0 : -err, path, NULL);
        errno = err;
    }
    return r;
}

int roar_core_truncate(struct roar_libc* L, struct roar_shim* S, int is64, const char* path, off_t length)
{
    const int active = roar_active(S);
    if (active && path) {
        const int saved = errno;
        roar_pre_modify(S, ROAR_AT_FDCWD, path, O_WRONLY | O_TRUNC);
        errno = saved;
    }
    const int r = is64 ? ROAR_REAL(L, truncate64)(path, length) : ROAR_REAL(L, truncate)(path, length);
    if (active) {
        const int err = errno;
        roar_emit(S, ROAR_OP_TRUNCATE, ROAR_AT_FDCWD, -1, 0, 0, r == 0 ? 0 : -err, path, NULL);
        errno = err;
    }
    return r;
}

int roar_core_ftruncate(struct roar_libc* L, struct roar_shim* S, int is64, int fd, off_t length)
{
    const int active = roar_active(S);
    if (active && !(roar_fd_get(S, fd) & ROAR_FD_WRITTEN)) {
        /* The first modification through this fd: the open may not have
         * announced it (an fd inherited or opened O_RDWR elsewhere). */
        const int saved = errno;
        roar_pre_modify(S, fd, NULL, 0);
        errno = saved;
    }
    const int r = is64 ? ROAR_REAL(L, ftruncate64)(fd, length) : ROAR_REAL(L, ftruncate)(fd, length);
    if (active) {
        const int err = errno;
        const uint8_t f = roar_fd_get(S, fd);
        roar_fd_set(S, fd, (uint8_t)(f | ROAR_FD_WRITTEN));
        roar_emit(S, ROAR_OP_TRUNCATE, fd, -1, 0, 0, r == 0 ? 0 : -err, NULL, NULL);
        errno = err;
    }
    return r;
}
