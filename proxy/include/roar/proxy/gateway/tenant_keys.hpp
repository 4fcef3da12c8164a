// Tenants' access keys: making new key pairs, storing them sealed, and
// deciding who a request's access key belongs to (the configuration's
// static [auth] key, or an active key of an enabled tenant).
#pragma once

#include "roar/proxy/credentials.hpp"
#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/gateway/secret_box.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace roar::proxy::gateway {

struct KeyPair {
    std::string access_key; // "RK" + 18 characters of A-Z and 2-7
    std::string secret_key; // 40 characters of A-Z, a-z and 0-9
};

// A fresh random key pair.
KeyPair generate_key_pair();

// Creates an active key for tenant `tenant` at `now`, stored sealed with
// `box`; the returned secret is the only copy in clear.
Result<KeyPair> issue_key(MetadataStore& store, const SecretBox& box, const std::string& tenant, Millis now);

// The signer behind an access key.
struct Caller {
    std::string tenant;
    Credentials credentials; // what the request's signature is checked against
    bool static_key = false; // the configuration's [auth] key
};

// Who signs with `access_key` at `now`: the configured static key, or a
// tenant key that is active, not past its expiry, of an enabled tenant;
// nullopt otherwise (S3's InvalidAccessKeyId). `box` may be null when the
// configuration has no [secrets] (tenant keys then never match).
Result<std::optional<Caller>> resolve_caller(const GatewayConfig& config, MetadataStore& store, const SecretBox* box,
                                             std::string_view access_key, Millis now);

// The context a tenant secret is sealed for: its access key.
std::string key_context(std::string_view access_key);

} // namespace roar::proxy::gateway
