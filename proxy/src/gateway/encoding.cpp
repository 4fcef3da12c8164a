// ISO 8601 UTC times (see encoding.hpp).
#include "encoding.hpp"

#include <fmt/format.h>

#include <ctime>

namespace roar::proxy::gateway {

std::string iso8601_utc(Millis t)
{
    const std::time_t secs = static_cast<std::time_t>(t / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(t % 1000));
}

} // namespace roar::proxy::gateway
