// What an S3 ETag says, header-only: the job proxy's recorder and the
// gateway read ETags the same way.
#pragma once

#include "roar/collector/hex_digit.hpp"

#include <algorithm>
#include <string_view>

namespace roar::proxy {

// `etag` without surrounding double quotes.
inline std::string_view unquote_etag(std::string_view etag)
{
    if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
        etag = etag.substr(1, etag.size() - 2);
    }
    return etag;
}

// Whether `etag` (quotes allowed) is a plain MD5 hex digest, as S3 gives
// for single PUTs and copies without KMS or customer-key encryption (a
// multipart ETag ends in "-N").
inline bool is_plain_md5_etag(std::string_view etag)
{
    etag = unquote_etag(etag);
    return etag.size() == 32
           && std::all_of(etag.begin(), etag.end(), [](char c) { return collector::hex_digit_value(c) >= 0; });
}

} // namespace roar::proxy
