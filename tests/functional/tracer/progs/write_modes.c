/* Opens that create or replace a whole file (O_CREAT with O_TRUNC or
 * O_EXCL), which the tracer's filter lets run without a stop: the tracer
 * learns their fds when the process next stops for something needing
 * them. Each mode leaves such an fd where only that later stop finds it,
 * or where the order of events is at stake.
 *   write_modes loop DIR N        creates, writes and closes DIR/fI N times
 *   write_modes rename TMP FINAL  writes TMP, renames it to FINAL, then closes it
 *   write_modes unlink FILE       writes FILE, unlinks it, then closes it
 *   write_modes truncate FILE     writes FILE, cuts it with ftruncate, closes it
 *   write_modes killed FILE       writes FILE, then dies of SIGTERM without closing it
 *   write_modes dup FILE          writes FILE through a dup2 copy, closing the original first
 *   write_modes exec FILE PROG    writes FILE through an O_CLOEXEC fd, then execs PROG
 *   write_modes excl FILE         creates FILE with O_EXCL, writes and closes it
 *   write_modes reread FILE       reads FILE, closes it, then replaces it (O_CREAT|O_TRUNC)
 *   write_modes chmod FILE        makes FILE mode 0600 (its inode changes, not its bytes), then as reread
 *   write_modes replace FILE      replaces FILE, closes it, then unlinks it
 *   write_modes handoff FILE      writes FILE; a child forked before reads it while the fd is still open
 *   write_modes shared FILE       a CLONE_FILES child closes the fd its parent opened FILE with
 *                                 (for appending, unwritten) after the clone
 *   write_modes tmpfile DIR NAME  writes an O_TMPFILE in DIR and links it as DIR/NAME */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const int k_create = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;

static int write_all(int fd, const char* text)
{
    const size_t n = strlen(text);
    return fd >= 0 && write(fd, text, n) == (ssize_t)n;
}

static int read_some(const char* file)
{
    char buf[64];
    const int fd = open(file, O_RDONLY | O_CLOEXEC);
    const int ok = fd >= 0 && read(fd, buf, sizeof buf) >= 0;
    return ok && close(fd) == 0;
}

static int g_pipe[2];

/* The CLONE_FILES child: closes the fd number its parent sends (no shared
 * memory: only the fd table is shared). */
static int close_shared(void* arg)
{
    (void)arg;
    int fd = -1;
    if (read(g_pipe[0], &fd, sizeof fd) != sizeof fd) {
        return 1;
    }
    return close(fd) == 0 ? 0 : 1;
}

/* Creates, writes and closes DIR/f0 .. DIR/f<n-1>. */
static int create_loop(const char* dir, long n)
{
    char path[4096];
    for (long i = 0; i < n; ++i) {
        snprintf(path, sizeof path, "%s/f%ld", dir, i);
        const int fd = open(path, k_create, 0644);
        if (!write_all(fd, "loop\n") || close(fd) != 0) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char** argv)
{
    const char* mode = argc >= 3 ? argv[1] : "usage";
    const char* file = argc >= 3 ? argv[2] : "";
    if (strcmp(mode, "usage") == 0) {
        return 2;
    }
    if (strcmp(mode, "loop") == 0) {
        return create_loop(file, argc > 3 ? atol(argv[3]) : 1);
    }
    if (strcmp(mode, "reread") == 0 || strcmp(mode, "chmod") == 0) {
        if ((strcmp(mode, "chmod") == 0 && chmod(file, 0600) != 0) || !read_some(file)) {
            return 1;
        }
        const int fd = open(file, k_create, 0644);
        return write_all(fd, "replaced\n") && close(fd) == 0 ? 0 : 1;
    }
    if (strcmp(mode, "handoff") == 0) {
        /* The child exists before the file does, so the fork's stop
         * cannot learn the writer's fd: the child's read is published
         * (at its close) before the writer's open is learnt. */
        int go[2];
        if (pipe(go) != 0) {
            return 1;
        }
        const pid_t child = fork();
        if (child == 0) {
            char c;
            _exit(read(go[0], &c, 1) == 1 && read_some(file) ? 0 : 1);
        }
        const int fd = open(file, k_create, 0644);
        int status = 0;
        if (child < 0 || !write_all(fd, "handed off\n") || write(go[1], "x", 1) != 1
            || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            return 1;
        }
        return close(fd);
    }
    if (strcmp(mode, "shared") == 0) {
        static char stack[64 * 1024];
        if (pipe(g_pipe) != 0) {
            return 1;
        }
        const pid_t child = clone(close_shared, stack + sizeof stack, CLONE_FILES | SIGCHLD, NULL);
        const int fd = open(file, O_WRONLY | O_APPEND | O_CLOEXEC);
        int status = 0;
        if (fd < 0 || child < 0 || write(g_pipe[1], &fd, sizeof fd) != sizeof fd
            || waitpid(child, &status, 0) != child) {
            return 1;
        }
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    }
    if (strcmp(mode, "tmpfile") == 0 && argc > 3) {
        const int fd = open(file, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
        char self[64], target[4096];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        snprintf(target, sizeof target, "%s/%s", file, argv[3]);
        if (!write_all(fd, "anonymous, then named\n")
            || linkat(AT_FDCWD, self, AT_FDCWD, target, AT_SYMLINK_FOLLOW) != 0) {
            return 1;
        }
        return close(fd);
    }
    const int excl = strcmp(mode, "excl") == 0;
    const int fd = open(file, excl ? (O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC) : k_create, 0644);
    if (!write_all(fd, "written by write_modes\n")) {
        return 1;
    }
    if (excl) {
        return close(fd);
    }
    if (strcmp(mode, "rename") == 0 && argc > 3) {
        if (rename(file, argv[3]) != 0 || !write_all(fd, "after the rename\n")) {
            return 1;
        }
        return close(fd);
    }
    if (strcmp(mode, "unlink") == 0) {
        return unlink(file) == 0 && close(fd) == 0 ? 0 : 1;
    }
    if (strcmp(mode, "truncate") == 0) {
        return ftruncate(fd, 7) == 0 && close(fd) == 0 ? 0 : 1;
    }
    if (strcmp(mode, "killed") == 0) {
        signal(SIGTERM, SIG_DFL);
        raise(SIGTERM);
        return 3;
    }
    if (strcmp(mode, "dup") == 0) {
        if (dup2(fd, 9) != 9 || close(fd) != 0 || !write_all(9, "through the copy\n")) {
            return 1;
        }
        return close(9);
    }
    if (strcmp(mode, "exec") == 0 && argc > 3) {
        execv(argv[3], argv + 3);
        return 127;
    }
    if (strcmp(mode, "replace") == 0) {
        return close(fd) == 0 && unlink(file) == 0 ? 0 : 1;
    }
    return 2;
}
