/* Resolution of real libc functions (dlsym(RTLD_NEXT) on first use) and the
 * raw-syscall helpers of the table. */
#include "roar/preload/libc_table.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Stands in for a function this libc lacks (a program can still reach our
 * hook through dlsym): fails like an unimplemented system call. Every
 * interposed function that may be missing returns an int-like value. */
static long roar_missing(void)
{
    errno = ENOSYS;
    return -1;
}

void* roar_libc_resolve(void** slot, const char* name)
{
    /* Idempotent: two threads racing here store the same value. */
    void* fn = dlsym(RTLD_NEXT, name);
    if (!fn) {
        fn = (void*)roar_missing;
    }
    __atomic_store_n(slot, fn, __ATOMIC_RELAXED);
    return fn;
}

pid_t roar_sys_getpid(void)
{
    return (pid_t)syscall(SYS_getpid);
}

pid_t roar_sys_getppid(void)
{
    return (pid_t)syscall(SYS_getppid);
}

int roar_sys_faccessat(int dirfd, const char* path, int mode, int flags)
{
    (void)flags;
    return (int)syscall(SYS_faccessat, dirfd, path, mode);
}

void roar_libc_init_helpers(struct roar_libc* libc)
{
    libc->getpid_fn = roar_sys_getpid;
    libc->getppid_fn = roar_sys_getppid;
    libc->faccessat_fn = roar_sys_faccessat;
}
