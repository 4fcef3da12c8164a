/* The header a redirected S3 connection starts with (issue 17): a PROXY
 * protocol version 2 header as HAProxy's published specification defines
 * it, written by the shim (or the ptrace tracer) on the socket it connected
 * to the job's proxy, before the client's first byte, and read by the
 * proxy. It names the original destination, the process and the job.
 *
 * Layout: the 12-byte signature "\r\n\r\n\0\r\nQUIT\n"; ver_cmd 0x21
 * (version 2, PROXY); family 0x11 (TCP over IPv4) or 0x21 (TCP over IPv6);
 * the length of the rest (big-endian); source address, destination
 * address, source port, destination port (network order); then TLVs
 * (type, 16-bit big-endian length, value):
 *   0x02 PP2_TYPE_AUTHORITY  the host name the client connected by (1..255 bytes, printable)
 *   0xE0 ROAR_PP2_SECRET     the job's secret: 64 lowercase hex chars
 *   0xE1 ROAR_PP2_PID        the client's pid, 4 bytes big-endian
 *   0xE2 ROAR_PP2_FLAGS      1 byte; bit 0: the destination is expected to speak TLS
 * Other TLV types are skipped by the decoder, as the specification asks.
 *
 * Plain C, static inline, no heap, no errno: the encoder writes into a
 * caller's buffer; the decoder checks every length against the bytes it
 * was given and refuses (returns -1) anything else: another version or
 * command (LOCAL), another family or transport, a header longer than
 * ROAR_PP2_MAX_HEADER, a TLV running past the end, a known TLV of the
 * wrong size or content, a known TLV given twice. Whether the secret is
 * the right one is the proxy's decision (roar_pp2_secret_equal). */
#ifndef ROAR_COLLECTOR_PROXY_HEADER_H
#define ROAR_COLLECTOR_PROXY_HEADER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ROAR_PP2_SIGNATURE "\r\n\r\n\0\r\nQUIT\n"
#define ROAR_PP2_SIGNATURE_LEN 12
#define ROAR_PP2_FIXED_LEN 16 /* signature, ver_cmd, family, length */
#define ROAR_PP2_VER_CMD_PROXY 0x21
#define ROAR_PP2_FAM_TCP4 0x11
#define ROAR_PP2_FAM_TCP6 0x21

#define ROAR_PP2_TYPE_AUTHORITY 0x02
#define ROAR_PP2_TYPE_SECRET 0xE0
#define ROAR_PP2_TYPE_PID 0xE1
#define ROAR_PP2_TYPE_FLAGS 0xE2

#define ROAR_PP2_FLAG_TLS 0x01

#define ROAR_PP2_SECRET_LEN 64
#define ROAR_PP2_AUTHORITY_MAX 255
/* Longest header the decoder accepts; what the encoder writes is at most
 * 16 + 36 + (3 + 255) + (3 + 64) + (3 + 4) + (3 + 1) = 388 bytes. */
#define ROAR_PP2_MAX_HEADER 512

struct roar_pp2 {
    int ipv6;               /* 0: 4-byte addresses (family 0x11), 1: 16-byte (0x21) */
    uint8_t src_addr[16];   /* network order; the first 4 bytes for IPv4 */
    uint8_t dst_addr[16];   /* the ORIGINAL destination */
    uint16_t src_port;      /* host order */
    uint16_t dst_port;      /* host order */
    uint16_t authority_len; /* 0: absent */
    char authority[ROAR_PP2_AUTHORITY_MAX + 1];
    int has_secret;
    char secret[ROAR_PP2_SECRET_LEN + 1];
    int has_pid;
    uint32_t pid;
    int has_flags;
    uint8_t flags; /* ROAR_PP2_FLAG_* */
};

