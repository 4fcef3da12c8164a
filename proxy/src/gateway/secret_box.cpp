// scrypt key derivation and AES-256-GCM sealing of tenant secrets (see
// secret_box.hpp).
#include "roar/proxy/gateway/secret_box.hpp"

#include "result_try.hpp"

#include "roar/collector/byte_text.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <memory>

namespace roar::proxy::gateway {

namespace {

constexpr std::size_t k_nonce = 12;
constexpr std::size_t k_tag = 16;
constexpr std::string_view k_check_text = "roar gateway secret check";
constexpr std::string_view k_check_context = "check";
constexpr const char* k_kdf_setting = "secrets.kdf";
constexpr const char* k_check_setting = "secrets.check";

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::string random_bytes(std::size_t n)
{
    std::string out(n, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
        throw FatalError("the random number generator failed (OpenSSL RAND_bytes)");
    }
    return out;
}

// "scrypt:N:r:p:<salt base64>"
std::string kdf_text(const KdfParams& k, std::string_view salt)
{
    return fmt::format("scrypt:{}:{}:{}:{}", k.n, k.r, k.p, collector::base64_encode(salt));
}

Result<std::pair<KdfParams, std::string>> parse_kdf_text(std::string_view text)
{
    auto bad = [&] { return fail("the gateway metadata's secrets.kdf setting \"{}\" is not understood", text); };
    if (text.substr(0, 7) != "scrypt:") {
        return bad();
    }
    text.remove_prefix(7);
    KdfParams k;
    auto number = [&](auto& out) {
        const auto colon = text.find(':');
        if (colon == std::string_view::npos) {
            return false;
        }
        const auto [p, ec] = std::from_chars(text.data(), text.data() + colon, out);
        text.remove_prefix(colon + 1);
        return ec == std::errc() && p == text.data() - 1;
    };
    if (!number(k.n) || !number(k.r) || !number(k.p)) {
        return bad();
    }
    auto salt = collector::base64_decode(text);
    if (!salt || salt->size() < 16) {
        return bad();
    }
    return std::make_pair(k, std::move(*salt));
}

} // namespace

Result<SecretBox> SecretBox::derive(std::string_view passphrase, std::string_view salt, const KdfParams& params)
{
    SecretBox box;
    // Memory scrypt needs: 128 * r * (N + p + 2) bytes, plus headroom.
    const std::uint64_t maxmem = 128ull * params.r * (params.n + params.p + 2) + (1u << 20);
    if (EVP_PBE_scrypt(passphrase.data(), passphrase.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                       salt.size(), params.n, params.r, params.p, maxmem, box.m_key.data(), box.m_key.size())
        != 1) {
        return fail("deriving the tenant-secret key failed (scrypt N={} r={} p={})", params.n, params.r, params.p);
    }
    return box;
}

SecretBox::~SecretBox() { OPENSSL_cleanse(m_key.data(), m_key.size()); }

std::string SecretBox::seal(std::string_view plaintext, std::string_view context) const
{
    const std::string nonce = random_bytes(k_nonce);
    std::string out = nonce;
    out.resize(k_nonce + plaintext.size() + k_tag);
    auto* ct = reinterpret_cast<unsigned char*>(out.data() + k_nonce);
    CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int len = 0;
    int total = 0;
    const bool ok =
        ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1
        && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(k_nonce), nullptr) == 1
        && EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, m_key.data(),
                              reinterpret_cast<const unsigned char*>(nonce.data()))
               == 1
        && EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                             static_cast<int>(context.size()))
               == 1
        && EVP_EncryptUpdate(ctx.get(), ct, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                             static_cast<int>(plaintext.size()))
               == 1
        && (total = len, EVP_EncryptFinal_ex(ctx.get(), ct + total, &len) == 1)
        && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(k_tag),
                               out.data() + k_nonce + plaintext.size())
               == 1;
    if (!ok) {
        throw FatalError("AES-256-GCM encryption failed (OpenSSL)");
    }
    std::string sealed = "v1:" + collector::base64_encode(out);
    OPENSSL_cleanse(out.data(), out.size());
    return sealed;
}

Result<std::string> SecretBox::open(std::string_view sealed, std::string_view context) const
{
    if (sealed.substr(0, 3) != "v1:") {
        return fail("a sealed tenant secret has an unknown format");
    }
    auto raw = collector::base64_decode(sealed.substr(3));
    if (!raw || raw->size() < k_nonce + k_tag) {
        return fail("a sealed tenant secret is malformed");
    }
    const std::size_t n = raw->size() - k_nonce - k_tag;
    std::string plain(n, '\0');
    CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int len = 0;
    const auto* bytes = reinterpret_cast<const unsigned char*>(raw->data());
    std::string tag = raw->substr(k_nonce + n);
    const bool ok =
        ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1
        && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(k_nonce), nullptr) == 1
        && EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, m_key.data(), bytes) == 1
        && EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                             static_cast<int>(context.size()))
               == 1
        && EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len, bytes + k_nonce,
                             static_cast<int>(n))
               == 1
        && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(k_tag), tag.data()) == 1
        && EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &len) == 1;
    OPENSSL_cleanse(raw->data(), raw->size());
    if (!ok) {
        OPENSSL_cleanse(plain.data(), plain.size());
        return fail("a sealed tenant secret does not open with this key (another passphrase, or altered data)");
    }
    return plain;
}

Result<SecretBox> open_secret_box(MetadataStore& store, std::string_view passphrase, const KdfParams& params)
{
    GW_TRY(kdf_setting, store.init_setting(k_kdf_setting, kdf_text(params, random_bytes(16))));
    GW_TRY(kdf, parse_kdf_text(*kdf_setting));
    GW_TRY(box, SecretBox::derive(passphrase, kdf->second, kdf->first));
    GW_TRY(check, store.init_setting(k_check_setting, box->seal(k_check_text, k_check_context)));
    auto opened = box->open(*check, k_check_context);
    if (!opened || *opened != k_check_text) {
        return fail("the tenant-secret passphrase does not match the one this gateway metadata was set up with "
                    "([secrets] passphrase_env / passphrase_file)");
    }
    return std::move(*box);
}

} // namespace roar::proxy::gateway
