// W3C traceparent parsing and span ids, and the per-thread trace scope
// (see trace_context.hpp).
#include "roar/proxy/gateway/trace_context.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <random>

namespace roar::proxy::gateway {

namespace {

thread_local TraceScope* t_current = nullptr;

bool lower_hex(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view s)
{
    return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

// This thread's generator of ids, seeded once from OpenSSL's entropy (from
// std::random_device when OpenSSL has none). Trace and span ids only need
// to be unlikely to collide, not unpredictable, and asking OpenSSL for
// every span cost 4% of the gateway's CPU per request.
std::mt19937_64& id_generator()
{
    thread_local std::mt19937_64 generator = [] {
        std::array<std::uint32_t, 8> seed{};
        if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), static_cast<int>(sizeof seed)) != 1) {
            std::random_device device;
            std::generate(seed.begin(), seed.end(), std::ref(device));
        }
        std::seed_seq sequence(seed.begin(), seed.end());
        return std::mt19937_64(sequence);
    }();
    return generator;
}

// `n` random bytes as 2n lower-case hex digits, never all zero.
std::string random_hex(std::size_t n)
{
    static constexpr char k_digits[] = "0123456789abcdef";
    auto& generator = id_generator();
    std::string out;
    do {
        out.clear();
        for (std::size_t i = 0; i < n; i += 8) {
            std::uint64_t word = generator();
            for (std::size_t j = i; j < n && j < i + 8; ++j, word >>= 8) {
                out.push_back(k_digits[(word >> 4) & 0xf]);
                out.push_back(k_digits[word & 0xf]);
            }
        }
    } while (all_zero(out));
    return out;
}

} // namespace

std::optional<TraceContext> parse_traceparent(std::string_view v)
{
    // 2 + 1 + 32 + 1 + 16 + 1 + 2
    if (v.size() != 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || v.substr(0, 2) != "00") {
        return std::nullopt;
    }
    const std::string_view trace = v.substr(3, 32);
    const std::string_view span = v.substr(36, 16);
    const std::string_view flags = v.substr(53, 2);
    if (!lower_hex(trace) || !lower_hex(span) || !lower_hex(flags) || all_zero(trace) || all_zero(span)) {
        return std::nullopt;
    }
    const auto nibble = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
    return TraceContext{std::string(trace), std::string(span),
                        static_cast<std::uint8_t>(nibble(flags[0]) << 4 | nibble(flags[1]))};
}

std::string format_traceparent(const TraceContext& c)
{
    static constexpr char k_digits[] = "0123456789abcdef";
    std::string out = "00-" + c.trace_id + "-" + c.span_id + "-";
    out.push_back(k_digits[c.flags >> 4]);
    out.push_back(k_digits[c.flags & 0xf]);
    return out;
}

TraceContext start_span(const std::optional<TraceContext>& parent)
{
    if (parent) {
        return {parent->trace_id, random_hex(8), parent->flags};
    }
    return {random_hex(16), random_hex(8), 0};
}

TraceScope::TraceScope(TraceContext context) : m_context(std::move(context)), m_outer(t_current) { t_current = this; }

TraceScope::~TraceScope() { t_current = m_outer; }

TraceScope* TraceScope::current() { return t_current; }

void TraceScope::note_backend(std::string_view name)
{
    if (std::find(m_backends.begin(), m_backends.end(), name) == m_backends.end()) {
        m_backends.emplace_back(name);
    }
}

} // namespace roar::proxy::gateway
