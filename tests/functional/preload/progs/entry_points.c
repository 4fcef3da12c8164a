/* One libc entry point per invocation, for the preload functional tests:
 *   entry_points NAME ARGS...
 * Each subcommand makes exactly the named call (plus what it needs to set
 * up) and exits 0 when it behaved as libc documents, so a test can assert
 * both on the events and on unchanged behaviour. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
int __open_2(const char* path, int flags);
int __openat_2(int dirfd, const char* path, int flags);

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "entry_points: %s: check failed: %s (errno %d)\n", name, #cond, errno);                    \
            return 1;                                                                                                  \
        }                                                                                                              \
    } while (0)

static int child_fn(void* arg)
{
    int fd = open((const char*)arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    return fd >= 0 && write(fd, "c\n", 2) == 2 ? 0 : 1;
}

static int run(const char* name, char** a)
{
    int fd = -1;
    FILE* f;
    if (!strcmp(name, "open")) {
        fd = open(a[0], O_RDONLY);
    } else if (!strcmp(name, "open64")) {
        fd = open64(a[0], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    } else if (!strcmp(name, "openat")) {
        int dir = open(a[0], O_RDONLY | O_DIRECTORY);
        fd = openat(dir, a[1], O_RDONLY);
    } else if (!strcmp(name, "openat64")) {
        fd = openat64(AT_FDCWD, a[0], O_RDWR);
    } else if (!strcmp(name, "__open_2")) {
        fd = __open_2(a[0], O_RDONLY);
    } else if (!strcmp(name, "__openat_2")) {
        fd = __openat_2(AT_FDCWD, a[0], O_RDONLY);
    } else if (!strcmp(name, "creat")) {
        fd = creat(a[0], 0640);
    } else if (!strcmp(name, "creat64")) {
        fd = creat64(a[0], 0640);
    } else if (!strcmp(name, "fopen")) {
        CHECK((f = fopen(a[0], a[1])) != NULL);
        if (strchr(a[1], 'w') || strchr(a[1], 'a')) {
            CHECK(fputs("fopen\n", f) >= 0);
        }
        return fclose(f) != 0;
    } else if (!strcmp(name, "fopen64")) {
        CHECK((f = fopen64(a[0], "r")) != NULL);
        return fclose(f) != 0;
    } else if (!strcmp(name, "freopen")) {
        CHECK((f = fopen(a[0], "r")) != NULL);
        CHECK((f = freopen(a[1], "w", f)) != NULL);
        CHECK(fputs("freopen\n", f) >= 0);
        return fclose(f) != 0;
    } else if (!strcmp(name, "freopen64")) {
        CHECK((f = freopen64(a[0], "a", stdout)) != NULL);
        printf("freopen64\n");
        return 0;
    } else if (!strcmp(name, "fdopen")) {
        CHECK((fd = open(a[0], O_WRONLY | O_APPEND)) >= 0);
        CHECK((f = fdopen(fd, "a")) != NULL);
        fputs("fdopen\n", f);
        return fclose(f) != 0;
    } else if (!strcmp(name, "mkstemp") || !strcmp(name, "mkostemp") || !strcmp(name, "mkstemps")
               || !strcmp(name, "mkostemps")) {
        char templ[256];
        snprintf(templ, sizeof templ, "%s", a[0]);
        fd = !strcmp(name, "mkstemp")    ? mkstemp(templ)
             : !strcmp(name, "mkostemp") ? mkostemp(templ, O_CLOEXEC)
             : !strcmp(name, "mkstemps") ? mkstemps(templ, 4)
                                         : mkostemps(templ, 4, O_CLOEXEC);
        CHECK(fd >= 0);
        printf("%s\n", templ);
    } else if (!strcmp(name, "tmpfile")) {
        CHECK((f = tmpfile()) != NULL);
        return fclose(f) != 0;
    } else if (!strcmp(name, "opendir")) {
        DIR* d;
        CHECK((d = opendir(a[0])) != NULL);
        return closedir(d) != 0;
    } else if (!strcmp(name, "fdopendir")) {
        DIR* d;
        CHECK((fd = open(a[0], O_RDONLY | O_DIRECTORY)) >= 0);
        CHECK((d = fdopendir(fd)) != NULL);
        return closedir(d) != 0;
    } else if (!strcmp(name, "dup")) {
        CHECK((fd = open(a[0], O_RDONLY)) >= 0);
        int d1 = dup(fd), d2 = dup2(fd, 20), d3 = dup3(fd, 21, O_CLOEXEC);
        int d4 = fcntl(fd, F_DUPFD, 30), d5 = fcntl(fd, F_DUPFD_CLOEXEC, 40);
        CHECK(d1 >= 0 && d2 == 20 && d3 == 21 && d4 >= 30 && d5 >= 40);
        CHECK(close(d1) == 0);
        CHECK(close_range(20, 21, 0) == 0);
        closefrom(30);
        CHECK(fcntl(d4, F_GETFD) == -1 && errno == EBADF);
    } else if (!strcmp(name, "errno")) {
        /* Successful hooked calls leave errno alone. */
        errno = EDOM;
        CHECK((fd = open(a[0], O_RDONLY)) >= 0 && errno == EDOM);
        CHECK(close(fd) == 0 && errno == EDOM);
        CHECK((fd = open(a[1], O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0 && errno == EDOM);
        CHECK(write(fd, "x", 1) == 1 && errno == EDOM);
        CHECK(close(fd) == 0 && errno == EDOM);
        CHECK(open("/nonexistent/x", O_RDONLY) == -1 && errno == ENOENT);
        return 0;
    } else if (!strcmp(name, "rename")) {
        return rename(a[0], a[1]) != 0;
    } else if (!strcmp(name, "renameat")) {
        return renameat(AT_FDCWD, a[0], AT_FDCWD, a[1]) != 0;
    } else if (!strcmp(name, "renameat2")) {
        return renameat2(AT_FDCWD, a[0], AT_FDCWD, a[1], RENAME_NOREPLACE) != 0;
    } else if (!strcmp(name, "link")) {
        return link(a[0], a[1]) != 0;
    } else if (!strcmp(name, "linkat")) {
        return linkat(AT_FDCWD, a[0], AT_FDCWD, a[1], 0) != 0;
    } else if (!strcmp(name, "symlink")) {
        return symlink(a[0], a[1]) != 0;
    } else if (!strcmp(name, "symlinkat")) {
        return symlinkat(a[0], AT_FDCWD, a[1]) != 0;
    } else if (!strcmp(name, "unlink")) {
        return unlink(a[0]) != 0;
    } else if (!strcmp(name, "unlinkat")) {
        return unlinkat(AT_FDCWD, a[0], 0) != 0;
    } else if (!strcmp(name, "remove")) {
        return remove(a[0]) != 0;
    } else if (!strcmp(name, "mkdir")) {
        return mkdir(a[0], 0750) != 0;
    } else if (!strcmp(name, "mkdirat")) {
        return mkdirat(AT_FDCWD, a[0], 0750) != 0;
    } else if (!strcmp(name, "rmdir")) {
        return rmdir(a[0]) != 0;
    } else if (!strcmp(name, "truncate")) {
        return truncate(a[0], 1) != 0;
    } else if (!strcmp(name, "ftruncate")) {
        CHECK((fd = open(a[0], O_RDWR)) >= 0);
        return ftruncate(fd, 2) != 0;
    } else if (!strcmp(name, "chdir")) {
        CHECK(chdir(a[0]) == 0);
        CHECK((fd = open(a[1], O_RDONLY)) >= 0);
        CHECK((fd = open(".", O_RDONLY | O_DIRECTORY)) >= 0);
        CHECK(chdir("/") == 0);
        return fchdir(fd) != 0;
    } else if (!strcmp(name, "write") || !strcmp(name, "pwrite") || !strcmp(name, "writev") || !strcmp(name, "pwritev")
               || !strcmp(name, "pwritev2")) {
        struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
        CHECK((fd = open(a[0], O_RDWR)) >= 0);
        for (int i = 0; i < 3; ++i) {
            ssize_t n = !strcmp(name, "write")     ? write(fd, "abcd", 4)
                        : !strcmp(name, "pwrite")  ? pwrite(fd, "abcd", 4, 0)
                        : !strcmp(name, "writev")  ? writev(fd, iov, 2)
                        : !strcmp(name, "pwritev") ? pwritev(fd, iov, 2, 0)
                                                   : pwritev2(fd, iov, 2, 0, 0);
            CHECK(n == 4);
        }
    } else if (!strcmp(name, "mmap")) {
        CHECK((fd = open(a[0], O_RDWR)) >= 0);
        char* p = mmap(NULL, 4, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK(p != MAP_FAILED);
        memcpy(p, "MMAP", 4);
        CHECK(msync(p, 4, MS_SYNC) == 0);
    } else if (!strcmp(name, "mmap_private")) {
        CHECK((fd = open(a[0], O_RDWR)) >= 0);
        char* p = mmap(NULL, 4, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK(p != MAP_FAILED);
        p[0] = 'X';
    } else if (!strcmp(name, "copy_file_range") || !strcmp(name, "sendfile") || !strcmp(name, "splice")) {
        int in = open(a[0], O_RDONLY), out = open(a[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        CHECK(in >= 0 && out >= 0);
        struct stat st;
        fstat(in, &st);
        ssize_t n;
        if (!strcmp(name, "copy_file_range")) {
            n = copy_file_range(in, NULL, out, NULL, (size_t)st.st_size, 0);
        } else if (!strcmp(name, "sendfile")) {
            n = sendfile(out, in, NULL, (size_t)st.st_size);
        } else {
            int p[2];
            CHECK(pipe(p) == 0);
            CHECK(splice(in, NULL, p[1], NULL, (size_t)st.st_size, 0) == st.st_size);
            n = splice(p[0], NULL, out, NULL, (size_t)st.st_size, 0);
        }
        CHECK(n == st.st_size);
        return 0;
    } else if (!strcmp(name, "execve") || !strcmp(name, "execv") || !strcmp(name, "execvp") || !strcmp(name, "execvpe")
               || !strcmp(name, "execl") || !strcmp(name, "execlp") || !strcmp(name, "execle")
               || !strcmp(name, "fexecve") || !strcmp(name, "execveat")) {
        /* a[0] = program, a[1] = its single argument; env: ours, or empty */
        char* argv[] = {a[0], a[1], NULL};
        char* empty[] = {NULL};
        char** env = getenv("EP_EMPTY_ENV") ? empty : environ;
        if (!strcmp(name, "execve")) {
            execve(a[0], argv, env);
        } else if (!strcmp(name, "execv")) {
            execv(a[0], argv);
        } else if (!strcmp(name, "execvp")) {
            execvp(a[0], argv);
        } else if (!strcmp(name, "execvpe")) {
            execvpe(a[0], argv, env);
        } else if (!strcmp(name, "execl")) {
            execl(a[0], a[0], a[1], (char*)NULL);
        } else if (!strcmp(name, "execlp")) {
            execlp(a[0], a[0], a[1], (char*)NULL);
        } else if (!strcmp(name, "execle")) {
            execle(a[0], a[0], a[1], (char*)NULL, env);
        } else if (!strcmp(name, "fexecve")) {
            int efd = open(a[0], O_RDONLY | O_CLOEXEC);
            fexecve(efd, argv, env);
        } else {
            execveat(AT_FDCWD, a[0], argv, env, 0);
        }
        return 127;
    } else if (!strcmp(name, "posix_spawn") || !strcmp(name, "posix_spawnp")) {
        char* argv[] = {a[0], a[1], NULL};
        char* empty[] = {NULL};
        pid_t pid;
        int st;
        char** env = getenv("EP_EMPTY_ENV") ? empty : environ;
        int r = !strcmp(name, "posix_spawn") ? posix_spawn(&pid, a[0], NULL, NULL, argv, env)
                                             : posix_spawnp(&pid, a[0], NULL, NULL, argv, env);
        CHECK(r == 0);
        CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        return 0;
    } else if (!strcmp(name, "system")) {
        if (getenv("EP_EMPTY_ENV")) {
            clearenv();
        }
        return system(a[0]) != 0;
    } else if (!strcmp(name, "popen")) {
        char buf[64] = {0};
        CHECK((f = popen(a[0], "r")) != NULL);
        CHECK(fgets(buf, sizeof buf, f) != NULL);
        CHECK(pclose(f) == 0);
        return strcmp(buf, a[1]) != 0;
    } else if (!strcmp(name, "fork") || !strcmp(name, "vfork") || !strcmp(name, "_Fork")) {
        pid_t pid = !strcmp(name, "fork") ? fork() : !strcmp(name, "_Fork") ? _Fork() : vfork();
        if (pid == 0) {
            _exit(child_fn(a[0]));
        }
        int st;
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        return 0;
    } else if (!strcmp(name, "clone")) {
        static char stack[256 * 1024];
        pid_t pid = clone(child_fn, stack + sizeof stack, SIGCHLD, a[0]);
        int st;
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        return 0;
    } else if (!strcmp(name, "exit")) {
        exit(atoi(a[0]));
    } else if (!strcmp(name, "_exit")) {
        _exit(atoi(a[0]));
    } else if (!strcmp(name, "_Exit")) {
        _Exit(atoi(a[0]));
    } else if (!strcmp(name, "return")) {
        return atoi(a[0]);
    } else if (!strcmp(name, "wait")) {
        /* children: exit 5, killed by SIGKILL; reaped with wait, wait4, waitid */
        pid_t p1 = fork();
        if (p1 == 0) {
            _exit(5);
        }
        int st;
        CHECK(wait(&st) == p1 && WEXITSTATUS(st) == 5);
        pid_t p2 = fork();
        if (p2 == 0) {
            pause();
            _exit(0);
        }
        kill(p2, SIGKILL);
        CHECK(wait4(p2, &st, 0, NULL) == p2 && WTERMSIG(st) == SIGKILL);
        pid_t p3 = fork();
        if (p3 == 0) {
            _exit(6);
        }
        siginfo_t si;
        CHECK(waitid(P_PID, (id_t)p3, &si, WEXITED) == 0 && si.si_status == 6);
        printf("%d %d %d\n", p1, p2, p3);
        return 0;
    } else if (!strcmp(name, "io_uring")) {
        unsigned char params[120] = {0};
        long r = syscall(425 /* io_uring_setup */, 4, params);
        if (r < 0) {
            return 77;
        }
        return 0;
    } else {
        fprintf(stderr, "entry_points: unknown entry point %s\n", name);
        return 2;
    }
    CHECK(fd >= 0);
    return 0;
}

int main(int argc, char** argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: entry_points NAME ARGS...\n");
        return 2;
    }
    return run(argv[1], argv + 2);
}
