/* Opens and closes FILE every few milliseconds until killed, and prints
 * to stdout (then exits 1) the first time an open fails: `enosys_watch
 * FILE`. Built -static, it runs under the tracer's filter; if the filter
 * ever outlived its tracer, the open would fail with ENOSYS (and so would
 * opening a file to report it: write(2) to stdout is never stopped on). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 2) {
        return 2;
    }
    const struct timespec pause = {0, 5000000};
    for (;;) {
        const int fd = open(argv[1], O_RDONLY);
        if (fd < 0) {
            dprintf(1, "open failed: %s\n", strerror(errno));
            return 1;
        }
        close(fd);
        nanosleep(&pause, NULL);
    }
}
