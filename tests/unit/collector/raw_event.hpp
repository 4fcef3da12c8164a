// A RawEvent as the ring consumer hands it to JobTracker, for tests that
// feed the tracker by hand.
#pragma once

#include "roar/collector/event_ring.hpp"

#include <cstdint>
#include <string_view>

namespace roar::test {

// The record `op` of process `pid` with its fd, flags and result; an empty
// string counts as absent. The strings are views: keep what they point to
// alive until the tracker has taken the event.
inline collector::RawEvent raw_event(uint16_t op, uint32_t pid, int fd, int flags, int64_t result,
                                     std::string_view s1 = {}, std::string_view s2 = {}, std::string_view s3 = {},
                                     int fd2 = 0)
{
    collector::RawEvent e{};
    e.header.op = op;
    e.header.pid = pid;
    e.header.fd = fd;
    e.header.fd2 = fd2;
    e.header.flags = flags;
    e.header.result = result;
    e.s1 = s1;
    e.has_s1 = !s1.empty();
    e.s2 = s2;
    e.has_s2 = !s2.empty();
    e.s3 = s3;
    e.has_s3 = !s3.empty();
    return e;
}

} // namespace roar::test
