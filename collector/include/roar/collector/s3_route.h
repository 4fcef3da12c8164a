/* Which TCP destinations are S3 and go to the job's proxy (issue 17): the
 * built-in S3 host patterns, the ROAR_S3_HOSTS list, and the matching of a
 * host name or a literal address against them. Plain C, static inline, no
 * heap, no locale, no errno: shared by the preload shim, the ptrace tracer
 * and roar-proxy (which must refuse a redirected connection whose
 * destination these rules would not redirect), so all three decide alike.
 *
 * ROAR_S3_HOSTS is a comma-separated list of entries:
 *   host  host:port  *.suffix  ip  ip:port  [v6]  [v6]:port  v6
 * each optionally prefixed with http:// or https:// (case-insensitive).
 * An entry without a port matches every port, except that a scheme without
 * a port means the scheme's default port (80, 443), as in a URL. Whether a
 * matched destination speaks TLS: the scheme when given, else port 443.
 * `*.suffix` matches names ending in ".suffix" (not "suffix" itself). Host
 * names compare case-insensitively, one trailing dot ignored. A URL's path
 * after the authority is ignored when a scheme is given; user info
 * (`user@host`) is refused.
 *
 * The built-in patterns (port 443 = TLS, 80 = plain, other ports never):
 * AWS S3 (`s3`, `s3.<region>`, `s3-<region>`, `s3.dualstack.<region>`,
 * `s3-fips.<region>`, `s3-fips.dualstack.<region>`, each also with
 * `<bucket>.` in front, under amazonaws.com or amazonaws.com.cn), Google
 * Cloud Storage (`storage.googleapis.com`, `<bucket>.storage.googleapis.com`)
 * and Cloudflare R2 (`<account>.r2.cloudflarestorage.com` and names below
 * it). No other AWS service matches (sts., dynamodb., ec2., ...). */
#ifndef ROAR_COLLECTOR_S3_ROUTE_H
#define ROAR_COLLECTOR_S3_ROUTE_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Environment variables of the routing contract (set by `roar run`). */
#define ROAR_ENV_S3_PROXY "ROAR_S3_PROXY"   /* 127.0.0.1:PORT of the job's proxy; absent: no routing */
#define ROAR_ENV_S3_SECRET "ROAR_S3_SECRET" /* 64 lowercase hex chars carried in every PROXY header */
#define ROAR_ENV_S3_HOSTS "ROAR_S3_HOSTS"   /* the entries above */
#define ROAR_ENV_S3_TLS "ROAR_S3_TLS"       /* "1": redirect TLS destinations too */

#define ROAR_S3_ROUTES_MAX 32
#define ROAR_S3_HOST_MAX 253 /* longest DNS name */

enum roar_s3_kind { ROAR_S3_NAME = 1, ROAR_S3_SUFFIX = 2, ROAR_S3_IP4 = 3, ROAR_S3_IP6 = 4 };
enum roar_s3_scheme { ROAR_S3_SCHEME_NONE = 0, ROAR_S3_SCHEME_HTTP = 1, ROAR_S3_SCHEME_HTTPS = 2 };

/* What a match says about the destination. */
#define ROAR_S3_NO_MATCH 0
#define ROAR_S3_PLAIN 1 /* route it; the client speaks plain HTTP */
#define ROAR_S3_TLS 2   /* route it; the client speaks TLS */

struct roar_s3_entry {
    uint8_t kind;   /* enum roar_s3_kind */
    uint8_t scheme; /* enum roar_s3_scheme */
    uint16_t port;  /* 0 = every port */
    uint8_t addr[16];
    uint16_t host_len;
    char host[ROAR_S3_HOST_MAX + 2]; /* lower case, NUL-terminated; SUFFIX keeps its leading '.' */
};

struct roar_s3_routes {
    uint32_t count;
    uint32_t rejected; /* entries refused by roar_s3_routes_parse (malformed or beyond ROAR_S3_ROUTES_MAX) */
    struct roar_s3_entry entries[ROAR_S3_ROUTES_MAX];
};

static inline char roar_s3_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Whether `a` (`alen` bytes, any case) equals the lower-case `b` (`blen`). */
static inline int roar_s3_ieq(const char* a, size_t alen, const char* b, size_t blen)
{
    if (alen != blen) {
        return 0;
    }
    for (size_t i = 0; i < alen; ++i) {
        if (roar_s3_lower(a[i]) != b[i]) {
            return 0;
        }
    }
    return 1;
}

/* Whether `host` (`len` bytes, any case) ends with the lower-case `suffix`. */
static inline int roar_s3_iends(const char* host, size_t len, const char* suffix, size_t slen)
{
    return len >= slen && roar_s3_ieq(host + len - slen, slen, suffix, slen);
}

