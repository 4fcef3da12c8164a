// Importing a backend bucket's objects into the metadata (see
// backend_sync.hpp).
#include "roar/proxy/gateway/backend_sync.hpp"

#include "result_try.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace roar::proxy::gateway {

namespace {

// A bucket whose objects live in one backend bucket, and its policy.
struct Target {
    std::string backend_bucket;
    BucketPolicy policy;
};

Result<std::vector<Target>> targets_for(MetadataStore& store, const GatewayConfig& config, const BackendConfig& backend,
                                        const SyncOptions& options)
{
    std::vector<Target> out;
    if (options.bucket) {
        GW_TRY(policy, lookup_bucket_policy(store, config, *options.bucket));
        if (!*policy) {
            return fail("bucket {} of tenant {} does not exist", options.bucket->bucket, options.bucket->tenant);
        }
        if (std::find((*policy)->backends.begin(), (*policy)->backends.end(), backend.name)
            == (*policy)->backends.end()) {
            return fail("bucket {} of tenant {} does not store data on backend {}", options.bucket->bucket,
                        options.bucket->tenant, backend.name);
        }
        const std::string bb = (*policy)->mode == NamespaceMode::direct ? backend.bucket : (*policy)->backend_bucket;
        out.push_back({bb, std::move(**policy)});
        return out;
    }
    for (const auto& b : config.buckets) {
        if (std::find(b.backends.begin(), b.backends.end(), backend.name) == b.backends.end()) {
            continue;
        }
        GW_TRY(stored, store.find_bucket_policy({b.tenant, b.name}));
        GW_TRY(policy, resolve_bucket_policy(config, {b.tenant, b.name}, *stored));
        out.push_back({backend.bucket, std::move(*policy)});
    }
    if (out.empty()) {
        return fail("no configured bucket stores data on backend {}; name one with --bucket TENANT/BUCKET",
                    backend.name);
    }
    // Longest key prefix first, so the most specific bucket claims a key.
    std::stable_sort(out.begin(), out.end(), [](const Target& a, const Target& b) {
        return a.policy.key_prefix.size() > b.policy.key_prefix.size();
    });
    return out;
}

// What import_object would do with `rec`, without changing anything.
Result<ImportOutcome> classify(MetadataStore& store, const ImportRecord& rec)
{
    GW_TRY(referenced, store.location_referenced(rec.location));
    if (*referenced) {
        return ImportOutcome::known;
    }
    GW_TRY(existing, store.find_object(rec.bucket, rec.key));
    if (!*existing) {
        return ImportOutcome::imported;
    }
    const auto& o = **existing;
    const bool on_backend = std::any_of(o.copies.begin(), o.copies.end(),
                                        [&](const Location& c) { return c.backend == rec.location.backend; });
    if (o.size != rec.size || o.etag != rec.etag || on_backend) {
        return ImportOutcome::conflict;
    }
    return ImportOutcome::added_copy;
}

// Copies the content type and user metadata of backend object `head` into
// `rec` (the gateway's own roar-blake3 note is not user metadata).
void take_head(ImportRecord& rec, const ObjectHead& head)
{
    rec.content_type = head.content_type;
    for (const auto& [name, value] : head.meta) {
        if (name != "roar-blake3") {
            rec.user_metadata.emplace_back(name, value);
        }
    }
}

} // namespace

Result<SyncSummary> sync_backend(MetadataStore& store, ObjectBackend& io, const GatewayConfig& config,
                                 const SyncOptions& options, const SyncProgress& progress, Millis now)
{
    const BackendConfig* backend = config.backend(options.backend);
    if (!backend) {
        return fail("no [[backend]] is named \"{}\"", options.backend);
    }
    GW_TRY(targets, targets_for(store, config, *backend, options));
    SyncSummary summary;
    summary.dry_run = options.dry_run;

    // One listing per distinct backend bucket.
    std::vector<std::string> listed_buckets;
    for (const auto& t : *targets) {
        if (std::find(listed_buckets.begin(), listed_buckets.end(), t.backend_bucket) != listed_buckets.end()) {
            continue;
        }
        listed_buckets.push_back(t.backend_bucket);
        summary.notes.push_back(fmt::format("read {}:{}{}", backend->name, t.backend_bucket,
                                            options.prefix.empty() ? "" : " prefix " + options.prefix));
        std::string token;
        do {
            auto page = io.list_objects(t.backend_bucket, options.prefix, "", token, options.page_size);
            if (!page) {
                return fail("listing {} on backend {}: {}", t.backend_bucket, backend->name, page.error().describe());
            }
            for (const auto& obj : page->objects) {
                ++summary.counts.listed;
                const Target* owner = nullptr;
                std::optional<DecodedKey> decoded;
                for (const auto& candidate : *targets) {
                    if (candidate.backend_bucket != t.backend_bucket) {
                        continue;
                    }
                    decoded = decode_backend_key(candidate.policy, obj.key);
                    if (decoded) {
                        owner = &candidate;
                        break;
                    }
                }
                if (!owner) {
                    ++summary.counts.unmapped;
                    continue;
                }
                ImportRecord rec;
                rec.bucket = owner->policy.bucket;
                rec.key = decoded->key;
                rec.size = obj.size;
                rec.etag = obj.etag;
                rec.last_modified = obj.last_modified ? obj.last_modified : now;
                rec.location = {backend->name, t.backend_bucket, obj.key};
                rec.version = decoded->version.empty() ? new_id(now) : decoded->version;
                GW_TRY(planned, classify(store, rec));
                if (*planned == ImportOutcome::imported && !options.dry_run) {
                    // A new key: its content type and user metadata are only in the backend's HEAD.
                    auto head = io.head_object(t.backend_bucket, obj.key);
                    if (!head && head.error().not_found()) {
                        summary.notes.push_back(
                            fmt::format("{} vanished from {} while it was read", obj.key, backend->name));
                        continue;
                    }
                    if (!head) {
                        return fail("reading the metadata of {} on backend {}: {}", obj.key, backend->name,
                                    head.error().describe());
                    }
                    take_head(rec, *head);
                }
                GW_TRY(outcome, options.dry_run ? std::move(planned) : store.import_object(rec, now));
                switch (*outcome) {
                case ImportOutcome::imported:
                    ++summary.counts.imported;
                    summary.counts.bytes_imported += obj.size;
                    break;
                case ImportOutcome::added_copy:
                    ++summary.counts.added_copies;
                    summary.counts.bytes_imported += obj.size;
                    break;
                case ImportOutcome::known: ++summary.counts.known; break;
                case ImportOutcome::conflict: ++summary.counts.conflicts; break;
                }
            }
            if (progress) {
                progress(summary.counts);
            }
            token = page->truncated ? page->next_token : std::string();
        } while (!token.empty());
    }
    if (!options.dry_run) {
        GW_TRY(usage, store.backend_usage());
        for (const auto& u : *usage) {
            if (u.name == backend->name && u.quota_bytes && u.used_bytes > *u.quota_bytes) {
                summary.notes.push_back(fmt::format("backend {} now holds {} bytes, over its quota of {}: new "
                                                    "objects go elsewhere until it has room",
                                                    u.name, u.used_bytes, *u.quota_bytes));
            }
        }
    }
    return summary;
}

} // namespace roar::proxy::gateway
