// The recorder: turns what the relay saw of each finished exchange into
// lineage events and publishes them into the job's ring. It is the only
// place the proxy makes lineage; the transport (connection, relay) hands
// it ExchangeRecords and knows nothing of events. Thread-safe: every event
// loop calls it.
#pragma once

#include "multipart_digest.hpp"
#include "roar/proxy/event_ring.hpp"
#include "roar/proxy/exchange.hpp"
#include "roar/proxy/metrics.hpp"
#include "roar/proxy/s3_event.hpp"

#include <memory>

namespace roar::proxy {

class Recorder {
public:
    // Publishes into `ring` (may be null: nothing is published), counts in
    // `metrics`, and takes multipart digests from `multipart` (may be null).
    Recorder(std::unique_ptr<RingPublisher> ring, Metrics& metrics, MultipartDigests* multipart = nullptr);

    // Records the finished exchange `record`: remembers part sizes of
    // multipart uploads and publishes the events lineage_events() makes.
    void record(const ExchangeRecord& record);
    // Wakes the ring's consumer (at shutdown).
    void flush();

private:
    std::unique_ptr<RingPublisher> m_ring;
    Metrics& m_metrics;
    MultipartSizes m_parts;
    MultipartDigests* m_multipart;
};

} // namespace roar::proxy