/* Whether `s` is a valid host name: labels of 1..63 [A-Za-z0-9_-], not
 * starting or ending with '-', separated by single dots, at most
 * ROAR_S3_HOST_MAX bytes. */
static inline int roar_s3_valid_name(const char* s, size_t len)
{
    if (len == 0 || len > ROAR_S3_HOST_MAX) {
        return 0;
    }
    size_t label = 0;
    for (size_t i = 0; i < len; ++i) {
        const char c = s[i];
        if (c == '-' && (label == 0 || i + 1 == len || s[i + 1] == '.')) {
            return 0;
        }
        if (c == '.') {
            if (label == 0 || label > 63) {
                return 0;
            }
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
            ++label;
        } else {
            return 0;
        }
    }
    return label > 0 && label <= 63;
}

/* Whether the label `s` (`len` bytes) looks like an AWS region name:
 * lower-case letters, digits and dashes, a letter first, a digit last, at
 * least one dash (us-east-1, eu-central-2, cn-north-1, us-gov-west-1,
 * external-1). */
static inline int roar_s3_is_region(const char* s, size_t len)
{
    if (len < 3) {
        return 0;
    }
    const char first = roar_s3_lower(s[0]);
    if (!(first >= 'a' && first <= 'z') || !(s[len - 1] >= '0' && s[len - 1] <= '9')) {
        return 0;
    }
    int dash = 0;
    for (size_t i = 0; i < len; ++i) {
        const char c = roar_s3_lower(s[i]);
        if (c == '-') {
            dash = 1;
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return 0;
        }
    }
    return dash;
}

/* The start of the label that ends just before `end` in `s` (labels are
 * separated by dots). */
static inline size_t roar_s3_label_start(const char* s, size_t end)
{
    size_t i = end;
    while (i > 0 && s[i - 1] != '.') {
        --i;
    }
    return i;
}

/* Whether `rest` (`len` bytes: an AWS host name without its
 * ".amazonaws.com[.cn]" suffix) is one of the S3 endpoint forms, optionally
 * preceded by "<bucket>.". */
static inline int roar_s3_aws_form(const char* rest, size_t len)
{
    if (len == 0) {
        return 0;
    }
    /* The last label: "s3", "s3-<region>", or a region. */
    size_t b = roar_s3_label_start(rest, len);
    const char* last = rest + b;
    const size_t last_len = len - b;
    if (roar_s3_ieq(last, last_len, "s3", 2)) {
        return 1; /* [bucket.]s3.amazonaws.com */
    }
    if (last_len > 3 && roar_s3_ieq(last, 3, "s3-", 3)) {
        /* [bucket.]s3-<region>.amazonaws.com (legacy dash form, incl.
         * s3-external-1 and s3-fips-us-gov-west-1); not the static-website
         * endpoints s3-website-<region>, which are not the S3 API. */
        if (last_len > 10 && roar_s3_ieq(last + 3, 7, "website", 7)) {
            return 0;
        }
        return roar_s3_is_region(last + 3, last_len - 3);
    }
    if (!roar_s3_is_region(last, last_len) || b < 2) {
        return 0;
    }
    /* The label before the region: "s3", "s3-fips" or "dualstack". */
    size_t end = b - 1; /* the dot */
    size_t a = roar_s3_label_start(rest, end);
    const char* svc = rest + a;
    size_t svc_len = end - a;
    if (roar_s3_ieq(svc, svc_len, "dualstack", 9)) {
        if (a < 2) {
            return 0;
        }
        end = a - 1;
        a = roar_s3_label_start(rest, end);
        svc = rest + a;
        svc_len = end - a;
    }
    return roar_s3_ieq(svc, svc_len, "s3", 2) || roar_s3_ieq(svc, svc_len, "s3-fips", 7);
}

/* Whether `host` (`len` bytes, any case, one trailing dot allowed) is an
 * S3 endpoint by the built-in patterns (ports are not checked here). */
static inline int roar_s3_builtin_host(const char* host, size_t len)
{
    if (len > 0 && host[len - 1] == '.') {
        --len;
    }
    if (!roar_s3_valid_name(host, len)) {
        return 0;
    }
    static const char k_aws[] = ".amazonaws.com";
    static const char k_aws_cn[] = ".amazonaws.com.cn";
    static const char k_gcs[] = "storage.googleapis.com";
    static const char k_r2[] = ".r2.cloudflarestorage.com";
    if (roar_s3_iends(host, len, k_aws, sizeof k_aws - 1)) {
        return roar_s3_aws_form(host, len - (sizeof k_aws - 1));
    }
    if (roar_s3_iends(host, len, k_aws_cn, sizeof k_aws_cn - 1)) {
        return roar_s3_aws_form(host, len - (sizeof k_aws_cn - 1));
    }
    if (roar_s3_iends(host, len, k_gcs, sizeof k_gcs - 1)) {
        return len == sizeof k_gcs - 1 || host[len - sizeof k_gcs] == '.';
    }
    if (roar_s3_iends(host, len, k_r2, sizeof k_r2 - 1)) {
        return len > sizeof k_r2 - 1;
    }
    return 0;
}

