// The PROXY protocol v2 header of redirected S3 connections
// (proxy_header.h): round trips, the bytes the specification prescribes,
// and every truncated or malformed header refused by the decoder.
#include "roar/collector/proxy_header.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cstring>
#include <string>
#include <vector>

namespace {

const char k_header_secret[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

roar_pp2 sample(bool ipv6)
{
    roar_pp2 h{};
    h.ipv6 = ipv6 ? 1 : 0;
    if (ipv6) {
        inet_pton(AF_INET6, "::1", h.src_addr);
        inet_pton(AF_INET6, "2600:1f18::5", h.dst_addr);
    } else {
        inet_pton(AF_INET, "127.0.0.1", h.src_addr);
        inet_pton(AF_INET, "52.216.1.2", h.dst_addr);
    }
    h.src_port = 40001;
    h.dst_port = 443;
    const std::string authority = "bucket.s3.us-east-1.amazonaws.com";
    std::memcpy(h.authority, authority.data(), authority.size());
    h.authority_len = uint16_t(authority.size());
    std::memcpy(h.secret, k_header_secret, 64);
    h.has_secret = 1;
    h.pid = 0x01020304;
    h.has_pid = 1;
    h.flags = ROAR_PP2_FLAG_TLS;
    h.has_flags = 1;
    return h;
}

std::vector<unsigned char> encode(const roar_pp2& h)
{
    std::vector<unsigned char> buf(ROAR_PP2_MAX_HEADER);
    const long n = roar_pp2_encode(&h, buf.data(), buf.size());
    REQUIRE(n > 0);
    buf.resize(size_t(n));
    return buf;
}

long decode(const std::vector<unsigned char>& buf, roar_pp2* out)
{
    return roar_pp2_decode(buf.data(), buf.size(), out);
}

// Builds a header by hand: family byte, address block, raw TLV bytes.
std::vector<unsigned char> raw(unsigned char ver_cmd, unsigned char fam, size_t addr_block,
                               const std::vector<unsigned char>& tlvs)
{
    std::vector<unsigned char> b(ROAR_PP2_SIGNATURE, ROAR_PP2_SIGNATURE + ROAR_PP2_SIGNATURE_LEN);
    b.push_back(ver_cmd);
    b.push_back(fam);
    const size_t rest = addr_block + tlvs.size();
    b.push_back((unsigned char)(rest >> 8));
    b.push_back((unsigned char)rest);
    b.insert(b.end(), addr_block, 0);
    b.insert(b.end(), tlvs.begin(), tlvs.end());
    return b;
}

std::vector<unsigned char> tlv(unsigned char type, const std::string& value)
{
    std::vector<unsigned char> t{type, (unsigned char)(value.size() >> 8), (unsigned char)value.size()};
    t.insert(t.end(), value.begin(), value.end());
    return t;
}

std::vector<unsigned char> cat(std::vector<unsigned char> a, const std::vector<unsigned char>& b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace

TEST_CASE("an IPv4 header round-trips every field", "[collector][proxy_header]")
{
    const roar_pp2 in = sample(false);
    const auto buf = encode(in);
    roar_pp2 out{};
    REQUIRE(decode(buf, &out) == long(buf.size()));
    CHECK(out.ipv6 == 0);
    CHECK(std::memcmp(out.src_addr, in.src_addr, 4) == 0);
    CHECK(std::memcmp(out.dst_addr, in.dst_addr, 4) == 0);
    CHECK(out.src_port == 40001);
    CHECK(out.dst_port == 443);
    CHECK(std::string(out.authority) == "bucket.s3.us-east-1.amazonaws.com");
    CHECK(out.has_secret == 1);
    CHECK(std::string(out.secret) == k_header_secret);
    CHECK(roar_pp2_secret_equal(out.secret, k_header_secret) == 1);
    CHECK(out.has_pid == 1);
    CHECK(out.pid == 0x01020304u);
    CHECK(out.has_flags == 1);
    CHECK(out.flags == ROAR_PP2_FLAG_TLS);
}

TEST_CASE("an IPv6 header round-trips, and optional TLVs may be absent", "[collector][proxy_header]")
{
    roar_pp2 in = sample(true);
    in.authority_len = 0;
    in.has_flags = 0;
    const auto buf = encode(in);
    CHECK(buf.size() == 16 + 36 + (3 + 64) + (3 + 4));
    roar_pp2 out{};
    REQUIRE(decode(buf, &out) == long(buf.size()));
    CHECK(out.ipv6 == 1);
    CHECK(std::memcmp(out.dst_addr, in.dst_addr, 16) == 0);
    CHECK(out.authority_len == 0);
    CHECK(out.has_flags == 0);
    CHECK(out.has_pid == 1);
}

TEST_CASE("the encoder writes the bytes the PROXY v2 specification prescribes", "[collector][proxy_header]")
{
    roar_pp2 in = sample(false);
    in.authority_len = 0;
    in.has_secret = 0;
    in.has_flags = 0;
    const auto buf = encode(in);
    const std::vector<unsigned char> want = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55,
                                             0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x13,    // PROXY, TCP4, 19 more bytes
                                             127,  0,    0,    1,    52,   216,  1,    2, // src, dst
                                             0x9c, 0x41, 0x01, 0xbb,                      // 40001, 443
                                             0xe1, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04};   // pid
    CHECK(buf == want);
}

TEST_CASE("the bytes after the header are the client's", "[collector][proxy_header]")
{
    auto buf = encode(sample(false));
    const size_t header = buf.size();
    const std::string request = "GET /b/k HTTP/1.1\r\n";
    buf.insert(buf.end(), request.begin(), request.end());
    roar_pp2 out{};
    CHECK(decode(buf, &out) == long(header));
}

TEST_CASE("every truncation of a valid header asks for more bytes", "[collector][proxy_header]")
{
    const auto buf = encode(sample(true));
    for (size_t n = 0; n < buf.size(); ++n) {
        INFO(n);
        roar_pp2 out{};
        CHECK(roar_pp2_decode(buf.data(), n, &out) == 0);
    }
    CHECK(roar_pp2_has_signature(buf.data(), 5) == -1);
    CHECK(roar_pp2_has_signature(buf.data(), buf.size()) == 1);
}

TEST_CASE("what is not a PROXY v2 header is refused", "[collector][proxy_header]")
{
    roar_pp2 out{};
    const std::string http = "GET / HTTP/1.1\r\n\r\n";
    CHECK(roar_pp2_has_signature(reinterpret_cast<const unsigned char*>(http.data()), http.size()) == 0);
    CHECK(roar_pp2_decode(reinterpret_cast<const unsigned char*>(http.data()), http.size(), &out) == -1);
    const std::string v1 = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n";
    CHECK(roar_pp2_decode(reinterpret_cast<const unsigned char*>(v1.data()), v1.size(), &out) == -1);
    CHECK(decode(raw(0x20, 0x11, 12, {}), &out) == -1);  // LOCAL
    CHECK(decode(raw(0x11, 0x11, 12, {}), &out) == -1);  // version 1 in a v2 header
    CHECK(decode(raw(0x21, 0x12, 12, {}), &out) == -1);  // UDP
    CHECK(decode(raw(0x21, 0x31, 216, {}), &out) == -1); // Unix
    CHECK(decode(raw(0x21, 0x00, 0, {}), &out) == -1);   // UNSPEC
    // Refused as soon as the bad byte arrives, before the whole header.
    const auto local = raw(0x20, 0x11, 12, {});
    CHECK(roar_pp2_decode(local.data(), 13, &out) == -1);
    const auto udp = raw(0x21, 0x12, 12, {});
    CHECK(roar_pp2_decode(udp.data(), 14, &out) == -1);
}

TEST_CASE("malformed lengths and TLVs are refused", "[collector][proxy_header]")
{
    roar_pp2 out{};
    CHECK(decode(raw(0x21, 0x11, 11, {}), &out) == -1);                             // address block too short for IPv4
    CHECK(decode(raw(0x21, 0x21, 12, {}), &out) == -1);                             // ... for IPv6
    CHECK(decode(raw(0x21, 0x11, 12, {0xe1, 0x00}), &out) == -1);                   // TLV header cut
    CHECK(decode(raw(0x21, 0x11, 12, {0xe1, 0x00, 0x05, 1, 2, 3, 4}), &out) == -1); // runs past the end
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0xe1, "abc")), &out) == -1);               // pid of 3 bytes
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0xe2, "")), &out) == -1);                  // empty flags
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0xe0, std::string(63, 'a'))), &out) == -1);
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0xe0, std::string(64, 'A'))), &out) == -1); // upper-case hex
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0xe0, std::string(64, 'g'))), &out) == -1);
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0x02, "")), &out) == -1);
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0x02, "a b")), &out) == -1);
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0x02, std::string("a\0b", 3))), &out) == -1);
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0x02, std::string(256, 'a'))), &out) == -1);
    CHECK(decode(raw(0x21, 0x11, 12, cat(tlv(0xe1, "1234"), tlv(0xe1, "1234"))), &out) == -1); // twice
    CHECK(decode(raw(0x21, 0x11, 12, cat(tlv(0x02, "a"), tlv(0x02, "b"))), &out) == -1);
    // Longer than the decoder accepts, even if well formed.
    CHECK(decode(raw(0x21, 0x11, 12, tlv(0xee, std::string(ROAR_PP2_MAX_HEADER, 'x'))), &out) == -1);
}

