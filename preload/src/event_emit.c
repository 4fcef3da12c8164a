/* Event construction and publication, and the PRE_MODIFY sync point. */
#include "roar/preload/event_emit.h"

#include "roar/preload/trace_handoff.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Ring pages are first touched by each process through minor page faults,
 * one per 4 KiB (64 slots). Populating the page table a chunk ahead of the
 * write position with MADV_POPULATE_WRITE (Linux 5.14+) turns 64 faults
 * into one system call; nothing is written, so it is safe while others
 * produce and consume. Once the whole ring is mapped, or when the kernel
 * refuses, it stops. Races between threads only repeat a populate.
 * Short-lived processes (most of them) never start: only after
 * ROAR_PREFAULT_AFTER events, so a /bin/true pays for no chunk it will not
 * use. */
#define ROAR_PREFAULT_CHUNK (256u * 1024u)
#define ROAR_PREFAULT_AFTER 2048u

static void prefault_ahead(struct roar_shim* S, int64_t index)
{
    if (index < __atomic_load_n(&S->prefault_due, __ATOMIC_RELAXED)
        || __atomic_load_n(&S->prefault_state, __ATOMIC_RELAXED) == 2) {
        return; /* prefault_due >= 0: a dropped record (-1) also returns */
    }
    const uint64_t area = S->ring.nslots * ROAR_SLOT_SIZE;
    if (area < 4 * ROAR_PREFAULT_CHUNK) {
        __atomic_store_n(&S->prefault_state, 2, __ATOMIC_RELAXED);
        return;
    }
    const uint64_t pos = ((uint64_t)index * ROAR_SLOT_SIZE) & (area - 1);
    if (__atomic_load_n(&S->prefault_state, __ATOMIC_RELAXED) == 0) {
        if (S->prefault_countdown < ROAR_PREFAULT_AFTER) {
            S->prefault_countdown++;
            return;
        }
        S->prefault_start = pos & ~(uint64_t)(ROAR_PREFAULT_CHUNK - 1);
        S->prefault_next = S->prefault_start;
        __atomic_store_n(&S->prefault_state, 1, __ATOMIC_RELAXED);
    }
    /* Distance (in ring order) from where this process started to `pos`,
     * and to what it has populated so far. */
    const uint64_t done = S->prefault_next - S->prefault_start;
    const uint64_t at = (pos - S->prefault_start) & (area - 1);
    if (at + ROAR_PREFAULT_CHUNK / 2 < done) {
        /* Nothing to do until the write position has come that close:
         * positions advance by one slot per index. */
        const uint64_t ahead = done - ROAR_PREFAULT_CHUNK / 2 - at;
        __atomic_store_n(&S->prefault_due, index + (int64_t)((ahead + ROAR_SLOT_SIZE - 1) / ROAR_SLOT_SIZE),
                         __ATOMIC_RELAXED);
        return;
    }
    if (done >= area) {
        __atomic_store_n(&S->prefault_state, 2, __ATOMIC_RELAXED);
        return;
    }
    const uint64_t off = S->prefault_next & (area - 1);
    const int saved = errno;
    if (syscall(SYS_madvise, S->ring.slots + off, (size_t)ROAR_PREFAULT_CHUNK, MADV_POPULATE_WRITE) != 0) {
        __atomic_store_n(&S->prefault_state, 2, __ATOMIC_RELAXED);
    }
    errno = saved;
    S->prefault_next += ROAR_PREFAULT_CHUNK;
}

/* Process records carry the precise time (the collector dates processes
 * with it); file records are ordered by their slot index and their time
 * is only informative, so they read the coarse clock, a load from the
 * vDSO page instead of a timestamp-counter read. */
static inline uint64_t event_time(uint16_t op)
{
    return roar_clock_ns(op < ROAR_OP_OPEN ? CLOCK_REALTIME : CLOCK_REALTIME_COARSE);
}

static void fill_header(struct roar_shim* S, struct roar_event* ev, uint16_t op, int32_t fd, int32_t fd2, int32_t flags,
                        uint32_t mode, int64_t result)
{
    memset(ev, 0, sizeof *ev);
    ev->op = op;
    ev->pid = S->pid;
    ev->tid = roar_shim_tid(S);
    ev->fd = fd;
    ev->fd2 = fd2;
    ev->flags = flags;
    ev->mode = mode;
    ev->result = result;
    ev->time_ns = event_time(op);
}

static struct roar_str str_of(const char* s, uint32_t max)
{
    struct roar_str r = {s, 0};
    if (s) {
        /* Bounded: publish cuts at max - 1 and flags the record. */
        r.len = (uint32_t)strnlen(s, max);
    }
    return r;
}

/* Marks `fd` known and publishes FD_INHERITED for it, as /proc names it
 * (`target`), when that is a path. Returns its F_GETFL flags, or -1. */
