/* File and process calls made through syscall(2) instead of libc's
 * wrappers: `raw_syscalls IN TMP FINAL CHILD` reads IN with SYS_openat,
 * writes it to TMP opened with SYS_openat2 (glibc 2.36 has no wrapper),
 * renames TMP to FINAL with SYS_rename, then forks with SYS_fork a child
 * that creates CHILD with SYS_creat and leaves with SYS_exit_group. It
 * prints what syscall() returned where the shim must not change it: a
 * failed open and close (result and errno), getpid and a futex wake
 * passed straight through. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 5) {
        return 2;
    }
    char buf[256];
    const long in = syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY);
    const long n = in < 0 ? -1 : syscall(SYS_read, in, buf, sizeof buf);
    syscall(SYS_close, in);
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_WRONLY | O_CREAT | O_TRUNC;
    how.mode = 0644;
    const long out = syscall(SYS_openat2, AT_FDCWD, argv[2], &how, sizeof how);
    if (n < 0 || out < 0 || syscall(SYS_write, out, buf, n) != n || syscall(SYS_close, out) != 0
        || syscall(SYS_rename, argv[2], argv[3]) != 0) {
        return 1;
    }
    errno = 0;
    long r = syscall(SYS_openat, AT_FDCWD, "missing.txt", O_RDONLY);
    printf("missing %ld %d\n", r, errno);
    errno = 0;
    r = syscall(SYS_close, 12345);
    printf("close %ld %d\n", r, errno);
    printf("getpid %d\n", syscall(SYS_getpid) == getpid());
    int word = 0;
    printf("futex %ld\n", syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    fflush(stdout);
    const long pid = syscall(SYS_fork);
    if (pid == 0) {
        const long fd = syscall(SYS_creat, argv[4], 0644);
        const int ok = fd >= 0 && syscall(SYS_write, fd, "child\n", 6) == 6;
        syscall(SYS_exit_group, ok ? 0 : 1);
    }
    int status = 0;
    if (pid < 0 || waitpid((pid_t)pid, &status, 0) != pid || status != 0) {
        return 1;
    }
    return 0;
}
