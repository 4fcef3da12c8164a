/* Reopening files read-only, for the reopen cache's test:
 *   reopen loop N FILE       N x open(FILE) + read + close
 *   reopen change FILE       open+read+close FILE; a child appends to it;
 *                            open+read+close FILE again
 *   reopen dirfd DIR NAME    open(DIR) + close; open(DIR) again and read
 *                            DIR/NAME through openat on that fd; then
 *                            fchdir to it and read NAME relative to the cwd */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char* what, const char* arg)
{
    perror(arg);
    fprintf(stderr, "reopen: %s failed\n", what);
    exit(1);
}

static void read_all(int fd, const char* name)
{
    char buf[256];
    if (fd < 0) {
        die("open", name);
    }
    while (read(fd, buf, sizeof buf) > 0) {
    }
    close(fd);
}

int main(int argc, char** argv)
{
    if (argc >= 4 && strcmp(argv[1], "loop") == 0) {
        const long n = strtol(argv[2], NULL, 10);
        for (long i = 0; i < n; ++i) {
            read_all(open(argv[3], O_RDONLY), argv[3]);
        }
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "change") == 0) {
        read_all(open(argv[2], O_RDONLY), argv[2]);
        const pid_t child = fork();
        if (child == 0) {
            const int fd = open(argv[2], O_WRONLY | O_APPEND);
            if (fd < 0 || write(fd, "more\n", 5) != 5) {
                _exit(1);
            }
            close(fd);
            _exit(0);
        }
        int status = 0;
        if (child < 0 || waitpid(child, &status, 0) != child || status != 0) {
            die("child", argv[2]);
        }
        read_all(open(argv[2], O_RDONLY), argv[2]);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "dirfd") == 0) {
        int dir = open(argv[2], O_RDONLY);
        if (dir < 0) {
            die("open", argv[2]);
        }
        close(dir);
        dir = open(argv[2], O_RDONLY);
        read_all(openat(dir, argv[3], O_RDONLY), argv[3]);
        if (fchdir(dir) != 0) {
            die("fchdir", argv[2]);
        }
        read_all(open(argv[3], O_RDONLY), argv[3]);
        close(dir);
        return 0;
    }
    fprintf(stderr, "usage: reopen loop N FILE | change FILE | dirfd DIR NAME\n");
    return 2;
}
