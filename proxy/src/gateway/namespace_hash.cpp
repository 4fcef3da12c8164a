// Namespace hashing of (tenant, bucket) into backend bucket names (see
// namespace_hash.hpp).
#include "roar/proxy/gateway/namespace_hash.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>

namespace roar::proxy::gateway {

namespace {

// Appends the 8-byte big-endian length of `s`, then `s`, so that distinct
// (tenant, bucket) pairs always hash distinct inputs.
void append_field(std::string& out, std::string_view s)
{
    const auto n = static_cast<std::uint64_t>(s.size());
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((n >> shift) & 0xFF));
    }
    out.append(s);
}

} // namespace

std::string namespace_bucket_name(std::string_view prefix, std::string_view tenant, std::string_view bucket)
{
    std::string input;
    append_field(input, "roar-namespace-v1");
    append_field(input, tenant);
    append_field(input, bucket);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    EVP_Digest(input.data(), input.size(), digest.data(), &len, EVP_sha256(), nullptr);

    // 128 bits as 26 base32 digits (a-z, 2-7): 130 bits of room, top bits zero.
    static constexpr char k_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    std::string hash;
    std::uint32_t acc = 0;
    int bits = 0;
    for (int i = 0; i < 16; ++i) {
        acc = (acc << 8) | digest[static_cast<std::size_t>(i)];
        bits += 8;
        while (bits >= 5) {
            hash.push_back(k_alphabet[(acc >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    hash.push_back(k_alphabet[(acc << (5 - bits)) & 31]); // the last 3 bits

    // The hint: the bucket's start, only a-z 0-9 '-', no leading/trailing or double '-'.
    const std::size_t room = 63 - prefix.size() - 2 - hash.size();
    std::string hint;
    for (const char c : bucket) {
        if (hint.size() >= room) {
            break;
        }
        const char h = (c == '.' || c == '_') ? '-' : c;
        const bool ok = (h >= 'a' && h <= 'z') || (h >= '0' && h <= '9') || h == '-';
        if (!ok || (h == '-' && (hint.empty() || hint.back() == '-'))) {
            continue;
        }
        hint.push_back(h);
    }
    while (!hint.empty() && hint.back() == '-') {
        hint.pop_back();
    }
    std::string out(prefix);
    out += '-';
    if (!hint.empty()) {
        out += hint;
        out += '-';
    }
    out += hash;
    return out;
}

} // namespace roar::proxy::gateway
