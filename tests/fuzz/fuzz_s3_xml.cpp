// What the proxy reads out of upstream responses: the XML bodies of
// CompleteMultipartUpload, CopyObject and DeleteObjects (ETag, Key,
// VersionId, <Error>) and the response values the recorder turns into
// events (ExchangeRecord).
// Input: [op byte] XML body.
#include "fuzz_proxy.hpp"

#include "roar/proxy/s3_event.hpp"

#include <cstdint>
#include <string>

using namespace roar::proxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) {
        return 0;
    }
    static constexpr S3Op k_ops[] = {S3Op::CompleteMultipartUpload,
                                     S3Op::CopyObject,
                                     S3Op::DeleteObjects,
                                     S3Op::HeadObject,
                                     S3Op::GetObject,
                                     S3Op::DeleteObject,
                                     S3Op::PutObject,
                                     S3Op::UploadPart};
    // What the relay hands the recorder (roar/proxy/exchange.hpp).
    ExchangeRecord record;
    record.op = k_ops[data[0] & 7u];
    record.method = "POST";
    record.target = {"bucket", "key", false};
    record.copy_source = "s3://src/key";
    record.upload_id = "upload";
    const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
    record.status = (data[0] & 8u) ? 206 : 200;
    record.response_body = body;
    // The body's first line doubles as the response's header values.
    const std::string first = body.substr(0, body.find('\n'));
    record.etag = first;
    record.version_id = first;
    record.delete_marker = first;
    record.content_range = first;
    if (!first.empty() && (data[0] & 16u)) {
        record.content_length = std::uint64_t(first.size()) << (data[0] >> 5);
    }
    (void)lineage_events(record);
    (void)xml_element(body, "ETag");
    (void)xml_element(body, "Key");
    return 0;
}
