// The consumer side of the event ring (see event_ring.h for the protocol).
// The segment is created with Boost.Interprocess; records are read with
// acquire loads of their stamps and released in batches with a release
// store of tail, after which producers waiting for space or at a sync
// point are woken.
#include "roar/collector/event_ring.hpp"

#include "roar/collector/event_ring.h"

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>
#include <linux/futex.h>
#include <random>
#include <vector>

namespace bip = boost::interprocess;

namespace roar::collector {

struct EventRing::State {
    std::string name;
    bip::shared_memory_object shm;
    bip::mapped_region region;
    roar_ring ring{};
    std::vector<char> buffer;
    uint64_t skipped = 0;
    uint64_t consumed = 0;
    uint64_t stuck_index = UINT64_MAX;
    std::chrono::steady_clock::time_point stuck_since;
};

namespace {

uint64_t slots_for_bytes(uint64_t bytes)
{
    uint64_t slots = 1024;
    while (slots * ROAR_SLOT_SIZE < bytes) {
        slots <<= 1;
    }
    return slots;
}

uint64_t load_stamp(const roar_ring& ring, uint64_t index)
{
    auto* slot = reinterpret_cast<roar_event*>(ring.slots + ((index & (ring.nslots - 1)) * ROAR_SLOT_SIZE));
    return __atomic_load_n(&slot->stamp, __ATOMIC_ACQUIRE);
}

// Removes rings left in /dev/shm by consumers that died without cleaning
// up (roar run killed with SIGKILL): their header names the consumer's pid.
void remove_stale_rings()
{
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("roar-", 0) != 0) {
            continue;
        }
        const int fd = open(entry.path().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            continue;
        }
        roar_ring_header header{};
        const bool read_ok = pread(fd, &header, sizeof header, 0) == ssize_t(sizeof header);
        close(fd);
        if (read_ok && header.magic == ROAR_RING_MAGIC && header.consumer_pid != 0
            && kill(pid_t(header.consumer_pid), 0) != 0 && errno == ESRCH) {
            bip::shared_memory_object::remove(("/" + name).c_str());
        }
    }
}

} // namespace

EventRing::EventRing(std::unique_ptr<State> state) : m_state(std::move(state)) { }
EventRing::EventRing(EventRing&&) noexcept = default;
EventRing& EventRing::operator=(EventRing&&) noexcept = default;

EventRing::~EventRing()
{
    if (m_state) {
        bip::shared_memory_object::remove(m_state->name.c_str());
    }
}

Result<EventRing> EventRing::create(const std::string& name, uint64_t bytes, uint32_t sync_timeout_ms)
{
    remove_stale_rings();
    auto state = std::make_unique<State>();
    state->name = name;
    const uint64_t nslots = slots_for_bytes(bytes);
    try {
        state->shm = bip::shared_memory_object(bip::create_only, name.c_str(), bip::read_write, bip::permissions(0600));
        state->shm.truncate(static_cast<bip::offset_t>(roar_ring_bytes(nslots)));
        state->region = bip::mapped_region(state->shm, bip::read_write);
    } catch (const bip::interprocess_exception& e) {
        bip::shared_memory_object::remove(name.c_str());
        return fail("cannot create the event ring {} ({}): is /dev/shm full or not writable?", name, e.what());
    }
    auto* header = static_cast<roar_ring_header*>(state->region.get_address());
    std::memset(header, 0, ROAR_HEADER_SIZE); // truncate() gave zeroed pages; be explicit
    header->version = ROAR_RING_VERSION;
    header->slot_size = ROAR_SLOT_SIZE;
    header->nslots = nslots;
    header->created_ns = roar_clock_ns(CLOCK_REALTIME);
    header->sync_timeout_ms = sync_timeout_ms;
    header->full_wait_ms = sync_timeout_ms; // a consumer busy hashing at a sync point is not stalled
    header->consumer_pid = static_cast<uint32_t>(getpid());
    __atomic_store_n(&header->magic, ROAR_RING_MAGIC, __ATOMIC_RELEASE);
    if (roar_ring_view(&state->ring, header, state->region.get_size()) != 0) {
        return fail("internal error: the event ring {} failed its own validation", name);
    }
    state->buffer.resize(ROAR_MAX_RECORD_SLOTS * ROAR_SLOT_SIZE);
    EventRing ring(std::move(state));
    ring.heartbeat();
    return ring;
}

