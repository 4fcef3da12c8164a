/* Hand-off to roar run's ptrace tracer (see trace_handoff.h). Raw
 * syscalls and stack buffers only: this runs in exec hooks, possibly in a
 * vfork-like child, and at start-up before anything else. */
#include "roar/preload/trace_handoff.h"

#include "roar/collector/syscall_filter.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int roar_traced_by_roar(const struct roar_ring* ring)
{
    const uint32_t tracer = __atomic_load_n(&ring->hdr->tracer_tid, __ATOMIC_ACQUIRE);
    if (tracer == 0) {
        return 0;
    }
    const long fd = syscall(SYS_openat, AT_FDCWD, "/proc/thread-self/status", O_RDONLY | O_CLOEXEC | ROAR_OPEN_OWN);
    if (fd < 0) {
        return 0;
    }
    char buf[1024]; /* TracerPid is among the first dozen lines */
    const long n = syscall(SYS_read, fd, buf, sizeof buf - 1);
    syscall(SYS_close, (unsigned long long)fd | ROAR_CLOSE_OWN);
    if (n <= 0) {
        return 0;
    }
    buf[n] = 0;
    static const char k_key[] = "\nTracerPid:";
    for (long i = 0; i + (long)sizeof k_key - 1 < n; ++i) {
        if (__builtin_memcmp(buf + i, k_key, sizeof k_key - 1) == 0) {
            const char* p = buf + i + sizeof k_key - 1;
            while (*p == ' ' || *p == '\t') {
                ++p;
            }
            uint64_t v = 0;
            while (*p >= '0' && *p <= '9' && v < 0xffffffffull) {
                v = v * 10 + (uint64_t)(*p++ - '0');
            }
            return v == tracer;
        }
    }
    return 0;
}

int roar_handoff_wanted(const struct roar_shim* S, int probe)
{
    return !S->fs_by_tracer && __atomic_load_n(&S->ring.hdr->tracer_mode, __ATOMIC_ACQUIRE) != ROAR_TRACER_OFF
           && (probe & (ROAR_EXEC_STATIC | ROAR_EXEC_GO))
           && !(probe & (ROAR_EXEC_SETID | ROAR_EXEC_FILECAPS | ROAR_EXEC_32BIT));
}

void roar_handoff_complete(struct roar_shim* S, int64_t index)
{
    if (index < 0) {
        return; /* dropped: nobody heard the request */
    }
    roar_ring_sync(&S->ring, (uint64_t)index);
    /* Installing the filter without the tracer attached would make the
     * program's file syscalls fail with ENOSYS: only once it is. */
    if (!roar_traced_by_roar(&S->ring)) {
        return;
    }
    struct sock_filter prog[ROAR_FILTER_MAX];
    /* connect (and getpeername) stop only when the job routes S3: the
     * tracer then redirects the program's S3 connections as the shim's
     * connect hook would have (the same ROAR_S3_* decide both). */
    const unsigned flags = __atomic_load_n(&S->s3.on, __ATOMIC_ACQUIRE) ? ROAR_FILTER_CONNECT : 0;
    const unsigned len = roar_filter_build(prog, ROAR_FILTER_MAX, flags);
    /* On failure the exec goes ahead unfiltered; the tracer sees no filter
     * stop for it, lets it go, and the EXEC's note stands. */
    roar_filter_install(prog, len);
}
