// rebalance [--dry-run]: plans moves from backends above [rebalance]
// high_water of their quota to allowed backends with room (down to
// low_water), then copies each object, verifies the copy and only then
// swaps the copy rows and queues the source's deletion.
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

struct Move {
    std::string object_id;
    BucketRef bucket;
    std::string key;
    std::uint64_t size = 0;
    std::string from;
    std::string to;
};

struct RebalancePlan {
    std::vector<Move> moves;
    std::vector<std::string> notes; // backends over the threshold that cannot be relieved, and why
};

// An object with a copy on an over-full backend, and its bucket's policy.
struct MoveCandidate {
    ObjectRecord object;
    BucketPolicy policy;
};

// Plans moves (pure): for each backend above high_water of its quota in
// `usage`, the largest `candidates` on it move to backends of their policy
// that hold no copy, stay at or under low_water after receiving, and are not
// above high_water themselves, in the policy's placement order, until the
// backend is at or under low_water.
RebalancePlan plan_rebalance(const GatewayConfig& config, const std::vector<BackendUsage>& usage,
                             const std::vector<MoveCandidate>& candidates);

// Reads usage and candidates from `store` (up to `scan_limit` objects per
// full backend) and plans.
Result<RebalancePlan> build_rebalance_plan(MetadataStore& store, const GatewayConfig& config,
                                           std::size_t scan_limit = 100000);

struct RebalanceReport {
    std::uint64_t moved = 0;
    std::uint64_t skipped = 0;
    std::uint64_t bytes_moved = 0;
    std::vector<std::string> errors;
};

// Carries out `plan`: for each move, reserves room on the target, copies,
// verifies (size and digest) and swaps the copies (the source's deletion
// queued for the replication worker), reading time from `clock`.
// `progress` (may be empty) hears each move's outcome.
using MoveProgress = std::function<void(const Move& move, bool ok, const std::string& detail)>;
Result<RebalanceReport> run_rebalance(MetadataStore& store, const BackendSet& backends, const GatewayConfig& config,
                                      const RebalancePlan& plan, const MoveProgress& progress,
                                      const std::function<Millis()>& clock = now_millis);

} // namespace roar::proxy::gateway
