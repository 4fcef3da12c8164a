// The aws-chunked decoder on arbitrary bodies fed in arbitrary pieces,
// with its release guarantees checked on every input, and the
// unsigned-trailer encoder round-tripping whatever was decoded.
// Input: [mode byte][piece byte] body. Mode bits: 0 signed chunks,
// 1 signed trailer, 2-4 the declared trailer.
#include "fuzz_proxy.hpp"

#include "roar/proxy/aws_chunked.hpp"
#include "roar/proxy/sigv4.hpp"

#include <cstdint>
#include <string>

using namespace roar::proxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) {
        return 0;
    }
    const unsigned mode = data[0];
    const std::size_t piece = 1 + data[1] * 37u;
    const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);
    static constexpr std::string_view k_trailers[] = {"",
                                                      "x-amz-checksum-crc32",
                                                      "x-amz-checksum-crc32c",
                                                      "x-amz-checksum-sha1",
                                                      "x-amz-checksum-sha256",
                                                      "x-amz-checksum-crc64nvme",
                                                      "x-amz-checksum-crc32,x-amz-checksum-sha1",
                                                      "x-amz-meta-a"};
    std::optional<ChunkSigning> signing;
    if (mode & 1u) {
        // The S3 documentation's example signing context.
        signing =
            ChunkSigning{sigv4::signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3"),
                         "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
                         "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"};
    }
    AwsChunkedDecoder decoder(signing, (mode & 2u) != 0, k_trailers[(mode >> 2) & 7u]);
    std::string out;
    bool failed = false;
    for (std::size_t i = 0; i < body.size() && !failed; i += piece) {
        failed = !decoder.feed(body.substr(i, piece), out);
        roar::fuzz::require(out.size() <= decoder.decoded_bytes(), "never more released than decoded");
        roar::fuzz::require(decoder.complete() || decoder.decoded_bytes() == 0 || out.size() < decoder.decoded_bytes(),
                            "the last byte is held until the body is complete");
    }
    if (failed || !decoder.finish()) {
        return 0;
    }
    roar::fuzz::require(decoder.complete() && out.size() == decoder.decoded_bytes(),
                        "a finished body has released every decoded byte");

    // Whatever decoded re-encodes, with its checksum, to the same bytes.
    const TrailerChecksum sum{ChecksumAlgorithm::Crc32c, checksum_base64(ChecksumAlgorithm::Crc32c, out)};
    AwsChunkedEncoder encoder(1 + data[1]);
    std::string encoded;
    encoder.feed(out, encoded);
    encoder.finish(sum, encoded);
    roar::fuzz::require(encoded.size() == AwsChunkedEncoder::encoded_length(out.size(), sum.algorithm, 1 + data[1]),
                        "encoded_length matches the encoding");
    AwsChunkedDecoder again(std::nullopt, false, sum.header());
    std::string round;
    roar::fuzz::require(again.feed(encoded, round) && again.finish() && round == out,
                        "the encoder's body decodes to the same bytes");
    return 0;
}
