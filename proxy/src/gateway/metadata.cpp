// Engine-independent pieces of the metadata model: ids, the clock, the
// quota arithmetic, the check of a conditional write against the current
// object, and the choice of engine for a metadata URL.
#include "roar/proxy/gateway/metadata.hpp"

#include "roar/proxy/gateway/sql_metadata.hpp"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <filesystem>

namespace roar::proxy::gateway {

std::optional<std::uint64_t> BackendUsage::available() const
{
    if (!quota_bytes) {
        return std::nullopt;
    }
    const std::uint64_t taken = used_bytes + reserved_bytes;
    return taken >= *quota_bytes ? 0 : *quota_bytes - taken;
}

std::string new_id(Millis now)
{
    static constexpr char k_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
    std::array<unsigned char, 10> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
        // OpenSSL's generator failing is not recoverable for id uniqueness.
        throw FatalError("the random number generator failed (OpenSSL RAND_bytes)");
    }
    std::string out(26, '0');
    auto t = static_cast<std::uint64_t>(now < 0 ? 0 : now) & ((1ull << 48) - 1);
    for (int i = 9; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = k_alphabet[t & 31];
        t >>= 5;
    }
    // 80 random bits as 16 base32 digits.
    std::uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 5; ++i) {
        hi = (hi << 8) | random[static_cast<std::size_t>(i)];
        lo = (lo << 8) | random[static_cast<std::size_t>(i + 5)];
    }
    for (int i = 7; i >= 0; --i) {
        out[static_cast<std::size_t>(10 + i)] = k_alphabet[hi & 31];
        hi >>= 5;
        out[static_cast<std::size_t>(18 + i)] = k_alphabet[lo & 31];
        lo >>= 5;
    }
    return out;
}

namespace {

// `tag` without blanks, a weak prefix (W/) or its quotes.
std::string_view opaque_tag(std::string_view tag)
{
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) {
        tag.remove_prefix(1);
    }
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) {
        tag.remove_suffix(1);
    }
    if (tag.substr(0, 2) == "W/") {
        tag.remove_prefix(2);
    }
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
        tag = tag.substr(1, tag.size() - 2);
    }
    return tag;
}

} // namespace

bool etag_list_matches(std::string_view list, std::string_view etag)
{
    const std::string_view want = opaque_tag(etag);
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view item = opaque_tag(list.substr(0, comma));
        if (item == "*" || (!item.empty() && item == want)) {
            return true;
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    return false;
}

ConditionCheck check_write_condition(const WriteCondition& c, const ObjectRecord* current)
{
    if (c.if_match) {
        if (!current) {
            return ConditionCheck::no_object;
        }
        if (!etag_list_matches(*c.if_match, current->etag)) {
            return ConditionCheck::failed;
        }
    }
    if (c.if_none_match_any && current) {
        return ConditionCheck::failed;
    }
    return ConditionCheck::met;
}

Millis now_millis()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Result<void> seed_metadata(MetadataStore& store, const GatewayConfig& config, Millis now)
{
    std::vector<BackendLimit> limits;
    for (const auto& b : config.backends) {
        limits.push_back({b.name, b.quota_bytes});
    }
    if (auto ok = store.register_backends(limits); !ok) {
        return ok;
    }
    std::vector<std::string> tenants;
    if (config.auth.enabled) {
        tenants.push_back(config.auth.tenant);
    }
    for (const auto& t : config.tenants) {
        tenants.push_back(t.name);
    }
    for (const auto& b : config.buckets) {
        tenants.push_back(b.tenant);
    }
    for (const auto& t : tenants) {
        if (auto created = store.create_tenant(t, now); !created) {
            return tl::unexpected(created.error());
        }
    }
    // A configured bucket has no creation of its own: the first start that
    // names it stands for one, kept across restarts and shared by every
    // gateway on this metadata.
    for (const auto& b : config.buckets) {
        const BucketRef ref{b.tenant.empty() ? config.auth.tenant : b.tenant, b.name};
        if (auto seen = store.init_setting(bucket_first_seen_setting(ref), std::to_string(now)); !seen) {
            return tl::unexpected(seen.error());
        }
    }
    return {};
}

std::string bucket_first_seen_setting(const BucketRef& bucket)
{
    return "bucket_first_seen." + bucket.tenant + "/" + bucket.bucket;
}

Result<std::unique_ptr<MetadataStore>> open_metadata_store(const MetadataConfig& config)
{
    if (config.engine == MetadataEngine::postgresql) {
        return open_postgres_metadata(config.url, config.schema);
    }
    // A fresh deployment's directory is made here rather than failing on it.
    std::error_code ec;
    if (const auto dir = config.sqlite_path.parent_path(); !dir.empty()) {
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            return fail("cannot create the directory {} of the gateway metadata: {}", dir.string(), ec.message());
        }
    }
    return open_sqlite_metadata(config.sqlite_path);
}

} // namespace roar::proxy::gateway
