/* Core of S3 routing (issue 17; the wire contract is in s3_route.h and
 * proxy_header.h, the design in docs/ARCHITECTURE.md): the resolver hooks remember
 * which addresses a name resolved to, connect sends TCP connections to S3
 * destinations to the job's proxy with a PROXY v2 header naming the
 * original destination, the pid and the job's secret, and getpeername on
 * such a socket answers the original destination.
 *
 * Routing is on only when ROAR_S3_PROXY and ROAR_S3_SECRET are valid; off,
 * every hook here is its real call after one predictable branch. The
 * tables are per process, fixed size, without locks: each entry is written
 * under its own sequence number (odd while being written) and a reader
 * that sees the number change ignores the entry. */
#include "core_util.h"
#include "roar/collector/proxy_header.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

/* A destination as the matcher sees it: an IPv4-mapped IPv6 address is
 * IPv4. */
struct roar_dest {
    uint8_t addr[16];
    size_t addr_len; /* 4 or 16 */
    uint16_t port;
};

static const uint8_t k_v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int dest_of(const struct sockaddr* a, socklen_t len, struct roar_dest* d)
{
    if (!a) {
        return -1;
    }
    if (a->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in* in = (const struct sockaddr_in*)a;
        memcpy(d->addr, &in->sin_addr, 4);
        d->addr_len = 4;
        d->port = ntohs(in->sin_port);
        return 0;
    }
    if (a->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6* in6 = (const struct sockaddr_in6*)a;
        const uint8_t* b = (const uint8_t*)&in6->sin6_addr;
        if (memcmp(b, k_v4_mapped, 12) == 0) {
            memcpy(d->addr, b + 12, 4);
            d->addr_len = 4;
        } else {
            memcpy(d->addr, b, 16);
            d->addr_len = 16;
        }
        d->port = ntohs(in6->sin6_port);
        return 0;
    }
    return -1;
}

static int is_proxy(const struct roar_shim* S, const struct roar_dest* d)
{
    const struct roar_s3_entry* p = &S->s3.proxy;
    return d->port == p->port && d->addr_len == (p->kind == ROAR_S3_IP4 ? 4u : 16u)
           && memcmp(d->addr, p->addr, d->addr_len) == 0;
}

static int routing_on(const struct roar_shim* S) { return __atomic_load_n(&S->s3.on, __ATOMIC_ACQUIRE); }

/* ---- the resolver table ------------------------------------------------ */

/* Claims entry `e` for writing: its sequence number becomes odd. Returns
 * the even number it had, or UINT32_MAX when another thread is writing. */
static uint32_t seq_begin(uint32_t* seq)
{
    uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);
    if ((s & 1) || !__atomic_compare_exchange_n(seq, &s, s + 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return UINT32_MAX;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    return s;
}

static void seq_end(uint32_t* seq, uint32_t begun) { __atomic_store_n(seq, begun + 2, __ATOMIC_RELEASE); }

/* The name this process most recently resolved to `addr`, copied to
 * `name` (NUL-terminated, ROAR_S3_HOST_MAX + 1 bytes); returns its length,
 * 0 when none. */
static size_t resolved_name(struct roar_shim* S, const uint8_t* addr, size_t addr_len, char* name)
{
    size_t found = 0;
    uint32_t best = 0;
    for (size_t i = 0; i < ROAR_S3_RESOLVED_MAX; ++i) {
        struct roar_s3_resolved* e = &S->s3.resolved[i];
        const uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
        if ((s1 & 1) || e->addr_len != addr_len || memcmp(e->addr, addr, addr_len) != 0) {
            continue;
        }
        const uint32_t stamp = e->stamp;
        if (found && (int32_t)(stamp - best) <= 0) {
            continue;
        }
        char tmp[ROAR_S3_HOST_MAX + 1];
        const size_t len = e->name_len <= ROAR_S3_HOST_MAX ? e->name_len : 0;
        memcpy(tmp, e->name, len);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s1 || len == 0) {
            continue;
        }
        memcpy(name, tmp, len);
        name[len] = 0;
        found = len;
        best = stamp;
    }
    return found;
}

