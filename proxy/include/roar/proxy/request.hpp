// The socket-free view of an inbound HTTP request head that the pure
// request handler works on, plus small header helpers shared by the
// handler, the verifier and the relay.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roar::proxy {

struct RequestHead {
    std::string method;
    std::string target;                                       // raw request-target: path[?query], still percent-encoded
    std::vector<std::pair<std::string, std::string>> headers; // names as received

    // Value of the first header named `name` (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const;
    // Raw path part of the target (before '?').
    std::string_view raw_path() const;
    // Raw query part of the target (after '?', may be empty).
    std::string_view raw_query() const;
};

// `s` in lower case (ASCII).
std::string to_lower(std::string_view s);
// Case-insensitive ASCII equality of `a` and `b`.
bool iequals(std::string_view a, std::string_view b);
// Whether `name` is a hop-by-hop header that a proxy must not forward.
bool is_hop_by_hop(std::string_view name);
// True when the Connection header of `head` lists `lname` (lower-case):
// such a header is hop-by-hop too.
bool named_in_connection(const RequestHead& head, std::string_view lname);
// A header value or port that must be a plain decimal number (digits
// only: no sign, no spaces), as a u64; nullopt when it is not one or is
// out of range.
std::optional<std::uint64_t> parse_decimal(std::string_view s);

} // namespace roar::proxy
