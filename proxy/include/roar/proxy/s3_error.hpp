// The proxy's own error responses, as S3 XML error documents so that every
// SDK surfaces them the way it surfaces S3's errors (code, message,
// request id).
#pragma once

#include <string>
#include <string_view>

namespace roar::proxy {

struct S3Error {
    unsigned status = 500;
    std::string code;    // e.g. "SignatureDoesNotMatch"
    std::string message; // human text; never contains secrets
};

// `s` with the five XML special characters escaped.
std::string xml_escape(std::string_view s);

// The XML document for `err` about `resource` (the request path) with
// request id `request_id`.
std::string error_xml(const S3Error& err, std::string_view resource, std::string_view request_id);

// A fresh request id: 16 upper-case hex digits.
std::string new_request_id();

} // namespace roar::proxy
