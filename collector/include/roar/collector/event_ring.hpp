// The consumer side of the event ring: creates the job's shared-memory
// segment (Boost.Interprocess), drains committed records in order, and
// answers producers waiting at sync points. One consumer per ring.
#pragma once

#include "roar/collector/event_format.h"
#include "roar/collector/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::collector {

// One record as the consumer sees it; the strings point into a buffer
// that lives until the sink returns.
struct RawEvent {
    roar_event header;
    uint64_t index; // slot index, the record's global order
    std::string_view s1, s2, s3;
    bool has_s1 = false, has_s2 = false, has_s3 = false;
};

// Whether a record whose first slot holds `header` is well formed and fits
// in the `available` slots from its own to the ring's head: 1 to
// ROAR_MAX_RECORD_SLOTS slots that hold the header and its strings.
bool record_fits(const roar_event& header, uint64_t available);

// Decodes the record whose first slot holds `header`, at slot `index` with
// `available` slots up to the ring's head, its string bytes (everything
// after the 64-byte header, as copied out of the ring) in `strings`;
// nullopt for a corrupt record (record_fits() fails, or `strings` is
// shorter than the strings it declares). The views point into `strings`.
// Pure, so the consumer's decoding is fuzzed on arbitrary bytes.
std::optional<RawEvent> decode_record(const roar_event& header, uint64_t index, uint64_t available,
                                      std::string_view strings);

// The argv carried by a PROC_START, EXEC or SPAWN record (its s3: the
// arguments separated by NULs).
std::vector<std::string> split_argv(std::string_view packed);

struct RingCounters {
    uint64_t dropped = 0;       // refused by producers: the ring was full and its consumer gone or stalled
    uint64_t full_waits = 0;    // records whose producer waited for space in a full ring
    uint64_t full_wait_ns = 0;  // total time producers waited for space
    uint64_t truncated = 0;     // records whose strings were cut
    uint64_t sync_timeouts = 0; // producers that stopped waiting at a sync point
    uint64_t skipped = 0;       // uncommitted records skipped (producer killed mid-record)
    uint64_t consumed = 0;
};

class EventRing {
public:
    // Creates the segment `name` (a POSIX shm name such as "/roar-1a2b")
    // holding at least `bytes` of slots; fails if it already exists.
    // `sync_timeout_ms` bounds a producer's wait at a sync point, and its
    // wait for space in a full ring while this consumer frees none.
    static Result<EventRing> create(const std::string& name, uint64_t bytes, uint32_t sync_timeout_ms);

    EventRing(EventRing&&) noexcept;
    EventRing& operator=(EventRing&&) noexcept;
    ~EventRing(); // unmaps and removes the segment

    const std::string& name() const;
    uint64_t capacity_slots() const;

    // Calls `sink` for each committed record, in slot order. A record
    // that stays uncommitted longer than `grace` while later ones exist is
    // skipped (its producer died mid-record); with `final` (no producer
    // can still be running) it is skipped at once. Returns records consumed.
    using Sink = std::function<void(const RawEvent&)>;
    size_t drain(const Sink& sink, bool final = false,
                 std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

    // Sleeps until a producer rings the doorbell or `timeout` passes, and
    // marks the consumer alive for producers' sync points.
    void wait(std::chrono::milliseconds timeout);

    // Marks the consumer alive (heartbeat); drain() does it too.
    void heartbeat();

    RingCounters counters() const;

    // The futex word wait() sleeps on; bumping it and waking it (as the
    // launcher's SIGCHLD handler does) ends a wait early.
    uint32_t* doorbell();

private:
    struct State;
    explicit EventRing(std::unique_ptr<State> state);
    std::unique_ptr<State> m_state;
};

// A fresh, unguessable ring name for a job ("/roar-<job uid>").
std::string ring_name_for_job(std::string_view job_uid);

} // namespace roar::collector
