/* The producer side of the event ring, as static inline C so that the
 * preload shim (no libstdc++, no heap, no locks) and roar-proxy share one
 * implementation.
 *
 * Protocol, in short: a producer reserves `n` consecutive slots by a CAS
 * on `head`, copies its record in, and then stores the record's stamp with
 * release ordering. The single consumer reads records in slot order,
 * copies a committed one out, and publishes the new `tail` with release
 * ordering (in batches) so producers may reuse the slots. A producer
 * killed between reserve and commit leaves one uncommitted record; the
 * consumer skips it once the job is over (or after a grace period), so at
 * most that record is lost.
 *
 * A full ring makes the producer wait (roar_ring_wait_space): it sets
 * `space_wanted`, wakes the consumer and sleeps on the `progress` futex,
 * which the consumer bumps when it publishes a new tail. The wait is
 * counted (full_waits, full_wait_ns) and bounded: the record is dropped
 * and counted only when the consumer process is gone, or when `tail` has
 * not moved for the header's full_wait_ms (a stalled consumer; the tail is
 * then marked stalled so that later producers drop at once instead of
 * each waiting again, until the consumer moves). Nothing is locked, so a
 * producer killed while waiting wedges no one (at worst the consumer wakes
 * `progress` once for nobody).
 *
 * A sync point (roar_ring_sync) lets a producer wait, bounded by the
 * header's sync_timeout_ms, until the consumer has processed a given
 * record; the shim uses it before modifying a file so that the collector
 * can hash the bytes the job read before they change.
 *
 * These functions may leave errno changed (futex, kill); callers in the
 * shim save and restore it around them. */
#ifndef ROAR_COLLECTOR_EVENT_RING_H
#define ROAR_COLLECTOR_EVENT_RING_H

#include "roar/collector/event_format.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

struct roar_ring {
    struct roar_ring_header* hdr;
    unsigned char* slots;
    uint64_t nslots;
};

/* A string handed to roar_ring_publish: `len` bytes without the NUL; a
 * NULL `ptr` means "absent". */
struct roar_str {
    const char* ptr;
    uint32_t len;
};

/* Bytes needed for a ring of `nslots` slots (a power of two). */
static inline uint64_t roar_ring_bytes(uint64_t nslots) { return (uint64_t)ROAR_HEADER_SIZE + nslots * ROAR_SLOT_SIZE; }

/* Points `r` at a mapped segment of `size` bytes at `base`; returns 0 when
 * the header is a ring of this version that fits, -1 otherwise. */
static inline int roar_ring_view(struct roar_ring* r, void* base, uint64_t size)
{
    struct roar_ring_header* h = (struct roar_ring_header*)base;
    if (size < ROAR_HEADER_SIZE || h->magic != ROAR_RING_MAGIC || h->version != ROAR_RING_VERSION
        || h->slot_size != ROAR_SLOT_SIZE || h->nslots == 0 || (h->nslots & (h->nslots - 1)) != 0
        || roar_ring_bytes(h->nslots) > size) {
        return -1;
    }
    r->hdr = h;
    r->slots = (unsigned char*)base + ROAR_HEADER_SIZE;
    r->nslots = h->nslots;
    return 0;
}

static inline uint64_t roar_clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Copies `len` bytes to absolute byte position `pos` of the slot area,
 * wrapping at its end. */
static inline void roar_ring_copy_in(struct roar_ring* r, uint64_t pos, const void* src, uint64_t len)
{
    const uint64_t area = r->nslots * ROAR_SLOT_SIZE;
    const uint64_t off = pos & (area - 1);
    const uint64_t first = len < area - off ? len : area - off;
    __builtin_memcpy(r->slots + off, src, first);
    if (first < len) {
        __builtin_memcpy(r->slots, (const unsigned char*)src + first, len - first);
    }
}

