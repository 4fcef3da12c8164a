// aws-chunked decoding: the S3 documentation's signed-chunk example
// (seed and chunk signatures), tampering, the unsigned-trailer variant and
// malformed framing, fed in arbitrary piece sizes.
#include "roar/proxy/aws_chunked.hpp"
#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/sigv4.hpp"

#include <catch2/catch.hpp>

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

// Feeds `body` in pieces of `piece` bytes; returns the decoded bytes or the error.
tl::expected<std::string, ChunkError> decode(AwsChunkedDecoder& d, const std::string& body, std::size_t piece)
{
    std::string out;
    for (std::size_t i = 0; i < body.size(); i += piece) {
        if (auto r = d.feed(std::string_view(body).substr(i, piece), out); !r) {
            return tl::unexpected(r.error());
        }
    }
    if (auto r = d.finish(); !r) {
        return tl::unexpected(r.error());
    }
    return out;
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
    AwsChunkedDecoder d(std::nullopt);
    auto out = decode(d, "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", 2);
    REQUIRE(out);
    CHECK(*out == "hello world");
    REQUIRE(d.trailers().size() == 1);
    CHECK(d.trailers()[0].first == "x-amz-checksum-crc32");
    CHECK(d.trailers()[0].second == "DUoRhQ==");

    AwsChunkedDecoder no_trailer(std::nullopt);
    auto plain = decode(no_trailer, "3\r\nabc\r\n0\r\n\r\n", 100);
    REQUIRE(plain);
    CHECK(*plain == "abc");

    AwsChunkedDecoder empty(std::nullopt);
    auto nothing = decode(empty, "0\r\n\r\n", 1);
    REQUIRE(nothing);
    CHECK(nothing->empty());
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
