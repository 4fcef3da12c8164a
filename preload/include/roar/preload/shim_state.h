/* The per-process state of the shim: the mapped event ring, the cached pid,
 * the environment saved at start for env repair, and per-fd bookkeeping.
 * One instance lives in the library (see lifecycle.c); unit tests make
 * their own and attach it to a ring in ordinary memory.
 *
 * Nothing here allocates or locks. Fields written by several threads are
 * bytes or word-sized values updated with relaxed atomics; a race can at
 * worst repeat an event, never lose one or corrupt the ring. */
#ifndef ROAR_PRELOAD_SHIM_STATE_H
#define ROAR_PRELOAD_SHIM_STATE_H

#include "roar/collector/event_ring.h"
#include "roar/collector/s3_route.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum roar_shim_status {
    ROAR_SHIM_UNINIT = 0,       /* nothing done yet */
    ROAR_SHIM_INITIALIZING = 1, /* one thread is starting up: others pass through */
    ROAR_SHIM_READY = 2,        /* ring mapped: hooks report */
    ROAR_SHIM_OFF = 3           /* no ring: pure pass-through for good */
};

/* fds below this have per-fd bookkeeping; larger ones are always reported. */
#define ROAR_FD_TRACKED 65536
#define ROAR_SAVED_ENV_MAX 32
#define ROAR_SAVED_ENV_BYTES 16384
#define ROAR_PREMOD_CACHE_SIZE 256
#define ROAR_S3_RESOLVED_MAX 64
#define ROAR_S3_REDIRECTS_MAX 64
#define ROAR_S3_NOTED_MAX 32
#define ROAR_REOPEN_SLOTS 64
#define ROAR_REOPEN_PATH_MAX 232

/* roar_shim.fd_flags bits. */
#define ROAR_FD_KNOWN 0x1   /* opened, duplicated or inherited as a path: CLOSE is reported */
#define ROAR_FD_WRITTEN 0x2 /* WRITE_FD already reported since the fd was (re)opened */
/* Opened read-only again with nothing changed since the same open was
 * reported (the reopen cache): no OPEN was published, so the collector does
 * not know the number. The first record that names the fd announces it
 * (FD_INHERITED, from /proc/self/fd) before itself; its close is silent. */
#define ROAR_FD_ELIDED 0x4

/* One read-only open the process reported: the path as given (absolute,
 * or relative to the working directory of cwd_generation), its flags and
 * the ring's change count read before the OPEN was published. Written
 * under `seq` like roar_s3_resolved. */
struct roar_reopen_entry {
    uint32_t seq;
    int32_t flags;
    uint32_t cwd_generation; /* 0 for an absolute path */
    uint32_t len;
    uint64_t changes;
    char path[ROAR_REOPEN_PATH_MAX];
};

/* One name the process resolved and one of its addresses. Written under a
 * per-entry sequence number (odd while being written): a reader that sees
 * it change, or odd, ignores the entry. */
struct roar_s3_resolved {
    uint32_t seq;
    uint32_t stamp;   /* order of resolution: the newest entry of an address wins */
    uint8_t addr_len; /* 4 or 16; 0 = empty */
    uint8_t addr[16];
    uint16_t name_len;
    char name[ROAR_S3_HOST_MAX + 1];
};

/* A socket the shim connected to the proxy instead of `orig`: getpeername
 * answers `orig`. Identified by the socket's inode, not its fd number. */
struct roar_s3_redirect {
    uint32_t seq;
    uint32_t orig_len;
    uint64_t dev;
    uint64_t ino;
    union {
        struct {
            uint16_t family;
        } any;
        unsigned char bytes[28]; /* a sockaddr_in or sockaddr_in6 */
    } orig;
};

/* S3 routing (issue 17, the contract in s3_route.h / proxy_header.h):
 * configured at start from ROAR_S3_*; `on` stays 0 (and every network hook
 * a pass-through after one branch) when ROAR_S3_PROXY is absent. */
struct roar_s3_state {
    int on;
    int tls; /* ROAR_S3_TLS=1: redirect TLS destinations too */
    struct roar_s3_entry proxy;
    char secret[65];
    struct roar_s3_routes routes;
    struct roar_s3_resolved resolved[ROAR_S3_RESOLVED_MAX];
    uint32_t resolved_next;
    struct roar_s3_redirect redirects[ROAR_S3_REDIRECTS_MAX];
    uint32_t redirects_next;
    uint64_t noted[ROAR_S3_NOTED_MAX]; /* hashes of hosts already reported as not observed */
    uint32_t noted_next;
};

