/* Leaves an orphan behind: `orphan DIR` forks a child that outlives it
 * (it waits 300 ms, then writes DIR/orphan.txt and exits 7) and returns at
 * once. roar run, a child subreaper, must still wait for the orphan, and
 * its tracer and its reaping must not take each other's wait events. */
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 2 || chdir(argv[1]) != 0) {
        return 2;
    }
    if (fork() == 0) {
        const struct timespec pause = {0, 300000000};
        nanosleep(&pause, NULL);
        const int fd = open("orphan.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, "orphaned\n", 9) != 9) {
            _exit(1);
        }
        close(fd);
        _exit(7);
    }
    return 0;
}
