// Which finished S3 calls become lineage events, and with what content.
// Pure: it sees the forward plan and facts about the exchange (status,
// response headers, byte counts, BLAKE3 of a whole body, the small XML
// body of Complete/Copy/DeleteObjects responses), never sockets.
#pragma once

#include "roar/proxy/event_ring.hpp"
#include "roar/proxy/handler.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace roar::proxy {

struct ExchangeFacts {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers; // response headers, lower-case names
    std::uint64_t request_bytes = 0;                          // decoded request body bytes sent upstream
    std::uint64_t response_bytes = 0;                         // response body bytes received from upstream
    std::string blake3_hex;                                   // of the whole object body, when the proxy saw all of it
    std::string xml_body;                                     // captured response body of Complete/Copy/DeleteObjects
    std::int64_t multipart_bytes = -1;                        // sum of the upload's parts, when known
};

// Response bodies the relay must capture (bounded) for `op`.
bool wants_xml_body(S3Op op);

// The events for `plan` answered with `facts`; empty for failed calls and
// for calls that are not data operations.
std::vector<S3Event> lineage_events(const ForwardPlan& plan, const ExchangeFacts& facts);

// The text of the first <tag>...</tag> element in `xml`, XML-unescaped.
std::optional<std::string> xml_element(std::string_view xml, std::string_view tag);

// Sums the sizes of uploaded parts per upload id so CompleteMultipartUpload
// events carry the object's size. Thread-safe; bounded to k_max_uploads.
class MultipartSizes {
public:
    static constexpr std::size_t k_max_uploads = 10000;
    // Records that part `part` of `upload_id` has `bytes` bytes (a re-upload replaces it).
    void add_part(const std::string& upload_id, const std::string& part, std::uint64_t bytes);
    // The total of `upload_id`'s parts, forgetting the upload; -1 when unknown.
    std::int64_t take(const std::string& upload_id);
    void forget(const std::string& upload_id);

private:
    std::mutex m_mutex;
    std::map<std::string, std::map<std::string, std::uint64_t>> m_uploads;
};

} // namespace roar::proxy
