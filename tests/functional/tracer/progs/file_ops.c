/* The file operations the tracer must see, without libc's help when built
 * with -static: `file_ops DIR` reads in.txt, writes out.txt, writes tmp.txt
 * and renames it to renamed.txt, truncates trunc.txt, deletes gone.txt,
 * rewrites rmw.txt after reading it, copies in.txt to copy.txt with
 * copy_file_range, and runs itself as `file_ops DIR child`, which writes
 * child.txt. Exits non-zero on the first failure. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int put(const char* path, const char* text, int flags)
{
    const int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        return -1;
    }
    return close(fd);
}

static int slurp(const char* path, char* buf, size_t cap)
{
    const int fd = open(path, O_RDONLY);
    if (fd < 0) {
        return -1;
    }
    const ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0) {
        return -1;
    }
    buf[n] = 0;
    return 0;
}

int main(int argc, char** argv)
{
    if (argc < 2 || chdir(argv[1]) != 0) {
        return 2;
    }
    if (argc > 2 && strcmp(argv[2], "child") == 0) {
        return put("child.txt", "from the child\n", O_TRUNC) == 0 ? 0 : 3;
    }
    char buf[256];
    if (slurp("in.txt", buf, sizeof buf) != 0 || put("out.txt", buf, O_TRUNC) != 0) {
        return 4;
    }
    if (put("tmp.txt", "renamed content\n", O_TRUNC) != 0 || rename("tmp.txt", "renamed.txt") != 0) {
        return 5;
    }
    if (truncate("trunc.txt", 4) != 0 || unlink("gone.txt") != 0) {
        return 6;
    }
    if (slurp("rmw.txt", buf, sizeof buf) != 0 || put("rmw.txt", "rewritten\n", O_TRUNC) != 0) {
        return 7;
    }
    const int in = open("in.txt", O_RDONLY);
    const int out = open("copy.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct stat st;
    if (in < 0 || out < 0 || fstat(in, &st) != 0
        || copy_file_range(in, NULL, out, NULL, (size_t)st.st_size, 0) != st.st_size) {
        return 8;
    }
    close(in);
    close(out);
    const pid_t child = fork();
    if (child == 0) {
        char* args[] = {argv[0], ".", "child", NULL};
        execv("/proc/self/exe", args);
        _exit(9);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return 10;
    }
    return 0;
}
