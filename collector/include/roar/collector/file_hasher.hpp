// Content digests of files: BLAKE3 (the artifact identity), with a
// (device, inode, size, mtime, ctime) cache so unchanged files are not re-read.
#pragma once

#include "roar/collector/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct stat;

namespace roar::collector {

// What identifies a file's content cheaply: if none of these changed, the
// bytes are taken to be the same. The change time is part of it because
// ordinary tools put back a file's size and mtime after changing its bytes
// in place (`cp -p` onto an existing file, `tar x` of an archive made with
// `--mtime`), and no program can set the ctime back.
struct FileIdentity {
    uint64_t device = 0;
    uint64_t inode = 0;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    bool is_regular = false;
    bool operator==(const FileIdentity&) const = default;
};

// The identity `st` (a stat() result) describes.
FileIdentity identity_of(const struct stat& st);

// Whether a file may be trusted by its identity: it was last modified more
// than two seconds ago, so any change from now on moves its mtime (file
// timestamps are coarse). The hash cache's rule, and early inputs'. The
// ctime is not asked to be as old: a file put back to an old mtime (`tar
// x`, `cp -p`) has a new ctime, and its identity already differs from any
// cached before; only two such changes within one tick of the clock could
// share a ctime.
bool identity_settled(const FileIdentity& id);

// stat() of `path` as a FileIdentity, or an error naming the path.
Result<FileIdentity> identify_file(const std::string& path);

struct FileDigest {
    std::string blake3; // lowercase hex, 64 characters
    FileIdentity identity;
    bool changed_while_hashing = false; // identity differed before and after
};

// BLAKE3 of the whole of `path`, read sequentially in large blocks.
Result<FileDigest> blake3_file(const std::string& path);

// BLAKE3 of the whole of the regular file open on `fd` (read from its
// start with pread; `fd` stays open); `path` only names it in errors.
Result<FileDigest> blake3_fd(int fd, const std::string& path);

// BLAKE3 of `data` as lowercase hex.
std::string blake3_hex(std::string_view data);

} // namespace roar::collector
