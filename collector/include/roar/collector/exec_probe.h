/* A cheap look at an executable before it is exec'd, to tell whether the
 * preload shim will be able to observe it. Shared by the shim (EXEC and
 * SPAWN events carry the result in `flags`) and the CLI (for the job's root
 * command), so it is static inline C using only raw syscalls and small
 * stack buffers: no heap, no stdio, safe in a vfork-like child.
 *
 * What is detected (ROAR_EXEC_* in event_format.h):
 *  - STATIC: an ELF file without PT_INTERP (static or static-pie): no
 *    dynamic loader runs, so LD_PRELOAD is never honoured.
 *  - SETID: setuid, or setgid with group-execute; the loader runs in secure
 *    mode and drops LD_PRELOAD whenever the ids actually change (not when
 *    root runs a root-owned setuid file: the collector decides from whether
 *    the shim's PROC_START arrives).
 *  - FILECAPS: a security.capability xattr, same effect as SETID.
 *  - GO: a Go binary (a PT_NOTE named "Go", or a .go.buildinfo section):
 *    Go makes raw syscalls, even when dynamically linked with cgo.
 *  - 32BIT: an ELFCLASS32 file (i386, or x32 on x86_64): the 64-bit shim
 *    cannot load into it, and roar's tracer does not decode its syscalls.
 *  - NOT_ELF: anything else, normally a "#!" script; for a script the
 *    interpreter named on its first line is probed too (one level) and its
 *    STATIC/SETID/FILECAPS/GO flags are or-ed in.
 * A target that cannot be opened or read yields 0 (the exec will tell).
 *
 * errno: these functions clobber it; callers save and restore it. */
#ifndef ROAR_COLLECTOR_EXEC_PROBE_H
#define ROAR_COLLECTOR_EXEC_PROBE_H

#include "roar/collector/event_format.h"

#include <elf.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Longest interpreter path taken from a "#!" line (the kernel reads 256). */
#define ROAR_PROBE_INTERP_MAX 256

static inline long roar_probe_pread(int fd, void* buf, size_t len, uint64_t off)
{
    return syscall(SYS_pread64, fd, buf, len, (long)off);
}

