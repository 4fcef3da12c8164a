// The time format the gateway's pieces share: ISO 8601 UTC (S3 XML's
// LastModified, the admin API's timestamps). Base64 (sealed secrets,
// continuation tokens) is roar/collector/byte_text.hpp's.
#pragma once

#include "roar/proxy/gateway/metadata.hpp"

#include <string>

namespace roar::proxy::gateway {

// "2024-03-01T12:00:00.000Z" for `t`.
std::string iso8601_utc(Millis t);

} // namespace roar::proxy::gateway
