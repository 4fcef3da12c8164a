// libFuzzer target for the proxy's HTTP front: parse_request_head() on any
// bytes (under small limits, so the limits are reached too), the chunked
// body decoder on whatever follows a head that declares chunked framing,
// the incremental end-of-head search against a one-shot search, and the
// first-bytes classification. Invariants that must hold are checked with
// a trap, so a violation is a crash the fuzzer reports.
#include "roar/proxy/http_front.hpp"
#include "roar/proxy/preamble.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

void require(bool ok)
{
    if (!ok) {
        __builtin_trap();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace roar::proxy;
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    (void)classify_preamble(in);

    // The end of the head found in one go or byte by byte is the same.
    const std::size_t once = find_head_end(in);
    std::size_t step = std::string_view::npos;
    for (std::size_t i = 1, from = 0; i <= size && step == std::string_view::npos; from = i, i += 1 + i / 7) {
        step = find_head_end(in.substr(0, i), from);
    }
    if (step == std::string_view::npos) {
        step = find_head_end(in, 0);
    }
    require(once == step);

    HeadLimits limits;
    limits.max_bytes = 2048;
    limits.max_fields = 16;
    const HeadResult r = parse_request_head(in, limits);
    if (r.status == HeadStatus::Invalid) {
        require(r.error.status == 400 || r.error.status == 431 || r.error.status == 505);
        return 0;
    }
    if (r.status == HeadStatus::Incomplete) {
        require(size < limits.max_bytes);
        return 0;
    }
    const ParsedHead& p = r.parsed;
    require(p.size <= size && p.size <= limits.max_bytes);
    require(p.head.headers.size() <= limits.max_fields);
    require(!p.head.target.empty() && p.head.target.front() == '/');
    require(p.framing != BodyFraming::Length || p.content_length > 0);
    if (p.framing != BodyFraming::Chunked) {
        return 0;
    }
    // Decode the rest as a chunked body, in pieces of varying size.
    ChunkedBodyDecoder d;
    std::string_view body = in.substr(p.size);
    std::uint64_t payload = 0;
    std::size_t piece = 1;
    while (!body.empty() && !d.done()) {
        const std::string_view chunk = body.substr(0, piece);
        const auto s = d.step(chunk);
        require(s.consumed <= chunk.size());
        require(s.data.size() <= s.consumed);
        if (s.error) {
            break;
        }
        payload += s.data.size();
        if (s.consumed == 0) {
            piece = piece * 2 + 1; // needs more than this piece holds
            require(piece <= 2 * size + 2);
            continue;
        }
        body.remove_prefix(s.consumed);
        piece = 1 + (piece * 3) % 11;
    }
    require(payload == d.decoded());
    return 0;
}