/* Remembers that `name` (`len` bytes) resolved to `addr`, unless that is
 * already what the table says about `addr`. */
static void remember(struct roar_shim* S, const char* name, size_t len, const struct roar_dest* d)
{
    char current[ROAR_S3_HOST_MAX + 1];
    if (resolved_name(S, d->addr, d->addr_len, current) == len && memcmp(current, name, len) == 0) {
        return;
    }
    const uint32_t stamp = __atomic_add_fetch(&S->s3.resolved_next, 1, __ATOMIC_RELAXED);
    struct roar_s3_resolved* e = &S->s3.resolved[stamp % ROAR_S3_RESOLVED_MAX];
    const uint32_t begun = seq_begin(&e->seq);
    if (begun == UINT32_MAX) {
        return;
    }
    e->stamp = stamp;
    e->addr_len = (uint8_t)d->addr_len;
    memcpy(e->addr, d->addr, d->addr_len);
    memcpy(e->name, name, len);
    e->name[len] = 0;
    e->name_len = (uint16_t)len;
    seq_end(&e->seq, begun);
}

/* The length of `node` when it is a host name worth remembering (not a
 * literal address), else 0. */
static size_t name_length(const char* node)
{
    if (!node) {
        return 0;
    }
    const size_t len = strnlen(node, ROAR_S3_HOST_MAX + 1);
    uint8_t scratch[16];
    if (len == 0 || len > ROAR_S3_HOST_MAX || roar_s3_parse_ip(AF_INET, node, len, scratch) == 0
        || roar_s3_parse_ip(AF_INET6, node, len, scratch) == 0) {
        return 0;
    }
    return len;
}

static void remember_hostent(struct roar_shim* S, const char* name, const struct hostent* h)
{
    const size_t len = name_length(name);
    if (!h || len == 0 || !h->h_addr_list || (h->h_addrtype != AF_INET && h->h_addrtype != AF_INET6)
        || h->h_length != (h->h_addrtype == AF_INET ? 4 : 16)) {
        return;
    }
    for (char** a = h->h_addr_list; *a; ++a) {
        struct roar_dest d;
        if (h->h_addrtype == AF_INET) {
            memcpy(d.addr, *a, 4);
            d.addr_len = 4;
        } else if (memcmp(*a, k_v4_mapped, 12) == 0) {
            memcpy(d.addr, *a + 12, 4);
            d.addr_len = 4;
        } else {
            memcpy(d.addr, *a, 16);
            d.addr_len = 16;
        }
        remember(S, name, len, &d);
    }
}

int roar_core_getaddrinfo(struct roar_libc* L, struct roar_shim* S, const char* node, const char* service,
                          const struct addrinfo* hints, struct addrinfo** res)
{
    const int r = ROAR_REAL(L, getaddrinfo)(node, service, hints, res);
    if (__builtin_expect(!routing_on(S), 1) || r != 0 || !res || !roar_active(S)) {
        return r;
    }
    const int saved = errno;
    const size_t len = name_length(node);
    for (const struct addrinfo* ai = len ? *res : NULL; ai; ai = ai->ai_next) {
        struct roar_dest d;
        if (dest_of(ai->ai_addr, ai->ai_addrlen, &d) == 0) {
            remember(S, node, len, &d);
        }
    }
    errno = saved;
    return r;
}

struct hostent* roar_core_gethostbyname(struct roar_libc* L, struct roar_shim* S, enum roar_resolve_kind kind,
                                        const char* name, int af)
{
    struct hostent* h =
        kind == ROAR_K_GETHOSTBYNAME ? ROAR_REAL(L, gethostbyname)(name) : ROAR_REAL(L, gethostbyname2)(name, af);
    if (__builtin_expect(!routing_on(S), 1) || !h || !roar_active(S)) {
        return h;
    }
    const int saved = errno;
    remember_hostent(S, name, h);
    errno = saved;
    return h;
}