/* Parses a decimal port of 1..65535 from `s` (`len` bytes); 0 when invalid. */
static inline uint16_t roar_s3_parse_port(const char* s, size_t len)
{
    if (len == 0 || len > 5) {
        return 0;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < len; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    return v >= 1 && v <= 65535 ? (uint16_t)v : 0;
}

/* Parses the literal address `s` (`len` bytes) of `family` (AF_INET or
 * AF_INET6) into `out`; 0 on success, -1 otherwise. */
static inline int roar_s3_parse_ip(int family, const char* s, size_t len, uint8_t* out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf) {
        return -1;
    }
    __builtin_memcpy(buf, s, len);
    buf[len] = 0;
    return inet_pton(family, buf, out) == 1 ? 0 : -1;
}

/* Parses one ROAR_S3_HOSTS entry (`len` bytes at `s`, surrounding spaces
 * allowed) into `out`. Returns 0, or -1 when it is malformed. */
static inline int roar_s3_parse_entry(const char* s, size_t len, struct roar_s3_entry* out)
{
    while (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
        ++s;
        --len;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t')) {
        --len;
    }
    __builtin_memset(out, 0, sizeof *out);
    if (len > 8 && roar_s3_ieq(s, 8, "https://", 8)) {
        out->scheme = ROAR_S3_SCHEME_HTTPS;
        s += 8;
        len -= 8;
    } else if (len > 7 && roar_s3_ieq(s, 7, "http://", 7)) {
        out->scheme = ROAR_S3_SCHEME_HTTP;
        s += 7;
        len -= 7;
    }
    if (out->scheme != ROAR_S3_SCHEME_NONE) {
        for (size_t i = 0; i < len; ++i) {
            if (s[i] == '/' || s[i] == '?' || s[i] == '#') {
                len = i; /* a URL's path is not part of the destination */
                break;
            }
        }
    }
    if (len == 0) {
        return -1;
    }
    for (size_t i = 0; i < len; ++i) {
        if (s[i] == '@' || s[i] == '/' || s[i] == ',' || s[i] == ' ' || s[i] == 0) {
            return -1;
        }
    }
    const char* host = s;
    size_t host_len = len;
    const char* port = NULL;
    size_t port_len = 0;
    int colons = 0;
    for (size_t i = 0; i < len; ++i) {
        colons += s[i] == ':';
    }
    if (s[0] == '[') {
        size_t close = 1;
        while (close < len && s[close] != ']') {
            ++close;
        }
        if (close == len) {
            return -1;
        }
        host = s + 1;
        host_len = close - 1;
        if (close + 1 < len) {
            if (s[close + 1] != ':') {
                return -1;
            }
            port = s + close + 2;
            port_len = len - close - 2;
        }
        if (roar_s3_parse_ip(AF_INET6, host, host_len, out->addr) != 0) {
            return -1;
        }
        out->kind = ROAR_S3_IP6;
    } else if (colons >= 2) {
        if (roar_s3_parse_ip(AF_INET6, s, len, out->addr) != 0) {
            return -1;
        }
        out->kind = ROAR_S3_IP6;
    } else {
        if (colons == 1) {
            size_t c = 0;
            while (s[c] != ':') {
                ++c;
            }
            host_len = c;
            port = s + c + 1;
            port_len = len - c - 1;
        }
        if (host_len == 0) {
            return -1;
        }
        uint8_t v4[4];
        if (roar_s3_parse_ip(AF_INET, host, host_len, v4) == 0) {
            out->kind = ROAR_S3_IP4;
            __builtin_memcpy(out->addr, v4, 4);
        } else {
            int suffix = 0;
            if (host_len > 2 && host[0] == '*' && host[1] == '.') {
                suffix = 1;
                host += 1; /* keep the dot */
                host_len -= 1;
            }
            size_t name_len = host_len;
            if (name_len > (size_t)(1 + suffix) && host[name_len - 1] == '.') {
                --name_len; /* one trailing dot: the root */
            }
            if (!roar_s3_valid_name(host + suffix, name_len - (size_t)suffix)) {
                return -1;
            }
            out->kind = suffix ? ROAR_S3_SUFFIX : ROAR_S3_NAME;
            for (size_t i = 0; i < name_len; ++i) {
                out->host[i] = roar_s3_lower(host[i]);
            }
            out->host[name_len] = 0;
            out->host_len = (uint16_t)name_len;
        }
    }
    if (port) {
        out->port = roar_s3_parse_port(port, port_len);
        if (out->port == 0) {
            return -1;
        }
    } else if (out->scheme == ROAR_S3_SCHEME_HTTP) {
        out->port = 80;
    } else if (out->scheme == ROAR_S3_SCHEME_HTTPS) {
        out->port = 443;
    }
    return 0;
}