const std::string& EventRing::name() const { return m_state->name; }
uint64_t EventRing::capacity_slots() const { return m_state->ring.nslots; }

void EventRing::heartbeat()
{
    __atomic_store_n(&m_state->ring.hdr->heartbeat_ns, roar_clock_ns(CLOCK_MONOTONIC), __ATOMIC_RELEASE);
}

namespace {

// Publishes `tail` to producers, and wakes those waiting for space or at a
// sync point. The store of tail and the load of space_wanted are
// sequentially consistent, as are roar_ring_wait_space's store of
// space_wanted and load of tail: either the producer sees the new tail or
// this sees its space_wanted.
void publish_tail(roar_ring_header* header, uint64_t tail)
{
    __atomic_store_n(&header->tail, tail, __ATOMIC_SEQ_CST);
    const bool space = __atomic_load_n(&header->space_wanted, __ATOMIC_SEQ_CST) != 0;
    if (space || __atomic_load_n(&header->sync_waiters, __ATOMIC_ACQUIRE) > 0) {
        if (space) {
            __atomic_store_n(&header->space_wanted, 0, __ATOMIC_RELAXED);
        }
        __atomic_fetch_add(&header->progress, 1, __ATOMIC_RELEASE);
        roar_futex(&header->progress, FUTEX_WAKE, INT32_MAX, nullptr);
    }
}

} // namespace

size_t EventRing::drain(const Sink& sink, bool final, std::chrono::milliseconds grace)
{
    State& s = *m_state;
    roar_ring& ring = s.ring;
    roar_ring_header* header = ring.hdr;
    heartbeat();
    size_t count = 0;
    uint64_t tail = __atomic_load_n(&header->tail, __ATOMIC_RELAXED);
    uint64_t published = tail;
    // Producers see freed slots at least every 1/64 of the ring (and when
    // the drain ends); publishing after every record would bounce the
    // tail's cache line between the consumer and every producer.
    const uint64_t batch = std::max<uint64_t>(64, ring.nslots / 64);
    auto release = [&] {
        if (tail != published) {
            publish_tail(header, tail);
            published = tail;
        }
    };
    for (;;) {
        // head is read once per batch for the same reason.
        const uint64_t head = __atomic_load_n(&header->head, __ATOMIC_ACQUIRE);
        if (tail >= head) {
            break;
        }
        bool stuck = false;
        while (tail < head) {
            if (load_stamp(ring, tail) != ROAR_STAMP(tail)) {
                stuck = true;
                break;
            }
            roar_event event;
            roar_ring_copy_out(&ring, tail * ROAR_SLOT_SIZE, &event, sizeof event);
            if (!record_fits(event, head - tail)) {
                // A committed stamp over a corrupt header: skip one slot.
                ++s.skipped;
                tail += 1;
                continue;
            }
            const uint64_t strings = uint64_t(event.len1) + event.len2 + event.len3;
            char* buf = s.buffer.data();
            roar_ring_copy_out(&ring, tail * ROAR_SLOT_SIZE + sizeof event, buf, strings);
            const RawEvent raw = *decode_record(event, tail, head - tail, std::string_view(buf, strings));
            const uint64_t nslots = event.nslots;
            sink(raw);
            tail += nslots;
            ++count;
            ++s.consumed;
            if (tail - published >= batch) {
                release();
            }
        }
        if (!stuck) {
            continue;
        }
        // Reserved but not committed: still being written, or its
        // producer died. Wait `grace` for it unless no producer can still
        // be running, then resume at the next committed record.
        release();
        const auto now = std::chrono::steady_clock::now();
        if (s.stuck_index != tail) {
            s.stuck_index = tail;
            s.stuck_since = now;
        }
        if (!final && now - s.stuck_since < grace) {
            break;
        }
        uint64_t next = tail + 1;
        while (next < head && load_stamp(ring, next) != ROAR_STAMP(next)) {
            ++next;
        }
        if (next == head && !final) {
            break;
        }
        ++s.skipped;
        tail = next;
    }
    release();
    __atomic_fetch_add(&header->progress, 1, __ATOMIC_RELEASE);
    if (__atomic_load_n(&header->sync_waiters, __ATOMIC_ACQUIRE) > 0) {
        roar_futex(&header->progress, FUTEX_WAKE, INT32_MAX, nullptr);
    }
    return count;
}

