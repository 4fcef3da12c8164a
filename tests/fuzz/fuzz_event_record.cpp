// The collector's decoding of one ring record: the 64-byte header as a
// producer (or a corrupted ring) left it, then its strings; a decoded
// record is rendered as roar-events does and its argv split.
// Input: [roar_event bytes][available-slots byte] strings.
#include "fuzz_support.hpp"

#include "roar/collector/event_json.hpp"
#include "roar/collector/event_ring.hpp"

#include <cstdint>
#include <cstring>
#include <string_view>

using namespace roar::collector;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    roar_event header;
    if (size < sizeof header + 1) {
        return 0;
    }
    std::memcpy(&header, data, sizeof header);
    const uint64_t available = data[sizeof header];
    const std::string_view strings(reinterpret_cast<const char*>(data + sizeof header + 1), size - sizeof header - 1);
    const auto raw = decode_record(header, 0, available, strings);
    roar::fuzz::require(
        raw.has_value()
            == (record_fits(header, available) && strings.size() >= uint64_t(header.len1) + header.len2 + header.len3),
        "decode_record accepts exactly the records that fit");
    if (!raw) {
        return 0;
    }
    roar::fuzz::require(raw->s1.size() + raw->s2.size() + raw->s3.size() <= strings.size(), "strings stay in bounds");
    (void)event_to_json(*raw).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    (void)split_argv(raw->s3);
    (void)op_name(raw->header.op);
    return 0;
}
