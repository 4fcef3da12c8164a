// BLAKE3 over files with the reference C implementation. Files are read
// with plain read() into one 1 MiB buffer: large enough for the SIMD
// kernels to work on many chunks at once, small enough to stay in cache.
#include "roar/collector/file_hasher.hpp"

#include <blake3.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace roar::collector {

namespace {

constexpr size_t k_read_block = 1 << 20;

FileIdentity identity_of(const struct stat& st)
{
    FileIdentity id;
    id.device = st.st_dev;
    id.inode = st.st_ino;
    id.size = static_cast<uint64_t>(st.st_size);
    id.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    id.is_regular = S_ISREG(st.st_mode);
    return id;
}

std::string to_hex(const uint8_t* bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    std::string hex(n * 2, '0');
    for (size_t i = 0; i < n; ++i) {
        hex[2 * i] = digits[bytes[i] >> 4];
        hex[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    return hex;
}

} // namespace

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
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
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
    }
    struct stat after;
    fstat(fd, &after);
    uint8_t out[BLAKE3_OUT_LEN];
    blake3_hasher_finalize(&hasher, out, BLAKE3_OUT_LEN);
    FileDigest digest;
    digest.blake3 = to_hex(out, BLAKE3_OUT_LEN);
    digest.identity = identity_of(before);
    digest.changed_while_hashing = !(identity_of(after) == digest.identity);
    return digest;
}

std::string blake3_hex(std::string_view data)
{
    blake3_hasher hasher;
    blake3_hasher_init(&hasher);
    blake3_hasher_update(&hasher, data.data(), data.size());
    uint8_t out[BLAKE3_OUT_LEN];
    blake3_hasher_finalize(&hasher, out, BLAKE3_OUT_LEN);
    return to_hex(out, BLAKE3_OUT_LEN);
}

} // namespace roar::collector
