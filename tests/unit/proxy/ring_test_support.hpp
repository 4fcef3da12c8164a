// Test-side helpers for the event ring: create a ring segment like the
// collector does, and read committed records back (a minimal consumer).
// Used by test_event_ring.cpp and the roar_proxy_ring_tool program.
#pragma once

#include "roar/collector/event_ring.h"

#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace roar::proxy::test {

struct RingRecord {
    roar_event ev{};
    std::string s1, s2, s3;
};

// Creates (or replaces) the shm ring `name` with `nslots` slots; false on error.
inline bool create_ring(const std::string& name, std::uint64_t nslots)
{
    ::shm_unlink(name.c_str());
    const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) {
        return false;
    }
    const auto size = roar_ring_bytes(nslots);
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        ::close(fd);
        return false;
    }
    void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (base == MAP_FAILED) {
        return false;
    }
    auto* h = static_cast<roar_ring_header*>(base);
    h->magic = ROAR_RING_MAGIC;
    h->version = ROAR_RING_VERSION;
    h->slot_size = ROAR_SLOT_SIZE;
    h->nslots = nslots;
    h->sync_timeout_ms = 100;
    ::munmap(base, size);
    return true;
}

// All committed records of ring `name`, from slot 0 up to `head`. Does not
// move the tail (the tests size their rings to never wrap).
inline std::vector<RingRecord> read_ring(const std::string& name, std::uint64_t* dropped = nullptr)
{
    std::vector<RingRecord> out;
    const int fd = ::shm_open(name.c_str(), O_RDONLY, 0);
    if (fd < 0) {
        return out;
    }
    const off_t size = ::lseek(fd, 0, SEEK_END);
    void* base = ::mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    if (base == MAP_FAILED) {
        return out;
    }
    roar_ring ring{};
    if (roar_ring_view(&ring, base, static_cast<std::uint64_t>(size)) == 0) {
        const std::uint64_t head = __atomic_load_n(&ring.hdr->head, __ATOMIC_ACQUIRE);
        if (dropped != nullptr) {
            *dropped = ring.hdr->dropped;
        }
        std::uint64_t i = 0;
        while (i < head) {
            RingRecord r;
            roar_ring_copy_out(&ring, i * ROAR_SLOT_SIZE, &r.ev, sizeof r.ev);
            if (r.ev.stamp != ROAR_STAMP(i) || r.ev.nslots == 0) {
                break; // not committed (yet)
            }
            std::uint64_t pos = i * ROAR_SLOT_SIZE + sizeof r.ev;
            auto take = [&](std::uint32_t len, std::string& s) {
                if (len > 0) {
                    s.resize(len - 1);
                    roar_ring_copy_out(&ring, pos, s.data(), len - 1);
                    pos += len;
                }
            };
            take(r.ev.len1, r.s1);
            take(r.ev.len2, r.s2);
            take(r.ev.len3, r.s3);
            i += r.ev.nslots;
            out.push_back(std::move(r));
        }
    }
    ::munmap(base, static_cast<std::size_t>(size));
    return out;
}

} // namespace roar::proxy::test
