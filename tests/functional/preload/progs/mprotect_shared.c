/* `mprotect_shared FILE`: maps FILE (opened read-write, which alone does
 * not change it) shared and read-only, closes the fd, then makes the
 * mapping writable with mprotect and changes its first byte through it;
 * then, like a JIT, makes an anonymous private mapping writable. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 2) {
        return 2;
    }
    const int fd = open(argv[1], O_RDWR);
    if (fd < 0) {
        return 1;
    }
    char* p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED || mprotect(p, 4096, PROT_READ | PROT_WRITE) != 0) {
        return 1;
    }
    p[0] = 'X';
    if (msync(p, 4096, MS_SYNC) != 0 || munmap(p, 4096) != 0) {
        return 1;
    }
    char* anon = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return anon != MAP_FAILED && mprotect(anon, 4096, PROT_READ | PROT_WRITE) == 0 ? 0 : 1;
}
