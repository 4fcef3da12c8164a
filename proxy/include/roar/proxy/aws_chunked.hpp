// An incremental decoder for S3's aws-chunked content encoding: the signed
// variant (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], each chunk carries
// a signature chained from the request's seed signature) and the unsigned
// one with trailing checksums (STREAMING-UNSIGNED-PAYLOAD-TRAILER). The
// relay feeds it the client's body as it arrives and forwards only the
// decoded bytes upstream, never the framing. And an encoder for the
// unsigned-trailer form, so the relay can hand a verified trailing checksum
// on to an upstream that decodes aws-chunked itself.
//
// What the decoder guarantees the relay:
//   * a signed chunk's bytes are released only once its signature has
//     verified (chunks above 1 MiB are refused: memory is bounded by one
//     held chunk plus one framing line);
//   * the last byte of the body is released only once the body is
//     complete: the terminal zero-length chunk has arrived (with a valid
//     signature in the signed modes), and the trailer declared by
//     x-amz-trailer has arrived, its checksum matches the decoded bytes
//     and, in the signed-trailer mode, its signature verifies. So a refused
//     upload never hands the relay the whole declared length;
//   * the verified trailing checksum is then available (verified_checksum())
//     for the upstream (see AwsChunkedEncoder and docs/proxy.md).
#pragma once

#include "roar/proxy/checksum.hpp"
#include "roar/proxy/s3_error.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace roar::proxy {

struct ChunkSigning {
    std::string key;            // raw SigV4 signing key of the request
    std::string amz_date;       // X-Amz-Date of the request
    std::string scope;          // credential scope
    std::string seed_signature; // the request's own signature
};

struct ChunkError {
    enum Kind {
        Malformed,    // framing: 400 IncompleteBody
        BadSignature, // a chunk or trailer signature: 403 SignatureDoesNotMatch
        BadDigest,    // a trailing checksum that does not match: 400 BadDigest
        Unsupported,  // valid but beyond what the proxy does: 400 InvalidRequest, named
    } kind = Malformed;
    std::string message;
};

// The S3 error the client gets for `err`.
S3Error to_s3_error(const ChunkError& err);

// A trailing checksum that matched the decoded bytes.
struct TrailerChecksum {
    ChecksumAlgorithm algorithm;
    std::string value; // base64, as sent
    std::string_view header() const { return checksum_header(algorithm); }
};

// The largest signed chunk the decoder holds while its signature is checked.
inline constexpr std::uint64_t k_max_signed_chunk = 1024 * 1024;

// The string to sign for one chunk whose data hashes to `chunk_sha256_hex`,
// chained to `previous_signature`.
std::string chunk_string_to_sign(const ChunkSigning& s, std::string_view previous_signature,
                                 std::string_view chunk_sha256_hex);
// The string to sign for the trailer section whose canonical text
// ("name:value\n" per trailer) is `trailer_text`, chained to
// `previous_signature` (the terminal chunk's).
std::string trailer_string_to_sign(const ChunkSigning& s, std::string_view previous_signature,
                                   std::string_view trailer_text);

// What x-amz-trailer may name: one supported checksum header. The error
// names what is unsupported (several trailers, x-amz-checksum-crc64nvme, ...).
tl::expected<ChecksumAlgorithm, ChunkError> parse_declared_trailer(std::string_view x_amz_trailer);

class AwsChunkedDecoder {
public:
    // `signing` set: every chunk must carry a valid chunk-signature (and the
    // trailer, when `signed_trailer`, a valid x-amz-trailer-signature).
    // Unset: chunk signatures are not expected. `declared_trailer`: the
    // request's x-amz-trailer header (empty when none); the trailer it names
    // must arrive and match, and no other trailer is accepted.
    explicit AwsChunkedDecoder(std::optional<ChunkSigning> signing, bool signed_trailer = false,
                               std::string_view declared_trailer = {});
    ~AwsChunkedDecoder();
    AwsChunkedDecoder(const AwsChunkedDecoder&) = delete;
    AwsChunkedDecoder& operator=(const AwsChunkedDecoder&) = delete;

