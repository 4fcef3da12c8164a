// Rebalance planning and execution (see rebalance.hpp).
#include "roar/proxy/gateway/rebalance.hpp"

#include "roar/proxy/gateway/object_copy.hpp"

#include "result_try.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace roar::proxy::gateway {

namespace {

// Simulated counters while planning.
struct Level {
    std::optional<std::uint64_t> quota;
    std::uint64_t taken = 0; // used + reserved + planned arrivals - planned departures
};

bool above(const Level& l, double fraction)
{
    return l.quota && static_cast<double>(l.taken) > fraction * static_cast<double>(*l.quota);
}

} // namespace

RebalancePlan plan_rebalance(const GatewayConfig& config, const std::vector<BackendUsage>& usage,
                             const std::vector<MoveCandidate>& candidates)
{
    RebalancePlan plan;
    const double high = config.rebalance.high_water;
    const double low = config.rebalance.low_water;
    std::map<std::string, Level> levels;
    for (const auto& u : usage) {
        levels[u.name] = {u.quota_bytes, u.used_bytes + u.reserved_bytes};
    }
    // Largest objects first: fewest moves for the bytes freed.
    std::vector<const MoveCandidate*> order;
    for (const auto& c : candidates) {
        order.push_back(&c);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const MoveCandidate* a, const MoveCandidate* b) { return a->object.size > b->object.size; });
    std::map<std::string, bool> moving; // object id -> already planned

    for (const auto& u : usage) {
        Level& source = levels[u.name];
        if (!above(source, high)) {
            continue;
        }
        for (const MoveCandidate* c : order) {
            if (!above(source, low)) {
                break;
            }
            const ObjectRecord& o = c->object;
            const bool here =
                std::any_of(o.copies.begin(), o.copies.end(), [&](const Location& l) { return l.backend == u.name; });
            if (!here || moving[o.id]) {
                continue;
            }
            // Targets: the policy's backends without a copy, in placement order.
            std::vector<std::pair<std::string, std::optional<std::uint64_t>>> targets;
            for (const auto& name : c->policy.backends) {
                const bool holds =
                    std::any_of(o.copies.begin(), o.copies.end(), [&](const Location& l) { return l.backend == name; });
                auto it = levels.find(name);
                if (holds || name == u.name || it == levels.end() || above(it->second, high)) {
                    continue;
                }
                Level after = it->second;
                after.taken += o.size;
                if (above(after, low)) {
                    continue;
                }
                std::optional<std::uint64_t> room;
                if (it->second.quota) {
                    room = *it->second.quota - std::min(*it->second.quota, it->second.taken);
                }
                targets.emplace_back(name, room);
            }
            if (targets.empty()) {
                continue;
            }
            if (c->policy.placement == Placement::most_free) {
                std::stable_sort(targets.begin(), targets.end(), [](const auto& a, const auto& b) {
                    if (!a.second || !b.second) {
                        return !a.second && b.second;
                    }
                    return *a.second > *b.second;
                });
            }
            const std::string& to = targets.front().first;
            plan.moves.push_back({o.id, o.bucket, o.key, o.size, u.name, to});
            moving[o.id] = true;
            source.taken -= std::min(source.taken, o.size);
            levels[to].taken += o.size;
        }
        if (above(source, low)) {
            plan.notes.push_back(fmt::format("backend {} stays above {:.0f}% of its quota: no allowed backend has "
                                             "room for more of its objects",
                                             u.name, low * 100));
        }
    }
    return plan;
}

Result<RebalancePlan> build_rebalance_plan(MetadataStore& store, const GatewayConfig& config, std::size_t scan_limit)
{
    GW_TRY(usage, store.backend_usage());
    std::vector<MoveCandidate> candidates;
    std::map<std::string, std::optional<BucketPolicy>> policies; // by tenant/bucket
    for (const auto& u : *usage) {
        if (!u.quota_bytes
            || static_cast<double>(u.used_bytes + u.reserved_bytes)
                   <= config.rebalance.high_water * static_cast<double>(*u.quota_bytes)) {
            continue;
        }
        std::string after;
        std::size_t scanned = 0;
        while (scanned < scan_limit) {
            GW_TRY(page, store.objects_on_backend(u.name, after, 500));
            if (page->empty()) {
                break;
            }
            after = page->back().id;
            scanned += page->size();
            for (auto& o : *page) {
                const std::string ref = o.bucket.tenant + "/" + o.bucket.bucket;
                auto it = policies.find(ref);
                if (it == policies.end()) {
                    auto policy = lookup_bucket_policy(store, config, o.bucket);
                    it = policies.emplace(ref, policy ? std::move(*policy) : std::nullopt).first;
                }
                if (it->second) {
                    candidates.push_back({std::move(o), *it->second});
                }
            }
        }
    }
    return plan_rebalance(config, *usage, candidates);
}

