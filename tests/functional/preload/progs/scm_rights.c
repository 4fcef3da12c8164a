/* fds passed over a Unix socket: `scm_rights IN OUT msg|mmsg|idle` opens
 * IN for reading and OUT (which exists) for appending, sends both fds to a
 * forked child in one SCM_RIGHTS message and closes its own copies; the
 * child receives them with recvmsg (or recvmmsg), waits until the parent
 * has closed its copies (a second byte), copies what it reads from the
 * first onto the end of the second (not with idle), and exits. Only the
 * child's fd can have written: a tracer that checks an fd for a change
 * when it is closed cannot see the child's write at the parent's close. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int child(int sock, int use_mmsg, int idle)
{
    char byte;
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct mmsghdr m;
    memset(&m, 0, sizeof m);
    m.msg_hdr.msg_iov = &iov;
    m.msg_hdr.msg_iovlen = 1;
    m.msg_hdr.msg_control = control.buf;
    m.msg_hdr.msg_controllen = sizeof control.buf;
    if (use_mmsg ? recvmmsg(sock, &m, 1, 0, NULL) != 1 : recvmsg(sock, &m.msg_hdr, 0) != 1) {
        return 1;
    }
    struct cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
    if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(2 * sizeof(int))) {
        return 1;
    }
    int fds[2];
    memcpy(fds, CMSG_DATA(c), sizeof fds);
    char go;
    if (read(sock, &go, 1) != 1) {
        return 1;
    }
    char buf[256];
    const ssize_t n = idle ? 0 : read(fds[0], buf, sizeof buf);
    if (n < 0 || (!idle && (n == 0 || write(fds[1], buf, (size_t)n) != n))) {
        return 1;
    }
    close(fds[0]);
    close(fds[1]);
    return 0;
}

int main(int argc, char** argv)
{
    int sv[2];
    if (argc != 4 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        return 2;
    }
    const pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        _exit(child(sv[1], strcmp(argv[3], "mmsg") == 0, strcmp(argv[3], "idle") == 0));
    }
    close(sv[1]);
    int fds[2] = {open(argv[1], O_RDONLY), open(argv[2], O_WRONLY | O_APPEND)};
    if (fds[0] < 0 || fds[1] < 0) {
        return 1;
    }
    char byte = 'x';
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    if (sendmsg(sv[0], &msg, 0) != 1) {
        return 1;
    }
    close(fds[0]);
    close(fds[1]);
    if (write(sv[0], "g", 1) != 1) {
        return 1;
    }
    int status = 0;
    return waitpid(pid, &status, 0) == pid && status == 0 ? 0 : 1;
}
