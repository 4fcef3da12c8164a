// Helpers on RequestHead and header names.
#include "roar/proxy/request.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace roar::proxy {

std::optional<std::string_view> RequestHead::header(std::string_view name) const
{
    for (const auto& [n, v] : headers) {
        if (iequals(n, name)) {
            return std::string_view(v);
        }
    }
    return std::nullopt;
}

std::string_view RequestHead::raw_path() const
{
    const std::string_view t = target;
    return t.substr(0, t.find('?'));
}

std::string_view RequestHead::raw_query() const
{
    const std::string_view t = target;
    const auto q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string to_lower(std::string_view s)
{
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
               return std::tolower(x) == std::tolower(y);
           });
}

bool is_hop_by_hop(std::string_view name)
{
    static constexpr std::string_view k_names[] = {"connection",          "keep-alive", "proxy-authenticate",
                                                   "proxy-authorization", "te",         "trailer",
                                                   "transfer-encoding",   "upgrade",    "proxy-connection"};
    return std::any_of(std::begin(k_names), std::end(k_names), [&](std::string_view n) { return iequals(n, name); });
}

bool named_in_connection(const RequestHead& head, std::string_view lname)
{
    const auto conn = head.header("connection");
    if (!conn) {
        return false;
    }
    std::string_view rest = *conn;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view tok = rest.substr(0, comma);
        while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) {
            tok.remove_prefix(1);
        }
        while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) {
            tok.remove_suffix(1);
        }
        if (iequals(tok, lname)) {
            return true;
        }
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    return false;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s)
{
    std::uint64_t v = 0;
    if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return std::nullopt;
    }
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
    if (ec != std::errc() || end != s.data() + s.size()) {
        return std::nullopt; // out of range
    }
    return v;
}

} // namespace roar::proxy
