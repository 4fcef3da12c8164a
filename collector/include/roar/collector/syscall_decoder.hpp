// What a system call a traced process stopped on means for lineage: which
// ring event it becomes (the same ROAR_OP_* with the same fields the shim
// publishes for the libc call), where its path arguments are in the
// tracee's memory, whether the event needs the call's result (then it is
// published at the syscall-exit stop), and whether the call may destroy
// bytes of an existing file first (then a PRE_MODIFY sync point precedes
// it). Pure: x86_64 syscall number and raw arguments in, a description
// out; reading memory and publishing are the tracer's (tracer.cpp).
#pragma once

#include "roar/collector/event_format.h"

#include <cstdint>

namespace roar::collector {

enum class SyscallKind : uint8_t {
    none,        // not one the tracer reports: resume at once
    open,        // OPEN: dirfd/path, flags, mode; result = fd or -errno
    close,       // CLOSE fd..fd2, published before the call releases them
    dup,         // DUP fd -> result
    chdir,       // CHDIR path (fd = AT_FDCWD) or fd
    rename,      // RENAME dirfd/path -> dirfd2/path2, flags
    link,        // LINK dirfd/path -> dirfd2/path2
    symlink,     // SYMLINK s1 = target text, dirfd2/path2 = the link
    unlink,      // UNLINK dirfd/path, flags (AT_REMOVEDIR)
    mkdir,       // MKDIR dirfd/path, mode
    truncate,    // TRUNCATE by path (dirfd/path) or by fd
    exec,        // EXEC dirfd/path, argv; EXEC_FAILED if it returns
    fork,        // a new process or thread; FORK before a new process
    exit_group,  // PROC_EXIT with the status
    io_uring,    // io_uring_setup: a NOTE (its I/O is not observed)
    connect,     // connect fd to the sockaddr at `path` (`mode` bytes): S3 routing (connect_route.hpp)
    getpeername, // getpeername fd into the sockaddr at `path`, its length at `argv`: S3 routing
};

// Which path a PRE_MODIFY sync point names before the call runs.
enum class PreModify : uint8_t {
    none,
    path,       // dirfd/path, when it exists (write-intent opens, unlink, truncate)
    path2,      // dirfd2/path2, when it exists (the target of a rename)
    both_paths, // renameat2(RENAME_EXCHANGE): either side loses its bytes
    fd,         // ftruncate: the file open at fd
};

struct SyscallCall {
    SyscallKind kind = SyscallKind::none;
    uint16_t op = 0; // the ROAR_OP_* published
    int dirfd = ROAR_AT_FDCWD;
    uint64_t path = 0; // address of s1 in the tracee (0: no path)
    int dirfd2 = ROAR_AT_FDCWD;
    uint64_t path2 = 0; // address of s2 in the tracee
    int fd = -1;
    int fd2 = -1;
    int64_t flags = 0; // open flags, renameat2 flags, AT_REMOVEDIR, clone flags
    uint32_t mode = 0;
    uint64_t open_how = 0;        // openat2: address of struct open_how (flags and mode are there)
    uint64_t argv = 0;            // exec: address of the argv array
    bool needs_result = true;     // publish at the syscall-exit stop, with the result
    bool follows_symlinks = true; // for the existence check before a PRE_MODIFY
    bool new_thread = false;      // fork: CLONE_THREAD (no FORK event)
    bool flags_in_memory = false; // clone3: the flags are in struct clone_args at `argv`
    PreModify pre_modify = PreModify::none;
    int pre_modify_flags = 0; // the PRE_MODIFY's flags (the shim's: open flags, O_WRONLY|O_TRUNC for truncate)
    bool anonymous = false;   // O_TMPFILE: the OPEN carries no path (never an output)
};

// Describes x86_64 syscall `nr` called with `args`. Unknown numbers give
// kind none. For openat2 the caller reads struct open_how at `open_how`
// and then calls apply_open_flags.
SyscallCall decode_syscall(long nr, const uint64_t args[6]);

// Fills in what an open's flags decide (the PRE_MODIFY rule), for flags
// known only after reading memory (openat2). decode_syscall applies it to
// the other opens itself.
void apply_open_flags(SyscallCall& call, int64_t flags, uint32_t mode);

// Whether an fd opened with `flags` can be written through. The tracer does
// not stop on write(2): for a process it owns it notes such an fd's file
// (size, mtime) and publishes WRITE_FD at close, exit or exec if it changed.
bool open_can_write(int64_t flags);

} // namespace roar::collector
