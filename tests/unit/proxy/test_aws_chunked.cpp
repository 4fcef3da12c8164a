// aws-chunked decoding: the S3 documentation's signed-chunk example
// (seed and chunk signatures), tampering, the unsigned-trailer variant,
// trailing checksums, what is held back until verified, malformed framing
// (fed in arbitrary piece sizes), and the unsigned-trailer encoder.
#include "roar/proxy/aws_chunked.hpp"
#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/sigv4.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <random>

using namespace roar::proxy;

namespace {

const std::string k_seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const std::string k_sig1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648";
const std::string k_sig2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497";
const std::string k_sig3 = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9";

ChunkSigning example_signing()
{
    return ChunkSigning{sigv4::signing_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3"),
                        "20130524T000000Z", "20130524/us-east-1/s3/aws4_request", k_seed};
}

std::string example_body(const std::string& sig1 = k_sig1)
{
    return "10000;chunk-signature=" + sig1 + "\r\n" + std::string(65536, 'a') + "\r\n" + "400;chunk-signature=" + k_sig2
           + "\r\n" + std::string(1024, 'a') + "\r\n" + "0;chunk-signature=" + k_sig3 + "\r\n\r\n";
}

// Feeds `body` in pieces of `piece` bytes; returns the decoded bytes or the
// error. `released`, when given, receives what the decoder let out either way.
tl::expected<std::string, ChunkError> decode(AwsChunkedDecoder& d, const std::string& body, std::size_t piece,
                                             std::string* released = nullptr)
{
    std::string out;
    auto give_back = [&] {
        if (released != nullptr) {
            *released = out;
        }
    };
    for (std::size_t i = 0; i < body.size(); i += piece) {
        if (auto r = d.feed(std::string_view(body).substr(i, piece), out); !r) {
            give_back();
            return tl::unexpected(r.error());
        }
    }
    give_back();
    if (auto r = d.finish(); !r) {
        return tl::unexpected(r.error());
    }
    return out;
}

// A signed-chunk body of `chunks` under example_signing(), with `trailer`
// ("name:value" lines, signed) when not empty; `tamper` flips a chunk signature.
std::string signed_body(const std::vector<std::string>& chunks, const std::string& trailer = {}, int tamper = -1)
{
    const auto signing = example_signing();
    std::string body;
    std::string previous = signing.seed_signature;
    std::vector<std::string> all = chunks;
    all.emplace_back(); // the terminal chunk
    for (std::size_t i = 0; i < all.size(); ++i) {
        std::string sig =
            sigv4::signature(signing.key, chunk_string_to_sign(signing, previous, sigv4::sha256_hex(all[i])));
        previous = sig;
        if (static_cast<int>(i) == tamper) {
            sig[0] = sig[0] == '0' ? '1' : '0';
        }
        body += fmt::format("{:x};chunk-signature={}\r\n", all[i].size(), sig);
        body += all[i].empty() ? "" : all[i] + "\r\n";
    }
    if (!trailer.empty()) {
        std::string text;
        for (std::size_t pos = 0; pos < trailer.size();) {
            const auto nl = trailer.find('\n', pos);
            text += trailer.substr(pos, nl - pos) + "\n";
            body += trailer.substr(pos, nl - pos) + "\r\n";
            pos = nl == std::string::npos ? trailer.size() : nl + 1;
        }
        body += "x-amz-trailer-signature:"
                + sigv4::signature(signing.key, trailer_string_to_sign(signing, previous, text)) + "\r\n";
    }
    return body + "\r\n";
}

} // namespace

