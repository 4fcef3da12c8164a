// Raw events as JSON, for `roar-events` and for debugging dumps.
#pragma once

#include "roar/collector/event_ring.hpp"

#include <nlohmann/json.hpp>

namespace roar::collector {

// The name of op `op` ("open", "s3_get", ...), or "op<N>" if unknown.
std::string op_name(uint16_t op);

// `event` with its header fields and strings as one JSON object.
nlohmann::json event_to_json(const RawEvent& event);

} // namespace roar::collector
