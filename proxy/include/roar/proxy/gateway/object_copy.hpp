// Copying an object from one backend to another in bounded memory: a
// thread streams the source GET into a small pipe that the target PUT (or
// each UploadPart) reads from, hashing the bytes on the way. Every PUT is
// verified: the bytes sent must be exactly the expected size, and a plain
// MD5 ETag from the target must be the MD5 of those bytes. Used by the
// replication worker, rebalance, and the front's CopyObject and
// UploadPartCopy.
#pragma once

#include "roar/proxy/gateway/metadata.hpp"
#include "roar/proxy/gateway/object_backend.hpp"

#include <cstdint>
#include <string>

namespace roar::proxy::gateway {

struct CopyRequest {
    ObjectBackend* source = nullptr;
    Location from;
    ObjectBackend* target = nullptr;
    Location to;
    std::uint64_t size = 0;
    PutOptions put;                                 // content type and user metadata of the new copy
    std::uint64_t multipart_threshold = 5ull << 30; // larger objects are copied as multipart uploads
    std::uint64_t part_size = 64ull << 20;
    std::size_t pipe_bytes = 1u << 20; // memory between the GET and the PUT
};

struct CopyResult {
    std::string etag;   // the target's ETag
    std::string blake3; // lower-case hex of the bytes copied
};

// Streams `req.from` on `req.source` to `req.to` on `req.target`. On failure
// nothing is left on the target that a completed PUT made (a failed
// multipart upload is aborted), except what a PUT that the target accepted
// but whose verification failed wrote: the caller deletes `req.to` then.
BackendResult<CopyResult> stream_copy(const CopyRequest& req);

// Streams bytes [first, first + size) of `req.from` on `req.source` into
// part `number` of the multipart upload `upload_id` at `req.to` on
// `req.target` (req.size is the source's whole size); returns the part's
// ETag, verified like a copy's.
BackendResult<std::string> stream_copy_part(const CopyRequest& req, std::uint64_t first, std::uint64_t size,
                                            const std::string& upload_id, int number);

} // namespace roar::proxy::gateway
