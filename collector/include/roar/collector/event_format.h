/* The event format shared by every producer (the preload shim, roar-proxy)
 * and the consumer (the collector). Plain C so the shim can include it
 * without pulling in libstdc++.
 *
 * A ring is one shared-memory segment: a 4 KiB header page followed by
 * `nslots` slots of ROAR_SLOT_SIZE bytes. A record is a 64-byte
 * `struct roar_event` in its first slot, followed by up to three strings
 * (each NUL-terminated, lengths counting the NUL) that may spill into the
 * following slots and wrap around the end of the slot area. A record is
 * valid only once its `stamp` equals ROAR_STAMP(first slot index); the
 * stamp is stored last, with release ordering. See event_ring.h for the
 * producer side and docs/ARCHITECTURE.md for the protocol. */
#ifndef ROAR_COLLECTOR_EVENT_FORMAT_H
#define ROAR_COLLECTOR_EVENT_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ROAR_RING_MAGIC 0x4e474952524f4152ull /* "ROARRING" little-endian */
#define ROAR_RING_VERSION 2u
#define ROAR_SLOT_SIZE 64u
#define ROAR_HEADER_SIZE 4096u
/* Upper bound for one record, header included (64 KiB). */
#define ROAR_MAX_RECORD_SLOTS 1024u
/* Longest string a producer stores; longer ones are cut and flagged. */
#define ROAR_MAX_PATH_BYTES 4096u
#define ROAR_MAX_ARGV_BYTES 32768u

/* The commit marker of the record whose first slot has index `i`. The
 * high bits make a stale or torn slot very unlikely to look committed. */
#define ROAR_STAMP_TAG 0xA5F0000000000000ull
#define ROAR_STAMP(i) (ROAR_STAMP_TAG | (((uint64_t)(i) + 1u) & 0x0000FFFFFFFFFFFFull))

/* Environment variables the shim and the proxy understand. */
#define ROAR_ENV_RING "ROAR_RING"       /* shm name of the job's ring, e.g. /roar-<job> */
#define ROAR_ENV_PRELOAD "ROAR_PRELOAD" /* absolute path of libroar_preload.so */
#define ROAR_ENV_JOB "ROAR_JOB_ID"      /* job uid, for humans and the proxy */
/* Colon-separated names of further variables the shim restores into any
 * environment passed to exec/spawn that lacks them (e.g. the S3 endpoint
 * variables set for the job's proxy). */
#define ROAR_ENV_KEEP "ROAR_KEEP_ENV"

/* Operations. Values are part of the format: append, never renumber. */
enum roar_op {
    /* Process lifecycle (shim). */
    ROAR_OP_PROC_START = 1,  /* fd = ppid, s1 = exe, s2 = cwd, s3 = argv (NUL-separated); flags: ROAR_START_* */
    ROAR_OP_PROC_EXIT = 2,   /* result = status given to exit()/_exit(); flags: ROAR_EXIT_* */
    ROAR_OP_EXEC = 3,        /* before exec: s1 = target path (as given), s3 = argv; flags: ROAR_EXEC_* */
    ROAR_OP_EXEC_FAILED = 4, /* after a failed exec: result = -errno */
    ROAR_OP_SPAWN = 5,       /* posix_spawn/system/popen child: result = child pid, s1 = target, s3 = argv */
    ROAR_OP_FORK = 6,        /* in the parent, just before fork(): the child's state is cloned from here */
    ROAR_OP_WAIT = 7,        /* a reaped child: fd = child pid, result = wait status */
    ROAR_OP_NOTE = 8,        /* s1 = note text about this process (e.g. "io_uring in use"); flags: ROAR_NOTE_* */

    /* File system (shim). Paths are raw, relative to `fd` (a dirfd, or
     * ROAR_AT_FDCWD) and the process's current directory. */
    ROAR_OP_OPEN = 16,         /* fd = dirfd, s1 = path, flags = open flags, mode, result = fd or -errno */
    ROAR_OP_CLOSE = 17,        /* fd; fd2 = last fd for close_range (else == fd) */
    ROAR_OP_DUP = 18,          /* fd = old fd, result = new fd */
    ROAR_OP_CHDIR = 19,        /* s1 = path (fd = ROAR_AT_FDCWD) or fd for fchdir (s1 empty) */
    ROAR_OP_RENAME = 20,       /* fd/s1 -> fd2/s2, flags = renameat2 flags, result */
    ROAR_OP_LINK = 21,         /* fd/s1 -> fd2/s2, result */
    ROAR_OP_SYMLINK = 22,      /* s1 = target text, fd2/s2 = link path, result */
    ROAR_OP_UNLINK = 23,       /* fd/s1, flags (AT_REMOVEDIR), result */
    ROAR_OP_TRUNCATE = 24,     /* by path (fd = dirfd, s1) or by fd (s1 empty), mode unused, result */
    ROAR_OP_WRITE_FD = 25,     /* first write-like use of fd (write, pwrite, mmap MAP_SHARED|PROT_WRITE) */
    ROAR_OP_TRANSFER = 26,     /* copy_file_range/sendfile/splice: fd = in, fd2 = out, result = bytes */
    ROAR_OP_FD_INHERITED = 27, /* at start: fd, s1 = what /proc/self/fd/N names, flags = F_GETFL */
    ROAR_OP_PRE_MODIFY = 28,   /* sync point before fd/s1 (or fd alone) is modified, see ring docs */
    ROAR_OP_READ_FD = 29,      /* first read-like use of fd (read, pread, mmap PROT_READ) when tracked */
    ROAR_OP_MKDIR = 30,        /* fd/s1, mode, result */

