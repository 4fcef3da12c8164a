/* One kind of connection per invocation, for the S3 routing tests:
 *   net_client tcp4|tcp6 IP PORT block|nonblock   HTTP GET / over TCP
 *   net_client name HOST PORT block|nonblock      the same, HOST resolved with getaddrinfo
 *   net_client hostent HOST PORT                  the same, HOST resolved with gethostbyname_r
 *   net_client udp IP PORT                        one datagram "ping" to a connected UDP socket
 *   net_client unix PATH                          "ping\n" to a Unix stream socket, prints the reply
 * Prints what the caller could observe, one "key=value" per line: the
 * connect result (EINPROGRESS for a non-blocking connect), SO_ERROR after
 * polling, the peer getpeername reports, and the response's first line.
 * Exits 0 when every step behaved as libc documents. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char* what)
{
    fprintf(stderr, "net_client: %s: %s\n", what, strerror(errno));
    return 1;
}

static void print_peer(int fd)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getpeername(fd, (struct sockaddr*)&peer, &len) != 0) {
        printf("peer=error:%s\n", strerror(errno));
        return;
    }
    if (peer.ss_family == AF_INET) {
        const struct sockaddr_in* in = (const struct sockaddr_in*)&peer;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        port = ntohs(in->sin_port);
        printf("peer=%s:%u\n", ip, port);
    } else if (peer.ss_family == AF_INET6) {
        const struct sockaddr_in6* in6 = (const struct sockaddr_in6*)&peer;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        port = ntohs(in6->sin6_port);
        printf("peer=[%s]:%u\n", ip, port);
    }
}

/* Connects `fd` to `addr` the way a client library does and prints the
 * observable steps. Returns 0 when connected. */
static int do_connect(int fd, const struct sockaddr* addr, socklen_t len, int nonblock)
{
    if (nonblock && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        return die("fcntl");
    }
    errno = 0;
    const int rc = connect(fd, addr, len);
    if (rc != 0 && !(nonblock && errno == EINPROGRESS)) {
        return die("connect");
    }
    printf("connect=%s\n", rc == 0 ? "0" : "EINPROGRESS");
    if (rc != 0) {
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, 10000) != 1) {
            return die("poll");
        }
        int err = -1;
        socklen_t elen = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) {
            return die("getsockopt");
        }
        printf("so_error=%d\n", err);
        if (err != 0) {
            return 1;
        }
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
            return die("fcntl");
        }
    }
    print_peer(fd);
    return 0;
}

/* Sends a plain GET / and prints the response's status line. */
static int http_get(int fd, const char* host)
{
    char req[512];
    const int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host);
    if (write(fd, req, (size_t)n) != n) {
        return die("write");
    }
    char buf[4096];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fd, buf + got, sizeof buf - 1 - got)) > 0) {
        got += (size_t)r;
        if (memchr(buf, '\n', got)) {
            break;
        }
    }
    buf[got] = 0;
    char* eol = strpbrk(buf, "\r\n");
    if (eol) {
        *eol = 0;
    }
    printf("status=%s\n", buf);
    return strncmp(buf, "HTTP/1.", 7) == 0 ? 0 : 1;
}

static int tcp(int family, const char* ip, const char* port, int nonblock)
{
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    memset(&in, 0, sizeof in);
    memset(&in6, 0, sizeof in6);
    const int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return die("socket");
    }
    int rc;
    if (family == AF_INET) {
        in.sin_family = AF_INET;
        in.sin_port = htons((uint16_t)atoi(port));
        inet_pton(AF_INET, ip, &in.sin_addr);
        rc = do_connect(fd, (struct sockaddr*)&in, sizeof in, nonblock);
    } else {
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons((uint16_t)atoi(port));
        inet_pton(AF_INET6, ip, &in6.sin6_addr);
        rc = do_connect(fd, (struct sockaddr*)&in6, sizeof in6, nonblock);
    }
    rc = rc ? rc : http_get(fd, ip);
    close(fd);
    return rc;
}

static int by_name(const char* host, const char* port, int nonblock)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = NULL;
    const int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        fprintf(stderr, "net_client: getaddrinfo %s: %s\n", host, gai_strerror(g));
        return 1;
    }
    const int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = do_connect(fd, res->ai_addr, res->ai_addrlen, nonblock);
    freeaddrinfo(res);
    rc = rc ? rc : http_get(fd, host);
    close(fd);
    return rc;
}

static int by_hostent(const char* host, const char* port)
{
    struct hostent he;
    struct hostent* result = NULL;
    char buf[2048];
    int herr = 0;
    if (gethostbyname_r(host, &he, buf, sizeof buf, &result, &herr) != 0 || !result) {
        fprintf(stderr, "net_client: gethostbyname_r %s failed (%d)\n", host, herr);
        return 1;
    }
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons((uint16_t)atoi(port));
    memcpy(&in.sin_addr, result->h_addr_list[0], 4);
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = do_connect(fd, (struct sockaddr*)&in, sizeof in, 0);
    rc = rc ? rc : http_get(fd, host);
    close(fd);
    return rc;
}

static int udp(const char* ip, const char* port)
{
    struct sockaddr_in in;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_port = htons((uint16_t)atoi(port));
    inet_pton(AF_INET, ip, &in.sin_addr);
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (connect(fd, (struct sockaddr*)&in, sizeof in) != 0) {
        return die("connect");
    }
    print_peer(fd);
    if (send(fd, "ping", 4, 0) != 4) {
        return die("send");
    }
    close(fd);
    return 0;
}

static int unix_stream(const char* path)
{
    struct sockaddr_un un;
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    strncpy(un.sun_path, path, sizeof un.sun_path - 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, (struct sockaddr*)&un, sizeof un) != 0) {
        return die("connect");
    }
    if (write(fd, "ping\n", 5) != 5) {
        return die("write");
    }
    char buf[64] = {0};
    const ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n <= 0) {
        return die("read");
    }
    buf[strcspn(buf, "\n")] = 0;
    printf("reply=%s\n", buf);
    close(fd);
    return 0;
}

int main(int argc, char** argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 5 && (strcmp(argv[1], "tcp4") == 0 || strcmp(argv[1], "tcp6") == 0)) {
        return tcp(argv[1][3] == '4' ? AF_INET : AF_INET6, argv[2], argv[3], strcmp(argv[4], "nonblock") == 0);
    }
    if (argc >= 5 && strcmp(argv[1], "name") == 0) {
        return by_name(argv[2], argv[3], strcmp(argv[4], "nonblock") == 0);
    }
    if (argc >= 4 && strcmp(argv[1], "hostent") == 0) {
        return by_hostent(argv[2], argv[3]);
    }
    if (argc >= 4 && strcmp(argv[1], "udp") == 0) {
        return udp(argv[2], argv[3]);
    }
    if (argc >= 3 && strcmp(argv[1], "unix") == 0) {
        return unix_stream(argv[2]);
    }
    fprintf(stderr, "usage: net_client tcp4|tcp6|name IP|HOST PORT block|nonblock | hostent HOST PORT | udp IP PORT "
                    "| unix PATH\n");
    return 2;
}
