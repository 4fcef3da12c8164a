/* renameat2 with its flags, for the rename exchange test:
 *   rename_exchange write A B      writes "new\n" to A (O_CREAT | O_TRUNC),
 *                                  then exchanges A and B (RENAME_EXCHANGE)
 *   rename_exchange read A B       reads A, then exchanges A and B
 *   rename_exchange noreplace A B  writes "new\n" to A, then renames it to B
 *                                  (RENAME_NOREPLACE) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

static int write_new(const char* path)
{
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "new\n", 4) != 4 || close(fd) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rename_exchange write|read|noreplace A B\n");
        return 2;
    }
    const char* mode = argv[1];
    unsigned flags = RENAME_EXCHANGE;
    if (!strcmp(mode, "write") || !strcmp(mode, "noreplace")) {
        if (write_new(argv[2]) != 0) {
            return 1;
        }
        flags = strcmp(mode, "write") ? RENAME_NOREPLACE : RENAME_EXCHANGE;
    } else if (!strcmp(mode, "read")) {
        char buf[256];
        const int fd = open(argv[2], O_RDONLY);
        if (fd < 0 || read(fd, buf, sizeof buf) < 0 || close(fd) != 0) {
            perror(argv[2]);
            return 1;
        }
    } else {
        fprintf(stderr, "rename_exchange: unknown mode %s\n", mode);
        return 2;
    }
    if (renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], flags) != 0) {
        perror("renameat2");
        return 1;
    }
    return 0;
}