int roar_announce_fd(struct roar_shim* S, int fd, const char* target)
{
    if (target[0] != '/') {
        return -1;
    }
    const long flags = syscall(SYS_fcntl, fd, F_GETFL);
    roar_fd_set(S, fd, ROAR_FD_KNOWN);
    roar_emit(S, ROAR_OP_FD_INHERITED, fd, -1, flags < 0 ? 0 : (int)flags, 0, 0, target, NULL);
    return flags < 0 ? 0 : (int)flags;
}

const char* roar_fd_target(int fd, char* buf, size_t cap)
{
    char proc_path[32] = "/proc/self/fd/";
    char digits[12];
    size_t n = 0;
    if (fd < 0 || cap < 2) {
        return NULL;
    }
    for (unsigned int v = (unsigned int)fd; n == 0 || v > 0; v /= 10) {
        digits[n++] = (char)('0' + v % 10);
    }
    size_t len = strlen(proc_path);
    while (n > 0) {
        proc_path[len++] = digits[--n];
    }
    proc_path[len] = 0;
    const long got = syscall(SYS_readlinkat, AT_FDCWD, proc_path, buf, cap - 1);
    if (got < 0) {
        return NULL;
    }
    buf[got] = 0;
    return buf;
}

void roar_fd_announce_elided_slow(struct roar_shim* S, int fd)
{
    const int saved = errno;
    roar_fd_set(S, fd, (uint8_t)(roar_fd_get(S, fd) & ~ROAR_FD_ELIDED));
    char link[ROAR_MAX_PATH_BYTES];
    const char* target = roar_fd_target(fd, link, sizeof link);
    if (target) {
        (void)roar_announce_fd(S, fd, target);
    }
    errno = saved;
}

/* roar_emit3's body, inlined into roar_emit too: most events go through
 * roar_emit, and this keeps them to one call. The header is stored into
 * the reserved slot field by field rather than built on the stack and
 * copied: copying it in 16-byte pieces right after storing its 2- and
 * 4-byte fields stalled on failed store-to-load forwarding. */
static inline __attribute__((always_inline)) int64_t emit(struct roar_shim* S, uint16_t op, int32_t fd, int32_t fd2,
                                                          int32_t flags, uint32_t mode, int64_t result, const char* s1,
                                                          const char* s2, struct roar_str s3)
{
    if (S->fs_by_tracer && roar_op_from_tracer(op)) {
        return -1; /* the tracer publishes it from the syscall */
    }
    if (op >= ROAR_OP_OPEN && op != ROAR_OP_CLOSE && op != ROAR_OP_FD_INHERITED) {
        /* A record naming an fd the collector was not told of (fd and fd2
         * of file records are fds or dirfds; of process records, pids). */
        roar_fd_announce_elided(S, fd);
        roar_fd_announce_elided(S, fd2);
    }
    roar_ring_note_changes(&S->ring, op, flags);
    const uint32_t tid = roar_shim_tid(S);
    const uint64_t time_ns = event_time(op);
    struct roar_str a = str_of(s1, ROAR_MAX_PATH_BYTES);
    struct roar_str b = str_of(s2, ROAR_MAX_PATH_BYTES);
    struct roar_event lens;
    lens.flags = flags;
    const uint32_t n = roar_ring_measure(&S->ring, &lens, &a, &b, &s3);
    uint64_t index;
    if (roar_ring_reserve(&S->ring, n, &index) != 0) {
        return -1;
    }
    struct roar_event* slot = roar_ring_slot(&S->ring, index);
    slot->stamp = 0;
    slot->op = op;
    slot->nslots = (uint16_t)n;
    slot->pid = S->pid;
    slot->tid = tid;
    slot->fd = fd;
    slot->fd2 = fd2;
    slot->flags = lens.flags;
    slot->mode = mode;
    slot->len1 = lens.len1;
    slot->len2 = lens.len2;
    slot->len3 = lens.len3;
    slot->result = result;
    slot->time_ns = time_ns;
    roar_ring_commit(&S->ring, index, n, a, b, s3);
    prefault_ahead(S, (int64_t)index);
    return (int64_t)index;
}

int64_t roar_emit3(struct roar_shim* S, uint16_t op, int32_t fd, int32_t fd2, int32_t flags, uint32_t mode,
                   int64_t result, const char* s1, const char* s2, const char* s3, uint32_t len3)
{
    const struct roar_str c = {s3, len3};
    return emit(S, op, fd, fd2, flags, mode, result, s1, s2, c);
}

int64_t roar_emit(struct roar_shim* S, uint16_t op, int32_t fd, int32_t fd2, int32_t flags, uint32_t mode,
                  int64_t result, const char* s1, const char* s2)
{
    const struct roar_str none = {NULL, 0};
    return emit(S, op, fd, fd2, flags, mode, result, s1, s2, none);
}