Result<RebalanceReport> run_rebalance(MetadataStore& store, const BackendSet& backends, const GatewayConfig& config,
                                      const RebalancePlan& plan, const MoveProgress& progress,
                                      const std::function<Millis()>& clock)
{
    RebalanceReport report;
    const Millis ttl = std::chrono::duration_cast<std::chrono::milliseconds>(config.metadata.reservation_ttl).count();
    auto skip = [&](const Move& m, const std::string& why) {
        ++report.skipped;
        report.errors.push_back(fmt::format("{} ({} -> {}): {}", m.key, m.from, m.to, why));
        if (progress) {
            progress(m, false, why);
        }
    };
    for (const Move& m : plan.moves) {
        GW_TRY(found, store.find_object_by_id(m.object_id));
        if (!*found) {
            skip(m, "the object was replaced or deleted since the plan");
            continue;
        }
        const ObjectRecord& o = **found;
        const auto from =
            std::find_if(o.copies.begin(), o.copies.end(), [&](const Location& l) { return l.backend == m.from; });
        GW_TRY(policy, lookup_bucket_policy(store, config, o.bucket));
        ObjectBackend* source = backends.io(m.from);
        ObjectBackend* target = backends.io(m.to);
        const BackendConfig* target_cfg = backends.config(m.to);
        if (from == o.copies.end() || !*policy || !source || !target || !target_cfg
            || !may_store(**policy, *target_cfg)) {
            skip(m, "the copy, the policy or a backend changed since the plan");
            continue;
        }
        const Millis now = clock();
        GW_TRY(reserved, store.reserve(m.to, o.size, now, now + ttl));
        if (!*reserved) {
            skip(m, "the target has no room any more");
            continue;
        }
        const Location to = location_for(**policy, *target_cfg, o.key, o.id);
        if ((*policy)->mode == NamespaceMode::hashed) {
            if (auto made = target->create_bucket(to.bucket); !made) {
                GW_CHECK(store.release(**reserved));
                skip(m, "creating the target bucket: " + made.error().describe());
                continue;
            }
        }
        CopyRequest req;
        req.source = source;
        req.from = *from;
        req.target = target;
        req.to = to;
        req.size = o.size;
        req.put.content_type = o.content_type;
        if (!o.blake3.empty()) {
            req.put.meta.emplace_back("roar-blake3", o.blake3);
        }
        req.multipart_threshold = config.replication.multipart_threshold;
        req.part_size = config.replication.part_size;
        auto copied = stream_copy(req);
        // Verify before the source goes: the bytes read must be the recorded
        // ones, and the target must report the full size.
        std::string problem;
        if (!copied) {
            problem = copied.error().describe();
        } else if (!o.blake3.empty() && copied->blake3 != o.blake3) {
            problem = "the source's bytes do not match the recorded BLAKE3";
        } else if (auto head = target->head_object(to.bucket, to.key); !head || head->size != o.size) {
            problem = head ? fmt::format("the target reports {} bytes, not {}", head->size, o.size)
                           : "the target does not show the copy: " + head.error().describe();
        }
        if (!problem.empty()) {
            GW_CHECK(store.abandon_copy(**reserved, to, clock()));
            skip(m, problem);
            continue;
        }
        if (o.blake3.empty()) {
            GW_CHECK(store.set_blake3(o.id, copied->blake3));
        }
        const Millis done = clock();
        const Millis grace =
            std::chrono::duration_cast<std::chrono::milliseconds>(config.replication.delete_grace).count();
        GW_TRY(swapped, store.move_copy(o.id, m.from, to, **reserved, done, done + grace));
        if (!*swapped) {
            GW_CHECK(store.abandon_copy(**reserved, to, done));
            skip(m, "the object changed while it was copied");
            continue;
        }
        ++report.moved;
        report.bytes_moved += o.size;
        if (progress) {
            progress(m, true, "copied and verified; the source copy is queued for deletion");
        }
    }
    return report;
}

} // namespace roar::proxy::gateway
