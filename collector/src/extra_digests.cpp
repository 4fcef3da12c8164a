// SHA-256 beside BLAKE3 through OpenSSL's EVP interface (see extra_digests.hpp).
#include "roar/collector/extra_digests.hpp"

#include <blake3.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <unistd.h>

namespace roar::collector {

namespace {

constexpr size_t k_block = 1 << 20;

std::string hex(const unsigned char* bytes, size_t n)
{
    static const char* digits = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (size_t i = 0; i < n; ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    return out;
}

struct EvpFree {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using EvpContext = std::unique_ptr<EVP_MD_CTX, EvpFree>;

struct Digests {
    std::string blake3, sha256;
};

// BLAKE3 and SHA-256 of the file at `path` in one sequential read.
Result<Digests> blake3_and_sha256(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail("cannot open {}: {}", path, std::strerror(errno));
    }
    blake3_hasher b3;
    blake3_hasher_init(&b3);
    EvpContext ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
        ::close(fd);
        return fail("OpenSSL could not start a SHA-256 digest");
    }
    std::unique_ptr<char[]> buffer(new char[k_block]);
    for (;;) {
        const ssize_t n = ::read(fd, buffer.get(), k_block);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            return fail("cannot read {}: {}", path, std::strerror(err));
        }
        if (n == 0) {
            break;
        }
        blake3_hasher_update(&b3, buffer.get(), size_t(n));
        EVP_DigestUpdate(ctx.get(), buffer.get(), size_t(n));
    }
    ::close(fd);
    unsigned char b3_out[BLAKE3_OUT_LEN];
    blake3_hasher_finalize(&b3, b3_out, BLAKE3_OUT_LEN);
    unsigned char sha_out[EVP_MAX_MD_SIZE];
    unsigned int sha_len = 0;
    EVP_DigestFinal_ex(ctx.get(), sha_out, &sha_len);
    return Digests{hex(b3_out, BLAKE3_OUT_LEN), hex(sha_out, sha_len)};
}

} // namespace

void add_extra_digests(JobRecord& job, const std::vector<std::string>& algorithms)
{
    if (std::find(algorithms.begin(), algorithms.end(), "sha256") == algorithms.end()) {
        return;
    }
    for (auto* uses : {&job.inputs, &job.outputs}) {
        for (auto& use : *uses) {
            const auto blake3 = use.hashes.find("blake3");
            if (use.kind != "file" || blake3 == use.hashes.end()) {
                continue;
            }
            auto digests = blake3_and_sha256(use.path);
            if (!digests) {
                use.notes.push_back("sha256 not recorded: " + digests.error().message);
            } else if (digests->blake3 != blake3->second) {
                use.notes.push_back("sha256 not recorded: the file changed after roar hashed it");
            } else {
                use.hashes.set("sha256", digests->sha256);
            }
        }
    }
}

std::string sha256_hex(std::string_view data)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
    return hex(out, len);
}

} // namespace roar::collector
