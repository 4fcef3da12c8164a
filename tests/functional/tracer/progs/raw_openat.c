/* A dynamically linked program that opens files behind libc's back:
 * `raw_openat IN OUT` reads IN and writes OUT with syscall(SYS_openat):
 * the shim's syscall hook sees them, and under run.tracer = "complete" the
 * tracer does instead. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 3) {
        return 2;
    }
    char buf[256];
    const long in = syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY);
    const long n = in < 0 ? -1 : read((int)in, buf, sizeof buf);
    const long out = syscall(SYS_openat, AT_FDCWD, argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (n < 0 || out < 0 || write((int)out, buf, (size_t)n) != n) {
        return 1;
    }
    syscall(SYS_close, in);
    syscall(SYS_close, out);
    return 0;
}
