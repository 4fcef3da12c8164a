// The sync and rebalance commands of the binary (see operator_commands.hpp):
// opening the metadata and backends, running the library's work, and the
// summaries and exit codes.
#include "roar/proxy/gateway/operator_commands.hpp"

#include "roar/proxy/gateway/backend_client.hpp"
#include "roar/proxy/gateway/replication.hpp"

#include "result_try.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <memory>

#include <unistd.h>

namespace roar::proxy::gateway {

namespace {

std::string bucket_name(const BucketRef& b) { return b.tenant + "/" + b.bucket; }

// The metadata and backend clients of a configuration, opened and seeded
// as the server does.
struct OpenGateway {
    std::unique_ptr<MetadataStore> store;
    std::vector<std::unique_ptr<BackendClient>> clients;
    BackendSet backends;
};

Result<std::unique_ptr<OpenGateway>> open_gateway(const GatewayConfig& config)
{
    auto g = std::make_unique<OpenGateway>();
    GW_TRY(store, open_metadata_store(config.metadata));
    g->store = std::move(*store);
    GW_CHECK(seed_metadata(*g->store, config, now_millis()));
    for (const auto& b : config.backends) {
        g->clients.push_back(std::make_unique<BackendClient>(b));
        g->backends.add(b, *g->clients.back());
    }
    return g;
}

void print(std::FILE* f, const std::string& text)
{
    std::fwrite(text.data(), 1, text.size(), f);
    std::fflush(f);
}

} // namespace

std::string sync_progress_line(const SyncCounts& c)
{
    return fmt::format("sync: {} listed, {} imported, {} added copies, {} known, {} conflicts, {} unmapped\n", c.listed,
                       c.imported, c.added_copies, c.known, c.conflicts, c.unmapped);
}

std::string format_sync_summary(const SyncSummary& s, const std::string& backend, bool json)
{
    const SyncCounts& c = s.counts;
    if (json) {
        nlohmann::json j{{"command", "sync"},      {"backend", backend},
                         {"dry_run", s.dry_run},   {"listed", c.listed},
                         {"imported", c.imported}, {"added_copies", c.added_copies},
                         {"known", c.known},       {"conflicts", c.conflicts},
                         {"unmapped", c.unmapped}, {"bytes_imported", c.bytes_imported},
                         {"notes", s.notes}};
        return j.dump() + "\n";
    }
    const char* verb = s.dry_run ? "would import" : "imported";
    std::string out = fmt::format("sync of backend {}{}: {} objects listed\n", backend,
                                  s.dry_run ? " (dry run: nothing changed)" : "", c.listed);
    out += fmt::format("  {} {} new objects and {} copies of known objects ({} bytes)\n", verb, c.imported,
                       c.added_copies, c.bytes_imported);
    out += fmt::format("  {} already known, {} conflicts left alone, {} outside every bucket\n", c.known, c.conflicts,
                       c.unmapped);
    for (const auto& n : s.notes) {
        out += "  note: " + n + "\n";
    }
    return out;
}

int sync_exit_code(const SyncSummary& s) { return s.counts.conflicts > 0 ? k_exit_attention : k_exit_done; }

std::string format_rebalance_summary(const RebalanceSummary& s, bool json)
{
    std::uint64_t planned_bytes = 0;
    for (const auto& m : s.moves) {
        planned_bytes += m.move.size;
    }
    if (json) {
        nlohmann::json moves = nlohmann::json::array();
        for (const auto& m : s.moves) {
            moves.push_back({{"bucket", bucket_name(m.move.bucket)},
                             {"key", m.move.key},
                             {"size", m.move.size},
                             {"from", m.move.from},
                             {"to", m.move.to},
                             {"outcome", m.outcome},
                             {"detail", m.detail}});
        }
        nlohmann::json j{{"command", "rebalance"},
                         {"dry_run", s.dry_run},
                         {"high_water", s.high_water},
                         {"low_water", s.low_water},
                         {"planned", s.moves.size()},
                         {"planned_bytes", planned_bytes},
                         {"moved", s.report.moved},
                         {"skipped", s.report.skipped},
                         {"bytes_moved", s.report.bytes_moved},
                         {"copies_removed", s.copies_removed},
                         {"moves", moves},
                         {"notes", s.notes}};
        return j.dump() + "\n";
    }
    std::string out = fmt::format("rebalance (high water {:.0f}%, low water {:.0f}%){}: {} moves planned ({} bytes)\n",
                                  s.high_water * 100, s.low_water * 100, s.dry_run ? ", dry run: nothing changed" : "",
                                  s.moves.size(), planned_bytes);
    for (const auto& m : s.moves) {
        out += fmt::format("  {} {}/{} ({} bytes) {} -> {}{}\n", m.outcome, bucket_name(m.move.bucket), m.move.key,
                           m.move.size, m.move.from, m.move.to, m.detail.empty() ? "" : ": " + m.detail);
    }
    if (!s.dry_run) {
        out += fmt::format("  {} moved ({} bytes), {} skipped, {} copies deleted by the job queue\n", s.report.moved,
                           s.report.bytes_moved, s.report.skipped, s.copies_removed);
    }
    for (const auto& n : s.notes) {
        out += "  note: " + n + "\n";
    }
    return out;
}

int rebalance_exit_code(const RebalanceSummary& s)
{
    return s.report.skipped > 0 || !s.notes.empty() ? k_exit_attention : k_exit_done;
}

Result<RebalanceSummary> rebalance_command(MetadataStore& store, const BackendSet& backends, GatewayConfig config,
                                           const RebalanceOptions& options, const MoveProgress& progress,
                                           const std::function<Millis()>& clock)
{
    if (options.high_water) {
        config.rebalance.high_water = *options.high_water;
    }
    if (options.low_water) {
        config.rebalance.low_water = *options.low_water;
    }
    const double high = config.rebalance.high_water;
    const double low = config.rebalance.low_water;
    if (!(low > 0 && low <= high && high <= 1)) {
        return fail("the thresholds must satisfy 0 < low water <= high water <= 1, got low {} and high {}", low, high);
    }
    RebalanceSummary summary;
    summary.dry_run = options.dry_run;
    summary.high_water = high;
    summary.low_water = low;
    GW_TRY(plan, build_rebalance_plan(store, config));
    summary.notes = plan->notes;
    for (const auto& m : plan->moves) {
        summary.moves.push_back({m, "planned", ""});
    }
    if (options.dry_run) {
        return summary;
    }
    std::size_t next = 0;
    const MoveProgress record = [&](const Move& m, bool ok, const std::string& detail) {
        if (next < summary.moves.size()) {
            summary.moves[next].outcome = ok ? "moved" : "skipped";
            summary.moves[next].detail = ok ? "copied, verified, source deleted" : detail;
            ++next;
        }
        if (progress) {
            progress(m, ok, detail);
        }
    };
    GW_TRY(report, run_rebalance(store, backends, config, *plan, record, clock));
    summary.report = std::move(*report);
    // The moves queued their sources' deletion; run the due jobs now, as the
    // gateway's worker would, so the source backend's bytes are released.
    ReplicationWorker worker(store, backends, config, fmt::format("rebalance-{}", getpid()), clock);
    for (int i = 0; i < 100000; ++i) {
        GW_TRY(job, worker.run_once());
        if (job->outcome == JobOutcome::idle) {
            break;
        }
        if (job->kind == JobKind::remove && job->outcome == JobOutcome::done) {
            ++summary.copies_removed;
        }
    }
    if (summary.copies_removed < summary.report.moved) {
        for (auto& m : summary.moves) {
            if (m.outcome == "moved") {
                m.detail = "copied and verified; the source copy is queued for deletion";
            }
        }
    }
    return summary;
}

namespace {

// Opens the gateway of `config` and runs `work` on it (returning the exit
// code); a failure of either is one line on `err` naming `command`.
template <typename Work> int with_gateway(const char* command, const GatewayConfig& config, std::FILE* err, Work work)
{
    auto g = open_gateway(config);
    Result<int> code = tl::unexpected(Error{});
    if (g) {
        code = work(**g);
    } else {
        code = tl::unexpected(g.error());
    }
    if (!code) {
        print(err, fmt::format("roar-proxy: {}: {}\n", command, code.error().message));
        return k_exit_error;
    }
    return *code;
}

} // namespace

int run_sync_command(const GatewayConfig& config, const SyncOptions& options, bool json, std::FILE* out, std::FILE* err)
{
    return with_gateway("sync", config, err, [&](OpenGateway& g) -> Result<int> {
        ObjectBackend* io = g.backends.io(options.backend);
        if (io == nullptr) {
            return fail("no [[backend]] is named \"{}\" (backends: {})", options.backend,
                        fmt::join(g.backends.names(), ", "));
        }
        const auto progress = [&](const SyncCounts& c) { print(err, sync_progress_line(c)); };
        GW_TRY(summary, sync_backend(*g.store, *io, config, options, progress, now_millis()));
        print(out, format_sync_summary(*summary, options.backend, json));
        return sync_exit_code(*summary);
    });
}

int run_rebalance_command(const GatewayConfig& config, const RebalanceOptions& options, bool json, std::FILE* out,
                          std::FILE* err)
{
    return with_gateway("rebalance", config, err, [&](OpenGateway& g) -> Result<int> {
        const auto progress = [&](const Move& m, bool ok, const std::string& detail) {
            print(err, fmt::format("rebalance: {} {}/{} {} -> {}: {}\n", ok ? "moved" : "skipped",
                                   bucket_name(m.bucket), m.key, m.from, m.to, detail));
        };
        GW_TRY(summary, rebalance_command(*g.store, g.backends, config, options, progress));
        print(out, format_rebalance_summary(*summary, json));
        return rebalance_exit_code(*summary);
    });
}

} // namespace roar::proxy::gateway
