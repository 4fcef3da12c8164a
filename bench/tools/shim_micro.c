/* The shim microbenchmark's workload (bench row 1) and the collector
 * ingest workload (row 6): tight loops of libc file calls whose own loop
 * is timed with CLOCK_MONOTONIC, so the per-call cost of a tracer can be
 * separated from its fixed start-up and post-processing cost.
 *
 *   shim_micro open1 N FILE        N x open(FILE, O_RDONLY) + close
 *   shim_micro distinct N DIR      open+read(64)+close of DIR/DDD/FFFFFF, N distinct files
 *   shim_micro mkfiles N DIR       creates the files `distinct` reads
 *   shim_micro readone FILE        reads one byte of FILE (an input for the hash-cache row)
 *   shim_micro procs P N DIR       P child processes, each N x open+close of DIR/p<i>
 *
 * Prints one JSON object: {"iterations":N,"loop_s":S,"ns_per_iter":X}. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char* what, const char* path)
{
    fprintf(stderr, "shim_micro: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void report(long n, double secs)
{
    printf("{\"iterations\":%ld,\"loop_s\":%.6f,\"ns_per_iter\":%.2f}\n", n, secs, secs * 1e9 / (double)n);
}

static void distinct_path(char* buf, size_t size, const char* dir, long i)
{
    snprintf(buf, size, "%s/%03ld/%06ld", dir, i / 1000, i);
}

static double open_close_loop(long n, const char* path)
{
    const double t0 = now_s();
    for (long i = 0; i < n; ++i) {
        const int fd = open(path, O_RDONLY);
        if (fd < 0) {
            die("cannot open", path);
        }
        close(fd);
    }
    return now_s() - t0;
}

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: shim_micro open1|distinct|mkfiles|readone|procs ...\n");
        return 2;
    }
    const char* mode = argv[1];
    if (strcmp(mode, "readone") == 0) {
        char c;
        const int fd = open(argv[2], O_RDONLY);
        if (fd < 0 || read(fd, &c, 1) < 0) {
            die("cannot read", argv[2]);
        }
        close(fd);
        return 0;
    }
    if (argc < 4) {
        fprintf(stderr, "shim_micro %s: missing arguments\n", mode);
        return 2;
    }
    if (strcmp(mode, "open1") == 0) {
        const long n = atol(argv[2]);
        report(n, open_close_loop(n, argv[3]));
        return 0;
    }
    if (strcmp(mode, "mkfiles") == 0 || strcmp(mode, "distinct") == 0) {
        const long n = atol(argv[2]);
        const char* dir = argv[3];
        const int make = strcmp(mode, "mkfiles") == 0;
        char path[4096];
        char buf[64];
        const double t0 = now_s();
        for (long i = 0; i < n; ++i) {
            if (make && i % 1000 == 0) {
                snprintf(path, sizeof path, "%s/%03ld", dir, i / 1000);
                if (mkdir(path, 0755) != 0 && errno != EEXIST) {
                    die("cannot create", path);
                }
            }
            distinct_path(path, sizeof path, dir, i);
            if (make) {
                const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                const int len = snprintf(buf, sizeof buf, "file %ld\n", i);
                if (fd < 0 || write(fd, buf, (size_t)len) != len) {
                    die("cannot write", path);
                }
                /* An hour old: roar's hash cache trusts only files whose
                 * mtime is more than two seconds in the past. */
                struct timespec times[2];
                clock_gettime(CLOCK_REALTIME, &times[0]);
                times[0].tv_sec -= 3600;
                times[1] = times[0];
                futimens(fd, times);
                close(fd);
            } else {
                const int fd = open(path, O_RDONLY);
                if (fd < 0 || read(fd, buf, sizeof buf) < 0) {
                    die("cannot read", path);
                }
                close(fd);
            }
        }
        report(n, now_s() - t0);
        return 0;
    }
    if (strcmp(mode, "procs") == 0 && argc >= 5) {
        const int procs = atoi(argv[2]);
        const long n = atol(argv[3]);
        const double t0 = now_s();
        for (int p = 0; p < procs; ++p) {
            const pid_t pid = fork();
            if (pid < 0) {
                die("cannot fork", "");
            }
            if (pid == 0) {
                char path[4096];
                snprintf(path, sizeof path, "%s/p%d", argv[4], p);
                open_close_loop(n, path);
                _exit(0);
            }
        }
        int status, failed = 0;
        while (wait(&status) > 0) {
            failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
        report(n * procs, now_s() - t0);
        return failed;
    }
    fprintf(stderr, "shim_micro: unknown mode %s\n", mode);
    return 2;
}