static inline uint64_t roar_probe_u(const unsigned char* p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* The ELF facts the probe needs, independent of the file's class. */
struct roar_probe_elf_info {
    int is64;
    uint64_t phoff, shoff;
    unsigned phentsize, phnum, shentsize, shnum, shstrndx;
};

/* Looks for a Go build-id note in `len` bytes of a PT_NOTE segment. */
static inline int roar_probe_go_note(const unsigned char* p, uint64_t len)
{
    uint64_t off = 0;
    while (off + 12 <= len) {
        const uint64_t namesz = roar_probe_u(p + off, 4);
        const uint64_t descsz = roar_probe_u(p + off + 4, 4);
        const unsigned char* name = p + off + 12;
        if (off + 12 + namesz > len) {
            break;
        }
        if ((namesz == 3 || namesz == 4) && name[0] == 'G' && name[1] == 'o' && name[2] == 0) {
            return 1;
        }
        off += 12 + ((namesz + 3) & ~(uint64_t)3) + ((descsz + 3) & ~(uint64_t)3);
    }
    return 0;
}

/* Whether the section table names a ".go.buildinfo" section. */
static inline int roar_probe_go_section(int fd, const struct roar_probe_elf_info* e)
{
    static const char k_name[] = ".go.buildinfo";
    unsigned char chunk[1024];
    unsigned char strtab[1024];
    if (e->shoff == 0 || e->shnum == 0 || e->shnum > 512 || e->shstrndx >= e->shnum
        || e->shentsize < (e->is64 ? 64u : 40u) || e->shentsize > sizeof chunk) {
        return 0;
    }
    if (roar_probe_pread(fd, chunk, e->shentsize, e->shoff + (uint64_t)e->shstrndx * e->shentsize)
        != (long)e->shentsize) {
        return 0;
    }
    const uint64_t str_off = e->is64 ? roar_probe_u(chunk + 24, 8) : roar_probe_u(chunk + 16, 4);
    const uint64_t str_size = e->is64 ? roar_probe_u(chunk + 32, 8) : roar_probe_u(chunk + 20, 4);
    long have = roar_probe_pread(fd, strtab, str_size < sizeof strtab ? str_size : sizeof strtab, str_off);
    if (have < 0) {
        return 0;
    }
    const unsigned per_chunk = (unsigned)(sizeof chunk / e->shentsize);
    for (unsigned first = 0; first < e->shnum; first += per_chunk) {
        const unsigned n = e->shnum - first < per_chunk ? e->shnum - first : per_chunk;
        const long want = (long)n * (long)e->shentsize;
        if (roar_probe_pread(fd, chunk, (size_t)want, e->shoff + (uint64_t)first * e->shentsize) != want) {
            return 0;
        }
        for (unsigned i = 0; i < n; ++i) {
            const uint64_t name = roar_probe_u(chunk + (uint64_t)i * e->shentsize, 4);
            char buf[sizeof k_name];
            const char* cand;
            if (name + sizeof k_name <= (uint64_t)have) {
                cand = (const char*)strtab + name;
            } else if (name < str_size && roar_probe_pread(fd, buf, sizeof buf, str_off + name) == (long)sizeof buf) {
                cand = buf;
            } else {
                continue;
            }
            if (__builtin_memcmp(cand, k_name, sizeof k_name) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

/* Probes the ELF file open at `fd` whose first `len` bytes are `head`. */
static inline int roar_probe_elf(int fd, const unsigned char* head, long len)
{
    struct roar_probe_elf_info e;
    const int little = 1;
    if (len < 52 || head[EI_DATA] != (*(const char*)&little ? ELFDATA2LSB : ELFDATA2MSB)) {
        return 0; /* foreign byte order: the loader will refuse it anyway */
    }
    e.is64 = head[EI_CLASS] == ELFCLASS64;
    if (e.is64 && len < 64) {
        return 0;
    }
    e.phoff = e.is64 ? roar_probe_u(head + 32, 8) : roar_probe_u(head + 28, 4);
    e.shoff = e.is64 ? roar_probe_u(head + 40, 8) : roar_probe_u(head + 32, 4);
    const unsigned char* p = head + (e.is64 ? 54 : 42);
    e.phentsize = (unsigned)roar_probe_u(p, 2);
    e.phnum = (unsigned)roar_probe_u(p + 2, 2);
    e.shentsize = (unsigned)roar_probe_u(p + 4, 2);
    e.shnum = (unsigned)roar_probe_u(p + 6, 2);
    e.shstrndx = (unsigned)roar_probe_u(p + 8, 2);

    unsigned char chunk[1024];
    int has_interp = 0;
    int go = 0;
    const unsigned min_ph = e.is64 ? 56u : 32u;
    if (e.phentsize < min_ph || e.phentsize > sizeof chunk || e.phnum == 0 || e.phnum > 256) {
        return 0;
    }
    const unsigned per_chunk = (unsigned)(sizeof chunk / e.phentsize);
    for (unsigned first = 0; first < e.phnum; first += per_chunk) {
        const unsigned n = e.phnum - first < per_chunk ? e.phnum - first : per_chunk;
        const long want = (long)n * (long)e.phentsize;
        if (roar_probe_pread(fd, chunk, (size_t)want, e.phoff + (uint64_t)first * e.phentsize) != want) {
            return 0;
        }
        for (unsigned i = 0; i < n; ++i) {
            const unsigned char* ph = chunk + (uint64_t)i * e.phentsize;
            const uint32_t type = (uint32_t)roar_probe_u(ph, 4);
            if (type == PT_INTERP) {
                has_interp = 1;
            } else if (type == PT_NOTE && !go) {
                const uint64_t off = e.is64 ? roar_probe_u(ph + 8, 8) : roar_probe_u(ph + 4, 4);
                const uint64_t size = e.is64 ? roar_probe_u(ph + 32, 8) : roar_probe_u(ph + 16, 4);
                unsigned char note[512];
                const long got = roar_probe_pread(fd, note, size < sizeof note ? size : sizeof note, off);
                if (got > 0 && roar_probe_go_note(note, (uint64_t)got)) {
                    go = 1;
                }
            }
        }
    }
    if (!go) {
        go = roar_probe_go_section(fd, &e);
    }
    return (has_interp ? 0 : ROAR_EXEC_STATIC) | (go ? ROAR_EXEC_GO : 0) | (e.is64 ? 0 : ROAR_EXEC_32BIT);
}

/* Probes the file open at `fd`. When it is a "#!" script and `interp` is
 * not NULL, copies the interpreter path there (NUL-terminated, at most
 * ROAR_PROBE_INTERP_MAX bytes including the NUL), else sets interp[0] = 0. */
static inline int roar_exec_probe_fd(int fd, char* interp)
{
    int flags = 0;
    if (interp) {
        interp[0] = 0;
    }
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) == 0) {
        if ((st.st_mode & S_ISUID) || ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP))) {
            flags |= ROAR_EXEC_SETID;
        }
    }
    if (syscall(SYS_fgetxattr, fd, "security.capability", (void*)0, (size_t)0) > 0) {
        flags |= ROAR_EXEC_FILECAPS;
    }
    unsigned char head[ROAR_PROBE_INTERP_MAX];
    const long len = roar_probe_pread(fd, head, sizeof head, 0);
    if (len >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') {
        return flags | roar_probe_elf(fd, head, len);
    }
    if (len < 0) {
        return flags;
    }
    flags |= ROAR_EXEC_NOT_ELF;
    if (interp && len > 2 && head[0] == '#' && head[1] == '!') {
        long i = 2;
        while (i < len && (head[i] == ' ' || head[i] == '\t')) {
            ++i;
        }
        long n = 0;
        while (i < len && head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && head[i] != 0
               && n < ROAR_PROBE_INTERP_MAX - 1) {
            interp[n++] = (char)head[i++];
        }
        interp[n] = 0;
    }
    return flags;
}

/* Opens dirfd/path as exec would (following symlinks), probes it, and for
 * a script probes its interpreter too. */
static inline int roar_exec_probe_at(int dirfd, const char* path)
{
    const long fd = syscall(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC | ROAR_OPEN_OWN);
    if (fd < 0) {
        return 0;
    }
    char interp[ROAR_PROBE_INTERP_MAX];
    int flags = roar_exec_probe_fd((int)fd, interp);
    syscall(SYS_close, (unsigned long long)fd | ROAR_CLOSE_OWN);
    if (interp[0]) {
        const long ifd = syscall(SYS_openat, AT_FDCWD, interp, O_RDONLY | O_CLOEXEC | ROAR_OPEN_OWN);
        if (ifd >= 0) {
            flags |= roar_exec_probe_fd((int)ifd, (char*)0)
                     & (ROAR_EXEC_STATIC | ROAR_EXEC_SETID | ROAR_EXEC_FILECAPS | ROAR_EXEC_GO | ROAR_EXEC_32BIT);
            syscall(SYS_close, (unsigned long long)ifd | ROAR_CLOSE_OWN);
        }
    }
    return flags;
}

/* Resolves `file` the way execvp does: as given when it contains a '/',
 * else the first executable PATH entry (`path_env`, NULL = "/bin:/usr/bin";
 * an empty entry is the current directory). Writes into `buf` (`cap`
 * bytes) and returns it, or returns `file` when nothing matched. */
static inline const char* roar_exec_resolve(const char* file, const char* path_env, char* buf, size_t cap)
{
    size_t flen = 0;
    while (file[flen]) {
        if (file[flen] == '/') {
            return file;
        }
        ++flen;
    }
    if (flen == 0) {
        return file;
    }
    const char* p = path_env ? path_env : "/bin:/usr/bin";
    for (;;) {
        const char* end = p;
        while (*end && *end != ':') {
            ++end;
        }
        const size_t dlen = (size_t)(end - p);
        if (dlen + 1 + flen + 1 <= cap) {
            size_t n = 0;
            if (dlen == 0) {
                buf[n++] = '.';
            } else {
                __builtin_memcpy(buf, p, dlen);
                n = dlen;
            }
            buf[n++] = '/';
            __builtin_memcpy(buf + n, file, flen + 1);
            if (syscall(SYS_faccessat, AT_FDCWD, buf, X_OK) == 0) {
                return buf;
            }
        }
        if (!*end) {
            return file;
        }
        p = end + 1;
    }
}

#ifdef __cplusplus
}
#endif

#endif
