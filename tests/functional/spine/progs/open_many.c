/* Several processes opening many files flat out, for the ring's
 * back-pressure test:
 *   open_many mk DIR P N            creates DIR/<p>/f<n> for P processes x N files
 *   open_many run DIR P N ROUNDS    P child processes, each opening and closing its
 *                                   N files ROUNDS times; child 0 creates DIR/started
 *                                   after its first round
 * Exits 0 when every open succeeded. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void path_of(char* buf, size_t size, const char* dir, int p, int n)
{
    snprintf(buf, size, "%s/%d/f%d", dir, p, n);
}

int main(int argc, char** argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: open_many mk DIR P N | run DIR P N ROUNDS\n");
        return 2;
    }
    const char* dir = argv[2];
    const int procs = atoi(argv[3]);
    const int files = atoi(argv[4]);
    char path[4096];
    if (argv[1][0] == 'm') {
        mkdir(dir, 0755);
        for (int p = 0; p < procs; ++p) {
            snprintf(path, sizeof path, "%s/%d", dir, p);
            mkdir(path, 0755);
            for (int n = 0; n < files; ++n) {
                path_of(path, sizeof path, dir, p, n);
                FILE* f = fopen(path, "w");
                if (!f || fprintf(f, "%d/%d\n", p, n) < 0 || fclose(f) != 0) {
                    perror(path);
                    return 1;
                }
            }
        }
        return 0;
    }
    const int rounds = argc > 5 ? atoi(argv[5]) : 1;
    for (int p = 0; p < procs; ++p) {
        const pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid > 0) {
            continue;
        }
        for (int r = 0; r < rounds; ++r) {
            for (int n = 0; n < files; ++n) {
                path_of(path, sizeof path, dir, p, n);
                const int fd = open(path, O_RDONLY);
                if (fd < 0) {
                    perror(path);
                    _exit(1);
                }
                close(fd);
            }
            if (p == 0 && r == 0) {
                snprintf(path, sizeof path, "%s/started", dir);
                close(open(path, O_WRONLY | O_CREAT, 0644));
            }
        }
        _exit(0);
    }
    int failed = 0;
    for (int p = 0; p < procs; ++p) {
        int status = 0;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed = 1;
        }
    }
    return failed;
}
