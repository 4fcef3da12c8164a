// Which finished S3 calls become lineage events, and with what content.
// Pure: it sees the relay's ExchangeRecord (request, status, response
// headers the relay kept, byte counts, BLAKE3 of a whole body, the small
// XML body of Complete/Copy/DeleteObjects and List responses), never
// sockets.
#pragma once

#include "roar/proxy/event_ring.hpp"
#include "roar/proxy/exchange.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roar::proxy {

// Whether the relay must capture (the first MiB of) the response body of
// `op` for lineage_events().
bool wants_xml_body(S3Op op);

// The events for `record`; empty for failed calls and for calls that are
// not data operations. `multipart_bytes` is the object's size for a
// CompleteMultipartUpload (-1 when unknown).
std::vector<S3Event> lineage_events(const ExchangeRecord& record, std::int64_t multipart_bytes = -1);

// The text of the first <tag>...</tag> element in `xml`, XML-unescaped
// (malformed character references are kept as they are).
std::optional<std::string> xml_element(std::string_view xml, std::string_view tag);

// One ListObjects(V2) answer page (a ListBucketResult), as parsed.
struct ListPage {
    struct Object {
        std::string key; // decoded
        std::string etag;
        std::uint64_t size = 0;
    };
    std::string bucket;                       // <Name>
    std::string prefix;                       // <Prefix>, decoded; empty when absent
    bool truncated = false;                   // <IsTruncated>true
    bool first = true;                        // no ContinuationToken, StartAfter or Marker: the listing's start
    std::vector<Object> objects;              // <Contents>, in the page's order
    std::vector<std::string> common_prefixes; // <CommonPrefixes><Prefix>, decoded
};

// The page `xml` describes, keys decoded when it says EncodingType url;
// nullopt when it is not a whole ListBucketResult (an error, a cut body) or
// an entry's Key or Size is malformed.
std::optional<ListPage> parse_list_page(std::string_view xml);

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
