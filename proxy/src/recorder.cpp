// Recorder: ExchangeRecord -> multipart bookkeeping -> lineage_events() ->
// the ring.
#include "recorder.hpp"

#include "roar/proxy/log.hpp"

namespace roar::proxy {

Recorder::Recorder(std::unique_ptr<RingPublisher> ring, Metrics& metrics, MultipartDigests* multipart)
    : m_ring(std::move(ring)), m_metrics(metrics), m_multipart(multipart)
{ }

void Recorder::record(const ExchangeRecord& record)
{
    std::int64_t multipart_bytes = -1;
    const ExchangeRecord* out = &record;
    ExchangeRecord completed;
    if (record.status / 100 == 2) {
        if (record.op == S3Op::UploadPart) {
            m_parts.add_part(record.upload_id, record.part_number, record.request_bytes);
        } else if (record.op == S3Op::CompleteMultipartUpload
                   && record.response_body.find("<Error>") == std::string::npos) {
            multipart_bytes = m_parts.take(record.upload_id);
            if (m_multipart) {
                const auto digest = m_multipart->complete(record.upload_id, listed_parts(record.request_body));
                completed = record;
                completed.blake3_hex = digest.blake3;
                completed.note = digest.note;
                if (digest.bytes >= 0) {
                    multipart_bytes = digest.bytes;
                }
                out = &completed;
                if (!digest.note.empty()) {
                    log_info("{}: {}", record.target.uri(), digest.note);
                }
            }
        } else if (record.op == S3Op::AbortMultipartUpload) {
            m_parts.forget(record.upload_id);
            if (m_multipart) {
                m_multipart->forget(record.upload_id);
            }
        }
    }
    if (!m_ring) {
        return;
    }
    for (const auto& ev : lineage_events(*out, multipart_bytes)) {
        if (m_ring->publish(ev)) {
            m_metrics.events_published.fetch_add(1, std::memory_order_relaxed);
        } else {
            m_metrics.events_dropped.fetch_add(1, std::memory_order_relaxed);
            log_warn("event ring full: dropped the {} event for {}", op_name(record.op), ev.uri);
        }
    }
}

void Recorder::flush()
{
    if (m_ring) {
        m_ring->ring_doorbell();
    }
}

} // namespace roar::proxy