TEST_CASE("S3 example: the seed signature of a signed-chunk upload", "[proxy][aws_chunked]")
{
    const Credentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", ""};
    RequestHead head{
        "PUT",
        "/examplebucket/chunkObject.txt",
        {{"Host", "s3.amazonaws.com"},
         {"x-amz-date", "20130524T000000Z"},
         {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
         {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
         {"Content-Encoding", "aws-chunked"},
         {"x-amz-decoded-content-length", "66560"},
         {"Content-Length", "66824"},
         {"Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                           "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                           "x-amz-decoded-content-length;x-amz-storage-class,Signature="
                               + k_seed}}};
    auto v = verify_request(head, creds, *parse_amz_date("20130524T000000Z"));
    REQUIRE(v);
    CHECK(v->signature == k_seed);
    CHECK(example_body().size() == 66824);
}

TEST_CASE("S3 example: signed chunks decode and every chunk signature checks", "[proxy][aws_chunked]")
{
    const auto signing = example_signing();
    CHECK(chunk_string_to_sign(signing, k_seed, sigv4::sha256_hex(std::string(65536, 'a')))
          == "AWS4-HMAC-SHA256-PAYLOAD\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n" + k_seed + "\n"
                 + std::string(sigv4::k_empty_sha256)
                 + "\nbf718b6f653bebc184e1479f1935b8da974d701b893afcf49e701f3e2f9f9c5a");
    for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{1000}, std::size_t{70000}}) {
        AwsChunkedDecoder d(signing);
        auto out = decode(d, example_body(), piece);
        REQUIRE(out);
        CHECK(*out == std::string(66560, 'a'));
        CHECK(d.decoded_bytes() == 66560);
        CHECK(d.done());
    }
}

TEST_CASE("a tampered chunk or a wrong signature is refused", "[proxy][aws_chunked]")
{
    {
        std::string body = example_body();
        body[100] = 'b'; // data of chunk 1
        AwsChunkedDecoder d(example_signing());
        auto out = decode(d, body, 4096);
        REQUIRE_FALSE(out);
        CHECK(out.error().kind == ChunkError::BadSignature);
    }
    {
        AwsChunkedDecoder d(example_signing());
        auto out = decode(d, example_body(std::string(64, '0')), 4096);
        REQUIRE_FALSE(out);
        CHECK(out.error().kind == ChunkError::BadSignature);
    }
    {
        auto signing = example_signing();
        signing.seed_signature = std::string(64, 'f'); // chain from another request
        AwsChunkedDecoder d(signing);
        CHECK_FALSE(decode(d, example_body(), 4096));
    }
    {
        // Signed mode demands signatures.
        AwsChunkedDecoder d(example_signing());
        auto out = decode(d, "5\r\nhello\r\n0\r\n\r\n", 3);
        REQUIRE_FALSE(out);
        CHECK(out.error().kind == ChunkError::BadSignature);
    }
}

TEST_CASE("unsigned payload with trailing checksum", "[proxy][aws_chunked]")
{
    AwsChunkedDecoder d(std::nullopt, false, "x-amz-checksum-crc32");
    auto out = decode(d, "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", 2);
    REQUIRE(out);
    CHECK(*out == "hello world");
    REQUIRE(d.trailers().size() == 1);
    CHECK(d.trailers()[0].first == "x-amz-checksum-crc32");
    CHECK(d.trailers()[0].second == "DUoRhQ==");
    REQUIRE(d.verified_checksum());
    CHECK(d.verified_checksum()->header() == "x-amz-checksum-crc32");
    CHECK(d.verified_checksum()->value == "DUoRhQ==");

    AwsChunkedDecoder no_trailer(std::nullopt);
    auto plain = decode(no_trailer, "3\r\nabc\r\n0\r\n\r\n", 100);
    REQUIRE(plain);
    CHECK(*plain == "abc");
    CHECK_FALSE(no_trailer.verified_checksum());

    AwsChunkedDecoder empty(std::nullopt);
    auto nothing = decode(empty, "0\r\n\r\n", 1);
    REQUIRE(nothing);
    CHECK(nothing->empty());

    // Ending right after the terminal chunk's line is accepted when no trailer is declared.
    AwsChunkedDecoder short_end(std::nullopt);
    auto ended = decode(short_end, "3\r\nabc\r\n0\r\n", 4);
    REQUIRE(ended);
    CHECK(*ended == "abc");
}