void EventRing::wait(std::chrono::milliseconds timeout)
{
    roar_ring_header* header = m_state->ring.hdr;
    heartbeat();
    const uint32_t seen = __atomic_load_n(&header->doorbell, __ATOMIC_ACQUIRE);
    __atomic_store_n(&header->wake_requested, 0, __ATOMIC_RELEASE); // the next filling producer may ring again
    if (__atomic_load_n(&header->head, __ATOMIC_ACQUIRE) > __atomic_load_n(&header->tail, __ATOMIC_ACQUIRE)
        && (__atomic_load_n(&header->sync_waiters, __ATOMIC_ACQUIRE) > 0
            || __atomic_load_n(&header->space_wanted, __ATOMIC_ACQUIRE) != 0)) {
        return;
    }
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    roar_futex(&header->doorbell, FUTEX_WAIT, seen, &ts);
}

RingCounters EventRing::counters() const
{
    const roar_ring_header* header = m_state->ring.hdr;
    RingCounters c;
    c.dropped = __atomic_load_n(&header->dropped, __ATOMIC_RELAXED);
    c.truncated = __atomic_load_n(&header->truncated, __ATOMIC_RELAXED);
    c.sync_timeouts = __atomic_load_n(&header->sync_timeouts, __ATOMIC_RELAXED);
    c.full_waits = __atomic_load_n(&header->full_waits, __ATOMIC_RELAXED);
    c.full_wait_ns = __atomic_load_n(&header->full_wait_ns, __ATOMIC_RELAXED);
    c.skipped = m_state->skipped;
    c.consumed = m_state->consumed;
    return c;
}

bool record_fits(const roar_event& header, uint64_t available)
{
    const uint64_t nslots = header.nslots;
    const uint64_t strings = uint64_t(header.len1) + header.len2 + header.len3;
    return nslots > 0 && nslots <= ROAR_MAX_RECORD_SLOTS && nslots <= available
           && sizeof header + strings <= nslots * ROAR_SLOT_SIZE;
}

std::optional<RawEvent> decode_record(const roar_event& header, uint64_t index, uint64_t available,
                                      std::string_view strings)
{
    if (!record_fits(header, available) || strings.size() < uint64_t(header.len1) + header.len2 + header.len3) {
        return std::nullopt;
    }
    RawEvent raw;
    raw.header = header;
    raw.index = index;
    size_t offset = 0;
    auto take = [&](uint32_t len, std::string_view& out, bool& has) {
        if (len > 0) {
            out = strings.substr(offset, len - 1); // without the NUL
            has = true;
            offset += len;
        }
    };
    take(header.len1, raw.s1, raw.has_s1);
    take(header.len2, raw.s2, raw.has_s2);
    take(header.len3, raw.s3, raw.has_s3);
    return raw;
}

std::vector<std::string> split_argv(std::string_view packed)
{
    std::vector<std::string> out;
    while (!packed.empty()) {
        const size_t nul = packed.find('\0');
        out.emplace_back(packed.substr(0, nul));
        if (nul == std::string_view::npos) {
            break;
        }
        packed.remove_prefix(nul + 1);
    }
    return out;
}

uint32_t* EventRing::doorbell() { return &m_state->ring.hdr->doorbell; }

std::string ring_name_for_job(std::string_view job_uid) { return fmt::format("/roar-{}", job_uid); }

} // namespace roar::collector