struct roar_shim {
    int status; /* enum roar_shim_status, atomic */
    struct roar_ring ring;
    uint32_t pid;
    uint32_t fork_generation; /* bumped in every fork child: invalidates cached tids */
    uint32_t cwd_generation;  /* bumped on chdir: keys the PRE_MODIFY cache */
    int exit_status;          /* status passed to exit(), for the destructor */
    int exit_called;          /* exit() seen: the destructor reports exit_status */
    int exit_sent;            /* PROC_EXIT published */
    int fs_by_tracer;         /* roar's ptrace tracer follows this process and publishes its file syscalls */
    int shared_ro_maps;       /* a read-only MAP_SHARED mapping of a file was made (mprotect may widen it) */
    /* Ring pages this process has made writable in its page table ahead
     * of use (byte offsets into the slot area; see event_emit.c). */
    uint64_t prefault_start;
    uint64_t prefault_next;
    int64_t prefault_due;        /* events at lower ring indexes need no populate (atomic) */
    int prefault_state;          /* 0 not started, 1 running, 2 done or unsupported */
    uint32_t prefault_countdown; /* events to publish before starting */

    /* The environment at start: "NAME=value" strings restored into any
     * environment handed to exec/spawn. */
    char env_buf[ROAR_SAVED_ENV_BYTES];
    const char* env_entries[ROAR_SAVED_ENV_MAX];
    uint16_t env_name_len[ROAR_SAVED_ENV_MAX];
    int env_count;
    const char* preload_path; /* absolute path of this library */
    uint32_t preload_path_len;

    /* Hashes of (cwd generation, path) already announced with PRE_MODIFY. */
    uint64_t premod_cache[ROAR_PREMOD_CACHE_SIZE];
    /* Read-only opens already reported, by path (see ROAR_FD_ELIDED). */
    struct roar_reopen_entry reopen[ROAR_REOPEN_SLOTS];
    uint8_t fd_flags[ROAR_FD_TRACKED];
    struct roar_s3_state s3;
};

/* Per-thread state: reentry depth and the cached tid. Initial-exec TLS so
 * that reading it never calls into the loader. */
extern __thread int roar_t_depth __attribute__((tls_model("initial-exec")));

/* Whether hooks on this thread should report: the shim is ready and this
 * thread is not already inside the shim. */
static inline int roar_active(const struct roar_shim* S)
{
    return __atomic_load_n(&S->status, __ATOMIC_ACQUIRE) == ROAR_SHIM_READY && roar_t_depth == 0;
}

/* Attaches `S` to a ring segment of `size` bytes at `base` and marks it
 * ready; `pid` is the process id to report. Returns 0, or -1 when the
 * segment is not a valid ring (S is then left off). */
int roar_shim_attach(struct roar_shim* S, void* base, uint64_t size, uint32_t pid);

/* Maps the ring named `name` (ROAR_RING's value, e.g. "/roar-<job>") read-
 * write and shared through /dev/shm; closes the fd at once. Returns the
 * mapping and stores its size in `*size`, or NULL. */
void* roar_shim_map_ring(const char* name, uint64_t* size);

/* Saves ROAR_RING, ROAR_PRELOAD, ROAR_JOB_ID, ROAR_KEEP_ENV, the S3
 * routing variables (ROAR_S3_*) and the variables ROAR_KEEP_ENV names
 * from `envp` into `S`. `self_path` is this
 * library's path, used when ROAR_PRELOAD is missing (may be NULL). */
void roar_shim_save_env(struct roar_shim* S, char* const* envp, const char* self_path);

/* The calling thread's cached tid and the fork generation it belongs to
 * (generation + 1; 0 = not cached yet). */
extern __thread uint32_t roar_t_tid __attribute__((tls_model("initial-exec")));
extern __thread uint32_t roar_t_tid_generation __attribute__((tls_model("initial-exec")));

/* Asks the kernel for the calling thread's tid and caches it. */
uint32_t roar_shim_tid_fetch(const struct roar_shim* S);

/* The calling thread's tid, cached per thread and per fork generation. */
static inline uint32_t roar_shim_tid(const struct roar_shim* S)
{
    if (__builtin_expect(roar_t_tid_generation != __atomic_load_n(&S->fork_generation, __ATOMIC_RELAXED) + 1, 0)) {
        return roar_shim_tid_fetch(S);
    }
    return roar_t_tid;
}

/* Returns the fd's bookkeeping byte (0 for untracked fds). */
static inline uint8_t roar_fd_get(const struct roar_shim* S, int fd)
{
    return (fd >= 0 && fd < ROAR_FD_TRACKED) ? __atomic_load_n(&S->fd_flags[fd], __ATOMIC_RELAXED) : 0;
}

static inline void roar_fd_set(struct roar_shim* S, int fd, uint8_t value)
{
    if (fd >= 0 && fd < ROAR_FD_TRACKED) {
        __atomic_store_n(&S->fd_flags[fd], value, __ATOMIC_RELAXED);
    }
}

#ifdef __cplusplus
}
#endif

#endif