TEST_CASE("each supported trailing checksum is verified against the decoded bytes", "[proxy][aws_chunked]")
{
    const std::string data = "The quick brown fox jumps over the lazy dog";
    for (const auto algorithm :
         {ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Crc32c, ChecksumAlgorithm::Sha1, ChecksumAlgorithm::Sha256}) {
        const std::string name(checksum_header(algorithm));
        INFO(name);
        const std::string framing = "10\r\n" + data.substr(0, 16) + "\r\n" + fmt::format("{:x}", data.size() - 16)
                                    + "\r\n" + data.substr(16) + "\r\n0\r\n";
        AwsChunkedDecoder good(std::nullopt, false, name);
        auto out = decode(good, framing + name + ":" + checksum_base64(algorithm, data) + "\r\n\r\n", 5);
        REQUIRE(out);
        CHECK(*out == data);
        REQUIRE(good.verified_checksum());
        CHECK(good.verified_checksum()->algorithm == algorithm);

        // A mismatch is BadDigest, and the last byte never left the decoder.
        AwsChunkedDecoder bad(std::nullopt, false, name);
        std::string released;
        auto refused =
            decode(bad, framing + name + ":" + checksum_base64(algorithm, "other") + "\r\n\r\n", 5, &released);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == ChunkError::BadDigest);
        CHECK(to_s3_error(refused.error()).code == "BadDigest");
        CHECK(to_s3_error(refused.error()).status == 400);
        CHECK(released == data.substr(0, data.size() - 1));
        CHECK_FALSE(bad.verified_checksum());
    }
}

TEST_CASE("checksum values match the published check values", "[proxy][aws_chunked]")
{
    // CRC catalogue check values of "123456789": CRC-32 cbf43926, CRC-32C e3069283.
    CHECK(checksum_base64(ChecksumAlgorithm::Crc32, "123456789") == "y/Q5Jg==");
    CHECK(checksum_base64(ChecksumAlgorithm::Crc32c, "123456789") == "4waSgw==");
    CHECK(checksum_base64(ChecksumAlgorithm::Crc32, "") == "AAAAAA==");
    CHECK(checksum_base64(ChecksumAlgorithm::Crc32c, "") == "AAAAAA==");
    // FIPS 180 "abc".
    CHECK(checksum_base64(ChecksumAlgorithm::Sha1, "abc") == "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    CHECK(checksum_base64(ChecksumAlgorithm::Sha256, "abc") == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
    // Incremental equals one-shot, across odd split points.
    std::string big(300000, '\0');
    std::mt19937 rng(7);
    for (auto& c : big) {
        c = static_cast<char>(rng());
    }
    for (const auto algorithm :
         {ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Crc32c, ChecksumAlgorithm::Sha1, ChecksumAlgorithm::Sha256}) {
        Checksum c(algorithm);
        for (std::size_t i = 0; i < big.size(); i += 4097) {
            c.update(std::string_view(big).substr(i, 4097));
        }
        CHECK(c.finish_base64() == checksum_base64(algorithm, big));
        CHECK(checksum_base64(algorithm, big).size() == checksum_value_length(algorithm));
    }
    CHECK(checksum_algorithm("X-Amz-Checksum-CRC32C") == ChecksumAlgorithm::Crc32c);
    CHECK_FALSE(checksum_algorithm("x-amz-checksum-crc64nvme"));
}

TEST_CASE("the terminal chunk and the declared trailer are required before the last byte is released",
          "[proxy][aws_chunked]")
{
    {
        // No terminal chunk: the body is incomplete and one byte is held.
        AwsChunkedDecoder d(std::nullopt);
        std::string released;
        auto out = decode(d, "5\r\nhello\r\n6\r\n world\r\n", 3, &released);
        REQUIRE_FALSE(out);
        CHECK(out.error().kind == ChunkError::Malformed);
        CHECK(out.error().message.find("final zero-length chunk") != std::string::npos);
        CHECK(released == "hello worl");
        CHECK_FALSE(d.complete());
    }
    {
        // Declared trailer missing.
        AwsChunkedDecoder d(std::nullopt, false, "x-amz-checksum-crc32");
        std::string released;
        auto out = decode(d, "5\r\nhello\r\n0\r\n\r\n", 3, &released);
        REQUIRE_FALSE(out);
        CHECK(out.error().message.find("x-amz-checksum-crc32") != std::string::npos);
        CHECK(released == "hell");
    }
    {
        // Body ends inside the trailer section.
        AwsChunkedDecoder d(std::nullopt, false, "x-amz-checksum-crc32");
        std::string released;
        auto out = decode(d, "5\r\nhello\r\n0\r\n", 3, &released);
        REQUIRE_FALSE(out);
        CHECK(released == "hell");
    }
    {
        // A trailer that x-amz-trailer did not declare.
        AwsChunkedDecoder d(std::nullopt);
        auto out = decode(d, "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", 3);
        REQUIRE_FALSE(out);
        CHECK(out.error().message.find("not declared") != std::string::npos);
    }
}

TEST_CASE("what x-amz-trailer may name, and the error for the rest", "[proxy][aws_chunked]")
{
    CHECK(parse_declared_trailer("x-amz-checksum-sha256") == ChecksumAlgorithm::Sha256);
    CHECK(parse_declared_trailer(" X-Amz-Checksum-Crc32 ") == ChecksumAlgorithm::Crc32);
    auto crc64 = parse_declared_trailer("x-amz-checksum-crc64nvme");
    REQUIRE_FALSE(crc64);
    CHECK(crc64.error().kind == ChunkError::Unsupported);
    CHECK(crc64.error().message.find("x-amz-checksum-crc64nvme") != std::string::npos);
    CHECK(to_s3_error(crc64.error()).code == "InvalidRequest");
    CHECK_FALSE(parse_declared_trailer("x-amz-checksum-crc32, x-amz-checksum-sha1"));

    AwsChunkedDecoder d(std::nullopt, false, "x-amz-checksum-crc64nvme");
    std::string out;
    auto r = d.feed("5\r\nhello\r\n", out);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ChunkError::Unsupported);
    CHECK(out.empty());
}

