/* In-kernel copies, which the tracer's filter lets run without a stop:
 * each mode copies IN into OUT, OUT opened the way the mode names.
 *   transfers cfr-new IN OUT        copy_file_range into OUT made with O_CREAT|O_TRUNC
 *   transfers sendfile-over IN OUT  sendfile over existing OUT (as long as IN) through a write-only fd
 *   transfers splice-append IN OUT  splice IN through a pipe onto the end of OUT (write-only, seeked to its end)
 *   transfers cfr-rdwr IN OUT       reads OUT through an O_RDWR fd, then copy_file_range IN onto its end
 *                                   at an explicit offset (the fd's own offset stays)
 *   transfers raw-over IN OUT       as sendfile-over, with a raw syscall(SYS_copy_file_range) no libc hook sees
 *   transfers loop IN OUT N         N one-byte copy_file_range calls from IN into a new OUT */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static off_t size_of(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -1;
}

int main(int argc, char** argv)
{
    if (argc < 4) {
        return 2;
    }
    const char* mode = argv[1];
    const int in = open(argv[2], O_RDONLY);
    const off_t n = in >= 0 ? size_of(in) : -1;
    if (n < 0) {
        return 1;
    }
    int out = -1;
    ssize_t done = -1;
    if (strcmp(mode, "cfr-new") == 0) {
        out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        done = out >= 0 ? copy_file_range(in, NULL, out, NULL, (size_t)n, 0) : -1;
    } else if (strcmp(mode, "sendfile-over") == 0) {
        out = open(argv[3], O_WRONLY);
        done = out >= 0 ? sendfile(out, in, NULL, (size_t)n) : -1;
    } else if (strcmp(mode, "raw-over") == 0) {
        out = open(argv[3], O_WRONLY);
        done = out >= 0 ? syscall(SYS_copy_file_range, in, NULL, out, NULL, (size_t)n, 0) : -1;
    } else if (strcmp(mode, "splice-append") == 0) {
        int p[2];
        out = open(argv[3], O_WRONLY); /* splice refuses O_APPEND: seek to the end instead */
        if (out < 0 || lseek(out, 0, SEEK_END) < 0 || pipe(p) != 0 || splice(in, NULL, p[1], NULL, (size_t)n, 0) != n) {
            return 1;
        }
        done = splice(p[0], NULL, out, NULL, (size_t)n, 0);
    } else if (strcmp(mode, "cfr-rdwr") == 0) {
        char buf[256];
        out = open(argv[3], O_RDWR);
        off_t end = out >= 0 ? size_of(out) : -1;
        if (end < 0 || read(out, buf, sizeof buf) < 0) {
            return 1;
        }
        done = copy_file_range(in, NULL, out, &end, (size_t)n, 0);
    } else if (strcmp(mode, "loop") == 0 && argc > 4) {
        const long count = atol(argv[4]);
        out = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        done = out >= 0 ? 0 : -1;
        for (long i = 0; i < count && done >= 0; ++i) {
            off_t at = i % (n > 0 ? n : 1);
            done = copy_file_range(in, &at, out, NULL, 1, 0) == 1 ? done + 1 : -1;
        }
        return done == count && close(out) == 0 && close(in) == 0 ? 0 : 1;
    }
    if (done != n) {
        return 1;
    }
    return close(out) == 0 && close(in) == 0 ? 0 : 1;
}