/* Copies `len` bytes from absolute byte position `pos` into `dst`. */
static inline void roar_ring_copy_out(const struct roar_ring* r, uint64_t pos, void* dst, uint64_t len)
{
    const uint64_t area = r->nslots * ROAR_SLOT_SIZE;
    const uint64_t off = pos & (area - 1);
    const uint64_t first = len < area - off ? len : area - off;
    __builtin_memcpy(dst, r->slots + off, first);
    if (first < len) {
        __builtin_memcpy((unsigned char*)dst + first, r->slots, len - first);
    }
}

static inline long roar_futex(uint32_t* addr, int op, uint32_t val, const struct timespec* timeout);

/* Whether the consumer process still exists. A busy consumer (hashing a
 * large file at a sync point) has a stale heartbeat but is not gone. */
static inline int roar_ring_consumer_exists(const struct roar_ring* r)
{
    const uint32_t pid = __atomic_load_n(&r->hdr->consumer_pid, __ATOMIC_RELAXED);
    if (pid == 0) {
        return 0;
    }
    return !(syscall(SYS_kill, (pid_t)pid, 0) != 0 && errno == ESRCH);
}

/* A producer's state while it waits for space (zero-initialised). */
struct roar_ring_waiting {
    uint64_t start_ns;     /* when it began waiting; 0 = not yet */
    uint64_t last_tail;    /* the tail it saw last */
    uint64_t last_move_ns; /* when it last saw the tail move */
    uint64_t checked_ns;   /* when it last checked that the consumer exists */
};

/* One step of waiting for the consumer to free slots, the ring being full
 * at `tail`. Returns 0 to try the reservation again, -1 to drop the record
 * (no consumer, consumer stalled, or waiting disabled). */
static inline int roar_ring_wait_space(struct roar_ring* r, uint64_t tail, struct roar_ring_waiting* w)
{
    struct roar_ring_header* h = r->hdr;
    const uint64_t limit_ns = (uint64_t)__atomic_load_n(&h->full_wait_ms, __ATOMIC_RELAXED) * 1000000ull;
    if (limit_ns == 0 || __atomic_load_n(&h->stalled_tail, __ATOMIC_ACQUIRE) == tail + 1) {
        return -1;
    }
    const uint64_t now = roar_clock_ns(CLOCK_MONOTONIC);
    if (w->start_ns == 0) {
        if (!roar_ring_consumer_exists(r)) {
            return -1;
        }
        w->start_ns = now;
        w->last_tail = tail;
        w->last_move_ns = now;
        w->checked_ns = now;
        __atomic_fetch_add(&h->full_waits, 1, __ATOMIC_RELAXED);
    } else if (tail != w->last_tail) {
        w->last_tail = tail;
        w->last_move_ns = now;
    } else if (now - w->last_move_ns >= limit_ns) {
        __atomic_store_n(&h->stalled_tail, tail + 1, __ATOMIC_RELEASE);
        return -1;
    }
    if (now - w->checked_ns >= 100000000ull) {
        w->checked_ns = now;
        if (!roar_ring_consumer_exists(r)) {
            return -1;
        }
    }
    /* Ask for a wake-up, then look again (the consumer publishes tail,
     * then reads space_wanted, both sequentially consistent like these two:
     * one of us sees the other), then sleep. Seq-cst operations rather than
     * a fence, which ThreadSanitizer cannot follow. */
    const uint32_t seen = __atomic_load_n(&h->progress, __ATOMIC_ACQUIRE);
    __atomic_store_n(&h->space_wanted, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&h->tail, __ATOMIC_SEQ_CST) != tail) {
        return 0;
    }
    __atomic_fetch_add(&h->doorbell, 1, __ATOMIC_RELEASE);
    roar_futex(&h->doorbell, FUTEX_WAKE, 1, NULL);
    uint64_t wait_ns = limit_ns - (now - w->last_move_ns);
    if (wait_ns > 50000000ull) {
        wait_ns = 50000000ull;
    }
    struct timespec ts = {(time_t)(wait_ns / 1000000000ull), (long)(wait_ns % 1000000000ull)};
    roar_futex(&h->progress, FUTEX_WAIT, seen, &ts);
    return 0;
}

