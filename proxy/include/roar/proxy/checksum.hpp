// The flexible checksums S3 accepts for an upload (x-amz-checksum-crc32,
// -crc32c, -sha1, -sha256), computed incrementally over the decoded bytes
// so the aws-chunked decoder can verify a trailing checksum before it
// releases the end of the body. CRC32 and CRC32C come from Intel's ISA-L
// (Debian libisal: hardware CRC instructions, chosen at run time); SHA-1
// and SHA-256 from OpenSSL.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace roar::proxy {

enum class ChecksumAlgorithm { Crc32, Crc32c, Sha1, Sha256 };

// The algorithm of header or trailer `name` ("x-amz-checksum-crc32", any
// case); nullopt for any other name.
std::optional<ChecksumAlgorithm> checksum_algorithm(std::string_view name);
// "x-amz-checksum-crc32" etc. for `algorithm`.
std::string_view checksum_header(ChecksumAlgorithm algorithm);
// "CRC32", "CRC32C", "SHA1" or "SHA256": the name S3's error messages use.
std::string_view checksum_label(ChecksumAlgorithm algorithm);
// Length of the base64 value of `algorithm` (8 for the CRCs, 28 and 44).
std::size_t checksum_value_length(ChecksumAlgorithm algorithm);

class Checksum {
public:
    explicit Checksum(ChecksumAlgorithm algorithm);
    ~Checksum();
    Checksum(Checksum&&) noexcept;
    Checksum& operator=(Checksum&&) noexcept;
    Checksum(const Checksum&) = delete;
    Checksum& operator=(const Checksum&) = delete;

    ChecksumAlgorithm algorithm() const { return m_algorithm; }
    // Adds `data` to the checksum.
    void update(std::string_view data);
    // The checksum of everything added, as S3 writes it: base64 of the
    // big-endian digest. Call once.
    std::string finish_base64();

private:
    ChecksumAlgorithm m_algorithm;
    std::uint32_t m_crc = 0;
    struct Digest;
    std::unique_ptr<Digest> m_digest; // SHA-1 / SHA-256
};

// The checksum of `data` under `algorithm`, base64 (for tests and small bodies).
std::string checksum_base64(ChecksumAlgorithm algorithm, std::string_view data);

} // namespace roar::proxy
