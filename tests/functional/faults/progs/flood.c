/* Floods a job's event ring on cue, for the fault suite's overflow tests.
 * flood FILE N [CREATED]: writes "started", waits for "resume", opens and
 * closes FILE N times relative to a directory fd (each open a ring event:
 * the shim's reopen cache never keeps back an open relative to a dirfd,
 * while a plain reopen of an unchanged file would publish nothing), then,
 * with CREATED, creates that
 * file, writes "flooded", waits for "go" and reads CREATED back; last it
 * writes "done.txt". Waits poll the working directory every 10 ms. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void touch(const char* path)
{
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        close(fd);
    }
}

static void wait_for(const char* path)
{
    const struct timespec ten_ms = {0, 10 * 1000 * 1000};
    while (access(path, F_OK) != 0) {
        nanosleep(&ten_ms, NULL);
    }
}

static int write_text(const char* path, const char* text)
{
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        perror(path);
        return 1;
    }
    return close(fd);
}

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: flood FILE N [CREATED]\n");
        return 2;
    }
    const long n = atol(argv[2]);
    touch("started");
    wait_for("resume");
    const int dir = open(".", O_RDONLY | O_DIRECTORY);
    if (dir < 0) {
        perror(".");
        return 1;
    }
    for (long i = 0; i < n; ++i) {
        const int fd = openat(dir, argv[1], O_RDONLY);
        if (fd < 0) {
            perror(argv[1]);
            return 1;
        }
        close(fd);
    }
    if (argc > 3) {
        if (write_text(argv[3], "made by the job\n") != 0) {
            return 1;
        }
        touch("flooded");
        wait_for("go");
        char buf[64];
        const int fd = open(argv[3], O_RDONLY);
        if (fd < 0 || read(fd, buf, sizeof buf) <= 0) {
            perror(argv[3]);
            return 1;
        }
        close(fd);
    }
    return write_text("done.txt", "finished\n");
}