int roar_core_gethostbyname_r(struct roar_libc* L, struct roar_shim* S, enum roar_resolve_r_kind kind, const char* name,
                              int af, struct hostent* ret, char* buf, size_t buflen, struct hostent** result,
                              int* h_errnop)
{
    const int r = kind == ROAR_K_GETHOSTBYNAME_R
                      ? ROAR_REAL(L, gethostbyname_r)(name, ret, buf, buflen, result, h_errnop)
                      : ROAR_REAL(L, gethostbyname2_r)(name, af, ret, buf, buflen, result, h_errnop);
    if (__builtin_expect(!routing_on(S), 1) || r != 0 || !result || !*result || !roar_active(S)) {
        return r;
    }
    const int saved = errno;
    remember_hostent(S, name, *result);
    errno = saved;
    return r;
}

/* ---- notes --------------------------------------------------------------- */

static size_t append(char* buf, size_t at, size_t cap, const char* s)
{
    while (*s && at + 1 < cap) {
        buf[at++] = *s++;
    }
    buf[at] = 0;
    return at;
}

/* Publishes "<before><host><after>" once per host per process. */
static void note_once(struct roar_shim* S, const char* host, const char* before, const char* after)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char* c = before; *c; ++c) {
        h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    }
    for (const char* c = host; *c; ++c) {
        h = (h ^ (unsigned char)roar_s3_lower(*c)) * 0x100000001b3ull;
    }
    h |= 1;
    for (size_t i = 0; i < ROAR_S3_NOTED_MAX; ++i) {
        if (__atomic_load_n(&S->s3.noted[i], __ATOMIC_RELAXED) == h) {
            return;
        }
    }
    const uint32_t slot = __atomic_fetch_add(&S->s3.noted_next, 1, __ATOMIC_RELAXED) % ROAR_S3_NOTED_MAX;
    __atomic_store_n(&S->s3.noted[slot], h, __ATOMIC_RELAXED);
    char text[ROAR_S3_HOST_MAX + 128];
    size_t at = append(text, 0, sizeof text, before);
    at = append(text, at, sizeof text, host);
    append(text, at, sizeof text, after);
    roar_emit(S, ROAR_OP_NOTE, -1, -1, ROAR_NOTE_NETWORK, 0, 0, text, NULL);
}

/* The host a note names: the resolved name, else the literal address. */
static const char* host_text(const struct roar_dest* d, const char* name, size_t name_len, char* buf, size_t cap)
{
    if (name_len > 0) {
        return name;
    }
    if (!inet_ntop(d->addr_len == 4 ? AF_INET : AF_INET6, d->addr, buf, (socklen_t)cap)) {
        buf[0] = 0;
    }
    return buf;
}

/* ---- connect ------------------------------------------------------------- */

