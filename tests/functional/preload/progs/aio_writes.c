/* POSIX AIO: `aio_writes A B C` overwrites the start of A (which exists)
 * with aio_write, and the start of B with one LIO_WRITE of a lio_listio
 * that also reads C (LIO_READ); all three are opened without O_TRUNC, so
 * only the requests show the writes. */
#define _GNU_SOURCE
#include <aio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv)
{
    if (argc != 4) {
        return 2;
    }
    const int a = open(argv[1], O_WRONLY);
    const int b = open(argv[2], O_WRONLY);
    const int c = open(argv[3], O_RDONLY);
    if (a < 0 || b < 0 || c < 0) {
        return 1;
    }
    static char text_a[] = "AIO";
    struct aiocb cb_a;
    memset(&cb_a, 0, sizeof cb_a);
    cb_a.aio_fildes = a;
    cb_a.aio_buf = text_a;
    cb_a.aio_nbytes = 3;
    if (aio_write(&cb_a) != 0) {
        return 1;
    }
    const struct aiocb* const wait_a[1] = {&cb_a};
    while (aio_error(&cb_a) == EINPROGRESS) {
        aio_suspend(wait_a, 1, NULL);
    }
    if (aio_return(&cb_a) != 3) {
        return 1;
    }
    static char text_b[] = "LIO";
    static char read_c[16];
    struct aiocb cb_b, cb_c;
    memset(&cb_b, 0, sizeof cb_b);
    memset(&cb_c, 0, sizeof cb_c);
    cb_b.aio_fildes = b;
    cb_b.aio_buf = text_b;
    cb_b.aio_nbytes = 3;
    cb_b.aio_lio_opcode = LIO_WRITE;
    cb_c.aio_fildes = c;
    cb_c.aio_buf = read_c;
    cb_c.aio_nbytes = sizeof read_c;
    cb_c.aio_lio_opcode = LIO_READ;
    struct aiocb* list[2] = {&cb_b, &cb_c};
    if (lio_listio(LIO_WAIT, list, 2, NULL) != 0 || aio_return(&cb_b) != 3) {
        return 1;
    }
    close(a);
    close(b);
    close(c);
    return 0;
}
