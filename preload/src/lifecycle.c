/* Start-up and shut-down of the shim in each process image: the
 * constructor (with glibc's argc/argv), lazy start from the first hook,
 * the fork-child handler, and the destructor that reports an exit that
 * did not go through exit()/_exit() (a return from main). */
#include "lifecycle.h"

#include "roar/collector/exec_probe.h"
#include "roar/preload/trace_handoff.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char** environ;

struct roar_libc g_roar_libc = {
    .getpid_fn = roar_sys_getpid,
    .getppid_fn = roar_sys_getppid,
    .faccessat_fn = roar_sys_faccessat,
};
struct roar_shim g_roar_shim;

static void atfork_child(void)
{
    /* Covers forks made inside libc (daemon(), ...) as well as ours. */
    roar_fork_child(&g_roar_libc, &g_roar_shim, (uint32_t)roar_sys_getpid());
}

void roar_lifecycle_start(char* const* argv)
{
    struct roar_shim* S = &g_roar_shim;
    int expected = ROAR_SHIM_UNINIT;
    if (!__atomic_compare_exchange_n(&S->status, &expected, ROAR_SHIM_INITIALIZING, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        return; /* started, starting on another thread, or off */
    }
    const int saved = errno;
    int status = ROAR_SHIM_OFF;
    const char* name = getenv(ROAR_ENV_RING);
    uint64_t size = 0;
    void* base = name && *name ? roar_shim_map_ring(name, &size) : NULL;
    const int viewed = base && roar_ring_view(&S->ring, base, size) == 0;
    const int traced = viewed && roar_traced_by_roar(&S->ring);
    /* A Go program (cgo loads the shim) traced by roar: the tracer reports
     * all of it, the shim would only see the libc part. */
    const int go_traced = traced && (roar_exec_probe_at(AT_FDCWD, "/proc/self/exe") & ROAR_EXEC_GO);
    if (viewed && !go_traced) {
        S->fs_by_tracer = traced;
        Dl_info info;
        const char* self = dladdr((void*)roar_lifecycle_start, &info) ? info.dli_fname : NULL;
        roar_shim_save_env(S, environ, self);
        S->pid = (uint32_t)roar_sys_getpid();
        const int s3 = roar_s3_setup(S, getenv(ROAR_ENV_S3_PROXY), getenv(ROAR_ENV_S3_SECRET),
                                     getenv(ROAR_ENV_S3_HOSTS), getenv(ROAR_ENV_S3_TLS));
        pthread_atfork(NULL, NULL, atfork_child);
        roar_report_start(&g_roar_libc, S, argv);
        roar_s3_report_setup(S, s3);
        status = ROAR_SHIM_READY;
    } else if (base) {
        syscall(SYS_munmap, base, size);
    }
    __atomic_store_n(&S->status, status, __ATOMIC_RELEASE);
    errno = saved;
}

__attribute__((constructor)) static void roar_preload_constructor(int argc, char** argv, char** envp)
{
    (void)envp;
    roar_lifecycle_start(argc > 0 ? argv : NULL);
}

__attribute__((destructor)) static void roar_preload_destructor(void)
{
    struct roar_shim* S = &g_roar_shim;
    if (__atomic_load_n(&S->status, __ATOMIC_ACQUIRE) != ROAR_SHIM_READY) {
        return;
    }
    const int saved = errno;
    roar_report_exit(S, S->exit_status, !S->exit_called);
    errno = saved;
}