    /* S3 (roar-proxy). s1 = "s3://bucket/key", s2 = ETag (quotes kept as
     * the upstream sent them), s3 = extra "name=value\n" lines (blake3,
     * version_id, range, size, cut, source, upload_id; docs/proxy.md,
     * "What is captured"). result = body bytes,
     * flags = HTTP status. pid = the proxy's pid. */
    ROAR_OP_S3_GET = 64,
    ROAR_OP_S3_PUT = 65,
    ROAR_OP_S3_DELETE = 66,
    ROAR_OP_S3_COPY = 67, /* s1 = destination; s3 carries source=s3://..., source_etag= or source_note= */
    ROAR_OP_S3_MULTIPART_COMPLETE = 68,
    ROAR_OP_S3_HEAD = 69,
    /* One page of a ListObjects(V2) answer: s1 = "s3://bucket/prefix" (the
     * prefix as listed, maybe empty), s3 carries truncated=0|1 and first=1
     * when the page starts the listing (no continuation token, marker or
     * start-after); result = keys on the page. Its entries follow it. */
    ROAR_OP_S3_LIST_PAGE = 70,
    /* One entry of the page before it: s1 = "s3://bucket/key", s2 = ETag,
     * s3 carries prefix=<the listing's prefix> and common_prefix=1 for a
     * CommonPrefixes entry (key = that prefix); result = size, -1 for a
     * common prefix. */
    ROAR_OP_S3_LISTED = 71,
    /* One successful UploadPartCopy, seen from its source (what was read):
     * s1 = the source "s3://bucket/key", s2 = its ETag when the client made
     * the copy conditional on one (x-amz-copy-source-if-match), else empty;
     * s3 carries version_id (the source's), range (x-amz-copy-source-range;
     * absent: the whole object), upload_id, part_number and destination
     * (s3://bucket/key of the upload); result = -1. */
    ROAR_OP_S3_PART_COPY = 72
};

/* ROAR_OP_PROC_START flags. */
#define ROAR_START_ARGV_TRUNCATED 0x1 /* argv was longer than ROAR_MAX_ARGV_BYTES */
#define ROAR_START_AFTER_EXEC 0x2     /* this image replaced an earlier one in the same pid */
#define ROAR_START_FORKED 0x4         /* a fork child (no exec): same image as the parent, fd = ppid */
#define ROAR_START_TRACED 0x8         /* published by roar run's ptrace tracer: the shim is not in this image */
#define ROAR_START_FS_TRACED 0x10     /* the shim runs here, but the tracer reports this process's file syscalls */
/* ROAR_OP_PROC_EXIT flags. */
#define ROAR_EXIT_STATUS_UNKNOWN 0x1 /* seen from a destructor: the parent's wait says the status */
/* ROAR_OP_EXEC flags: what the shim found out about the target, cheaply. */
#define ROAR_EXEC_STATIC 0x1   /* ELF without PT_INTERP: the loader never runs, no shim */
#define ROAR_EXEC_SETID 0x2    /* setuid/setgid: the loader drops LD_PRELOAD */
#define ROAR_EXEC_FILECAPS 0x4 /* security.capability xattr: same */
#define ROAR_EXEC_GO 0x8       /* Go binary: raw syscalls bypass libc */
#define ROAR_EXEC_NOT_ELF 0x10 /* script or unknown: the interpreter decides */
#define ROAR_EXEC_32BIT 0x20   /* 32-bit ELF (i386 or x32): neither the shim nor the tracer can observe it */
/* Set by the shim on the EXEC of a target it cannot enter (STATIC/GO) when
 * the ring's tracer_mode allows it: a sync point asking roar run's tracer to
 * PTRACE_SEIZE the publishing thread (event tid) before it calls execve. */
#define ROAR_EXEC_TRACE_REQUEST 0x40
/* ROAR_OP_NOTE flags. */
#define ROAR_NOTE_NETWORK 0x1 /* about network traffic (S3 not observed), not about file I/O */
/* Any record: a string was cut to fit. */
#define ROAR_FLAG_TRUNCATED 0x40000000

#define ROAR_AT_FDCWD (-100)