static inline void roar_pp2_put16(unsigned char* p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

static inline uint32_t roar_pp2_get16(const unsigned char* p) { return ((uint32_t)p[0] << 8) | p[1]; }

/* Whether `s` (`len` bytes) is lowercase hex. */
static inline int roar_pp2_is_hex(const char* s, size_t len)
{
    for (size_t i = 0; i < len; ++i) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* Whether an authority value is acceptable: printable ASCII without
 * spaces (a host name, or an address in brackets). */
static inline int roar_pp2_valid_authority(const char* s, size_t len)
{
    if (len == 0 || len > ROAR_PP2_AUTHORITY_MAX) {
        return 0;
    }
    for (size_t i = 0; i < len; ++i) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

/* Encodes `h` into `buf` (`cap` bytes). The secret is written when
 * h->has_secret (it must be 64 lowercase hex chars), the authority when
 * h->authority_len > 0, the pid and flags when has_pid / has_flags.
 * Returns the header's length, or -1 when a field is invalid or `cap` is
 * too small. */
static inline long roar_pp2_encode(const struct roar_pp2* h, unsigned char* buf, size_t cap)
{
    const size_t addr_len = h->ipv6 ? 16 : 4;
    size_t len = ROAR_PP2_FIXED_LEN + 2 * addr_len + 4;
    if (h->authority_len > 0) {
        if (!roar_pp2_valid_authority(h->authority, h->authority_len)) {
            return -1;
        }
        len += 3 + (size_t)h->authority_len;
    }
    if (h->has_secret) {
        if (!roar_pp2_is_hex(h->secret, ROAR_PP2_SECRET_LEN)) {
            return -1;
        }
        len += 3 + ROAR_PP2_SECRET_LEN;
    }
    len += h->has_pid ? 3 + 4 : 0;
    len += h->has_flags ? 3 + 1 : 0;
    if (len > cap || len > ROAR_PP2_MAX_HEADER) {
        return -1;
    }
    unsigned char* p = buf;
    __builtin_memcpy(p, ROAR_PP2_SIGNATURE, ROAR_PP2_SIGNATURE_LEN);
    p += ROAR_PP2_SIGNATURE_LEN;
    *p++ = ROAR_PP2_VER_CMD_PROXY;
    *p++ = h->ipv6 ? ROAR_PP2_FAM_TCP6 : ROAR_PP2_FAM_TCP4;
    roar_pp2_put16(p, (uint32_t)(len - ROAR_PP2_FIXED_LEN));
    p += 2;
    __builtin_memcpy(p, h->src_addr, addr_len);
    p += addr_len;
    __builtin_memcpy(p, h->dst_addr, addr_len);
    p += addr_len;
    roar_pp2_put16(p, h->src_port);
    roar_pp2_put16(p + 2, h->dst_port);
    p += 4;
    if (h->authority_len > 0) {
        *p++ = ROAR_PP2_TYPE_AUTHORITY;
        roar_pp2_put16(p, h->authority_len);
        __builtin_memcpy(p + 2, h->authority, h->authority_len);
        p += 2 + h->authority_len;
    }
    if (h->has_secret) {
        *p++ = ROAR_PP2_TYPE_SECRET;
        roar_pp2_put16(p, ROAR_PP2_SECRET_LEN);
        __builtin_memcpy(p + 2, h->secret, ROAR_PP2_SECRET_LEN);
        p += 2 + ROAR_PP2_SECRET_LEN;
    }
    if (h->has_pid) {
        *p++ = ROAR_PP2_TYPE_PID;
        roar_pp2_put16(p, 4);
        p[2] = (unsigned char)(h->pid >> 24);
        p[3] = (unsigned char)(h->pid >> 16);
        p[4] = (unsigned char)(h->pid >> 8);
        p[5] = (unsigned char)h->pid;
        p += 6;
    }
    if (h->has_flags) {
        *p++ = ROAR_PP2_TYPE_FLAGS;
        roar_pp2_put16(p, 1);
        p[2] = h->flags;
        p += 3;
    }
    return (long)(p - buf);
}

/* Whether the first `len` bytes of `buf` start a PROXY v2 header: 1 when
 * they hold the whole signature, 0 when they cannot be one, -1 when they
 * are a proper prefix of it (read more to know). */
static inline int roar_pp2_has_signature(const unsigned char* buf, size_t len)
{
    const size_t n = len < ROAR_PP2_SIGNATURE_LEN ? len : ROAR_PP2_SIGNATURE_LEN;
    if (__builtin_memcmp(buf, ROAR_PP2_SIGNATURE, n) != 0) {
        return 0;
    }
    return n == ROAR_PP2_SIGNATURE_LEN ? 1 : -1;
}

/* Decodes the header at the start of `buf` (`len` bytes) into `out`.
 * Returns the header's total length (the client's bytes start there), 0
 * when `len` holds only a prefix of a header that may still be valid (read
 * more), or -1 when the bytes are not a header this decoder accepts (see
 * the top of this file). */
static inline long roar_pp2_decode(const unsigned char* buf, size_t len, struct roar_pp2* out)
{
    __builtin_memset(out, 0, sizeof *out);
    const int sig = roar_pp2_has_signature(buf, len);
    if (sig == 0) {
        return -1;
    }
    if (len < ROAR_PP2_FIXED_LEN) {
        if (len > ROAR_PP2_SIGNATURE_LEN && buf[12] != ROAR_PP2_VER_CMD_PROXY) {
            return -1;
        }
        if (len > ROAR_PP2_SIGNATURE_LEN + 1 && buf[13] != ROAR_PP2_FAM_TCP4 && buf[13] != ROAR_PP2_FAM_TCP6) {
            return -1;
        }
        return 0;
    }
    if (buf[12] != ROAR_PP2_VER_CMD_PROXY || (buf[13] != ROAR_PP2_FAM_TCP4 && buf[13] != ROAR_PP2_FAM_TCP6)) {
        return -1;
    }
    const int ipv6 = buf[13] == ROAR_PP2_FAM_TCP6;
    const size_t addr_len = ipv6 ? 16 : 4;
    const size_t rest = roar_pp2_get16(buf + 14);
    const size_t total = ROAR_PP2_FIXED_LEN + rest;
    if (rest < 2 * addr_len + 4 || total > ROAR_PP2_MAX_HEADER) {
        return -1;
    }
    if (len < total) {
        return 0;
    }
    const unsigned char* p = buf + ROAR_PP2_FIXED_LEN;
    out->ipv6 = ipv6;
    __builtin_memcpy(out->src_addr, p, addr_len);
    __builtin_memcpy(out->dst_addr, p + addr_len, addr_len);
    out->src_port = (uint16_t)roar_pp2_get16(p + 2 * addr_len);
    out->dst_port = (uint16_t)roar_pp2_get16(p + 2 * addr_len + 2);
    p += 2 * addr_len + 4;
    const unsigned char* end = buf + total;
    while (p < end) {
        if (end - p < 3) {
            return -1;
        }
        const unsigned type = p[0];
        const size_t vlen = roar_pp2_get16(p + 1);
        const unsigned char* v = p + 3;
        if ((size_t)(end - v) < vlen) {
            return -1;
        }
        switch (type) {
        case ROAR_PP2_TYPE_AUTHORITY:
            if (out->authority_len != 0 || !roar_pp2_valid_authority((const char*)v, vlen)) {
                return -1;
            }
            __builtin_memcpy(out->authority, v, vlen);
            out->authority[vlen] = 0;
            out->authority_len = (uint16_t)vlen;
            break;
        case ROAR_PP2_TYPE_SECRET:
            if (out->has_secret || vlen != ROAR_PP2_SECRET_LEN || !roar_pp2_is_hex((const char*)v, vlen)) {
                return -1;
            }
            __builtin_memcpy(out->secret, v, vlen);
            out->secret[vlen] = 0;
            out->has_secret = 1;
            break;
        case ROAR_PP2_TYPE_PID:
            if (out->has_pid || vlen != 4) {
                return -1;
            }
            out->pid = ((uint32_t)v[0] << 24) | ((uint32_t)v[1] << 16) | ((uint32_t)v[2] << 8) | v[3];
            out->has_pid = 1;
            break;
        case ROAR_PP2_TYPE_FLAGS:
            if (out->has_flags || vlen != 1) {
                return -1;
            }
            out->flags = v[0];
            out->has_flags = 1;
            break;
        default: break; /* unknown TLVs are skipped, as the specification asks */
        }
        p = v + vlen;
    }
    return (long)total;
}

/* Compares two 64-char secrets in time independent of where they differ.
 * Returns 1 when equal. */
static inline int roar_pp2_secret_equal(const char* a, const char* b)
{
    unsigned diff = 0;
    for (size_t i = 0; i < ROAR_PP2_SECRET_LEN; ++i) {
        diff |= (unsigned)(unsigned char)a[i] ^ (unsigned)(unsigned char)b[i];
    }
    return diff == 0;
}

#ifdef __cplusplus
}
#endif

#endif
