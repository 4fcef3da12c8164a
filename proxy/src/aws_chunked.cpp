// aws-chunked decoding with chunk-signature and trailing-checksum
// verification, and the unsigned-trailer encoder. Framing:
//   hex-size [";chunk-signature=" sig] CRLF data CRLF ... 0[;sig] CRLF
//   [trailer-name ":" value CRLF ...] [x-amz-trailer-signature ":" sig CRLF] CRLF
// Signed chunks are held until their signature checks; the last decoded
// byte is held until the terminal chunk and the trailer have verified. On
// any failure the relay aborts the upstream body, so the upstream never
// receives the full declared length and cannot complete an object from
// unverified bytes.
#include "roar/proxy/aws_chunked.hpp"

#include "roar/proxy/request.hpp"
#include "roar/proxy/sigv4.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

namespace roar::proxy {

namespace {

constexpr std::size_t k_max_line = 4096;
constexpr std::size_t k_max_trailers = 32;
// Decoded bytes held back until the body is complete: any at all keeps the
// upstream short of the declared length.
constexpr std::size_t k_held_tail = 1;

tl::unexpected<ChunkError> error(ChunkError::Kind kind, std::string msg)
{
    return tl::unexpected(ChunkError{kind, std::move(msg)});
}

tl::unexpected<ChunkError> malformed(std::string msg) { return error(ChunkError::Malformed, std::move(msg)); }

} // namespace

S3Error to_s3_error(const ChunkError& err)
{
    switch (err.kind) {
    case ChunkError::BadSignature: return S3Error{403, "SignatureDoesNotMatch", err.message};
    case ChunkError::BadDigest: return S3Error{400, "BadDigest", err.message};
    case ChunkError::Unsupported: return S3Error{400, "InvalidRequest", err.message};
    case ChunkError::Malformed: break;
    }
    return S3Error{400, "IncompleteBody", err.message};
}

struct AwsChunkedDecoder::Hasher {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    Hasher() { reset(); }
    ~Hasher() { EVP_MD_CTX_free(ctx); }
    Hasher(const Hasher&) = delete;
    Hasher& operator=(const Hasher&) = delete;
    void reset() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
    void update(std::string_view d) { EVP_DigestUpdate(ctx, d.data(), d.size()); }
    std::string hex_final()
    {
        std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx, md.data(), &len);
        reset();
        return sigv4::hex(std::string_view(reinterpret_cast<const char*>(md.data()), len));
    }
};

std::string chunk_string_to_sign(const ChunkSigning& s, std::string_view previous_signature,
                                 std::string_view chunk_sha256_hex)
{
    std::string out = "AWS4-HMAC-SHA256-PAYLOAD\n";
    out.append(s.amz_date).append("\n").append(s.scope).append("\n").append(previous_signature).append("\n");
    out.append(sigv4::k_empty_sha256).append("\n").append(chunk_sha256_hex);
    return out;
}

std::string trailer_string_to_sign(const ChunkSigning& s, std::string_view previous_signature,
                                   std::string_view trailer_text)
{
    std::string out = "AWS4-HMAC-SHA256-TRAILER\n";
    out.append(s.amz_date).append("\n").append(s.scope).append("\n").append(previous_signature).append("\n");
    out.append(sigv4::sha256_hex(trailer_text));
    return out;
}

tl::expected<ChecksumAlgorithm, ChunkError> parse_declared_trailer(std::string_view x_amz_trailer)
{
    const std::string_view name = sigv4::trim_blanks(x_amz_trailer);
    if (name.find(',') != std::string_view::npos) {
        return error(ChunkError::Unsupported,
                     "roar-proxy supports one trailing checksum per upload; x-amz-trailer names several ("
                         + std::string(name) + ").");
    }
    if (const auto algorithm = checksum_algorithm(name)) {
        return *algorithm;
    }
    return error(ChunkError::Unsupported,
                 "roar-proxy verifies the trailing checksums x-amz-checksum-crc32, -crc32c, -sha1 and -sha256; "
                 "x-amz-trailer names "
                     + std::string(name) + ", which it does not support.");
}

