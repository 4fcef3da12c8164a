// S3 XML error documents and request ids for the proxy's own errors.
#include "roar/proxy/s3_error.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

#include <fmt/format.h>

namespace roar::proxy {

std::string xml_escape(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        default: out.push_back(c);
        }
    }
    return out;
}

std::string error_xml(const S3Error& err, std::string_view resource, std::string_view request_id)
{
    return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<Error><Code>{}</Code><Message>{}</Message><Resource>{}</Resource>"
                       "<RequestId>{}</RequestId></Error>\n",
                       xml_escape(err.code), xml_escape(err.message), xml_escape(resource), xml_escape(request_id));
}

std::string new_request_id()
{
    // A per-process random base plus a counter: unique, cheap, not secret.
    static const std::uint64_t base = [] {
        std::random_device rd;
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd()
               ^ static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    }();
    static std::atomic<std::uint64_t> counter{0};
    return fmt::format("{:016X}", base + counter.fetch_add(1, std::memory_order_relaxed) * 0x9E3779B97F4A7C15ull);
}

} // namespace roar::proxy
