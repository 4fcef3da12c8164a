/* The reopen cache (reopen_cache.h): a direct-mapped table of the
 * read-only opens this process reported, each entry under a sequence
 * number so that threads and signal handlers never read a half-written
 * path as a match. */
#include "roar/preload/reopen_cache.h"

#include <fcntl.h>
#include <string.h>

/* A cheap hash of the path's bytes, its length and its working directory:
 * it only spreads entries over the slots; a hit compares the whole path. */
static uint32_t slot_of(const char* path, uint32_t len, uint32_t cwd_generation, int flags)
{
    uint64_t h = ((uint64_t)len << 32) ^ cwd_generation ^ ((uint64_t)(uint32_t)flags << 16);
    uint32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, path + i, sizeof w);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    for (; i < len; ++i) {
        h = (h ^ (unsigned char)path[i]) * 0xff51afd7ed558ccdull;
    }
    h ^= h >> 32;
    return (uint32_t)(h % ROAR_REOPEN_SLOTS);
}

int roar_reopen_seen(struct roar_shim* S, int dirfd, const char* path, int flags, struct roar_reopen_probe* probe)
{
    probe->len = 0;
    if (!path || (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))
        || (path[0] != '/' && dirfd != ROAR_AT_FDCWD) || __atomic_load_n(&S->fs_by_tracer, __ATOMIC_RELAXED)) {
        return 0;
    }
    const size_t len = strnlen(path, ROAR_REOPEN_PATH_MAX);
    if (len == 0 || len >= ROAR_REOPEN_PATH_MAX) {
        return 0;
    }
    probe->len = (uint32_t)len;
    probe->cwd_generation = path[0] == '/' ? 0 : __atomic_load_n(&S->cwd_generation, __ATOMIC_RELAXED) + 1;
    probe->changes = __atomic_load_n(&S->ring.hdr->changes, __ATOMIC_ACQUIRE);
    probe->slot = slot_of(path, probe->len, probe->cwd_generation, flags);
    const struct roar_reopen_entry* e = &S->reopen[probe->slot];
    const uint32_t seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
    if ((seq & 1) || e->changes != probe->changes || e->len != probe->len || e->flags != flags
        || e->cwd_generation != probe->cwd_generation || memcmp(e->path, path, len) != 0) {
        return 0;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&e->seq, __ATOMIC_RELAXED) == seq;
}

void roar_reopen_remember(struct roar_shim* S, const char* path, int flags, const struct roar_reopen_probe* probe)
{
    if (probe->len == 0) {
        return;
    }
    struct roar_reopen_entry* e = &S->reopen[probe->slot];
    uint32_t seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);
    /* Another thread (or a signal handler that interrupted this one) is
     * writing it: leave the entry to it. */
    if ((seq & 1) || !__atomic_compare_exchange_n(&e->seq, &seq, seq + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE); /* the odd number before the fields */
    e->flags = flags;
    e->cwd_generation = probe->cwd_generation;
    e->len = probe->len;
    e->changes = probe->changes;
    memcpy(e->path, path, probe->len);
    __atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

void roar_reopen_reset(struct roar_shim* S)
{
    for (uint32_t i = 0; i < ROAR_REOPEN_SLOTS; ++i) {
        S->reopen[i].len = 0;
        __atomic_store_n(&S->reopen[i].seq, 0, __ATOMIC_RELAXED);
    }
}
