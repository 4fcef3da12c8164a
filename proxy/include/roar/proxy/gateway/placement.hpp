// Placement: which backend a new object (or a new replica) goes to. The
// choice is made from the policy's usable backends only (residency is
// checked before any byte leaves the gateway), in first-fit order (the
// policy's order) or most-free order (most bytes available first, unlimited
// backends before all others), and is made real by a quota reservation in
// the metadata store, which is the one authority on room: a snapshot may
// be stale, the reservation's conditional UPDATE is not.
#pragma once

#include "roar/proxy/gateway/bucket_policy.hpp"
#include "roar/proxy/gateway/metadata.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roar::proxy::gateway {

// The backends of `policy` that could take `size` more bytes according to
// the `usage` snapshot, not in `exclude`, in the policy's placement order.
std::vector<std::string> placement_candidates(const BucketPolicy& policy, const std::vector<BackendUsage>& usage,
                                              std::uint64_t size, const std::vector<std::string>& exclude);

// Reserves `size` bytes on the first candidate whose reservation succeeds
// (valid for `ttl` from `now`); nullopt when no usable backend has room, the
// S3 InsufficientStorage (507) case, and nothing was reserved.
Result<std::optional<Reservation>> reserve_placement(MetadataStore& store, const BucketPolicy& policy,
                                                     std::uint64_t size, const std::vector<std::string>& exclude,
                                                     Millis now, Millis ttl);

// The copies of an object in the order to try reading them: copies on
// backends not in `unhealthy` first, each group in `policy` order (copies
// on backends the policy no longer lists last).
std::vector<Location> read_order(const std::vector<Location>& copies, const BucketPolicy& policy,
                                 const std::vector<std::string>& unhealthy);

} // namespace roar::proxy::gateway
