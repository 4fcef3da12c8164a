/* Paths through "..", for the path resolution test:
 *   dotdot_io IN OUT APPEND   reads IN; writes what it read to OUT
 *                             (O_CREAT | O_TRUNC) and appends it to APPEND
 *                             (O_APPEND | O_CREAT, an open the tracer stops on) */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: dotdot_io IN OUT APPEND\n");
        return 2;
    }
    char buf[256];
    int fd = open(argv[1], O_RDONLY);
    const ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf);
    if (n < 0) {
        perror(argv[1]);
        return 1;
    }
    close(fd);
    const int flags[2] = {O_WRONLY | O_CREAT | O_TRUNC, O_WRONLY | O_CREAT | O_APPEND};
    for (int i = 0; i < 2; ++i) {
        fd = open(argv[2 + i], flags[i], 0644);
        if (fd < 0 || write(fd, buf, (size_t)n) != n || close(fd) != 0) {
            perror(argv[2 + i]);
            return 1;
        }
    }
    return 0;
}
