// BLAKE3 over files with the reference C implementation. Files are read
// with pread() into 1 MiB buffers: large enough for the SIMD kernels to
// work on many chunks at once, small enough to stay in cache. Files of
// k_parallel_bytes and more are hashed as BLAKE3's tree on every core
// (each thread preads and hashes its own subtrees), as b3sum does; no
// mmap, so a file truncated while it is hashed cannot fault the process.
//
// Most files a job reads are small, and hashing one is then a handful of
// system calls: open, fstat, one pread, fstat, close. Nothing else is paid
// per file (the core count is read once, the read-ahead hint is given only
// for files larger than one read).
#include "roar/collector/file_hasher.hpp"

#include "roar/collector/blake3_tree.hpp"

#include <blake3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <optional>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

namespace roar::collector {

namespace {

constexpr size_t k_read_block = 1 << 20;
// Files at least this large are hashed on several threads.
constexpr uint64_t k_parallel_bytes = uint64_t(32) << 20;
// Subtrees at least this large give their right half to another thread.
constexpr uint64_t k_fork_bytes = uint64_t(8) << 20;

// Reads exactly `len` bytes at `offset`; false on an error or a short
// read (the file shrank).
bool pread_exact(int fd, uint8_t* buf, size_t len, uint64_t offset)
{
    size_t got = 0;
    while (got < len) {
        const ssize_t n = pread(fd, buf + got, len - got, off_t(offset + got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        got += size_t(n);
    }
    return true;
}

// The BLAKE3 node (or with `root` the digest) of the `len` bytes of `fd`
// at `offset` (a multiple of the chunk size), on up to `threads` threads;
// `buf` is k_read_block bytes. Leaves are at most k_read_block long.
std::optional<blake3::Cv> fd_subtree(int fd, uint64_t offset, uint64_t len, bool root, unsigned threads, uint8_t* buf)
{
    if (len <= k_read_block) {
        if (!pread_exact(fd, buf, size_t(len), offset)) {
            return std::nullopt;
        }
        return blake3::subtree_cv(buf, len, offset / blake3::k_chunk_len, root);
    }
    const uint64_t left = blake3::left_subtree_len(len);
    std::optional<blake3::Cv> l, r;
    if (threads > 1 && len >= k_fork_bytes) {
        const unsigned right_threads = threads / 2;
        std::thread helper([&] {
            std::unique_ptr<uint8_t[]> own(new uint8_t[k_read_block]);
            r = fd_subtree(fd, offset + left, len - left, false, right_threads, own.get());
        });
        l = fd_subtree(fd, offset, left, false, threads - right_threads, buf);
        helper.join();
    } else {
        l = fd_subtree(fd, offset, left, false, threads, buf);
        if (l) {
            r = fd_subtree(fd, offset + left, len - left, false, threads, buf);
        }
    }
    if (!l || !r) {
        return std::nullopt;
    }
    return blake3::parent_cv(*l, *r, root);
}

// The number of threads a large file is hashed on. glibc answers
// hardware_concurrency() by reading /sys/devices/system/cpu/online, three
// system calls, so it is asked once.
unsigned hashing_threads()
{
    static const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    return threads;
}

} // namespace

FileIdentity identity_of(const struct stat& st)
{
    FileIdentity id;
    id.device = st.st_dev;
    id.inode = st.st_ino;
    id.size = static_cast<uint64_t>(st.st_size);
    id.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    id.ctime_ns = int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
    id.is_regular = S_ISREG(st.st_mode);
    return id;
}

bool identity_settled(const FileIdentity& id)
{
    using namespace std::chrono;
    const int64_t now = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
    return id.mtime_ns < now - int64_t(2'000'000'000);
}

Result<FileIdentity> identify_file(const std::string& path)
{
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
        return fail("cannot stat {}: {}", path, std::strerror(errno));
    }
    return identity_of(st);
}

Result<FileDigest> blake3_file(const std::string& path)
{
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        return fail("cannot open {}: {}", path, std::strerror(errno));
    }
    auto digest = blake3_fd(fd, path);
    close(fd);
    return digest;
}

Result<FileDigest> blake3_fd(int fd, const std::string& path)
{
    struct stat before;
    if (fstat(fd, &before) != 0 || !S_ISREG(before.st_mode)) {
        return fail("{} is not a regular file", path);
    }
    const uint64_t size = uint64_t(before.st_size);
    if (size > k_read_block) {
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    const unsigned threads = hashing_threads();
    if (size >= k_parallel_bytes && threads > 1) {
        std::unique_ptr<uint8_t[]> buffer(new uint8_t[k_read_block]);
        if (auto root = fd_subtree(fd, 0, size, true, threads, buffer.get())) {
            struct stat after;
            fstat(fd, &after);
            FileDigest digest;
            digest.blake3 = blake3::to_hex(*root);
            digest.identity = identity_of(before);
            digest.changed_while_hashing = !(identity_of(after) == digest.identity);
            return digest;
        }
        // Shrank or failed part-way: hash what is there, sequentially,
        // and let the identity check below report the change.
    }
    blake3_hasher hasher;
    blake3_hasher_init(&hasher);
    std::unique_ptr<uint8_t[]> buffer(new uint8_t[k_read_block]);
    off_t offset = 0;
    for (;;) {
        const ssize_t n = pread(fd, buffer.get(), k_read_block, offset);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail("cannot read {}: {}", path, std::strerror(errno));
        }
        if (n == 0) {
            break;
        }
        offset += n;
        blake3_hasher_update(&hasher, buffer.get(), static_cast<size_t>(n));
        if (size_t(n) < k_read_block && uint64_t(offset) >= size) {
            // A short read that reaches the size fstat gave is the end of
            // the file: a file that grew since shows in the fstat below,
            // so the read that would return 0 is not made.
            break;
        }
    }
    struct stat after;
    fstat(fd, &after);
    blake3::Cv out;
    blake3_hasher_finalize(&hasher, out.data(), out.size());
    FileDigest digest;
    digest.blake3 = blake3::to_hex(out);
    digest.identity = identity_of(before);
    digest.changed_while_hashing = !(identity_of(after) == digest.identity);
    return digest;
}

std::string blake3_hex(std::string_view data)
{
    blake3_hasher hasher;
    blake3_hasher_init(&hasher);
    blake3_hasher_update(&hasher, data.data(), data.size());
    blake3::Cv out;
    blake3_hasher_finalize(&hasher, out.data(), out.size());
    return blake3::to_hex(out);
}

} // namespace roar::collector