static int is_stream_socket(int fd)
{
    int type = 0;
    socklen_t len = sizeof type;
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

/* A blocking connect interrupted by a signal goes on in the kernel: wait
 * for it to finish and return its error (0 when connected). */
static int finish_connect(int fd)
{
    struct pollfd p = {fd, POLLOUT, 0};
    while (poll(&p, 1, -1) < 0) {
        if (errno != EINTR) {
            return errno;
        }
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        return errno;
    }
    return err;
}

/* Writes the PROXY v2 header on `fd`, now connected to the proxy. Returns
 * 0 or an errno value. */
static int send_header(struct roar_shim* S, int fd, const struct roar_dest* d, const char* name, size_t name_len,
                       int verdict)
{
    struct roar_pp2 h;
    memset(&h, 0, sizeof h);
    h.ipv6 = d->addr_len == 16;
    memcpy(h.dst_addr, d->addr, d->addr_len);
    h.dst_port = d->port;
    struct sockaddr_storage local;
    socklen_t local_len = sizeof local;
    struct roar_dest src;
    if (getsockname(fd, (struct sockaddr*)&local, &local_len) == 0
        && dest_of((const struct sockaddr*)&local, local_len, &src) == 0) {
        if (src.addr_len == d->addr_len) {
            memcpy(h.src_addr, src.addr, src.addr_len);
            h.src_port = src.port;
        } else if (h.ipv6) { /* an IPv4 source in an IPv6 header: mapped */
            memcpy(h.src_addr, k_v4_mapped, 12);
            memcpy(h.src_addr + 12, src.addr, 4);
            h.src_port = src.port;
        }
    }
    if (name_len > 0 && roar_pp2_valid_authority(name, name_len)) {
        memcpy(h.authority, name, name_len);
        h.authority_len = (uint16_t)name_len;
    }
    memcpy(h.secret, S->s3.secret, ROAR_PP2_SECRET_LEN);
    h.has_secret = 1;
    h.pid = S->pid;
    h.has_pid = 1;
    h.flags = verdict == ROAR_S3_TLS ? ROAR_PP2_FLAG_TLS : 0;
    h.has_flags = 1;
    unsigned char buf[ROAR_PP2_MAX_HEADER];
    const long n = roar_pp2_encode(&h, buf, sizeof buf);
    if (n <= 0) {
        return EINVAL;
    }
    for (long off = 0; off < n;) {
        const ssize_t w = send(fd, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        off += w;
    }
    return 0;
}

/* Remembers that `fd` was redirected from `orig` (for getpeername). */
static void remember_redirect(struct roar_shim* S, int fd, const struct sockaddr* orig, socklen_t orig_len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || orig_len > (socklen_t)sizeof S->s3.redirects[0].orig.bytes) {
        return;
    }
    const uint32_t n = __atomic_fetch_add(&S->s3.redirects_next, 1, __ATOMIC_RELAXED);
    struct roar_s3_redirect* e = &S->s3.redirects[n % ROAR_S3_REDIRECTS_MAX];
    const uint32_t begun = seq_begin(&e->seq);
    if (begun == UINT32_MAX) {
        return;
    }
    e->dev = (uint64_t)st.st_dev;
    e->ino = (uint64_t)st.st_ino;
    e->orig_len = (uint32_t)orig_len;
    memcpy(e->orig.bytes, orig, orig_len);
    seq_end(&e->seq, begun);
}

/* Connects `fd` to the proxy instead of `orig` and writes the header.
 * `saved` is the caller's errno. */
static int redirect(struct roar_libc* L, struct roar_shim* S, int fd, const struct sockaddr* orig, socklen_t orig_len,
                    const struct roar_dest* d, const char* name, size_t name_len, int verdict, int saved)
{
    const struct roar_s3_entry* px = &S->s3.proxy;
    struct sockaddr_in p4;
    struct sockaddr_in6 p6;
    const struct sockaddr* to;
    socklen_t to_len;
    char ip[INET6_ADDRSTRLEN];
    if (orig->sa_family == AF_INET) {
        if (px->kind != ROAR_S3_IP4) {
            note_once(S, host_text(d, name, name_len, ip, sizeof ip), "S3 connection to ",
                      " not observed: the job's proxy listens on IPv6 and the client's socket is IPv4");
            errno = saved;
            return ROAR_REAL(L, connect)(fd, orig, orig_len);
        }
        memset(&p4, 0, sizeof p4);
        p4.sin_family = AF_INET;
        p4.sin_port = htons(px->port);
        memcpy(&p4.sin_addr, px->addr, 4);
        to = (const struct sockaddr*)&p4;
        to_len = sizeof p4;
    } else {
        memset(&p6, 0, sizeof p6);
        p6.sin6_family = AF_INET6;
        p6.sin6_port = htons(px->port);
        if (px->kind == ROAR_S3_IP4) {
            memcpy(&p6.sin6_addr, k_v4_mapped, 12);
            memcpy((uint8_t*)&p6.sin6_addr + 12, px->addr, 4);
        } else {
            memcpy(&p6.sin6_addr, px->addr, 16);
        }
        to = (const struct sockaddr*)&p6;
        to_len = sizeof p6;
    }
    /* The loopback connect and the header write are done blocking; a
     * non-blocking caller then sees EINPROGRESS and a socket that polls
     * writable with SO_ERROR 0, as after any connect. */
    const int fl = ROAR_REAL(L, fcntl)(fd, F_GETFL);
    if (fl < 0) {
        errno = saved;
        return ROAR_REAL(L, connect)(fd, orig, orig_len);
    }
    if (fl & O_NONBLOCK) {
        ROAR_REAL(L, fcntl)(fd, F_SETFL, fl & ~O_NONBLOCK);
    }
    int err = 0;
    if (ROAR_REAL(L, connect)(fd, to, to_len) != 0) {
        err = errno == EINTR ? finish_connect(fd) : errno;
    }
    const int connected = err == 0;
    if (connected) {
        err = send_header(S, fd, d, name, name_len, verdict);
    }
    if (fl & O_NONBLOCK) {
        ROAR_REAL(L, fcntl)(fd, F_SETFL, fl);
    }
    if (!connected && (err == ECONNREFUSED || err == ENETUNREACH || err == EADDRNOTAVAIL)) {
        /* The proxy is gone (or unreachable from this socket): the job's
         * connection still works, unobserved, and the record says so. */
        note_once(S, host_text(d, name, name_len, ip, sizeof ip), "S3 connection to ",
                  " not observed: the job's proxy did not accept it");
        errno = saved;
        return ROAR_REAL(L, connect)(fd, orig, orig_len);
    }
    if (err != 0) {
        errno = err;
        return -1;
    }
    remember_redirect(S, fd, orig, orig_len);
    if (fl & O_NONBLOCK) {
        errno = EINPROGRESS;
        return -1;
    }
    errno = saved;
    return 0;
}

int roar_core_connect(struct roar_libc* L, struct roar_shim* S, int fd, const struct sockaddr* addr, socklen_t len)
{
    if (__builtin_expect(!routing_on(S), 1) || !roar_active(S)) {
        return ROAR_REAL(L, connect)(fd, addr, len);
    }
    const int saved = errno;
    struct roar_dest d;
    if (dest_of(addr, len, &d) != 0 || is_proxy(S, &d)) {
        errno = saved;
        return ROAR_REAL(L, connect)(fd, addr, len);
    }
    char name[ROAR_S3_HOST_MAX + 1];
    const size_t name_len = resolved_name(S, d.addr, d.addr_len, name);
    int verdict = roar_s3_match_addr(&S->s3.routes, d.addr, d.addr_len, d.port);
    if (verdict == ROAR_S3_NO_MATCH && name_len > 0) {
        verdict = roar_s3_match_name(&S->s3.routes, name, name_len, d.port);
    }
    if (verdict == ROAR_S3_NO_MATCH || !is_stream_socket(fd)) {
        errno = saved;
        return ROAR_REAL(L, connect)(fd, addr, len);
    }
    if (verdict == ROAR_S3_TLS && !S->s3.tls) {
        char ip[INET6_ADDRSTRLEN];
        note_once(S, host_text(&d, name, name_len, ip, sizeof ip), "S3 over TLS to ",
                  " not observed: enable proxy.intercept_tls");
        errno = saved;
        return ROAR_REAL(L, connect)(fd, addr, len);
    }
    return redirect(L, S, fd, addr, len, &d, name, name_len, verdict, saved);
}

/* ---- getpeername ----------------------------------------------------------- */

/* The original destination of redirected socket `fd` into `out`; returns
 * its length, 0 when `fd` is not one. */
static socklen_t redirect_of(struct roar_shim* S, int fd, unsigned char* out)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        return 0;
    }
    for (size_t i = 0; i < ROAR_S3_REDIRECTS_MAX; ++i) {
        struct roar_s3_redirect* e = &S->s3.redirects[i];
        const uint32_t s1 = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
        if ((s1 & 1) || s1 == 0 || e->ino != (uint64_t)st.st_ino || e->dev != (uint64_t)st.st_dev) {
            continue;
        }
        const uint32_t len = e->orig_len;
        if (len > sizeof e->orig.bytes) {
            continue;
        }
        memcpy(out, e->orig.bytes, len);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s1) {
            return (socklen_t)len;
        }
    }
    return 0;
}