AwsChunkedDecoder::AwsChunkedDecoder(std::optional<ChunkSigning> signing, bool signed_trailer,
                                     std::string_view declared_trailer)
    : m_signing(std::move(signing)), m_signed_trailer(signed_trailer)
{
    if (m_signing) {
        m_previous_signature = m_signing->seed_signature;
        m_hasher = std::make_unique<Hasher>();
    }
    if (!sigv4::trim_blanks(declared_trailer).empty()) {
        auto declared = parse_declared_trailer(declared_trailer);
        if (declared) {
            m_declared = *declared;
            m_checksum.emplace(*declared);
        } else {
            m_declared_error = declared.error();
        }
    }
}

AwsChunkedDecoder::~AwsChunkedDecoder() = default;

void AwsChunkedDecoder::release(std::string_view data, std::string& out)
{
    if (data.size() >= k_held_tail) {
        out.append(m_tail);
        out.append(data.substr(0, data.size() - k_held_tail));
        m_tail.assign(data.substr(data.size() - k_held_tail));
        return;
    }
    m_tail.append(data);
    if (m_tail.size() > k_held_tail) {
        out.append(m_tail, 0, m_tail.size() - k_held_tail);
        m_tail.erase(0, m_tail.size() - k_held_tail);
    }
}

void AwsChunkedDecoder::complete_body(std::string& out)
{
    out.append(m_tail);
    m_tail.clear();
    m_complete = true;
}

tl::expected<void, ChunkError> AwsChunkedDecoder::feed(std::string_view in, std::string& out)
{
    if (m_declared_error) {
        return tl::unexpected(*m_declared_error);
    }
    while (!in.empty()) {
        switch (m_state) {
        case State::SizeLine:
        case State::Trailer: {
            const auto nl = in.find('\n');
            const std::string_view piece = in.substr(0, nl);
            if (m_line.size() + piece.size() > k_max_line) {
                return malformed("aws-chunked framing line longer than 4096 bytes");
            }
            m_line.append(piece);
            if (nl == std::string_view::npos) {
                return {};
            }
            in.remove_prefix(nl + 1);
            if (m_line.empty() || m_line.back() != '\r') {
                return malformed("aws-chunked framing line not terminated by CRLF");
            }
            m_line.pop_back();
            auto r = m_state == State::SizeLine ? on_size_line(out) : on_trailer_line(out);
            m_line.clear();
            if (!r) {
                return r;
            }
            break;
        }
        case State::Data: {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(m_remaining, in.size()));
            const std::string_view data = in.substr(0, n);
            if (m_hasher) {
                // Held until the chunk's signature checks.
                m_held.append(data);
                m_hasher->update(data);
            } else {
                release(data, out);
            }
            if (m_checksum) {
                m_checksum->update(data);
            }
            in.remove_prefix(n);
            m_remaining -= n;
            m_decoded += n;
            if (m_remaining == 0) {
                m_state = State::DataEnd;
            }
            break;
        }
        case State::DataEnd: {
            // Expect exactly "\r\n" after the chunk data (may arrive split).
            const char want = m_line.empty() ? '\r' : '\n';
            if (in.front() != want) {
                return malformed("aws-chunked chunk data not followed by CRLF");
            }
            in.remove_prefix(1);
            if (want == '\r') {
                m_line.push_back('\r');
            } else {
                m_line.clear();
                if (auto r = verify_chunk(); !r) {
                    return r;
                }
                release(m_held, out);
                m_held.clear();
                m_state = State::SizeLine;
            }
            break;
        }
        case State::Done: return malformed("data after the end of the aws-chunked body");
        }
    }
    return {};
}

