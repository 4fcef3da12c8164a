/* A file the job writes and something else removes, for the unseen
 * removal test:
 *   write_wait OUT READY   writes OUT, creates READY, then waits until
 *                          OUT is gone (removed by a process outside the
 *                          job; exit 1 if that never happens)
 *   write_wait OUT -       writes OUT and unlinks it itself */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_file(const char* path, const char* text)
{
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const size_t n = strlen(text);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: write_wait OUT READY|-\n");
        return 2;
    }
    if (write_file(argv[1], "result\n") != 0) {
        return 1;
    }
    if (!strcmp(argv[2], "-")) {
        return unlink(argv[1]) != 0;
    }
    if (write_file(argv[2], "ready\n") != 0) {
        return 1;
    }
    /* A bound on the wait, so a test that never removes OUT ends. */
    for (int i = 0; i < 6000; ++i) {
        if (access(argv[1], F_OK) != 0) {
            return 0;
        }
        usleep(10000);
    }
    fprintf(stderr, "write_wait: %s was never removed\n", argv[1]);
    return 1;
}