TEST_CASE("a refused signed upload releases only verified chunks, never the whole body", "[proxy][aws_chunked]")
{
    const std::string a(65536, 'a');
    const std::string b(65536, 'b');
    const std::string c(1000, 'c');
    {
        AwsChunkedDecoder d(example_signing());
        auto out = decode(d, signed_body({a, b, c}), 1000);
        REQUIRE(out);
        CHECK(*out == a + b + c);
    }
    for (const int bad : {0, 1, 2, 3}) {
        INFO("bad signature on chunk " << bad);
        AwsChunkedDecoder d(example_signing());
        std::string released;
        auto out = decode(d, signed_body({a, b, c}, {}, bad), 777, &released);
        REQUIRE_FALSE(out);
        CHECK(out.error().kind == ChunkError::BadSignature);
        // Only the chunks before the bad one (the terminal chunk is number
        // 3), less the held-back last byte.
        const std::size_t sizes[] = {0, a.size(), a.size() + b.size(), a.size() + b.size() + c.size()};
        const std::size_t verified = sizes[bad];
        CHECK(released == (a + b + c).substr(0, verified == 0 ? 0 : verified - 1));
    }
}

TEST_CASE("signed trailers: the checksum and the trailer signature both verify", "[proxy][aws_chunked]")
{
    const std::string data(70000, 'x');
    const std::string trailer = "x-amz-checksum-crc32c:" + checksum_base64(ChecksumAlgorithm::Crc32c, data);
    {
        AwsChunkedDecoder d(example_signing(), true, "x-amz-checksum-crc32c");
        auto out = decode(d, signed_body({data.substr(0, 65536), data.substr(65536)}, trailer), 4096);
        REQUIRE(out);
        CHECK(*out == data);
        CHECK(d.verified_checksum());
    }
    {
        // A trailer signature over other text.
        std::string body = signed_body({data}, trailer);
        const auto pos = body.find("x-amz-trailer-signature:") + 24;
        body[pos] = body[pos] == '0' ? '1' : '0';
        AwsChunkedDecoder d(example_signing(), true, "x-amz-checksum-crc32c");
        std::string released;
        auto out = decode(d, body, 4096, &released);
        REQUIRE_FALSE(out);
        CHECK(out.error().kind == ChunkError::BadSignature);
        CHECK(released.size() == data.size() - 1);
    }
    {
        // The trailer signature is required in this mode.
        std::string body = signed_body({data}, trailer);
        body.erase(body.find("x-amz-trailer-signature:"), 24 + 64 + 2);
        AwsChunkedDecoder d(example_signing(), true, "x-amz-checksum-crc32c");
        auto out = decode(d, body, 4096);
        REQUIRE_FALSE(out);
        CHECK(out.error().kind == ChunkError::BadSignature);
    }
}