TEST_CASE("unknown TLVs are skipped", "[collector][proxy_header]")
{
    roar_pp2 out{};
    const auto buf =
        raw(0x21, 0x11, 12, cat(cat(tlv(0x04, "pad"), tlv(0xe1, std::string("\0\0\0\7", 4))), tlv(0xef, "")));
    CHECK(decode(buf, &out) == long(buf.size()));
    CHECK(out.has_pid == 1);
    CHECK(out.pid == 7);
}

TEST_CASE("the encoder refuses invalid fields and a small buffer", "[collector][proxy_header]")
{
    unsigned char buf[ROAR_PP2_MAX_HEADER];
    roar_pp2 h = sample(false);
    CHECK(roar_pp2_encode(&h, buf, 40) == -1);
    h.secret[3] = 'X';
    CHECK(roar_pp2_encode(&h, buf, sizeof buf) == -1);
    h = sample(false);
    h.authority[2] = ' ';
    CHECK(roar_pp2_encode(&h, buf, sizeof buf) == -1);
}

TEST_CASE("secrets compare equal only when every byte is", "[collector][proxy_header]")
{
    std::string other = k_header_secret;
    other[63] = 'e';
    CHECK(roar_pp2_secret_equal(k_header_secret, k_header_secret) == 1);
    CHECK(roar_pp2_secret_equal(k_header_secret, other.c_str()) == 0);
}
