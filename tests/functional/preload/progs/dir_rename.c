/* Renaming the directories a process holds, for the renamed directories test:
 *   dir_rename         opens work/ as a directory fd and chdirs into cwd/;
 *                      renames work -> done and cwd -> cwd2 (through ".."),
 *                      then through the fd writes out.txt and reads in.txt,
 *                      and writes here.txt in the working directory
 *   dir_rename wait    opens work/ as a directory fd, waits for a file named
 *                      moved (someone else renames work meanwhile), then
 *                      writes out.txt through the fd */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_at(int dir, const char* name)
{
    const int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "result\n", 7) != 7 || close(fd) != 0) {
        perror(name);
        return 1;
    }
    return 0;
}

int main(int argc, char** argv)
{
    const int dir = open("work", O_RDONLY | O_DIRECTORY);
    if (dir < 0) {
        perror("work");
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "wait") == 0) {
        for (int i = 0; i < 600 && access("moved", F_OK) != 0; ++i) {
            usleep(50000);
        }
        return write_at(dir, "out.txt");
    }
    if (chdir("cwd") != 0 || rename("../work", "../done") != 0 || rename("../cwd", "../cwd2") != 0) {
        perror("chdir or rename");
        return 1;
    }
    char buf[64];
    const int in = openat(dir, "in.txt", O_RDONLY);
    if (in < 0 || read(in, buf, sizeof buf) < 0) {
        perror("in.txt");
        return 1;
    }
    close(in);
    return write_at(dir, "out.txt") || write_at(AT_FDCWD, "here.txt");
}
