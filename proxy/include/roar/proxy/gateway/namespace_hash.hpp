// Namespace hashing: the backend bucket that holds a tenant's logical
// bucket, derived from the tenant and bucket names alone, so two tenants can
// both own "analytics" and the mapping can be recomputed from the
// configuration and the metadata at any time.
#pragma once

#include <string>
#include <string_view>

namespace roar::proxy::gateway {

// The backend bucket name of bucket `bucket` of tenant `tenant`:
// "<prefix>-<hint>-<hash>", where hash is 26 base32 characters (128 bits) of
// SHA-256 over a length-prefixed encoding of ("roar-namespace-v1", tenant,
// bucket), and hint is the start of `bucket` (dots turned into '-') for
// people reading backend listings. Always a valid S3 bucket name for a
// `prefix` of 1-16 characters of a-z, 0-9 and '-' starting with a letter.
std::string namespace_bucket_name(std::string_view prefix, std::string_view tenant, std::string_view bucket);

} // namespace roar::proxy::gateway