static inline void roar_ring_reserve_woke(struct roar_ring* r, uint64_t head, uint32_t n, uint64_t tail)
{
    struct roar_ring_header* h = r->hdr;
    /* Read before the exchange: while the ring stays half full, every
     * producer would otherwise write the flag's cache line per record. */
    if (head + n - tail > r->nslots / 2 && !__atomic_load_n(&h->wake_requested, __ATOMIC_RELAXED)
        && !__atomic_exchange_n(&h->wake_requested, 1, __ATOMIC_ACQ_REL)) {
        __atomic_fetch_add(&h->doorbell, 1, __ATOMIC_RELEASE);
        roar_futex(&h->doorbell, FUTEX_WAKE, 1, NULL);
    }
}

/* roar_ring_reserve when the ring was full: the same loop, waiting. */
static __attribute__((noinline, cold, unused)) int roar_ring_reserve_full(struct roar_ring* r, uint32_t n,
                                                                          uint64_t* index)
{
    struct roar_ring_header* h = r->hdr;
    struct roar_ring_waiting waiting = {0, 0, 0, 0};
    uint64_t head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
    int rc = 0;
    for (;;) {
        const uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
        if (head + n - tail > r->nslots) {
            if (n > r->nslots || roar_ring_wait_space(r, tail, &waiting) != 0) {
                __atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
                rc = -1;
                break;
            }
            head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
            continue;
        }
        if (__atomic_compare_exchange_n(&h->head, &head, head + n, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            *index = head;
            roar_ring_reserve_woke(r, head, n, tail);
            break;
        }
    }
    if (waiting.start_ns) {
        __atomic_fetch_add(&h->full_wait_ns, roar_clock_ns(CLOCK_MONOTONIC) - waiting.start_ns, __ATOMIC_RELAXED);
    }
    return rc;
}

/* Reserves `n` slots; stores the first index in `*index` and returns 0, or
 * counts a drop and returns -1. A full ring is waited on while its
 * consumer makes progress (roar_ring_wait_space). The producer that finds
 * the ring more than half full wakes the consumer (once per consumer
 * wake-up), so a burst does not wait for its next poll. */
static inline int roar_ring_reserve(struct roar_ring* r, uint32_t n, uint64_t* index)
{
    struct roar_ring_header* h = r->hdr;
    uint64_t head = __atomic_load_n(&h->head, __ATOMIC_RELAXED);
    for (;;) {
        const uint64_t tail = __atomic_load_n(&h->tail, __ATOMIC_ACQUIRE);
        if (__builtin_expect(head + n - tail > r->nslots, 0)) {
            return roar_ring_reserve_full(r, n, index);
        }
        if (__atomic_compare_exchange_n(&h->head, &head, head + n, 1, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
            *index = head;
            roar_ring_reserve_woke(r, head, n, tail);
            return 0;
        }
    }
}

static inline uint32_t roar_clamp_len(uint32_t len, uint32_t max, int* truncated)
{
    if (len > max - 1) {
        *truncated = 1;
        return max - 1;
    }
    return len;
}

/* Copies string `s` and its NUL to `p`, which has room for both; an
 * absent string copies nothing. Returns the byte after it. */
static inline unsigned char* roar_ring_put_flat(unsigned char* p, struct roar_str s)
{
    if (!s.ptr) {
        return p;
    }
    __builtin_memcpy(p, s.ptr, s.len);
    p[s.len] = 0;
    return p + s.len + 1u;
}

/* Copies string `s` and its NUL to absolute byte position `pos` of the
 * slot area, wrapping at its end; an absent string copies nothing.
 * Returns the position after it. */
static inline uint64_t roar_ring_put_str(struct roar_ring* r, uint64_t pos, struct roar_str s)
{
    if (!s.ptr) {
        return pos;
    }
    roar_ring_copy_in(r, pos, s.ptr, s.len);
    r->slots[(pos + s.len) & (r->nslots * ROAR_SLOT_SIZE - 1)] = 0;
    return pos + s.len + 1u;
}

/* The first step of publishing: cuts each string at its bound (flagging
 * `ev` and counting the record when one is cut), stores the lengths in
 * `ev`, and returns the slots the record needs. */
static inline uint32_t roar_ring_measure(struct roar_ring* r, struct roar_event* ev, struct roar_str* s1,
                                         struct roar_str* s2, struct roar_str* s3)
{
    int truncated = 0;
    s1->len = roar_clamp_len(s1->len, ROAR_MAX_PATH_BYTES, &truncated);
    s2->len = roar_clamp_len(s2->len, ROAR_MAX_PATH_BYTES, &truncated);
    s3->len = roar_clamp_len(s3->len, ROAR_MAX_ARGV_BYTES, &truncated);
    ev->len1 = s1->ptr ? s1->len + 1 : 0;
    ev->len2 = s2->ptr ? s2->len + 1 : 0;
    ev->len3 = s3->ptr ? s3->len + 1 : 0;
    if (truncated) {
        ev->flags |= ROAR_FLAG_TRUNCATED;
        __atomic_fetch_add(&r->hdr->truncated, 1, __ATOMIC_RELAXED);
    }
    const uint64_t total = sizeof(struct roar_event) + ev->len1 + ev->len2 + ev->len3;
    return (uint32_t)((total + ROAR_SLOT_SIZE - 1) / ROAR_SLOT_SIZE);
}

/* The header slot of the record reserved at `index`. */
static inline struct roar_event* roar_ring_slot(const struct roar_ring* r, uint64_t index)
{
    return (struct roar_event*)(r->slots + ((index * ROAR_SLOT_SIZE) & (r->nslots * ROAR_SLOT_SIZE - 1)));
}

/* The last step: copies the strings of the `n`-slot record reserved at
 * `index`, whose header (stamp 0) is in place, and commits it. */
static inline void roar_ring_commit(struct roar_ring* r, uint64_t index, uint32_t n, struct roar_str s1,
                                    struct roar_str s2, struct roar_str s3)
{
    struct roar_event* slot = roar_ring_slot(r, index);
    if (__builtin_expect((unsigned char*)slot + (uint64_t)n * ROAR_SLOT_SIZE <= r->slots + r->nslots * ROAR_SLOT_SIZE,
                         1)) {
        /* The record does not wrap at the end of the slot area. */
        unsigned char* p = (unsigned char*)(slot + 1);
        p = roar_ring_put_flat(p, s1);
        p = roar_ring_put_flat(p, s2);
        roar_ring_put_flat(p, s3);
    } else {
        uint64_t pos = index * ROAR_SLOT_SIZE + sizeof *slot;
        pos = roar_ring_put_str(r, pos, s1);
        pos = roar_ring_put_str(r, pos, s2);
        roar_ring_put_str(r, pos, s3);
    }
    __atomic_store_n(&slot->stamp, ROAR_STAMP(index), __ATOMIC_RELEASE);
}

/* Whether a record of `op` with open `flags` may change what some path
 * names or holds, as the collector sees it: anything but process events,
 * notes, read-only opens, closes, dups, chdirs, read-only fds and S3
 * calls. Unknown operations count as changes. */
static inline int roar_op_changes_files(uint16_t op, int32_t flags)
{
    switch (op) {
    case ROAR_OP_OPEN:
    case ROAR_OP_FD_INHERITED: return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) != 0;
    case ROAR_OP_CLOSE:
    case ROAR_OP_DUP:
    case ROAR_OP_CHDIR:
    case ROAR_OP_READ_FD: return 0;
    default: return op >= ROAR_OP_OPEN && op < ROAR_OP_S3_GET;
    }
}

/* Counts a record of `op` that may change files (the header's `changes`);
 * called before the record is reserved, so that a reader who sees the old
 * count knows the record's change is not yet in the ring. */
static inline void roar_ring_note_changes(struct roar_ring* r, uint16_t op, int32_t flags)
{
    if (roar_op_changes_files(op, flags)) {
        __atomic_fetch_add(&r->hdr->changes, 1, __ATOMIC_RELEASE);
    }
}

/* Publishes `ev` (op, pid, fds, flags, mode, result, time_ns filled by the
 * caller) with up to three strings; fills stamp, nslots and lengths.
 * Returns the record's slot index, or -1 when it was dropped. */
static inline int64_t roar_ring_publish(struct roar_ring* r, struct roar_event* ev, struct roar_str s1,
                                        struct roar_str s2, struct roar_str s3)
{
    roar_ring_note_changes(r, ev->op, ev->flags);
    const uint32_t n = roar_ring_measure(r, ev, &s1, &s2, &s3);
    uint64_t index;
    if (roar_ring_reserve(r, n, &index) != 0) {
        return -1;
    }
    ev->nslots = (uint16_t)n;
    ev->stamp = 0;
    __builtin_memcpy(roar_ring_slot(r, index), ev, sizeof *ev);
    roar_ring_commit(r, index, n, s1, s2, s3);
    return (int64_t)index;
}

static inline long roar_futex(uint32_t* addr, int op, uint32_t val, const struct timespec* timeout)
{
    return syscall(SYS_futex, addr, op, val, timeout, NULL, 0);
}

/* Whether a consumer polled within the last two seconds. */
static inline int roar_ring_consumer_alive(const struct roar_ring* r)
{
    const uint64_t beat = __atomic_load_n(&r->hdr->heartbeat_ns, __ATOMIC_ACQUIRE);
    return beat != 0 && roar_clock_ns(CLOCK_MONOTONIC) - beat < 2000000000ull;
}

/* Wakes the consumer now instead of at its next poll. */
static inline void roar_ring_ring_doorbell(struct roar_ring* r)
{
    __atomic_fetch_add(&r->hdr->doorbell, 1, __ATOMIC_RELEASE);
    roar_futex(&r->hdr->doorbell, FUTEX_WAKE, 1, NULL);
}

/* Waits until the consumer has processed the record at `index`, at most
 * sync_timeout_ms. Returns 0 when it has, -1 on timeout or when no
 * consumer is alive (the caller then simply goes on). */
static inline int roar_ring_sync(struct roar_ring* r, uint64_t index)
{
    struct roar_ring_header* h = r->hdr;
    if (__atomic_load_n(&h->tail, __ATOMIC_ACQUIRE) > index) {
        return 0;
    }
    if (!roar_ring_consumer_alive(r)) {
        return -1;
    }
    __atomic_fetch_add(&h->sync_waiters, 1, __ATOMIC_ACQ_REL);
    roar_ring_ring_doorbell(r);
    const uint64_t deadline = roar_clock_ns(CLOCK_MONOTONIC) + (uint64_t)h->sync_timeout_ms * 1000000ull;
    int rc = 0;
    for (;;) {
        const uint32_t seen = __atomic_load_n(&h->progress, __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&h->tail, __ATOMIC_ACQUIRE) > index) {
            break;
        }
        const uint64_t now = roar_clock_ns(CLOCK_MONOTONIC);
        if (now >= deadline || !roar_ring_consumer_alive(r)) {
            __atomic_fetch_add(&h->sync_timeouts, 1, __ATOMIC_RELAXED);
            rc = -1;
            break;
        }
        uint64_t wait_ns = deadline - now;
        if (wait_ns > 50000000ull) {
            wait_ns = 50000000ull;
        }
        struct timespec ts = {(time_t)(wait_ns / 1000000000ull), (long)(wait_ns % 1000000000ull)};
        roar_futex(&h->progress, FUTEX_WAIT, seen, &ts);
    }
    __atomic_fetch_sub(&h->sync_waiters, 1, __ATOMIC_ACQ_REL);
    return rc;
}

#ifdef __cplusplus
}
#endif

#endif
