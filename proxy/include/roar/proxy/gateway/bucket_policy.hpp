// Which backends a virtual bucket may use, how it places and replicates
// objects, and where each object version lives on a backend. A bucket is
// either configured ([[bucket]]: objects in each backend's `bucket` under
// `key_prefix`, the "direct" namespace) or created by a tenant (objects in
// the backend bucket named by namespace_bucket_name, the "hashed"
// namespace); an administrator's stored policy overrides replicas,
// placement and residencies of either.
#pragma once

#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/metadata.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy::gateway {

enum class NamespaceMode { direct, hashed };

struct BucketPolicy {
    BucketRef bucket;
    NamespaceMode mode = NamespaceMode::direct;
    std::vector<std::string> backends; // usable: listed and with an allowed residency, in preference order
    std::vector<std::string> refused;  // listed but refused by the residency rule
    Placement placement = Placement::first_fit;
    unsigned replicas = 1;
    std::vector<std::string> residencies;
    std::string key_prefix;     // direct namespace
    std::string backend_bucket; // hashed namespace: the bucket on every backend
};

// The policy of `bucket` from `config` and the administrator's `stored`
// overrides: the configured bucket of that tenant if there is one, else a
// tenant bucket (hashed namespace) with the tenant's settings. Errors when
// the replicas cannot be met by the backends the residencies allow.
Result<BucketPolicy> resolve_bucket_policy(const GatewayConfig& config, const BucketRef& bucket,
                                           const std::optional<StoredPolicy>& stored);

// The policy of an existing bucket: a configured one, or a tenant bucket
// with a namespace in `store`; nullopt when the bucket does not exist.
Result<std::optional<BucketPolicy>> lookup_bucket_policy(MetadataStore& store, const GatewayConfig& config,
                                                         const BucketRef& bucket);

// Where version `version` of `key` is written on `backend` under `policy`:
// the backend bucket, and the key "<key_prefix><key>~<version>" (a new
// backend key per version, so a slow writer can never overwrite a newer
// version, and replicas of one version share a key).
Location location_for(const BucketPolicy& policy, const BackendConfig& backend, std::string_view key,
                      std::string_view version);

// The logical key and version encoded in backend key `backend_key` of a
// bucket with `policy`; version empty for keys the gateway did not write
// (imported objects); nullopt when the key is outside the bucket's prefix.
struct DecodedKey {
    std::string key;
    std::string version;
};
std::optional<DecodedKey> decode_backend_key(const BucketPolicy& policy, std::string_view backend_key);

// Whether bytes of `policy`'s bucket may be sent to `backend`: it is one of
// the policy's backends and its residency label is allowed. Checked before
// any byte leaves the gateway.
bool may_store(const BucketPolicy& policy, const BackendConfig& backend);

// Longest logical key a bucket with `policy` can hold (S3 keys are at most
// 1024 bytes, less the prefix and the version suffix).
std::size_t max_key_length(const BucketPolicy& policy);

} // namespace roar::proxy::gateway
