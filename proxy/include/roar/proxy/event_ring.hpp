// The proxy's producer end of a job's shared-memory event ring: maps the
// POSIX shm segment by name (Boost.Interprocess) and publishes S3 records
// with the shared C producer (roar_ring_publish). Publishing never blocks;
// a full ring drops the record and the caller counts it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <tl/expected.hpp>

namespace roar::proxy {

struct S3Event {
    std::uint16_t op = 0;    // ROAR_OP_S3_*
    std::string uri;         // s3://bucket/key
    std::string etag;        // exactly as the upstream sent it
    std::string extra;       // "name=value\n" lines
    std::int64_t bytes = 0;  // body bytes
    std::int32_t status = 0; // HTTP status
    std::uint32_t pid = 0;   // process the call is attributed to; 0 = the proxy itself
};

class RingPublisher {
public:
    // Opens the ring named `name` (e.g. "/roar-ab12"); the error explains why not.
    static tl::expected<std::unique_ptr<RingPublisher>, std::string> open(const std::string& name);
    ~RingPublisher();
    RingPublisher(const RingPublisher&) = delete;
    RingPublisher& operator=(const RingPublisher&) = delete;

    // Publishes `ev` stamped with its pid (else this process's) and CLOCK_REALTIME;
    // false when the ring had no room (the record is dropped).
    bool publish(const S3Event& ev);
    // Wakes the consumer (after a burst, and at shutdown).
    void ring_doorbell();

private:
    RingPublisher();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace roar::proxy