    // Consumes all of `in`, appending the decoded payload bytes that may be
    // released (see the top of this file) to `out`.
    tl::expected<void, ChunkError> feed(std::string_view in, std::string& out);
    // Checks that the body ended complete (call at end of input); every
    // decoded byte has been released by feed() when this succeeds.
    tl::expected<void, ChunkError> finish() const;

    bool done() const { return m_state == State::Done; }
    // Whether every decoded byte has been released.
    bool complete() const { return m_complete; }
    std::uint64_t decoded_bytes() const { return m_decoded; }
    // Trailing headers (e.g. x-amz-checksum-crc32), lower-case names.
    const std::vector<std::pair<std::string, std::string>>& trailers() const { return m_trailers; }
    // The trailing checksum, once it has matched the decoded bytes.
    const std::optional<TrailerChecksum>& verified_checksum() const { return m_verified; }

private:
    enum class State { SizeLine, Data, DataEnd, Trailer, Done };
    tl::expected<void, ChunkError> on_size_line(std::string& out);
    tl::expected<void, ChunkError> on_trailer_line(std::string& out);
    tl::expected<void, ChunkError> verify_chunk();
    // Appends `data` to `out`, except the last byte of everything decoded so
    // far, which stays in m_tail until the body is complete.
    void release(std::string_view data, std::string& out);
    void complete_body(std::string& out);

    std::optional<ChunkSigning> m_signing;
    bool m_signed_trailer;
    std::optional<ChunkError> m_declared_error;  // x-amz-trailer named something unsupported
    std::optional<ChecksumAlgorithm> m_declared; // what x-amz-trailer named
    std::optional<Checksum> m_checksum;          // of the decoded bytes, for m_declared
    State m_state = State::SizeLine;
    std::string m_line;
    std::uint64_t m_remaining = 0;
    std::uint64_t m_decoded = 0;
    std::string m_chunk_signature;
    std::string m_previous_signature;
    std::string m_trailer_text; // "name:value\n" lines for the trailer signature
    std::vector<std::pair<std::string, std::string>> m_trailers;
    std::optional<TrailerChecksum> m_verified;
    bool m_trailer_signed = false; // x-amz-trailer-signature seen and valid
    struct Hasher;
    std::unique_ptr<Hasher> m_hasher;
    std::string m_held; // bytes of the current signed chunk awaiting verification
    std::string m_tail; // the last decoded byte, held until the body is complete
    bool m_complete = false;
};

// Frames payload bytes as an unsigned-trailer aws-chunked body
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER) in chunks of a fixed size, so the
// encoded length is known before the first byte (Content-Length), ending
// with a trailer that carries a checksum. This is how the relay can pass a
// client's verified trailing checksum on to an upstream that decodes
// aws-chunked (AWS S3, MinIO, moto; not s3rver): send upstream_headers()
// instead of the decoded Content-Length, feed() every decoded byte, then
// finish() with the decoder's verified_checksum().
class AwsChunkedEncoder {
public:
    static constexpr std::uint64_t k_default_chunk = 64 * 1024;

    explicit AwsChunkedEncoder(std::uint64_t chunk_size = k_default_chunk);
    // Content-Length of the encoding of `decoded_length` payload bytes in
    // chunks of `chunk_size` with a trailer of `algorithm`.
    static std::uint64_t encoded_length(std::uint64_t decoded_length, ChecksumAlgorithm algorithm,
                                        std::uint64_t chunk_size = k_default_chunk);
    // The headers an upstream needs for that body (lower-case names):
    // content-encoding, content-length, x-amz-content-sha256,
    // x-amz-decoded-content-length and x-amz-trailer.
    static std::vector<std::pair<std::string, std::string>> upstream_headers(
        std::uint64_t decoded_length, ChecksumAlgorithm algorithm, std::uint64_t chunk_size = k_default_chunk);

    // Appends the framing of `data` to `out` (whole chunks; the rest waits).
    void feed(std::string_view data, std::string& out);
    // Appends the last short chunk, the terminal chunk and the trailer
    // `checksum` to `out`.
    void finish(const TrailerChecksum& checksum, std::string& out);

private:
    std::uint64_t m_chunk;
    std::string m_pending;
};

} // namespace roar::proxy
