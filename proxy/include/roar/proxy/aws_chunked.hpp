// An incremental decoder for S3's aws-chunked content encoding: the signed
// variant (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], each chunk carries
// a signature chained from the request's seed signature) and the unsigned
// one with trailing checksums (STREAMING-UNSIGNED-PAYLOAD-TRAILER). The
// relay feeds it the client's body as it arrives and forwards only the
// decoded bytes upstream, never the framing. Memory use is bounded by one
// framing line plus one held signed chunk (at most 1 MiB).
#pragma once

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
    enum Kind { Malformed, BadSignature } kind = Malformed;
    std::string message;
};

// The string to sign for one chunk whose data hashes to `chunk_sha256_hex`,
// chained to `previous_signature`.
std::string chunk_string_to_sign(const ChunkSigning& s, std::string_view previous_signature,
                                 std::string_view chunk_sha256_hex);

class AwsChunkedDecoder {
public:
    // `signing` set: every chunk must carry a valid chunk-signature (and a
    // trailer, if any, a valid x-amz-trailer-signature when
    // `signed_trailer`). Unset: chunk signatures are not expected.
    explicit AwsChunkedDecoder(std::optional<ChunkSigning> signing, bool signed_trailer = false);
    ~AwsChunkedDecoder();
    AwsChunkedDecoder(const AwsChunkedDecoder&) = delete;
    AwsChunkedDecoder& operator=(const AwsChunkedDecoder&) = delete;

    // Consumes all of `in`, appending decoded payload bytes to `out`.
    tl::expected<void, ChunkError> feed(std::string_view in, std::string& out);
    // Checks that the body ended on a complete message (call at end of input).
    tl::expected<void, ChunkError> finish() const;

    bool done() const { return m_state == State::Done; }
    std::uint64_t decoded_bytes() const { return m_decoded; }
    // Trailing headers (e.g. x-amz-checksum-crc32), lower-case names.
    const std::vector<std::pair<std::string, std::string>>& trailers() const { return m_trailers; }

private:
    enum class State { SizeLine, Data, DataEnd, Trailer, Done };
    tl::expected<void, ChunkError> on_size_line();
    tl::expected<void, ChunkError> on_trailer_line();
    tl::expected<void, ChunkError> verify_chunk();

    std::optional<ChunkSigning> m_signing;
    bool m_signed_trailer;
    State m_state = State::SizeLine;
    std::string m_line;
    std::uint64_t m_remaining = 0;
    std::uint64_t m_decoded = 0;
    std::string m_chunk_signature;
    std::string m_previous_signature;
    std::string m_trailer_text; // "name:value\n" lines for the trailer signature
    std::vector<std::pair<std::string, std::string>> m_trailers;
    struct Hasher;
    std::unique_ptr<Hasher> m_hasher;
    bool m_last_chunk = false;
    bool m_hold_chunk = false;
    std::string m_held; // bytes of the current signed chunk awaiting verification
};

} // namespace roar::proxy