tl::expected<void, ChunkError> AwsChunkedDecoder::on_size_line(std::string& out)
{
    const std::string_view line = m_line;
    const auto semi = line.find(';');
    const std::string_view size_text = sigv4::trim_blanks(line.substr(0, semi));
    std::uint64_t size = 0;
    const auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (size_text.empty() || size_text.size() > 15 || ec != std::errc() || end != size_text.data() + size_text.size()) {
        return malformed("aws-chunked chunk size is not hexadecimal");
    }
    m_remaining = size;
    m_chunk_signature.clear();
    if (semi != std::string_view::npos) {
        constexpr std::string_view k_sig = "chunk-signature=";
        const std::string_view ext = sigv4::trim_blanks(line.substr(semi + 1));
        if (ext.substr(0, k_sig.size()) == k_sig) {
            m_chunk_signature = std::string(ext.substr(k_sig.size()));
        }
    }
    if (m_signing && m_chunk_signature.empty()) {
        return error(ChunkError::BadSignature, "aws-chunked chunk without chunk-signature");
    }
    if (m_signing && size > k_max_signed_chunk) {
        return error(ChunkError::Unsupported,
                     fmt::format("roar-proxy verifies each signed aws-chunked chunk before forwarding it and accepts "
                                 "chunks of at most {} bytes; this one has {} bytes.",
                                 k_max_signed_chunk, size));
    }
    if (size > 0) {
        m_state = State::Data;
        return {};
    }
    // The terminal chunk signs the empty string; then come the trailers.
    if (auto r = verify_chunk(); !r) {
        return r;
    }
    m_state = State::Trailer;
    if (!m_declared) {
        // Nothing else to verify: the body is complete (the final CRLF is
        // framing only, see finish()).
        complete_body(out);
    }
    return {};
}

tl::expected<void, ChunkError> AwsChunkedDecoder::verify_chunk()
{
    if (!m_signing) {
        return {};
    }
    const std::string to_sign = chunk_string_to_sign(*m_signing, m_previous_signature, m_hasher->hex_final());
    const std::string expected = sigv4::signature(m_signing->key, to_sign);
    if (expected != m_chunk_signature) {
        return error(ChunkError::BadSignature, "aws-chunked chunk signature does not match (chunk ending at byte "
                                                   + std::to_string(m_decoded) + ")");
    }
    m_previous_signature = expected;
    return {};
}

tl::expected<void, ChunkError> AwsChunkedDecoder::on_trailer_line(std::string& out)
{
    if (m_line.empty()) {
        if (m_declared && !m_verified) {
            return malformed(fmt::format("aws-chunked body ended without the {} trailer that x-amz-trailer declared",
                                         checksum_header(*m_declared)));
        }
        if (m_declared && m_signed_trailer && m_signing && !m_trailer_signed) {
            return error(ChunkError::BadSignature, "aws-chunked trailer without x-amz-trailer-signature");
        }
        m_state = State::Done;
        if (!m_complete) {
            complete_body(out);
        }
        return {};
    }
    if (m_trailer_signed) {
        return malformed("aws-chunked trailer after x-amz-trailer-signature");
    }
    const auto colon = m_line.find(':');
    if (colon == std::string::npos) {
        return malformed("aws-chunked trailer line without ':'");
    }
    std::string name = to_lower(sigv4::trim_blanks(std::string_view(m_line).substr(0, colon)));
    std::string value(sigv4::trim_blanks(std::string_view(m_line).substr(colon + 1)));
    if (name == "x-amz-trailer-signature") {
        if (m_signed_trailer && m_signing) {
            const std::string to_sign = trailer_string_to_sign(*m_signing, m_previous_signature, m_trailer_text);
            if (sigv4::signature(m_signing->key, to_sign) != value) {
                return error(ChunkError::BadSignature, "aws-chunked trailer signature does not match");
            }
            m_trailer_signed = true;
        }
        return {};
    }
    if (m_trailers.size() >= k_max_trailers) {
        return malformed("too many aws-chunked trailers");
    }
    if (!m_declared || name != checksum_header(*m_declared) || m_verified) {
        return malformed("aws-chunked trailer " + name + " was not declared in x-amz-trailer");
    }
    const std::string computed = m_checksum->finish_base64();
    if (computed != value) {
        return error(ChunkError::BadDigest, fmt::format("The {} you specified did not match the calculated checksum.",
                                                        checksum_label(*m_declared)));
    }
    m_verified = TrailerChecksum{*m_declared, value};
    m_trailer_text.append(name).append(":").append(value).append("\n");
    m_trailers.emplace_back(std::move(name), std::move(value));
    return {};
}

