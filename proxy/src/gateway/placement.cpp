// First-fit and most-free placement over a quota snapshot, the reservation
// that makes a placement real, and the read order of an object's copies
// (see placement.hpp).
#include "roar/proxy/gateway/placement.hpp"

#include "result_try.hpp"

#include <algorithm>

namespace roar::proxy::gateway {

namespace {

bool contains(const std::vector<std::string>& v, const std::string& s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

std::size_t rank(const std::vector<std::string>& order, const std::string& name)
{
    const auto it = std::find(order.begin(), order.end(), name);
    return static_cast<std::size_t>(it - order.begin());
}

} // namespace

std::vector<std::string> placement_candidates(const BucketPolicy& policy, const std::vector<BackendUsage>& usage,
                                              std::uint64_t size, const std::vector<std::string>& exclude)
{
    struct Candidate {
        std::string name;
        std::optional<std::uint64_t> available; // nullopt: unlimited
        std::size_t order;
    };
    std::vector<Candidate> room;
    for (const auto& name : policy.backends) {
        if (contains(exclude, name)) {
            continue;
        }
        const auto u = std::find_if(usage.begin(), usage.end(), [&](const BackendUsage& b) { return b.name == name; });
        if (u == usage.end()) {
            continue; // not registered in the store
        }
        const auto available = u->available();
        if (available && *available < size) {
            continue;
        }
        room.push_back({name, available, rank(policy.backends, name)});
    }
    if (policy.placement == Placement::most_free) {
        std::stable_sort(room.begin(), room.end(), [](const Candidate& a, const Candidate& b) {
            if (!a.available || !b.available) {
                return !a.available && b.available;
            }
            return *a.available > *b.available;
        });
    }
    std::vector<std::string> out;
    out.reserve(room.size());
    for (auto& c : room) {
        out.push_back(std::move(c.name));
    }
    return out;
}

Result<std::optional<Reservation>> reserve_placement(MetadataStore& store, const BucketPolicy& policy,
                                                     std::uint64_t size, const std::vector<std::string>& exclude,
                                                     Millis now, Millis ttl)
{
    GW_TRY(usage, store.backend_usage());
    for (const auto& name : placement_candidates(policy, *usage, size, exclude)) {
        GW_TRY(r, store.reserve(name, size, now, now + ttl));
        if (*r) {
            return std::move(*r);
        }
        // Another writer took the room since the snapshot: try the next one.
    }
    return std::optional<Reservation>();
}

std::vector<Location> read_order(const std::vector<Location>& copies, const BucketPolicy& policy,
                                 const std::vector<std::string>& unhealthy)
{
    std::vector<Location> out = copies;
    std::stable_sort(out.begin(), out.end(), [&](const Location& a, const Location& b) {
        const bool a_bad = contains(unhealthy, a.backend);
        const bool b_bad = contains(unhealthy, b.backend);
        if (a_bad != b_bad) {
            return b_bad;
        }
        return rank(policy.backends, a.backend) < rank(policy.backends, b.backend);
    });
    return out;
}

} // namespace roar::proxy::gateway