TEST_CASE("signed chunks above 1 MiB are refused before any of their bytes", "[proxy][aws_chunked]")
{
    AwsChunkedDecoder d(example_signing());
    std::string out;
    auto r = d.feed(fmt::format("{:x};chunk-signature={}\r\n", k_max_signed_chunk + 1, std::string(64, '0')), out);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ChunkError::Unsupported);
    CHECK(r.error().message.find("at most 1048576 bytes") != std::string::npos);
}

TEST_CASE("the encoder's unsigned-trailer body decodes to the same bytes and checksum", "[proxy][aws_chunked]")
{
    std::mt19937 rng(11);
    for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{65535}, std::size_t{65536},
                                   std::size_t{65537}, std::size_t{200000}}) {
        INFO(size);
        std::string data(size, '\0');
        for (auto& ch : data) {
            ch = static_cast<char>(rng());
        }
        AwsChunkedEncoder enc;
        std::string body;
        for (std::size_t i = 0; i < data.size(); i += 10000) {
            enc.feed(std::string_view(data).substr(i, 10000), body);
        }
        const TrailerChecksum sum{ChecksumAlgorithm::Sha256, checksum_base64(ChecksumAlgorithm::Sha256, data)};
        enc.finish(sum, body);
        CHECK(body.size() == AwsChunkedEncoder::encoded_length(size, ChecksumAlgorithm::Sha256));
        AwsChunkedDecoder d(std::nullopt, false, "x-amz-checksum-sha256");
        auto out = decode(d, body, 8191);
        REQUIRE(out);
        CHECK(*out == data);
        CHECK(d.verified_checksum()->value == sum.value);
    }
    const auto headers = AwsChunkedEncoder::upstream_headers(5, ChecksumAlgorithm::Crc32);
    CHECK(headers[1]
          == std::pair<std::string, std::string>("content-length",
                                                 std::to_string(std::string("5\r\nhello\r\n0\r\n"
                                                                            "x-amz-checksum-crc32:NhCmhg=="
                                                                            "\r\n\r\n")
                                                                    .size())));
    CHECK(headers[4].second == "x-amz-checksum-crc32");
}

TEST_CASE("malformed aws-chunked framing is refused", "[proxy][aws_chunked]")
{
    const char* bodies[] = {
        "zz\r\nhello\r\n0\r\n\r\n",               // size not hex
        "5\r\nhelloXX0\r\n\r\n",                  // no CRLF after data
        "5\nhello\r\n0\r\n\r\n",                  // LF-only line
        "5\r\nhello\r\n0\r\nbad trailer\r\n\r\n", // trailer without ':'
        "5\r\nhello\r\n0\r\n\r\nextra",           // bytes after the end
        "5\r\nhel",                               // truncated
        "",                                       // nothing at all
    };
    for (const char* body : bodies) {
        INFO(body);
        AwsChunkedDecoder d(std::nullopt);
        auto out = decode(d, body, 3);
        REQUIRE_FALSE(out);
        CHECK(out.error().kind == ChunkError::Malformed);
    }
    AwsChunkedDecoder long_line(std::nullopt);
    std::string out;
    CHECK_FALSE(long_line.feed(std::string(5000, '1'), out));
}
