// W3C traceparent: strict parsing of version 00, child spans that keep the
// client's trace, new traces when there is none, and the per-thread scope
// that backend calls read.
#include "roar/proxy/gateway/trace_context.hpp"

#include <catch2/catch.hpp>

using namespace roar::proxy::gateway;

namespace {

const std::string k_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string k_span = "00f067aa0ba902b7";

} // namespace

TEST_CASE("a version 00 traceparent is parsed into its trace id, parent id and flags", "[gateway][trace]")
{
    const auto c = parse_traceparent("00-" + k_trace + "-" + k_span + "-01");
    REQUIRE(c);
    CHECK(c->trace_id == k_trace);
    CHECK(c->span_id == k_span);
    CHECK(c->flags == 1);
    CHECK(format_traceparent(*c) == "00-" + k_trace + "-" + k_span + "-01");
    CHECK(parse_traceparent("00-" + k_trace + "-" + k_span + "-ff")->flags == 0xff);
}

TEST_CASE("a traceparent that is not exactly version 00 in lower case is refused", "[gateway][trace]")
{
    const std::string good = "00-" + k_trace + "-" + k_span + "-01";
    CHECK_FALSE(parse_traceparent(""));
    CHECK_FALSE(parse_traceparent("01-" + k_trace + "-" + k_span + "-01"));                  // another version
    CHECK_FALSE(parse_traceparent("ff-" + k_trace + "-" + k_span + "-01"));                  // the invalid version
    CHECK_FALSE(parse_traceparent(good + "-extra"));                                         // more fields
    CHECK_FALSE(parse_traceparent(" " + good));                                              // blanks
    CHECK_FALSE(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-" + k_span + "-01")); // upper case
    CHECK_FALSE(parse_traceparent("00-" + std::string(32, '0') + "-" + k_span + "-01"));     // zero trace id
    CHECK_FALSE(parse_traceparent("00-" + k_trace + "-" + std::string(16, '0') + "-01"));    // zero parent id
    CHECK_FALSE(parse_traceparent("00-" + k_trace + "-" + k_span + "-0g"));                  // not hex
    CHECK_FALSE(parse_traceparent("00_" + k_trace + "-" + k_span + "-01"));                  // separator
    CHECK_FALSE(parse_traceparent("00-" + k_trace.substr(1) + "0-" + k_span.substr(1) + "-01"));
}

TEST_CASE("a child span keeps the client's trace and flags with a fresh span id", "[gateway][trace]")
{
    const auto parent = parse_traceparent("00-" + k_trace + "-" + k_span + "-01");
    const TraceContext child = start_span(parent);
    CHECK(child.trace_id == k_trace);
    CHECK(child.flags == 1);
    CHECK(child.span_id != k_span);
    CHECK(parse_traceparent(format_traceparent(child)));
    CHECK(start_span(parent).span_id != child.span_id);
}

TEST_CASE("without a client trace a new valid trace is started", "[gateway][trace]")
{
    const TraceContext a = start_span(std::nullopt);
    const TraceContext b = start_span(std::nullopt);
    CHECK(parse_traceparent(format_traceparent(a)));
    CHECK(a.trace_id != b.trace_id);
    CHECK(a.flags == 0);
}

TEST_CASE("trace scopes nest per thread and note each backend once", "[gateway][trace]")
{
    CHECK(TraceScope::current() == nullptr);
    {
        TraceScope outer(start_span(std::nullopt));
        CHECK(TraceScope::current() == &outer);
        {
            TraceScope inner(start_span(outer.context()));
            CHECK(TraceScope::current() == &inner);
            inner.note_backend("a");
            inner.note_backend("b");
            inner.note_backend("a");
            CHECK(inner.backends() == std::vector<std::string>{"a", "b"});
        }
        CHECK(TraceScope::current() == &outer);
        CHECK(outer.backends().empty());
    }
    CHECK(TraceScope::current() == nullptr);
}
