// Text encodings the gateway's pieces share: base64 (standard and URL-safe,
// for sealed secrets and continuation tokens) and ISO 8601 UTC times (S3
// XML's LastModified, the admin API's timestamps).
#pragma once

#include "roar/proxy/gateway/metadata.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace roar::proxy::gateway {

// Base64 of `raw`: the standard alphabet with '=' padding, or (url_safe)
// '-' and '_' without padding.
std::string base64_encode(std::string_view raw, bool url_safe = false);
// Decodes `text` in either alphabet, padding optional; nullopt when malformed.
std::optional<std::string> base64_decode(std::string_view text);

// "2024-03-01T12:00:00.000Z" for `t`.
std::string iso8601_utc(Millis t);

} // namespace roar::proxy::gateway
