/* Resolution of real libc functions (dlsym(RTLD_NEXT) on first use) and the
 * raw-syscall helpers of the table. */
#include "roar/preload/libc_table.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

roar_syscall_fn roar_libc_syscall_slot;

roar_syscall_fn roar_libc_syscall_resolve(void)
{
    return (roar_syscall_fn)roar_libc_resolve((void**)&roar_libc_syscall_slot, "syscall");
}

long roar_own_syscall(long number, ...)
{
    /* Six arguments whatever the number, as glibc's wrapper reads them. */
    va_list ap;
    va_start(ap, number);
    const long a1 = va_arg(ap, long);
    const long a2 = va_arg(ap, long);
    const long a3 = va_arg(ap, long);
    const long a4 = va_arg(ap, long);
    const long a5 = va_arg(ap, long);
    const long a6 = va_arg(ap, long);
    va_end(ap);
    return roar_libc_syscall()(number, a1, a2, a3, a4, a5, a6);
}

pid_t roar_sys_getpid(void) { return (pid_t)syscall(SYS_getpid); }

pid_t roar_sys_getppid(void) { return (pid_t)syscall(SYS_getppid); }

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

void roar_libc_preresolve_for_fork(struct roar_libc* L)
{
    static int done;
    if (__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
        return;
    }
    (void)ROAR_REAL(L, execve);
    (void)ROAR_REAL(L, execvpe);
    (void)ROAR_REAL(L, fexecve);
    (void)ROAR_REAL(L, execveat);
    (void)ROAR_REAL(L, close);
    (void)ROAR_REAL(L, close_range);
    (void)ROAR_REAL(L, closefrom);
    (void)ROAR_REAL(L, dup);
    (void)ROAR_REAL(L, dup2);
    (void)ROAR_REAL(L, dup3);
    (void)ROAR_REAL(L, fcntl);
    (void)ROAR_REAL(L, fcntl64);
    (void)ROAR_REAL(L, open);
    (void)ROAR_REAL(L, open64);
    (void)ROAR_REAL(L, openat);
    (void)ROAR_REAL(L, openat64);
    (void)ROAR_REAL(L, chdir);
    (void)ROAR_REAL(L, fchdir);
    (void)ROAR_REAL(L, write);
    (void)ROAR_REAL(L, _exit);
    (void)ROAR_REAL(L, exit);
    (void)ROAR_REAL(L, fork);
    (void)roar_libc_syscall();
    __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
}