tl::expected<void, ChunkError> AwsChunkedDecoder::finish() const
{
    if (m_declared_error) {
        return tl::unexpected(*m_declared_error);
    }
    if (m_state == State::Done) {
        return {};
    }
    // Some clients end right after the terminal chunk's line, without the
    // empty line that closes the (empty) trailer section: with no trailer
    // declared the body was complete there.
    if (m_state == State::Trailer && m_line.empty() && m_trailers.empty() && m_complete) {
        return {};
    }
    if (m_state == State::Trailer) {
        return malformed("aws-chunked body ended inside its trailer");
    }
    return malformed("aws-chunked body ended before its final zero-length chunk");
}

AwsChunkedEncoder::AwsChunkedEncoder(std::uint64_t chunk_size) : m_chunk(std::max<std::uint64_t>(chunk_size, 1)) { }

namespace {

std::uint64_t framed_length(std::uint64_t n) { return fmt::formatted_size("{:x}", n) + 2 + n + 2; }

} // namespace

std::uint64_t AwsChunkedEncoder::encoded_length(std::uint64_t decoded_length, ChecksumAlgorithm algorithm,
                                                std::uint64_t chunk_size)
{
    chunk_size = std::max<std::uint64_t>(chunk_size, 1);
    const std::uint64_t full = decoded_length / chunk_size;
    const std::uint64_t rest = decoded_length % chunk_size;
    std::uint64_t n = full * framed_length(chunk_size) + (rest > 0 ? framed_length(rest) : 0);
    n += 3; // "0\r\n"
    n += checksum_header(algorithm).size() + 1 + checksum_value_length(algorithm) + 2 + 2;
    return n;
}

std::vector<std::pair<std::string, std::string>> AwsChunkedEncoder::upstream_headers(std::uint64_t decoded_length,
                                                                                     ChecksumAlgorithm algorithm,
                                                                                     std::uint64_t chunk_size)
{
    return {{"content-encoding", "aws-chunked"},
            {"content-length", std::to_string(encoded_length(decoded_length, algorithm, chunk_size))},
            {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
            {"x-amz-decoded-content-length", std::to_string(decoded_length)},
            {"x-amz-trailer", std::string(checksum_header(algorithm))}};
}

void AwsChunkedEncoder::feed(std::string_view data, std::string& out)
{
    auto frame = [&](std::string_view chunk) {
        fmt::format_to(std::back_inserter(out), "{:x}\r\n", chunk.size());
        out.append(chunk).append("\r\n");
    };
    if (!m_pending.empty()) {
        const std::size_t take = std::min<std::size_t>(data.size(), m_chunk - m_pending.size());
        m_pending.append(data.substr(0, take));
        data.remove_prefix(take);
        if (m_pending.size() < m_chunk) {
            return;
        }
        frame(m_pending);
        m_pending.clear();
    }
    while (data.size() >= m_chunk) {
        frame(data.substr(0, m_chunk));
        data.remove_prefix(m_chunk);
    }
    m_pending.assign(data);
}

void AwsChunkedEncoder::finish(const TrailerChecksum& checksum, std::string& out)
{
    if (!m_pending.empty()) {
        fmt::format_to(std::back_inserter(out), "{:x}\r\n", m_pending.size());
        out.append(m_pending).append("\r\n");
        m_pending.clear();
    }
    out.append("0\r\n").append(checksum.header()).append(":").append(checksum.value).append("\r\n\r\n");
}

} // namespace roar::proxy
