// aws-chunked decoding with chunk-signature verification. Framing:
//   hex-size [";chunk-signature=" sig] CRLF data CRLF ... 0[;sig] CRLF
//   [trailer-name ":" value CRLF ...] CRLF
// A signed chunk of up to 1 MiB is held back until its signature checks;
// bigger chunks stream and are checked when they end. On a mismatch the
// relay aborts the upstream body, so the upstream never receives the full
// declared length and cannot complete an object from unverified bytes.
#include "roar/proxy/aws_chunked.hpp"

#include "roar/proxy/sigv4.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace roar::proxy {

namespace {

constexpr std::size_t k_max_line = 4096;
constexpr std::size_t k_max_trailers = 32;
// Signed chunks up to this size are verified before any of their bytes is
// released (SDKs use 8-128 KiB chunks); larger ones stream and rely on the
// relay aborting the upstream body when the signature fails.
constexpr std::uint64_t k_max_held_chunk = 1024 * 1024;

tl::unexpected<ChunkError> malformed(std::string msg)
{
    return tl::unexpected(ChunkError{ChunkError::Malformed, std::move(msg)});
}

} // namespace

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

AwsChunkedDecoder::AwsChunkedDecoder(std::optional<ChunkSigning> signing, bool signed_trailer)
    : m_signing(std::move(signing)), m_signed_trailer(signed_trailer)
{
    if (m_signing) {
        m_previous_signature = m_signing->seed_signature;
        m_hasher = std::make_unique<Hasher>();
    }
}

AwsChunkedDecoder::~AwsChunkedDecoder() = default;

tl::expected<void, ChunkError> AwsChunkedDecoder::feed(std::string_view in, std::string& out)
{
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
            auto r = m_state == State::SizeLine ? on_size_line() : on_trailer_line();
            m_line.clear();
            if (!r) {
                return r;
            }
            break;
        }
        case State::Data: {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(m_remaining, in.size()));
            // Signed chunks small enough are held until their signature
            // checks, so no unverified byte reaches the upstream.
            (m_hold_chunk ? m_held : out).append(in.data(), n);
            if (m_hasher) {
                m_hasher->update(in.substr(0, n));
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
                out.append(m_held);
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

tl::expected<void, ChunkError> AwsChunkedDecoder::on_size_line()
{
    std::string_view line = m_line;
    const auto semi = line.find(';');
    const std::string_view size_text = sigv4::trim_blanks(line.substr(0, semi));
    if (size_text.empty() || size_text.size() > 15 || !std::all_of(size_text.begin(), size_text.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) != 0;
        })) {
        return malformed("aws-chunked chunk size is not hexadecimal");
    }
    m_remaining = std::stoull(std::string(size_text), nullptr, 16);
    m_chunk_signature.clear();
    if (semi != std::string_view::npos) {
        std::string_view ext = line.substr(semi + 1);
        constexpr std::string_view k_sig = "chunk-signature=";
        ext = sigv4::trim_blanks(ext);
        if (ext.substr(0, k_sig.size()) == k_sig) {
            m_chunk_signature = std::string(ext.substr(k_sig.size()));
        }
    }
    if (m_signing && m_chunk_signature.empty()) {
        return tl::unexpected(ChunkError{ChunkError::BadSignature, "aws-chunked chunk without chunk-signature"});
    }
    if (m_remaining == 0) {
        // The final chunk signs the empty string; then come trailers.
        m_last_chunk = true;
        if (auto r = verify_chunk(); !r) {
            return r;
        }
        m_state = State::Trailer;
        return {};
    }
    m_hold_chunk = m_signing && m_remaining <= k_max_held_chunk;
    m_state = State::Data;
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
        return tl::unexpected(
            ChunkError{ChunkError::BadSignature, "aws-chunked chunk signature does not match (chunk ending at byte "
                                                     + std::to_string(m_decoded) + ")"});
    }
    m_previous_signature = expected;
    return {};
}

tl::expected<void, ChunkError> AwsChunkedDecoder::on_trailer_line()
{
    if (m_line.empty()) {
        if (m_signed_trailer && m_signing && !m_trailers.empty()) {
            return tl::unexpected(ChunkError{ChunkError::BadSignature, "aws-chunked trailer without signature"});
        }
        m_state = State::Done;
        return {};
    }
    const auto colon = m_line.find(':');
    if (colon == std::string::npos) {
        return malformed("aws-chunked trailer line without ':'");
    }
    std::string name(sigv4::trim_blanks(std::string_view(m_line).substr(0, colon)));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value(sigv4::trim_blanks(std::string_view(m_line).substr(colon + 1)));
    if (name == "x-amz-trailer-signature") {
        if (m_signed_trailer && m_signing) {
            std::string to_sign = "AWS4-HMAC-SHA256-TRAILER\n";
            to_sign.append(m_signing->amz_date).append("\n").append(m_signing->scope).append("\n");
            to_sign.append(m_previous_signature).append("\n").append(sigv4::sha256_hex(m_trailer_text));
            if (sigv4::signature(m_signing->key, to_sign) != value) {
                return tl::unexpected(
                    ChunkError{ChunkError::BadSignature, "aws-chunked trailer signature does not match"});
            }
            // Signed: the terminating empty line needs no further check.
            m_signed_trailer = false;
        }
        return {};
    }
    if (m_trailers.size() >= k_max_trailers) {
        return malformed("too many aws-chunked trailers");
    }
    m_trailer_text.append(name).append(":").append(value).append("\n");
    m_trailers.emplace_back(std::move(name), std::move(value));
    return {};
}

tl::expected<void, ChunkError> AwsChunkedDecoder::finish() const
{
    // Some clients end right after the last chunk's line without the empty
    // trailer line; the payload is complete then, accept it.
    if (m_state == State::Done || (m_state == State::Trailer && m_line.empty() && m_trailers.empty())) {
        return {};
    }
    return malformed("aws-chunked body ended before its final chunk");
}

} // namespace roar::proxy