/* An openat flag bit the kernel ignores (open(2) drops unknown flags): roar's
 * own opens inside a job's processes (the shim's exec probe and /proc
 * reads) carry it, so the tracer's filter lets them through unstopped and
 * unreported. Never set by programs. */
#define ROAR_OPEN_OWN 0x40000000

/* Its close(2) counterpart: a bit above the 32-bit fd, which the kernel
 * ignores (close takes an unsigned int). roar's closes of the fds it opened
 * with ROAR_OPEN_OWN carry it, so they too pass the filter: the tracer,
 * which learns the fds of read-only opens at their close, never takes
 * roar's own for a program's. Never set by programs. */
#define ROAR_CLOSE_OWN 0x100000000ULL

/* The first slot of every record. Exactly ROAR_SLOT_SIZE bytes. */
struct roar_event {
    uint64_t stamp;  /* ROAR_STAMP(index) once committed; stored last */
    uint16_t op;     /* enum roar_op */
    uint16_t nslots; /* slots this record occupies, header included */
    uint32_t pid;
    uint32_t tid;
    int32_t fd;  /* fd or dirfd belonging to s1 */
    int32_t fd2; /* second fd, or dirfd belonging to s2 */
    int32_t flags;
    uint32_t mode;
    uint32_t len1; /* bytes of s1 including its NUL; 0 = absent */
    uint32_t len2;
    uint32_t len3;
    int64_t result;   /* return value, or -errno */
    uint64_t time_ns; /* CLOCK_REALTIME; the shim's file records (op >= 16): CLOCK_REALTIME_COARSE */
};

/* The header page. Producers touch `head` (reserve) and the counters;
 * the consumer owns `tail`, `progress` and `heartbeat_ns`. */
struct roar_ring_header {
    uint64_t magic;
    uint32_t version;
    uint32_t slot_size;
    uint64_t nslots; /* a power of two */
    uint64_t created_ns;
    uint32_t sync_timeout_ms; /* longest a producer waits at a sync point */
    uint32_t consumer_pid;
    uint8_t pad0[64 - 32];

    uint64_t head; /* next slot to reserve (CAS by producers) */
    uint8_t pad1[56];

    uint64_t tail;         /* next slot to consume (consumer, release) */
    uint32_t progress;     /* futex: bumped when tail moves and someone waits */
    uint32_t sync_waiters; /* producers blocked at a sync point */
    uint64_t heartbeat_ns; /* CLOCK_MONOTONIC of the consumer's last poll */
    uint8_t pad2[40];

    uint32_t doorbell;       /* futex: producers bump it to wake the consumer */
    uint32_t wake_requested; /* set by the producer that rang for a filling ring; the consumer clears it */
    uint64_t dropped;        /* records refused: the ring was full and the consumer gone or stalled */
    uint64_t truncated;      /* records whose strings were cut */
    uint64_t sync_timeouts;  /* sync points that gave up waiting */
    uint64_t full_waits;     /* records whose producer waited for space in a full ring */
    uint64_t full_wait_ns;   /* total time producers spent waiting for space */
    uint32_t space_wanted;   /* a producer waits for space: the consumer clears it, wakes `progress` */
    uint32_t full_wait_ms;   /* a producer drops after the consumer freed nothing this long; 0: never waits */
    uint64_t stalled_tail;   /* tail + 1 where a producer gave up: others drop at once until tail moves */

    /* The ptrace tracer (collector/src/tracer), written by the consumer. */
    uint32_t tracer_mode; /* ROAR_TRACER_*: whether the shim may hand a process to the tracer */
    uint32_t tracer_tid;  /* the tracing thread once it runs (the TracerPid of its tracees), else 0 */

    /* Records published so far that may change what a path names or holds
     * (see roar_op_changes_files in event_ring.h), counted by every producer
     * before it reserves such a record. A process that sees the count
     * unchanged since it published a read-only OPEN of a path knows that a
     * second one would tell the collector nothing new (the shim's reopen
     * cache). On a line of its own: jobs that write a lot bump it often. */
    uint64_t changes __attribute__((aligned(64)));
};

/* roar_ring_header.tracer_mode. */
#define ROAR_TRACER_OFF 0u      /* no ptrace: what the shim cannot enter is reported as not observed */
#define ROAR_TRACER_AUTO 1u     /* static and Go programs are traced (run.tracer = "auto", the default) */
#define ROAR_TRACER_COMPLETE 2u /* the whole job runs under the tracer's syscall filter */

#ifdef __cplusplus
static_assert(sizeof(struct roar_event) == ROAR_SLOT_SIZE, "one event header per slot");
static_assert(sizeof(struct roar_ring_header) <= ROAR_HEADER_SIZE, "the header fits its page");
#else
_Static_assert(sizeof(struct roar_event) == ROAR_SLOT_SIZE, "one event header per slot");
_Static_assert(sizeof(struct roar_ring_header) <= ROAR_HEADER_SIZE, "the header fits its page");
#endif

#ifdef __cplusplus
}
#endif

#endif
