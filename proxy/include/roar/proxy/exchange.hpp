// What the relay saw of one finished S3 exchange: the request it forwarded,
// the response it passed back, the sizes and the BLAKE3 of the body it
// moved. The relay fills it and knows nothing of lineage; the recorder
// (recorder.hpp) turns it into ring events.
#pragma once

#include "roar/proxy/s3_operation.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace roar::proxy {

struct ExchangeRecord {
    // The request.
    std::string method;
    S3Op op = S3Op::Other;
    S3Target target;                  // bucket and key
    std::string range;                // Range header
    std::string upload_id;            // uploadId query parameter
    std::string part_number;          // partNumber query parameter
    std::string copy_source;          // "s3://bucket/key" of x-amz-copy-source
    std::string copy_source_if_match; // x-amz-copy-source-if-match: the ETag the source had to have
    std::string copy_source_range;    // x-amz-copy-source-range: the source's bytes an UploadPartCopy copies
    std::uint32_t pid = 0;            // process the call is attributed to (the proxy's own pid for now)

    // The response.
    unsigned status = 0;
    std::string etag;                            // ETag header, exactly as sent (quotes kept)
    std::string version_id;                      // x-amz-version-id
    std::string copy_source_version_id;          // x-amz-copy-source-version-id
    std::string delete_marker;                   // x-amz-delete-marker
    std::string content_range;                   // Content-Range
    std::optional<std::uint64_t> content_length; // Content-Length, when sent and numeric
    std::string encryption;                      // x-amz-server-side-encryption, or "SSE-C" for a customer key
    // The response head reached the client but not the whole body: the
    // client went away, or the upstream failed, part-way through it.
    bool cut = false;

    // The bytes.
    std::uint64_t request_bytes = 0;  // request body bytes sent upstream (decoded)
    std::uint64_t response_bytes = 0; // response body bytes received from upstream
    std::string blake3_hex;           // of the whole request body (2xx) or response body (200), when seen whole
    std::string response_body;        // the start of the response body, when the plan asked to capture it
    std::string request_body;         // CompleteMultipartUpload: the start of its request body (the part list)
    std::string note;                 // set by the recorder: why an object has no BLAKE3
};

} // namespace roar::proxy
