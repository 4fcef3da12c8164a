/* Benchmark: N iterations of open(path, O_RDONLY) + close (default 1M). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    const char* path = argc > 1 ? argv[1] : "/etc/hostname";
    const long n = argc > 2 ? atol(argv[2]) : 1000000;
    for (long i = 0; i < n; ++i) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            perror("open");
            return 1;
        }
        close(fd);
    }
    return 0;
}
