// RingPublisher: Boost.Interprocess mapping of the job's ring plus the
// shared lock-free C producer from collector/include/roar/collector.
#include "roar/proxy/event_ring.hpp"

#include "roar/collector/event_ring.h"

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>

#include <sys/syscall.h>
#include <unistd.h>

namespace roar::proxy {

namespace bip = boost::interprocess;

struct RingPublisher::Impl {
    bip::shared_memory_object shm;
    bip::mapped_region region;
    roar_ring ring{};
};

RingPublisher::RingPublisher() : m_impl(std::make_unique<Impl>()) { }
RingPublisher::~RingPublisher() = default;

tl::expected<std::unique_ptr<RingPublisher>, std::string> RingPublisher::open(const std::string& name)
{
    std::unique_ptr<RingPublisher> p(new RingPublisher());
    try {
        // Boost adds the leading '/' itself on POSIX systems.
        const std::string bare = !name.empty() && name.front() == '/' ? name.substr(1) : name;
        p->m_impl->shm = bip::shared_memory_object(bip::open_only, bare.c_str(), bip::read_write);
        p->m_impl->region = bip::mapped_region(p->m_impl->shm, bip::read_write);
    } catch (const bip::interprocess_exception& e) {
        return tl::unexpected("cannot map event ring " + name + ": " + e.what());
    }
    if (roar_ring_view(&p->m_impl->ring, p->m_impl->region.get_address(), p->m_impl->region.get_size()) != 0) {
        return tl::unexpected("shared memory " + name + " is not a roar event ring of version "
                              + std::to_string(ROAR_RING_VERSION));
    }
    return p;
}

bool RingPublisher::publish(const S3Event& ev)
{
    roar_event rec{};
    rec.op = ev.op;
    rec.pid = ev.pid != 0 ? ev.pid : static_cast<std::uint32_t>(getpid());
    rec.tid = static_cast<std::uint32_t>(syscall(SYS_gettid));
    rec.fd = -1;
    rec.fd2 = -1;
    rec.flags = ev.status;
    rec.result = ev.bytes;
    rec.time_ns = roar_clock_ns(CLOCK_REALTIME);
    auto str = [](const std::string& s) { return roar_str{s.c_str(), static_cast<std::uint32_t>(s.size())}; };
    const roar_str none{nullptr, 0};
    const bool ok = roar_ring_publish(&m_impl->ring, &rec, str(ev.uri), ev.etag.empty() ? none : str(ev.etag),
                                      ev.extra.empty() ? none : str(ev.extra))
                    >= 0;
    roar_ring_ring_doorbell(&m_impl->ring);
    return ok;
}

void RingPublisher::ring_doorbell() { roar_ring_ring_doorbell(&m_impl->ring); }

} // namespace roar::proxy
