// The replication worker's job logic (see replication.hpp).
#include "roar/proxy/gateway/replication.hpp"

#include "roar/proxy/gateway/bucket_policy.hpp"
#include "roar/proxy/gateway/object_copy.hpp"
#include "roar/proxy/gateway/placement.hpp"
#include "roar/proxy/gateway/trace_context.hpp"

#include "result_try.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <thread>

namespace roar::proxy::gateway {

ReplicationWorker::ReplicationWorker(MetadataStore& store, const BackendSet& backends, const GatewayConfig& config,
                                     std::string worker_id, Clock clock)
    : m_store(store), m_backends(backends), m_config(config), m_id(std::move(worker_id)), m_clock(std::move(clock))
{ }

Millis ReplicationWorker::backoff(unsigned attempts) const
{
    const auto& r = m_config.replication;
    Millis wait = r.backoff_initial.count();
    for (unsigned i = 1; i < attempts && wait < r.backoff_max.count(); ++i) {
        wait *= 2;
    }
    return std::min<Millis>(wait, r.backoff_max.count());
}

Result<JobReport> ReplicationWorker::run_once()
{
    const Millis now = m_clock();
    const Millis lease = std::chrono::duration_cast<std::chrono::milliseconds>(m_config.replication.lease).count();
    GW_TRY(job, m_store.claim_job(m_id, now, now + lease));
    if (!*job) {
        return JobReport{};
    }
    // Each job is a trace of its own: its backend calls carry one traceparent.
    const TraceScope trace(start_span(std::nullopt));
    return (*job)->kind == JobKind::replicate ? replicate(**job) : remove(**job);
}

void ReplicationWorker::run(const std::atomic<bool>& stop, const std::function<void(const JobReport&)>& on_report)
{
    while (!stop.load()) {
        auto report = run_once();
        if (report && report->outcome != JobOutcome::idle) {
            if (on_report) {
                on_report(*report);
            }
            continue;
        }
        if (!report && on_report) {
            on_report({JobOutcome::retrying, "", JobKind::replicate, report.error().message});
        }
        // Idle (or the store failed): wait, in short steps so stop is prompt.
        const auto deadline = std::chrono::steady_clock::now() + m_config.replication.poll_interval;
        while (!stop.load() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }
}

Result<JobReport> ReplicationWorker::finish(const Job& job, std::string detail)
{
    GW_TRY(finished, m_store.finish_job(job, m_id));
    return JobReport{*finished ? JobOutcome::done : JobOutcome::lease_lost, job.id, job.kind, std::move(detail)};
}

Result<JobReport> ReplicationWorker::retry(const Job& job, const std::string& error)
{
    if (job.attempts >= m_config.replication.max_attempts) {
        GW_TRY(parked, m_store.fail_job(job, m_id, error));
        return JobReport{*parked ? JobOutcome::failed : JobOutcome::lease_lost, job.id, job.kind,
                         fmt::format("gave up after {} attempts: {}", job.attempts, error)};
    }
    const Millis next = m_clock() + backoff(job.attempts);
    GW_TRY(queued, m_store.retry_job(job, m_id, next, error));
    return JobReport{*queued ? JobOutcome::retrying : JobOutcome::lease_lost, job.id, job.kind,
                     fmt::format("attempt {} failed, next in {} ms: {}", job.attempts, backoff(job.attempts), error)};
}

Result<JobReport> ReplicationWorker::remove(const Job& job)
{
    GW_TRY(referenced, m_store.location_referenced(job.location));
    if (*referenced) {
        return finish(job, fmt::format("{}:{}/{} is referenced again; bytes released, copy kept", job.location.backend,
                                       job.location.bucket, job.location.key));
    }
    ObjectBackend* io = m_backends.io(job.location.backend);
    if (!io) {
        GW_TRY(parked, m_store.fail_job(job, m_id, "backend " + job.location.backend + " is no longer configured"));
        return JobReport{*parked ? JobOutcome::failed : JobOutcome::lease_lost, job.id, job.kind,
                         "backend " + job.location.backend + " is no longer configured"};
    }
    if (auto deleted = io->delete_object(job.location.bucket, job.location.key); !deleted) {
        return retry(job, deleted.error().describe());
    }
    return finish(job, fmt::format("deleted {}:{}/{}", job.location.backend, job.location.bucket, job.location.key));
}

Result<JobReport> ReplicationWorker::replicate(const Job& job)
{
    GW_TRY(found, m_store.find_object_by_id(job.object_id));
    if (!*found) {
        return finish(job, "object version " + job.object_id + " no longer exists");
    }
    ObjectRecord object = std::move(**found);
    GW_TRY(policy_found, lookup_bucket_policy(m_store, m_config, object.bucket));
    if (!*policy_found) {
        return finish(job, "bucket " + object.bucket.bucket + " no longer exists");
    }
    const BucketPolicy& policy = **policy_found;
    const Millis ttl = std::chrono::duration_cast<std::chrono::milliseconds>(m_config.metadata.reservation_ttl).count();
    std::vector<std::string> notes;

    for (;;) {
        std::vector<std::string> holding;
        std::size_t allowed = 0;
        for (const auto& c : object.copies) {
            holding.push_back(c.backend);
            allowed += std::find(policy.backends.begin(), policy.backends.end(), c.backend) != policy.backends.end();
        }
        if (allowed >= policy.replicas) {
            notes.push_back(fmt::format("{} has {} of {} copies", object.key, allowed, policy.replicas));
            return finish(job, fmt::format("{}", fmt::join(notes, "; ")));
        }
        // Backends without a client here cannot be written to.
        std::vector<std::string> exclude = holding;
        for (const auto& name : policy.backends) {
            if (!m_backends.io(name)) {
                exclude.push_back(name);
            }
        }
        const Millis now = m_clock();
        GW_TRY(reservation, reserve_placement(m_store, policy, object.size, exclude, now, ttl));
        if (!*reservation) {
            return retry(job, fmt::format("no allowed backend without a copy has room for {} bytes", object.size));
        }
        const Reservation r = **reservation;
        const BackendConfig* target_cfg = m_backends.config(r.backend);
        ObjectBackend* target = m_backends.io(r.backend);
        if (!target_cfg || !target || !may_store(policy, *target_cfg)) {
            // placement only offers the policy's backends: this is a bug guard.
            GW_CHECK(m_store.release(r));
            return retry(job, "placement chose backend " + r.backend + ", which the policy does not allow");
        }
        const Location to = location_for(policy, *target_cfg, object.key, object.id);

        if (policy.mode == NamespaceMode::hashed && !m_buckets_made.count(r.backend + "/" + to.bucket)) {
            if (auto made = target->create_bucket(to.bucket); !made) {
                GW_CHECK(m_store.release(r));
                return retry(job, "creating " + to.bucket + " on " + r.backend + ": " + made.error().describe());
            }
            m_buckets_made.insert(r.backend + "/" + to.bucket);
        }

        // Idempotence: the version may already be there (a retry after the
        // copy but before the commit, or a copy made by an earlier run).
        bool present = false;
        if (auto head = target->head_object(to.bucket, to.key); head) {
            present = head->size == object.size
                      && (head->etag == object.etag
                          || (!object.blake3.empty() && head->meta_value("roar-blake3") == object.blake3));
        }
        if (!present) {
            PutOptions put;
            put.content_type = object.content_type;
            if (!object.blake3.empty()) {
                put.meta.emplace_back("roar-blake3", object.blake3);
            }
            std::string last_error = "no copy could be read";
            bool copied = false;
            for (const auto& from : object.copies) {
                ObjectBackend* source = m_backends.io(from.backend);
                if (!source) {
                    continue;
                }
                CopyRequest req;
                req.source = source;
                req.from = from;
                req.target = target;
                req.to = to;
                req.size = object.size;
                req.put = put;
                req.multipart_threshold = m_config.replication.multipart_threshold;
                req.part_size = m_config.replication.part_size;
                auto result = stream_copy(req);
                if (!result) {
                    last_error = fmt::format("copy {} -> {}: {}", from.backend, r.backend, result.error().describe());
                    if (result.error().code == "BadDigest") {
                        (void)target->delete_object(to.bucket, to.key);
                    }
                    continue;
                }
                if (!object.blake3.empty() && result->blake3 != object.blake3) {
                    // The source holds other bytes than the gateway recorded:
                    // do not spread them; try another copy.
                    (void)target->delete_object(to.bucket, to.key);
                    last_error = fmt::format("the copy on {} does not match the recorded BLAKE3", from.backend);
                    continue;
                }
                if (object.blake3.empty()) {
                    GW_CHECK(m_store.set_blake3(object.id, result->blake3));
                    object.blake3 = result->blake3;
                }
                copied = true;
                break;
            }
            if (!copied) {
                GW_CHECK(m_store.release(r));
                return retry(job, last_error);
            }
        }
        GW_TRY(recorded, m_store.add_copy(object.id, object.etag, to, r, m_clock()));
        if (!*recorded) {
            // Replaced or deleted meanwhile (or another worker recorded it):
            // the bytes go through the deletion queue, which keeps a copy
            // that something references.
            GW_CHECK(m_store.abandon_copy(r, to, m_clock()));
            return finish(job, object.key + " changed while it was copied; the copy is queued for deletion");
        }
        notes.push_back(
            fmt::format("{} {} to {}", present ? "recorded existing copy of" : "copied", object.key, r.backend));
        object.copies.push_back(to);
    }
}

} // namespace roar::proxy::gateway
