// The operator commands of the binary, `roar-proxy --gateway FILE sync ...`
// and `roar-proxy --gateway FILE rebalance ...`: they open the gateway's
// metadata and backends like the server does, run the library's sync or
// rebalance, print progress on stderr and a summary (human text, or one
// JSON object with --json) on stdout, and turn the outcome into an exit
// code. The summaries are built by pure functions for the unit tests.
#pragma once

#include "roar/collector/result.hpp"
#include "roar/proxy/gateway/backend_sync.hpp"
#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/rebalance.hpp"

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace roar::proxy::gateway {

// Exit codes of the operator commands (docs/gateway.md).
inline constexpr int k_exit_done = 0;      // finished, nothing left for the operator
inline constexpr int k_exit_error = 1;     // could not run (configuration, metadata, a backend)
inline constexpr int k_exit_attention = 3; // finished, but some objects were left alone (conflicts, skipped moves)

struct RebalanceOptions {
    bool dry_run = false;
    std::optional<double> high_water; // overrides [rebalance] high_water
    std::optional<double> low_water;  // overrides [rebalance] low_water
};

// One planned move and what became of it.
struct MoveOutcome {
    Move move;
    std::string outcome; // "planned", "moved" or "skipped"
    std::string detail;
};

struct RebalanceSummary {
    bool dry_run = false;
    double high_water = 0;
    double low_water = 0;
    std::vector<MoveOutcome> moves;
    std::vector<std::string> notes; // backends that stay above the threshold
    RebalanceReport report;
    std::uint64_t copies_removed = 0; // copies deleted by the queue's due jobs (the moved sources among them)
};

// The one-line progress report of a sync after a listed page (`counts`).
std::string sync_progress_line(const SyncCounts& counts);
// The summary of a sync of backend `backend`: human text, or one JSON object when `json`.
std::string format_sync_summary(const SyncSummary& summary, const std::string& backend, bool json);
// 0 when every listed key was imported, known or unmapped; 3 when some were conflicts.
int sync_exit_code(const SyncSummary& summary);

// The summary of a rebalance: human text, or one JSON object when `json`.
std::string format_rebalance_summary(const RebalanceSummary& summary, bool json);
// 0 when every planned move was made and no backend stays above the threshold, else 3.
int rebalance_exit_code(const RebalanceSummary& summary);

// Plans a rebalance over `store` and `backends` with `config`'s thresholds
// (or `options`' overrides, checked: 0 < low <= high <= 1); unless a dry
// run, carries it out and then runs the job queue's due jobs, so the moved
// objects' source copies are deleted now; `progress` (may be empty) hears
// each move; time comes from `clock`.
Result<RebalanceSummary> rebalance_command(MetadataStore& store, const BackendSet& backends, GatewayConfig config,
                                           const RebalanceOptions& options, const MoveProgress& progress,
                                           const std::function<Millis()>& clock = now_millis);

// `roar-proxy --gateway FILE sync`: runs sync with `options` over the
// metadata and backends of `config`, progress to `err`, the summary to
// `out`; returns the exit code (errors as one line on `err`).
int run_sync_command(const GatewayConfig& config, const SyncOptions& options, bool json, std::FILE* out,
                     std::FILE* err);
// `roar-proxy --gateway FILE rebalance`: the same for a rebalance.
int run_rebalance_command(const GatewayConfig& config, const RebalanceOptions& options, bool json, std::FILE* out,
                          std::FILE* err);

} // namespace roar::proxy::gateway