int roar_core_getpeername(struct roar_libc* L, struct roar_shim* S, int fd, struct sockaddr* addr, socklen_t* len)
{
    if (__builtin_expect(!routing_on(S), 1) || !__atomic_load_n(&S->s3.redirects_next, __ATOMIC_RELAXED) || !addr
        || !len) {
        return ROAR_REAL(L, getpeername)(fd, addr, len);
    }
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    const int r = ROAR_REAL(L, getpeername)(fd, (struct sockaddr*)&peer, &peer_len);
    if (r != 0) {
        return r;
    }
    const int saved = errno;
    struct roar_dest d;
    if (dest_of((const struct sockaddr*)&peer, peer_len, &d) == 0 && is_proxy(S, &d)) {
        unsigned char orig[sizeof S->s3.redirects[0].orig.bytes];
        const socklen_t orig_len = redirect_of(S, fd, orig);
        if (orig_len > 0) {
            memcpy(&peer, orig, orig_len);
            peer_len = orig_len;
        }
    }
    memcpy(addr, &peer, peer_len < *len ? peer_len : *len);
    *len = peer_len;
    errno = saved;
    return 0;
}

/* ---- start-up --------------------------------------------------------------- */

int roar_s3_setup(struct roar_shim* S, const char* proxy, const char* secret, const char* hosts, const char* tls)
{
    struct roar_s3_state* s3 = &S->s3;
    __atomic_store_n(&s3->on, 0, __ATOMIC_RELEASE);
    if (!proxy || !*proxy) {
        return 0;
    }
    struct roar_s3_entry p;
    if (roar_s3_parse_entry(proxy, strnlen(proxy, 128), &p) != 0 || (p.kind != ROAR_S3_IP4 && p.kind != ROAR_S3_IP6)
        || p.port == 0 || p.scheme != ROAR_S3_SCHEME_NONE || !secret || strnlen(secret, 65) != ROAR_PP2_SECRET_LEN
        || !roar_pp2_is_hex(secret, ROAR_PP2_SECRET_LEN)) {
        return -1;
    }
    s3->proxy = p;
    memcpy(s3->secret, secret, ROAR_PP2_SECRET_LEN);
    s3->secret[ROAR_PP2_SECRET_LEN] = 0;
    roar_s3_routes_parse(&s3->routes, hosts);
    s3->tls = tls && tls[0] == '1' && tls[1] == 0;
    __atomic_store_n(&s3->on, 1, __ATOMIC_RELEASE);
    return 1;
}

void roar_s3_report_setup(struct roar_shim* S, int status)
{
    if (status < 0) {
        roar_emit(S, ROAR_OP_NOTE, -1, -1, ROAR_NOTE_NETWORK, 0, 0,
                  "S3 routing is off in this process: ROAR_S3_PROXY or ROAR_S3_SECRET is malformed, so its S3 calls "
                  "are not observed",
                  NULL);
    } else if (status > 0 && S->s3.routes.rejected > 0) {
        roar_emit(S, ROAR_OP_NOTE, -1, -1, ROAR_NOTE_NETWORK, 0, 0,
                  "ROAR_S3_HOSTS has malformed entries (or more than 32); they were ignored", NULL);
    }
}
