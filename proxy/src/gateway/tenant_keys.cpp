// Key pair generation, sealed storage and caller resolution (see
// tenant_keys.hpp).
#include "roar/proxy/gateway/tenant_keys.hpp"

#include "result_try.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

namespace roar::proxy::gateway {

namespace {

// `n` characters drawn uniformly from `alphabet` (rejection sampling).
std::string random_text(std::size_t n, std::string_view alphabet)
{
    std::string out;
    const unsigned limit = 256 - 256 % static_cast<unsigned>(alphabet.size());
    while (out.size() < n) {
        std::array<unsigned char, 64> buf{};
        if (RAND_bytes(buf.data(), static_cast<int>(buf.size())) != 1) {
            throw FatalError("the random number generator failed (OpenSSL RAND_bytes)");
        }
        for (const unsigned char b : buf) {
            if (b < limit && out.size() < n) {
                out.push_back(alphabet[b % alphabet.size()]);
            }
        }
    }
    return out;
}

bool equal_secret(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace

std::string key_context(std::string_view access_key) { return "key:" + std::string(access_key); }

KeyPair generate_key_pair()
{
    return {"RK" + random_text(18, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            random_text(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")};
}

Result<KeyPair> issue_key(MetadataStore& store, const SecretBox& box, const std::string& tenant, Millis now)
{
    KeyPair pair = generate_key_pair();
    KeyRecord rec;
    rec.access_key = pair.access_key;
    rec.tenant = tenant;
    rec.secret_sealed = box.seal(pair.secret_key, key_context(pair.access_key));
    rec.state = KeyState::active;
    rec.created_at = now;
    GW_CHECK(store.create_key(rec));
    return pair;
}

Result<std::optional<Caller>> resolve_caller(const GatewayConfig& config, MetadataStore& store, const SecretBox* box,
                                             std::string_view access_key, Millis now)
{
    if (config.auth.enabled && equal_secret(access_key, config.auth.access_key)) {
        Caller c;
        c.tenant = config.auth.tenant;
        c.credentials = {config.auth.access_key, config.auth.secret_key, "", "gateway [auth]"};
        c.static_key = true;
        return std::optional<Caller>(std::move(c));
    }
    if (!box) {
        return std::optional<Caller>();
    }
    GW_TRY(key, store.find_key(access_key));
    if (!*key || (*key)->state != KeyState::active || ((*key)->expires_at && *(*key)->expires_at <= now)) {
        return std::optional<Caller>();
    }
    GW_TRY(tenant, store.find_tenant((*key)->tenant));
    if (!*tenant || (*tenant)->disabled) {
        return std::optional<Caller>();
    }
    GW_TRY(secret, box->open((*key)->secret_sealed, key_context(access_key)));
    Caller c;
    c.tenant = (*key)->tenant;
    c.credentials = {std::string(access_key), std::move(*secret), "", "tenant " + (*key)->tenant};
    return std::optional<Caller>(std::move(c));
}

} // namespace roar::proxy::gateway
