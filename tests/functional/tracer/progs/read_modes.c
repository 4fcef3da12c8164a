/* Read-only opens, which the tracer's filter lets run without a stop (their
 * fds are reported when the process next stops for something needing
 * them): each mode leaves such an fd where only that later stop finds it.
 *   read_modes keep FILE        reads FILE and exits without closing it
 *   read_modes killed FILE      reads FILE, then dies of SIGTERM without closing it
 *   read_modes sigkill FILE     reads FILE, then dies of SIGKILL without closing it
 *   read_modes dup FILE         reads FILE through a dup2 copy, closing the original first
 *   read_modes exec FILE PROG   reads FILE through an O_CLOEXEC fd, then execs PROG
 *   read_modes rewrite FILE     reads FILE, then truncates and rewrites it with the fd still open
 *   read_modes loop FILE N      opens and closes FILE N times
 *   read_modes list DIR         lists DIR through an O_DIRECTORY fd, then closes it */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int read_some(int fd)
{
    char buf[64];
    return fd >= 0 && read(fd, buf, sizeof buf) >= 0;
}

int main(int argc, char** argv)
{
    if (argc < 3) {
        return 2;
    }
    const char* mode = argv[1];
    const char* file = argv[2];
    if (strcmp(mode, "loop") == 0) {
        const long n = argc > 3 ? atol(argv[3]) : 1;
        for (long i = 0; i < n; ++i) {
            const int fd = open(file, O_RDONLY | O_CLOEXEC);
            if (fd < 0 || close(fd) != 0) {
                return 1;
            }
        }
        return 0;
    }
    if (strcmp(mode, "list") == 0) {
        const int dir = open(file, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char entries[4096];
        if (dir < 0 || syscall(SYS_getdents64, dir, entries, sizeof entries) < 0) {
            return 1;
        }
        return close(dir);
    }
    const int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (!read_some(fd)) {
        return 1;
    }
    if (strcmp(mode, "keep") == 0) {
        _exit(0); /* exit_group with the fd open */
    }
    if (strcmp(mode, "killed") == 0) {
        signal(SIGTERM, SIG_DFL);
        raise(SIGTERM);
        return 3;
    }
    if (strcmp(mode, "sigkill") == 0) {
        raise(SIGKILL);
        return 3;
    }
    if (strcmp(mode, "dup") == 0) {
        if (dup2(fd, 9) != 9 || close(fd) != 0 || !read_some(9)) {
            return 1;
        }
        return close(9);
    }
    if (strcmp(mode, "exec") == 0 && argc > 3) {
        execv(argv[3], argv + 3);
        return 127;
    }
    if (strcmp(mode, "rewrite") == 0) {
        const int out = open(file, O_WRONLY | O_TRUNC);
        if (out < 0 || write(out, "rewritten\n", 10) != 10 || close(out) != 0) {
            return 1;
        }
        return close(fd);
    }
    return 2;
}
