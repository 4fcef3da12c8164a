// Bucket policy resolution and the mapping of object versions to backend
// locations (see bucket_policy.hpp).
#include "roar/proxy/gateway/bucket_policy.hpp"

#include "roar/proxy/gateway/namespace_hash.hpp"

#include "result_try.hpp"

#include <fmt/ranges.h>

#include <algorithm>

namespace roar::proxy::gateway {

namespace {

constexpr std::size_t k_version_length = 26;
constexpr std::size_t k_max_backend_key = 1024;

bool is_version(std::string_view s)
{
    static constexpr std::string_view k_alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    return s.size() == k_version_length
           && std::all_of(s.begin(), s.end(), [](char c) { return k_alphabet.find(c) != std::string_view::npos; });
}

} // namespace

Result<BucketPolicy> resolve_bucket_policy(const GatewayConfig& config, const BucketRef& bucket,
                                           const std::optional<StoredPolicy>& stored)
{
    BucketPolicy p;
    p.bucket = bucket;
    std::vector<std::string> listed;
    if (const BucketConfig* b = config.bucket(bucket.tenant, bucket.bucket)) {
        p.mode = NamespaceMode::direct;
        listed = b->backends;
        p.placement = b->placement;
        p.replicas = b->replicas;
        p.residencies = b->residencies;
        p.key_prefix = b->key_prefix;
    } else {
        const TenantSettings& t = config.tenant_settings(bucket.tenant);
        p.mode = NamespaceMode::hashed;
        listed = t.backends;
        if (listed.empty()) {
            for (const auto& be : config.backends) {
                listed.push_back(be.name);
            }
        }
        p.placement = t.placement;
        p.replicas = t.replicas;
        p.residencies = t.residencies;
        p.backend_bucket = namespace_bucket_name(config.namespace_prefix, bucket.tenant, bucket.bucket);
    }
    if (stored) {
        p.replicas = stored->replicas.value_or(p.replicas);
        p.placement = stored->placement.value_or(p.placement);
        if (stored->residencies) {
            p.residencies = *stored->residencies;
        }
    }
    for (const auto& name : listed) {
        const BackendConfig* be = config.backend(name);
        if (!be) {
            continue; // a backend removed from the configuration
        }
        (residency_allowed(be->residency, p.residencies) ? p.backends : p.refused).push_back(name);
    }
    if (p.backends.empty()) {
        return fail("bucket {} of tenant {}: no backend has a residency its policy allows ({})", bucket.bucket,
                    bucket.tenant,
                    p.residencies.empty() ? std::string("any") : fmt::format("{}", fmt::join(p.residencies, ", ")));
    }
    if (p.replicas > p.backends.size()) {
        return fail("bucket {} of tenant {}: {} replicas need {} backends with an allowed residency, but only {} "
                    "qualify ({})",
                    bucket.bucket, bucket.tenant, p.replicas, p.replicas, p.backends.size(),
                    fmt::join(p.backends, ", "));
    }
    return p;
}

Result<std::optional<BucketPolicy>> lookup_bucket_policy(MetadataStore& store, const GatewayConfig& config,
                                                         const BucketRef& bucket)
{
    if (!config.bucket(bucket.tenant, bucket.bucket)) {
        GW_TRY(ns, store.find_namespace(bucket));
        if (!*ns) {
            return std::optional<BucketPolicy>();
        }
    }
    GW_TRY(stored, store.find_bucket_policy(bucket));
    GW_TRY(policy, resolve_bucket_policy(config, bucket, *stored));
    return std::optional<BucketPolicy>(std::move(*policy));
}

Location location_for(const BucketPolicy& policy, const BackendConfig& backend, std::string_view key,
                      std::string_view version)
{
    Location at;
    at.backend = backend.name;
    at.bucket = policy.mode == NamespaceMode::direct ? backend.bucket : policy.backend_bucket;
    at.key = policy.key_prefix;
    at.key.append(key);
    at.key.push_back('~');
    at.key.append(version);
    return at;
}

std::optional<DecodedKey> decode_backend_key(const BucketPolicy& policy, std::string_view backend_key)
{
    if (backend_key.substr(0, policy.key_prefix.size()) != policy.key_prefix) {
        return std::nullopt;
    }
    backend_key.remove_prefix(policy.key_prefix.size());
    if (backend_key.empty()) {
        return std::nullopt;
    }
    if (backend_key.size() > k_version_length + 1 && backend_key[backend_key.size() - k_version_length - 1] == '~'
        && is_version(backend_key.substr(backend_key.size() - k_version_length))) {
        return DecodedKey{std::string(backend_key.substr(0, backend_key.size() - k_version_length - 1)),
                          std::string(backend_key.substr(backend_key.size() - k_version_length))};
    }
    return DecodedKey{std::string(backend_key), {}};
}

bool may_store(const BucketPolicy& policy, const BackendConfig& backend)
{
    return std::find(policy.backends.begin(), policy.backends.end(), backend.name) != policy.backends.end()
           && residency_allowed(backend.residency, policy.residencies);
}

std::size_t max_key_length(const BucketPolicy& policy)
{
    const std::size_t overhead = policy.key_prefix.size() + 1 + k_version_length;
    return overhead >= k_max_backend_key ? 0 : k_max_backend_key - overhead;
}

} // namespace roar::proxy::gateway
