// What the proxy reads out of upstream responses: the XML bodies of
// CompleteMultipartUpload, CopyObject and DeleteObjects (ETag, Key,
// VersionId, <Error>) and the headers of the events it builds.
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
    ForwardPlan plan;
    plan.op = k_ops[data[0] & 7u];
    plan.method = "POST";
    plan.target = {"bucket", "key", false};
    plan.copy_source = "s3://src/key";
    plan.upload_id = "upload";
    const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);

    ExchangeFacts facts;
    facts.status = (data[0] & 8u) ? 206 : 200;
    facts.xml_body = body;
    // The body's first line doubles as response header values.
    const std::string first = body.substr(0, body.find('\n'));
    facts.headers = {{"etag", first},
                     {"content-length", first},
                     {"x-amz-version-id", first},
                     {"x-amz-delete-marker", first},
                     {"content-range", first}};
    (void)lineage_events(plan, facts);
    (void)xml_element(body, "ETag");
    (void)xml_element(body, "Key");
    return 0;
}