int64_t roar_emit_argv(struct roar_shim* S, uint32_t pid, uint16_t op, int32_t fd, int32_t fd2, int32_t flags,
                       uint32_t mode, int64_t result, const char* s1, const char* s2, char* const* argv,
                       int32_t trunc_flag)
{
    static char* const k_no_argv[] = {NULL};
    if (!argv) {
        argv = k_no_argv; /* an exec with argv NULL: s3 present and empty */
    }
    const uint64_t max3 = ROAR_MAX_ARGV_BYTES - 1;
    uint64_t joined = 0;
    int truncated = 0;
    for (size_t i = 0; argv[i]; ++i) {
        joined += (i > 0) + strnlen(argv[i], ROAR_MAX_ARGV_BYTES);
        if (joined > max3) {
            joined = max3;
            truncated = 1;
            break;
        }
    }
    struct roar_event ev;
    fill_header(S, &ev, op, fd, fd2, flags, mode, result);
    if (pid) {
        ev.pid = pid;
    }
    struct roar_str a = str_of(s1, ROAR_MAX_PATH_BYTES);
    struct roar_str b = str_of(s2, ROAR_MAX_PATH_BYTES);
    a.len = roar_clamp_len(a.len, ROAR_MAX_PATH_BYTES, &truncated);
    b.len = roar_clamp_len(b.len, ROAR_MAX_PATH_BYTES, &truncated);
    ev.len1 = a.ptr ? a.len + 1 : 0;
    ev.len2 = b.ptr ? b.len + 1 : 0;
    ev.len3 = (uint32_t)joined + 1;
    if (truncated) {
        ev.flags |= ROAR_FLAG_TRUNCATED | trunc_flag;
        __atomic_fetch_add(&S->ring.hdr->truncated, 1, __ATOMIC_RELAXED);
    }
    const uint64_t total = sizeof ev + ev.len1 + ev.len2 + ev.len3;
    const uint32_t n = (uint32_t)((total + ROAR_SLOT_SIZE - 1) / ROAR_SLOT_SIZE);
    uint64_t index;
    if (roar_ring_reserve(&S->ring, n, &index) != 0) {
        return -1;
    }
    ev.nslots = (uint16_t)n;
    ev.stamp = 0;
    struct roar_ring* r = &S->ring;
    uint64_t pos = index * ROAR_SLOT_SIZE;
    struct roar_event* slot = (struct roar_event*)(r->slots + (pos & (r->nslots * ROAR_SLOT_SIZE - 1)));
    memcpy(slot, &ev, sizeof ev);
    pos += sizeof ev;
    static const char nul = 0;
    const struct roar_str strs[2] = {a, b};
    for (int i = 0; i < 2; ++i) {
        if (strs[i].ptr) {
            roar_ring_copy_in(r, pos, strs[i].ptr, strs[i].len);
            roar_ring_copy_in(r, pos + strs[i].len, &nul, 1);
            pos += strs[i].len + 1u;
        }
    }
    uint64_t budget = joined;
    for (size_t i = 0; argv[i] && budget > 0; ++i) {
        if (i > 0) {
            roar_ring_copy_in(r, pos++, &nul, 1);
            if (--budget == 0) {
                break;
            }
        }
        uint64_t len = strnlen(argv[i], ROAR_MAX_ARGV_BYTES);
        if (len > budget) {
            len = budget;
        }
        roar_ring_copy_in(r, pos, argv[i], len);
        pos += len;
        budget -= len;
    }
    roar_ring_copy_in(r, pos, &nul, 1);
    __atomic_store_n(&slot->stamp, ROAR_STAMP(index), __ATOMIC_RELEASE);
    return (int64_t)index;
}

static int is_pseudo_fs(const char* path)
{
    return strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0 || strncmp(path, "/sys/", 5) == 0;
}

static uint64_t fnv1a(const char* s, uint64_t h)
{
    for (; *s; ++s) {
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    }
    return h;
}

void roar_pre_modify(struct roar_shim* S, int dirfd, const char* path, int flags)
{
    uint64_t key = 0;
    uint64_t* slot = NULL;
    if (path) {
        if (path[0] == '/' && is_pseudo_fs(path)) {
            return;
        }
        /* A dirfd may be reused for another directory, so only paths that
         * do not depend on one are remembered. */
        if (path[0] == '/' || dirfd == ROAR_AT_FDCWD) {
            const uint64_t seed = path[0] == '/' ? 0 : (uint64_t)S->cwd_generation + 1;
            key = fnv1a(path, 0xcbf29ce484222325ull ^ (seed * 0x9e3779b97f4a7c15ull)) | 1u;
            slot = &S->premod_cache[(key >> 7) % ROAR_PREMOD_CACHE_SIZE];
            if (__atomic_load_n(slot, __ATOMIC_RELAXED) == key) {
                return;
            }
        }
    }
    const int64_t index = roar_emit(S, ROAR_OP_PRE_MODIFY, dirfd, -1, flags, 0, 0, path, NULL);
    if (index >= 0) {
        roar_ring_sync(&S->ring, (uint64_t)index);
    }
    if (slot) {
        __atomic_store_n(slot, key, __ATOMIC_RELAXED);
    }
}
