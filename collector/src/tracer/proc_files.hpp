// What /proc says about a stopped tracee, for the events the shim would
// have published from inside the process: its executable, working
// directory, argv and parent (PROC_START), its open fds (FD_INHERITED),
// its environment (does the shim load into this image?), and whether a
// path it names exists (the PRE_MODIFY rule). Paths relative to the
// tracee's cwd or a dirfd go through /proc/<tid>/cwd and /proc/<tid>/fd/N,
// never canonicalised here: the collector resolves what is published.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roar::collector::tracer {

struct ProcessImage {
    std::string exe;
    std::string cwd;
    std::string argv; // NUL-separated, as the shim's PROC_START s3
    bool argv_truncated = false;
    pid_t ppid = 0;
};

// The image of process `pid`.
ProcessImage read_image(pid_t pid);

struct OpenFd {
    int fd;
    int flags; // F_GETFL, from fdinfo (read_path_fd: see there)
    std::string target;
};

// The fds of `pid` that name a path (pipes, sockets and anon inodes are
// left out, as the shim does).
std::vector<OpenFd> read_path_fds(pid_t pid);

// Fd `fd` of thread `tid`, when it is open: `is_open` says whether it is,
// and the result holds its target and flags when it names a path that
// still exists (not a pipe, socket, anon inode or "... (deleted)" file).
// The flags are its access mode alone (O_RDONLY, O_WRONLY or O_RDWR) when
// it can read or write, else read_fd_flags's (O_PATH).
std::optional<OpenFd> read_path_fd(pid_t tid, int fd, bool& is_open);

// All of fd `fd`'s flags as fdinfo has them, less the O_LARGEFILE the
// kernel adds (O_DIRECTORY, O_APPEND ...; never O_CREAT or O_TRUNC), or -1.
int read_fd_flags(pid_t tid, int fd);

// The fd numbers open in thread `tid`'s table.
std::vector<int> read_fd_numbers(pid_t tid);

// The file offset of `fd` in thread `tid` (fdinfo's "pos"), or -1.
int64_t read_fd_pos(pid_t tid, int fd);

// Whether the environment of `pid` makes the loader map `preload` (in
// LD_PRELOAD) and the shim find `ring` (ROAR_RING).
bool environment_has_shim(pid_t pid, const std::string& preload, const std::string& ring);

// The Tgid and PPid lines of /proc/<tid>/status (0 when unreadable).
void read_ids(pid_t tid, pid_t& tgid, pid_t& ppid);

// The path through which this process reaches `path` as thread `tid` sees
// it relative to `dirfd` (ROAR_AT_FDCWD: its cwd); "" when `path` is empty.
std::string path_from_here(pid_t tid, int dirfd, const std::string& path);

// Whether `path` exists as `tid` sees it (following a final symlink when
// `follow`).
bool path_exists(pid_t tid, int dirfd, const std::string& path, bool follow);

} // namespace roar::collector::tracer