/* Parses the comma-separated `list` (NUL-terminated, may be NULL) into
 * `routes`. Malformed entries, and entries beyond ROAR_S3_ROUTES_MAX, are
 * left out and counted in routes->rejected. Returns routes->count. */
static inline uint32_t roar_s3_routes_parse(struct roar_s3_routes* routes, const char* list)
{
    routes->count = 0;
    routes->rejected = 0;
    while (list && *list) {
        const char* end = list;
        while (*end && *end != ',') {
            ++end;
        }
        size_t len = (size_t)(end - list);
        int blank = 1;
        for (size_t i = 0; i < len; ++i) {
            blank &= list[i] == ' ' || list[i] == '\t';
        }
        if (!blank) {
            if (routes->count < ROAR_S3_ROUTES_MAX
                && roar_s3_parse_entry(list, len, &routes->entries[routes->count]) == 0) {
                routes->count++;
            } else {
                routes->rejected++;
            }
        }
        list = *end ? end + 1 : end;
    }
    return routes->count;
}

/* TLS or plain for an entry that matched at `port`. */
static inline int roar_s3_entry_verdict(const struct roar_s3_entry* e, uint16_t port)
{
    if (e->scheme == ROAR_S3_SCHEME_HTTPS) {
        return ROAR_S3_TLS;
    }
    if (e->scheme == ROAR_S3_SCHEME_HTTP) {
        return ROAR_S3_PLAIN;
    }
    return port == 443 ? ROAR_S3_TLS : ROAR_S3_PLAIN;
}

/* Whether a connection to host name `host` (`len` bytes, any case, one
 * trailing dot allowed) at `port` is S3: ROAR_S3_NO_MATCH, ROAR_S3_PLAIN or
 * ROAR_S3_TLS. `port` 0 asks whether the name matches at some port (what a
 * resolver hook needs to know before any connect). `routes` may be NULL
 * (built-in patterns only). */
static inline int roar_s3_match_name(const struct roar_s3_routes* routes, const char* host, size_t len, uint16_t port)
{
    if (len > 0 && host[len - 1] == '.') {
        --len;
    }
    if (len == 0 || len > ROAR_S3_HOST_MAX) {
        return ROAR_S3_NO_MATCH;
    }
    for (uint32_t i = 0; routes && i < routes->count; ++i) {
        const struct roar_s3_entry* e = &routes->entries[i];
        if (e->port != 0 && port != 0 && e->port != port) {
            continue;
        }
        if ((e->kind == ROAR_S3_NAME && roar_s3_ieq(host, len, e->host, e->host_len))
            || (e->kind == ROAR_S3_SUFFIX && len > e->host_len && roar_s3_iends(host, len, e->host, e->host_len))) {
            return roar_s3_entry_verdict(e, port);
        }
    }
    if ((port == 0 || port == 80 || port == 443) && roar_s3_builtin_host(host, len)) {
        return port == 80 ? ROAR_S3_PLAIN : ROAR_S3_TLS;
    }
    return ROAR_S3_NO_MATCH;
}

/* Whether a connection to the literal address `addr` (`addr_len` 4 for
 * IPv4, 16 for IPv6; an IPv4-mapped IPv6 address counts as IPv4) at `port`
 * matches an ip entry of `routes`: ROAR_S3_NO_MATCH, ROAR_S3_PLAIN or
 * ROAR_S3_TLS. */
static inline int roar_s3_match_addr(const struct roar_s3_routes* routes, const uint8_t* addr, size_t addr_len,
                                     uint16_t port)
{
    static const uint8_t k_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (addr_len == 16 && __builtin_memcmp(addr, k_mapped, 12) == 0) {
        addr += 12;
        addr_len = 4;
    }
    if (!routes || (addr_len != 4 && addr_len != 16)) {
        return ROAR_S3_NO_MATCH;
    }
    const uint8_t kind = addr_len == 4 ? ROAR_S3_IP4 : ROAR_S3_IP6;
    for (uint32_t i = 0; i < routes->count; ++i) {
        const struct roar_s3_entry* e = &routes->entries[i];
        if (e->kind == kind && (e->port == 0 || e->port == port) && __builtin_memcmp(e->addr, addr, addr_len) == 0) {
            return roar_s3_entry_verdict(e, port);
        }
    }
    return ROAR_S3_NO_MATCH;
}

#ifdef __cplusplus
}
#endif

#endif
