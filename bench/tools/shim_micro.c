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
 *   shim_micro procs-at P N DIR    the same with openat(DIR's fd, "p<i>"): an open relative
 *                                  to a directory fd, which the shim reports every time
 *   shim_micro connect N           N x a TCP connect to a loopback listener of its own
 *                                  (socket, connect, accept, close both): the cost of
 *                                  the shim's connect hook for traffic that is not S3
 *
 * Prints one JSON object: {"iterations":N,"loop_s":S,"ns_per_iter":X,"cpu_ns_per_iter":C}:
 * C is the CPU time (user+sys) the loop's process(es) used per iteration,
 * which a loaded machine disturbs much less than the wall time X. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

/* CPU seconds (user+sys) used so far by this process (who = RUSAGE_SELF)
 * or by its reaped children (RUSAGE_CHILDREN). */
static double cpu_s(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec
           + (double)ru.ru_stime.tv_usec / 1e6;
}

static double g_cpu0;

static void report(long n, double secs, double cpu)
{
    printf("{\"iterations\":%ld,\"loop_s\":%.6f,\"ns_per_iter\":%.2f,\"cpu_ns_per_iter\":%.2f}\n", n, secs,
           secs * 1e9 / (double)n, cpu * 1e9 / (double)n);
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

/* open_close_loop with the path relative to directory fd `dirfd`. */
static double openat_close_loop(long n, int dirfd, const char* name)
{
    const double t0 = now_s();
    for (long i = 0; i < n; ++i) {
        const int fd = openat(dirfd, name, O_RDONLY);
        if (fd < 0) {
            die("cannot open", name);
        }
        close(fd);
    }
    return now_s() - t0;
}

static double connect_loop(long n)
{
    const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr*)&a, sizeof a) != 0 || listen(lfd, 16) != 0
        || getsockname(lfd, (struct sockaddr*)&a, &len) != 0) {
        die("cannot listen on", "127.0.0.1");
    }
    const double t0 = now_s();
    for (long i = 0; i < n; ++i) {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr*)&a, sizeof a) != 0) {
            die("cannot connect to", "127.0.0.1");
        }
        const int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            die("cannot accept on", "127.0.0.1");
        }
        close(c);
        close(fd);
    }
    const double secs = now_s() - t0;
    close(lfd);
    return secs;
}

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: shim_micro open1|distinct|mkfiles|readone|procs|procs-at|connect ...\n");
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
    if (strcmp(mode, "connect") == 0) {
        const long n = atol(argv[2]);
        g_cpu0 = cpu_s(RUSAGE_SELF);
        const double secs = connect_loop(n);
        report(n, secs, cpu_s(RUSAGE_SELF) - g_cpu0);
        return 0;
    }
    if (argc < 4) {
        fprintf(stderr, "shim_micro %s: missing arguments\n", mode);
        return 2;
    }
    if (strcmp(mode, "open1") == 0) {
        const long n = atol(argv[2]);
        g_cpu0 = cpu_s(RUSAGE_SELF);
        const double secs = open_close_loop(n, argv[3]);
        report(n, secs, cpu_s(RUSAGE_SELF) - g_cpu0);
        return 0;
    }
    if (strcmp(mode, "mkfiles") == 0 || strcmp(mode, "distinct") == 0) {
        const long n = atol(argv[2]);
        const char* dir = argv[3];
        const int make = strcmp(mode, "mkfiles") == 0;
        char path[4096];
        char buf[64];
        g_cpu0 = cpu_s(RUSAGE_SELF);
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
        report(n, now_s() - t0, cpu_s(RUSAGE_SELF) - g_cpu0);
        return 0;
    }
    const int at = strcmp(mode, "procs-at") == 0;
    if ((at || strcmp(mode, "procs") == 0) && argc >= 5) {
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
                if (at) {
                    const int dir = open(argv[4], O_RDONLY | O_DIRECTORY);
                    if (dir < 0) {
                        die("cannot open", argv[4]);
                    }
                    snprintf(path, sizeof path, "p%d", p);
                    openat_close_loop(n, dir, path);
                } else {
                    snprintf(path, sizeof path, "%s/p%d", argv[4], p);
                    open_close_loop(n, path);
                }
                _exit(0);
            }
        }
        int status, failed = 0;
        while (wait(&status) > 0) {
            failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        }
        report(n * procs, now_s() - t0, cpu_s(RUSAGE_CHILDREN));
        return failed;
    }
    fprintf(stderr, "shim_micro: unknown mode %s\n", mode);
    return 2;
}
