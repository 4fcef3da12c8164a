// The team gateway's configuration (gateway.toml): where it listens, who may
// call it ([auth] static key, [admin] token, tenants), where its metadata
// lives, the backends with their credentials, quotas and residency labels,
// the virtual buckets with their placement and replica policy, and the
// settings of the background work (replication, multipart sweep,
// rebalance). Secrets are never written in the file: they are references
// to environment variables or files, resolved when the file is loaded.
// Every string value may use ${NAME} or ${NAME:-default} (environment
// expansion; "$$" is a literal '$'). Errors name the file, line, key and
// reason: "gw.toml:12: backend[1].quota_bytes: expected bytes, e.g. ...".
#pragma once

#include "roar/collector/result.hpp"
#include "roar/proxy/credentials.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy::gateway {

enum class Placement { first_fit, most_free };

// "first-fit" / "most-free".
std::string_view placement_name(Placement p);
// Parses `text` ("first-fit" or "most-free"); nullopt otherwise.
std::optional<Placement> parse_placement(std::string_view text);

struct BackendConfig {
    std::string name;
    std::string endpoint; // http(s)://host[:port], no trailing '/'
    std::string bucket;   // the backend bucket of the configured (direct) virtual buckets
    std::string region = "us-east-1";
    bool path_style = true;
    std::optional<std::uint64_t> quota_bytes; // nullopt: unlimited
    std::string residency;                    // label such as "eu-fi"; empty: none
    Credentials credentials;                  // resolved; `source` says where from, never the secret
    std::chrono::seconds connect_timeout{10};
    std::chrono::seconds stall_timeout{30}; // a transfer making no progress this long fails (read fail-over)
};

// The policy fields a tenant's buckets inherit ([tenant_defaults], [[tenant]]).
struct TenantSettings {
    std::string name;                  // empty for [tenant_defaults]
    std::vector<std::string> backends; // empty: every backend
    Placement placement = Placement::first_fit;
    unsigned replicas = 1;
    std::vector<std::string> residencies; // glob patterns ("eu-*"); empty: any residency
    bool create_buckets = true;           // whether the tenant may create buckets by CreateBucket
};

// A virtual bucket named in the file. Its objects live in each backend's
// `bucket` under `key_prefix` ("direct" namespace), unlike the buckets
// tenants create, whose backend bucket is a namespace hash.
struct BucketConfig {
    std::string name;
    std::string tenant; // owner; empty: the static [auth] key's tenant
    std::vector<std::string> backends;
    Placement placement = Placement::first_fit;
    unsigned replicas = 1;
    std::vector<std::string> residencies;
    std::string key_prefix;
};

struct AuthConfig {
    bool enabled = false;
    std::string access_key;
    std::string secret_key; // resolved from secret_key_env / secret_key_file
    std::string tenant = "default";
};

struct AdminConfig {
    bool enabled = false;
    std::string token; // resolved from token_env / token_file
};

struct SecretsConfig {
    bool enabled = false;
    std::string passphrase; // resolved from passphrase_env / passphrase_file
};

enum class MetadataEngine { sqlite, postgresql };

struct MetadataConfig {
    std::string url;
    MetadataEngine engine = MetadataEngine::sqlite;
    std::filesystem::path sqlite_path;               // for sqlite:// URLs, relative ones resolved against the file
    std::string schema = "gateway_metadata";         // for postgresql:// URLs: the schema of the gateway's tables
    std::chrono::seconds reservation_ttl{24 * 3600}; // an unfinished upload's quota reservation lapses after this
};

struct MultipartConfig {
    std::chrono::seconds stale_after{24 * 3600};
    std::chrono::seconds sweep_interval{3600};
};

struct ReplicationConfig {
    unsigned workers = 1;
    unsigned max_attempts = 10;
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{5 * 60 * 1000};
    std::chrono::milliseconds poll_interval{1000};
    std::chrono::seconds lease{300};      // a claimed job is reclaimed by another worker after this
    std::chrono::seconds delete_grace{0}; // delay before a replaced or deleted copy is removed from its backend
    std::uint64_t multipart_threshold = 64ull << 20; // copies larger than this go as multipart uploads
    std::uint64_t part_size = 16ull << 20;
};

struct RebalanceConfig {
    double high_water = 0.9; // a backend above this fraction of its quota gives objects away
    double low_water = 0.8;  // ... until it is at or below this one
};

struct GatewayConfig {
    std::filesystem::path source; // the file it was read from
    std::string listen;           // "host:port" as written
    std::string listen_host;
    std::uint16_t listen_port = 0;
    // Requests for Host "BUCKET.<suffix>[:port]" are virtual-host style:
    // `virtual_host_suffix`, else the listen host when it is a name (not an
    // IP address); empty: path style only.
    std::string virtual_host_suffix;
    std::string namespace_prefix = "roar"; // [namespace] prefix of hashed backend bucket names
    std::string log_format = "text";       // log_format: "text" or "json" (proxy/log.hpp)
    AuthConfig auth;
    AdminConfig admin;
    SecretsConfig secrets;
    MetadataConfig metadata;
    std::vector<BackendConfig> backends;
    std::vector<BucketConfig> buckets;
    TenantSettings tenant_defaults;
    std::vector<TenantSettings> tenants;
    MultipartConfig multipart;
    ReplicationConfig replication;
    RebalanceConfig rebalance;

    // The backend named `name`, or nullptr.
    const BackendConfig* backend(std::string_view name) const;
    // The configured bucket `name` owned by `tenant`, or nullptr.
    const BucketConfig* bucket(std::string_view tenant, std::string_view name) const;
    // The settings tenant `name` gets: its [[tenant]] entry, else [tenant_defaults].
    const TenantSettings& tenant_settings(std::string_view name) const;
};

// Reads and validates the gateway configuration in `path`, expanding
// ${NAME} and resolving credential references through `env`.
Result<GatewayConfig> load_gateway_config(const std::filesystem::path& path, const EnvLookup& env);

// As load_gateway_config, from the TOML `text`; `origin` names it in errors
// and relative sqlite paths are resolved against its directory.
Result<GatewayConfig> parse_gateway_config(std::string_view text, const std::filesystem::path& origin,
                                           const EnvLookup& env);

// Expands ${NAME}, ${NAME:-default} and "$$" in `text` through `env`; the
// error names the variable that is not set.
Result<std::string> expand_env(std::string_view text, const EnvLookup& env);

// Parses a byte size `text`: digits with an optional unit (B, KB, MB, GB,
// TB, KiB, MiB, GiB, TiB; spaces allowed before it).
std::optional<std::uint64_t> parse_byte_size(std::string_view text);
// Parses a duration `text`: digits with a unit ms, s, m, h or d.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// Whether `name` follows S3's bucket naming rules (3-63 characters of
// a-z 0-9 . -, starting and ending with a letter or digit, no "..", not an
// IPv4 address, none of the reserved prefixes and suffixes).
bool valid_bucket_name(std::string_view name);

// Whether `name` can name a tenant or a backend: 1-63 characters of a-z,
// 0-9, '-' and '_'.
bool valid_tenant_name(std::string_view name);

// Whether residency label `label` matches one of `patterns` ('*' matches any
// run of characters); an empty pattern list allows every label, including
// none.
bool residency_allowed(std::string_view label, const std::vector<std::string>& patterns);

} // namespace roar::proxy::gateway
