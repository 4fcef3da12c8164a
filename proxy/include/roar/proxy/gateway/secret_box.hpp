// Tenant secrets at rest: AES-256-GCM under a key derived with scrypt
// (OpenSSL 3) from the passphrase the configuration names
// ([secrets] passphrase_env / passphrase_file). The metadata store keeps the
// KDF parameters, the salt and a check value, so a gateway started with the
// wrong passphrase stops with a clear error instead of failing every
// signature. A sealed value is bound to a context (the access key it
// belongs to), so it cannot be moved onto another key's row. Secrets are
// never logged; the derived key is wiped when the box is destroyed.
#pragma once

#include "roar/proxy/gateway/metadata.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace roar::proxy::gateway {

struct KdfParams {
    std::uint64_t n = 1u << 15; // scrypt cost: 32 MiB of memory with r = 8
    std::uint32_t r = 8;
    std::uint32_t p = 1;
};

class SecretBox {
public:
    // Derives the key from `passphrase` and `salt` with scrypt `params`.
    static Result<SecretBox> derive(std::string_view passphrase, std::string_view salt, const KdfParams& params);

    SecretBox(const SecretBox&) = default;
    SecretBox& operator=(const SecretBox&) = default;
    ~SecretBox();

    // Encrypts `plaintext` bound to `context`: "v1:" + base64(nonce, ciphertext, tag).
    std::string seal(std::string_view plaintext, std::string_view context) const;
    // Decrypts `sealed` made for `context`; an error when it was sealed with
    // another key or context, or was altered.
    Result<std::string> open(std::string_view sealed, std::string_view context) const;

private:
    SecretBox() = default;
    std::array<unsigned char, 32> m_key{};
};

// The secret box of `store` for `passphrase`: on first use, records the
// KDF parameters `params`, a random salt and a check value in the store's
// settings; afterwards derives with the recorded ones and verifies the
// check value (an error names the likely cause: another passphrase).
Result<SecretBox> open_secret_box(MetadataStore& store, std::string_view passphrase, const KdfParams& params = {});

} // namespace roar::proxy::gateway
