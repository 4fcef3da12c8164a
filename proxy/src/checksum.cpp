// S3's flexible checksums. The CRCs run on ISA-L, which picks its SSE4.2 /
// PCLMULQDQ / AVX-512 code at run time; the SHA digests on OpenSSL's EVP.
#include "roar/proxy/checksum.hpp"

#include "roar/proxy/request.hpp"
#include "roar/proxy/sigv2.hpp"

#include <openssl/evp.h>

#include <isa-l/crc.h>

#include <array>
#include <climits>

namespace roar::proxy {

struct Checksum::Digest {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    explicit Digest(const EVP_MD* md) { EVP_DigestInit_ex(ctx, md, nullptr); }
    ~Digest() { EVP_MD_CTX_free(ctx); }
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;
};

std::optional<ChecksumAlgorithm> checksum_algorithm(std::string_view name)
{
    for (const auto a :
         {ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Crc32c, ChecksumAlgorithm::Sha1, ChecksumAlgorithm::Sha256}) {
        if (iequals(name, checksum_header(a))) {
            return a;
        }
    }
    return std::nullopt;
}

std::string_view checksum_label(ChecksumAlgorithm algorithm)
{
    switch (algorithm) {
    case ChecksumAlgorithm::Crc32: return "CRC32";
    case ChecksumAlgorithm::Crc32c: return "CRC32C";
    case ChecksumAlgorithm::Sha1: return "SHA1";
    case ChecksumAlgorithm::Sha256: return "SHA256";
    }
    return {};
}

std::string_view checksum_header(ChecksumAlgorithm algorithm)
{
    switch (algorithm) {
    case ChecksumAlgorithm::Crc32: return "x-amz-checksum-crc32";
    case ChecksumAlgorithm::Crc32c: return "x-amz-checksum-crc32c";
    case ChecksumAlgorithm::Sha1: return "x-amz-checksum-sha1";
    case ChecksumAlgorithm::Sha256: return "x-amz-checksum-sha256";
    }
    return {};
}

std::size_t checksum_value_length(ChecksumAlgorithm algorithm)
{
    switch (algorithm) {
    case ChecksumAlgorithm::Crc32:
    case ChecksumAlgorithm::Crc32c: return 8;
    case ChecksumAlgorithm::Sha1: return 28;
    case ChecksumAlgorithm::Sha256: return 44;
    }
    return 0;
}

Checksum::Checksum(ChecksumAlgorithm algorithm) : m_algorithm(algorithm)
{
    switch (algorithm) {
    case ChecksumAlgorithm::Crc32: m_crc = 0; break;            // crc32_gzip_refl chains finished values
    case ChecksumAlgorithm::Crc32c: m_crc = 0xFFFFFFFFu; break; // crc32_iscsi chains the raw register
    case ChecksumAlgorithm::Sha1: m_digest = std::make_unique<Digest>(EVP_sha1()); break;
    case ChecksumAlgorithm::Sha256: m_digest = std::make_unique<Digest>(EVP_sha256()); break;
    }
}

Checksum::~Checksum() = default;
Checksum::Checksum(Checksum&&) noexcept = default;
Checksum& Checksum::operator=(Checksum&&) noexcept = default;

void Checksum::update(std::string_view data)
{
    auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
    switch (m_algorithm) {
    case ChecksumAlgorithm::Crc32: m_crc = crc32_gzip_refl(m_crc, bytes, data.size()); break;
    case ChecksumAlgorithm::Crc32c:
        // crc32_iscsi takes an int length.
        for (std::size_t done = 0; done < data.size();) {
            const std::size_t n = std::min<std::size_t>(data.size() - done, INT_MAX / 2);
            m_crc = crc32_iscsi(const_cast<unsigned char*>(bytes + done), static_cast<int>(n), m_crc);
            done += n;
        }
        break;
    case ChecksumAlgorithm::Sha1:
    case ChecksumAlgorithm::Sha256: EVP_DigestUpdate(m_digest->ctx, data.data(), data.size()); break;
    }
}

std::string Checksum::finish_base64()
{
    if (m_digest) {
        std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
        unsigned int len = 0;
        EVP_DigestFinal_ex(m_digest->ctx, md.data(), &len);
        return sigv2::base64(std::string_view(reinterpret_cast<const char*>(md.data()), len));
    }
    const std::uint32_t crc = m_algorithm == ChecksumAlgorithm::Crc32c ? ~m_crc : m_crc;
    const char be[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16), static_cast<char>(crc >> 8),
                        static_cast<char>(crc)};
    return sigv2::base64(std::string_view(be, 4));
}

std::string checksum_base64(ChecksumAlgorithm algorithm, std::string_view data)
{
    Checksum c(algorithm);
    c.update(data);
    return c.finish_base64();
}

} // namespace roar::proxy
