// The replication worker: runs the metadata store's durable job queue.
//   replicate: copies an object version until it has its policy's number
//     of copies on backends its residencies allow, each new copy placed and
//     reserved like an upload, streamed in bounded memory (object_copy.hpp)
//     and recorded with its quota in one transaction. Idempotent: a target
//     that already holds the version with the same size and ETag (or the
//     BLAKE3 the gateway stores as x-amz-meta-roar-blake3) is recorded
//     without copying. A version replaced meanwhile is left alone.
//   remove: deletes a copy nobody references any more and releases its
//     bytes (a copy that is referenced again is only released).
// Jobs are leased (a crashed worker's job is taken over when its lease
// ends, which makes the queue resumable after a restart); failures are
// retried with exponential backoff up to max_attempts, then parked as
// failed. The queue's backlog is the metadata store's job_backlog().
#pragma once

#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/gateway/object_backend.hpp"

#include <atomic>
#include <functional>
#include <set>
#include <string>

namespace roar::proxy::gateway {

enum class JobOutcome {
    idle,      // no runnable job
    done,      // finished (copied, recorded, deleted, or nothing to do)
    retrying,  // failed, queued again for later
    failed,    // failed for the last time, parked
    lease_lost // another worker took the job over meanwhile
};

struct JobReport {
    JobOutcome outcome = JobOutcome::idle;
    std::string job_id;
    JobKind kind = JobKind::replicate;
    std::string detail; // what happened, for logs (never a secret)
};

class ReplicationWorker {
public:
    using Clock = std::function<Millis()>;

    // A worker named `worker_id` over `store` and `backends` with the
    // settings of `config`, reading time from `clock`.
    ReplicationWorker(MetadataStore& store, const BackendSet& backends, const GatewayConfig& config,
                      std::string worker_id, Clock clock = now_millis);

    // Claims and runs one job.
    Result<JobReport> run_once();

    // Runs jobs until `stop` is set, sleeping the poll interval when idle;
    // `on_report` (may be empty) hears about every job.
    void run(const std::atomic<bool>& stop, const std::function<void(const JobReport&)>& on_report);

    // How long to wait before attempt number `attempts` + 1.
    Millis backoff(unsigned attempts) const;

private:
    Result<JobReport> replicate(const Job& job);
    Result<JobReport> remove(const Job& job);
    Result<JobReport> retry(const Job& job, const std::string& error);
    Result<JobReport> finish(const Job& job, std::string detail);

    MetadataStore& m_store;
    const BackendSet& m_backends;
    const GatewayConfig& m_config;
    std::string m_id;
    Clock m_clock;
    std::set<std::string> m_buckets_made; // backend/bucket pairs created by this worker
};

} // namespace roar::proxy::gateway
