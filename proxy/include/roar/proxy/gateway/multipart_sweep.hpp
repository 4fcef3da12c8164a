// The stale multipart sweep: uploads older than [multipart] stale_after are
// aborted on their backend and removed from the metadata (their parts'
// reserved bytes freed), together with lapsed quota reservations. An upload
// whose backend refuses the abort is kept and tried again at the next sweep.
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

struct SweepReport {
    std::uint64_t aborted = 0;              // uploads aborted and removed
    std::uint64_t kept = 0;                 // uploads whose backend abort failed (tried again next sweep)
    std::uint64_t reservations_expired = 0; // lapsed reservations released
    std::vector<std::string> errors;
};

// Aborts and removes every upload created more than `stale_after` before
// `now` (in batches of `batch`), and releases lapsed reservations.
Result<SweepReport> sweep_stale_uploads(MetadataStore& store, const BackendSet& backends, Millis now,
                                        std::chrono::milliseconds stale_after, std::size_t batch = 100);

} // namespace roar::proxy::gateway
