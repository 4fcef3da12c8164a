// W3C Trace Context for the gateway: parsing a client's `traceparent`
// strictly (version 00 only), starting the gateway's own span as its child
// (or a new trace when the client sent none or an invalid one), and the
// per-thread scope through which every backend call made while a request
// (or a background job) is served carries `traceparent: 00-<trace>-<the
// gateway's span>-<flags>` and notes which backends it reached, for the
// request's log record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy::gateway {

struct TraceContext {
    std::string trace_id; // 32 lower-case hex digits, not all zero
    std::string span_id;  // 16 lower-case hex digits, not all zero
    std::uint8_t flags = 0;
};

// The context of a traceparent header `value`: exactly
// "00-<32 hex>-<16 hex>-<2 hex>" in lower case with non-zero ids; nullopt
// for anything else (other versions, upper case, extra fields, blanks).
std::optional<TraceContext> parse_traceparent(std::string_view value);

// The traceparent header value of `context`.
std::string format_traceparent(const TraceContext& context);

// A new span: a child of `parent` (same trace id and flags, a fresh span
// id), or the first span of a new trace (flags 00) when `parent` is nullopt.
TraceContext start_span(const std::optional<TraceContext>& parent);

// Makes `context` the current thread's trace while it lives; scopes nest.
class TraceScope {
public:
    explicit TraceScope(TraceContext context);
    ~TraceScope();
    TraceScope(const TraceScope&) = delete;
    TraceScope& operator=(const TraceScope&) = delete;

    // The innermost scope of this thread, or nullptr.
    static TraceScope* current();

    const TraceContext& context() const { return m_context; }
    // Records that a call went to backend `name` (each name once, in order).
    void note_backend(std::string_view name);
    // The backends called so far.
    const std::vector<std::string>& backends() const { return m_backends; }

private:
    TraceContext m_context;
    std::vector<std::string> m_backends;
    TraceScope* m_outer;
};

} // namespace roar::proxy::gateway
