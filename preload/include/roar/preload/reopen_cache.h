/* The reopen cache: read-only opens this process already reported, so that
 * opening the same file again, with nothing changed in the job since,
 * publishes nothing. A training loop that reopens its shard every epoch,
 * or a tool that stats and reopens its config, then costs the shim a
 * lookup instead of two records (OPEN and CLOSE) the collector would only
 * fold into the one it has.
 *
 * "Nothing changed" is the ring's `changes` count (event_format.h), which
 * every producer bumps before it publishes a record that may change a
 * path: an entry is good only while the count is what it was before its
 * OPEN went out. The fd of an open served from the cache is marked
 * ROAR_FD_ELIDED (shim_state.h) and announced to the collector the first
 * time a record names it. Only paths that do not depend on a dirfd are
 * cached (absolute, or relative to the working directory, keyed by its
 * generation), and only when roar's tracer does not publish this process's
 * file syscalls. */
#ifndef ROAR_PRELOAD_REOPEN_CACHE_H
#define ROAR_PRELOAD_REOPEN_CACHE_H

#include "roar/preload/shim_state.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a lookup found out, for roar_reopen_remember after a miss. */
struct roar_reopen_probe {
    uint64_t changes; /* the ring's change count when looked up */
    uint32_t cwd_generation;
    uint32_t len;  /* path length; 0 = not cacheable */
    uint32_t slot; /* the entry this path maps to */
};

/* Whether a successful open of dirfd/`path` with `flags` was reported by
 * this process with nothing changed in the job since. Fills `probe` either
 * way (probe->len is 0 when the open cannot be cached). */
int roar_reopen_seen(struct roar_shim* S, int dirfd, const char* path, int flags, struct roar_reopen_probe* probe);

/* Records that the OPEN of `path` with `flags`, looked up as `probe`, has
 * been published. */
void roar_reopen_remember(struct roar_shim* S, const char* path, int flags, const struct roar_reopen_probe* probe);

/* Forgets every entry (the atfork child: an entry another thread was
 * writing at the fork would stay locked). */
void roar_reopen_reset(struct roar_shim* S);

#ifdef __cplusplus
}
#endif

#endif
