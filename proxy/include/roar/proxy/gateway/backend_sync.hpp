// sync --backend NAME [--prefix P] [--dry-run]: imports the objects already
// in a backend bucket into the metadata, quota counted, copies already known
// skipped, progress after every listed page and a summary at the end. Keys
// map to the configured buckets stored on that backend by their key_prefix
// (or to the one bucket named), and a version suffix the gateway wrote
// ("~" + 26 characters) is recognised, so metadata lost with the backend
// intact can be rebuilt. A new key's content type and x-amz-meta-* come
// from one HEAD on the backend, so HeadObject and CopyObject keep them.
#pragma once

#include "roar/proxy/gateway/bucket_policy.hpp"
#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/gateway/object_backend.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace roar::proxy::gateway {

struct SyncOptions {
    std::string backend;             // the backend to import from
    std::string prefix;              // only backend keys starting with this
    bool dry_run = false;            // classify only, change nothing
    std::optional<BucketRef> bucket; // import into this bucket only (needed for tenant buckets)
    unsigned page_size = 1000;
};

struct SyncCounts {
    std::uint64_t listed = 0;
    std::uint64_t imported = 0;     // new objects
    std::uint64_t added_copies = 0; // known keys with the same content elsewhere: one more copy
    std::uint64_t known = 0;        // this copy was already in the metadata
    std::uint64_t conflicts = 0;    // known keys with other content: left alone
    std::uint64_t unmapped = 0;     // keys outside every bucket stored on this backend
    std::uint64_t bytes_imported = 0;
};

struct SyncSummary {
    SyncCounts counts;
    bool dry_run = false;
    std::vector<std::string> notes; // over-quota warnings, the buckets read
};

// Called after each listed page with the counts so far.
using SyncProgress = std::function<void(const SyncCounts&)>;

// Imports the objects of backend `options.backend` (reached through `io`)
// into `store`, for the configured buckets stored on it (or `options.bucket`).
Result<SyncSummary> sync_backend(MetadataStore& store, ObjectBackend& io, const GatewayConfig& config,
                                 const SyncOptions& options, const SyncProgress& progress, Millis now);

} // namespace roar::proxy::gateway
