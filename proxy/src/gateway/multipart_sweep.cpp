// The stale multipart sweep (see multipart_sweep.hpp).
#include "roar/proxy/gateway/multipart_sweep.hpp"

#include "result_try.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace roar::proxy::gateway {

Result<SweepReport> sweep_stale_uploads(MetadataStore& store, const BackendSet& backends, Millis now,
                                        std::chrono::milliseconds stale_after, std::size_t batch)
{
    SweepReport report;
    GW_TRY(expired, store.expire_reservations(now));
    report.reservations_expired = *expired;
    const Millis cutoff = now - stale_after.count();
    std::vector<std::string> kept_ids; // not offered again in this sweep
    for (;;) {
        GW_TRY(stale, store.stale_uploads(cutoff, batch + kept_ids.size()));
        std::size_t fresh = 0;
        for (const auto& u : *stale) {
            if (std::find(kept_ids.begin(), kept_ids.end(), u.id) != kept_ids.end()) {
                continue;
            }
            ++fresh;
            ObjectBackend* io = backends.io(u.location.backend);
            if (!io) {
                report.errors.push_back(fmt::format("upload {} of {}: backend {} is not configured; kept", u.id, u.key,
                                                    u.location.backend));
                kept_ids.push_back(u.id);
                ++report.kept;
                continue;
            }
            if (auto aborted = io->abort_multipart(u.location.bucket, u.location.key, u.backend_upload_id); !aborted) {
                report.errors.push_back(fmt::format("upload {} of {} on {}: {}; kept", u.id, u.key, u.location.backend,
                                                    aborted.error().describe()));
                kept_ids.push_back(u.id);
                ++report.kept;
                continue;
            }
            GW_CHECK(store.remove_upload(u.id));
            ++report.aborted;
        }
        if (fresh == 0) {
            break;
        }
    }
    return report;
}

} // namespace roar::proxy::gateway
