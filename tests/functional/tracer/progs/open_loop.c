/* open+close of one file N times (`open_loop FILE N`): the benchmark's
 * syscall-bound workload, built static so the tracer follows it. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 3) {
        return 2;
    }
    const long n = strtol(argv[2], NULL, 10);
    for (long i = 0; i < n; ++i) {
        const int fd = open(argv[1], O_RDONLY);
        if (fd < 0) {
            return 1;
        }
        close(fd);
    }
    return 0;
}
