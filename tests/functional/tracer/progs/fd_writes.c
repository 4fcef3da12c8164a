/* Writes the tracer does not stop on (write(2) runs at full speed): each
 * mode uses a write-capable fd it must notice, or not, by the file's change.
 *   fd_writes append FILE     appends a line through O_WRONLY|O_APPEND
 *   fd_writes rdwr-read FILE  opens O_RDWR and only reads
 *   fd_writes say TEXT        writes TEXT to stdout (a redirection of the caller)
 *   fd_writes raw-say TEXT    the same with an inline `syscall` instruction (x86-64; elsewhere
 *                             libc's syscall()), which no libc hook, not even the shim's
 *                             syscall() hook, sees
 *   fd_writes silent          writes nothing
 *   fd_writes append-die FILE appends, then is killed by SIGKILL before closing
 *   fd_writes overwrite FILE  rewrites the first 4 bytes in place through O_WRONLY
 *                             (same size, likely within one mtime tick) */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long raw_write(int fd, const char* buf, size_t n)
{
#if defined(__x86_64__)
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"((long)SYS_write), "D"((long)fd), "S"(buf), "d"(n)
                     : "rcx", "r11", "memory");
    return ret;
#else
    return syscall(SYS_write, fd, buf, n);
#endif
}

int main(int argc, char** argv)
{
    if (argc < 2) {
        return 2;
    }
    const char* mode = argv[1];
    if (strcmp(mode, "silent") == 0) {
        return 0;
    }
    if (argc < 3) {
        return 2;
    }
    if (strcmp(mode, "say") == 0) {
        return write(1, argv[2], strlen(argv[2])) == (ssize_t)strlen(argv[2]) ? 0 : 1;
    }
    if (strcmp(mode, "raw-say") == 0) {
        return raw_write(1, argv[2], strlen(argv[2])) == (long)strlen(argv[2]) ? 0 : 1;
    }
    if (strcmp(mode, "rdwr-read") == 0) {
        char buf[64];
        const int fd = open(argv[2], O_RDWR);
        return fd >= 0 && read(fd, buf, sizeof buf) >= 0 && close(fd) == 0 ? 0 : 1;
    }
    if (strcmp(mode, "overwrite") == 0) {
        const int fd = open(argv[2], O_WRONLY);
        return fd >= 0 && write(fd, "XXXX", 4) == 4 && close(fd) == 0 ? 0 : 1;
    }
    const int fd = open(argv[2], O_WRONLY | O_APPEND);
    if (fd < 0 || write(fd, "appended\n", 9) != 9) {
        return 1;
    }
    if (strcmp(mode, "append-die") == 0) {
        kill(getpid(), SIGKILL);
    }
    return close(fd);
}
