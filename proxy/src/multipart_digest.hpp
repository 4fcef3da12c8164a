// The BLAKE3 of objects uploaded in parts, assembled from the parts as they
// stream through the relay, so a multipart object gets the same digest as
// `b3sum` of its bytes without the proxy reading it back (the redirected
// path has no credentials to). A part's byte offset is only known at
// CompleteMultipartUpload, but BLAKE3's chunk chaining values depend on it:
// each part is hashed at an offset guessed when it starts (clients use one
// part size for every part but the last), its bytes are also spooled to a
// temporary file when the guess cannot be checked yet, and Complete checks
// every guess against the listed parts, re-hashing a wrong one from its
// spool. Anything that prevents a correct digest gives none and a note.
#pragma once

#include "hash_pool.hpp"

#include "roar/collector/blake3_tree.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy {

// One upload of one part: its pieces hashed at the guessed offset and, when
// the guess may be wrong, its bytes in an unlinked spool file.
class PartHash final : public BodySink {
public:
    // Hashes at byte `offset`; spools into the open, unlinked file `spool_fd`
    // (-1: none), which it then owns and counts in `open_spools`.
    PartHash(std::uint64_t offset, int spool_fd, std::shared_ptr<std::atomic<std::size_t>> open_spools);
    ~PartHash() override;
    PartHash(const PartHash&) = delete;
    PartHash& operator=(const PartHash&) = delete;

    void update(const std::uint8_t* data, std::size_t len) override;
    void finish() override;

    std::uint64_t offset() const { return m_offset; }
    std::uint64_t bytes() const { return m_pieces.bytes_seen(); }
    const collector::blake3::PieceHasher& pieces() const { return m_pieces; }
    // The part's pieces hashed again at `offset` from the spool; nullopt
    // when there is no complete spool.
    std::optional<collector::blake3::PieceHasher> rehash_at(std::uint64_t offset) const;

private:
    std::uint64_t m_offset;
    collector::blake3::PieceHasher m_pieces;
    int m_spool_fd;
    std::shared_ptr<std::atomic<std::size_t>> m_open_spools;
    std::uint64_t m_spooled = 0;
    bool m_spool_ok;
};

// What Complete gives: the object's size and BLAKE3 (empty hex and a note
// saying why when there is none).
struct MultipartDigest {
    std::int64_t bytes = -1;
    std::string blake3;
    std::string note;
};

// The part numbers of a CompleteMultipartUpload request body `xml`, in
// order; empty when it lists none, is malformed or was cut short (no
// closing </CompleteMultipartUpload>: a prefix of the list would give the
// digest of a prefix of the object).
std::vector<std::uint32_t> listed_parts(std::string_view xml);

// Parts of open uploads, per upload id. Thread-safe. Bounded: at most
// k_max_uploads uploads (the least recently used is forgotten), at most
// k_max_spools spool files open, and at most k_max_hashed bytes hashed
// into uploads not completed yet (about 200 bytes of memory per 512 KiB).
class MultipartDigests {
public:
    static constexpr std::size_t k_max_uploads = 1000;
    static constexpr std::size_t k_max_spools = 64;
    static constexpr std::uint64_t k_max_hashed = 512ull << 30;

    // Spools into `spool_dir` (created when missing).
    explicit MultipartDigests(std::filesystem::path spool_dir);

    // The hash for part `part` of `upload_id` about to stream `length`
    // bytes (nullopt: unknown): offset guessed from the parts seen so far,
    // spooled when the guess cannot be confirmed yet. Null when the upload
    // is over its bounds (Complete then notes it).
    std::shared_ptr<PartHash> begin_part(const std::string& upload_id, std::uint32_t part,
                                         std::optional<std::uint64_t> length);
    // The part `part` of `upload_id`, hashed whole by `hash`, was stored by
    // S3; it replaces an earlier upload of the same part number.
    void add_part(const std::string& upload_id, std::uint32_t part, std::shared_ptr<PartHash> hash);
    // The digest of `upload_id` completed from `listed` (part numbers in
    // order; empty: the list could not be read, so no digest), forgetting
    // the upload.
    MultipartDigest complete(const std::string& upload_id, const std::vector<std::uint32_t>& listed);
    // Forgets `upload_id` (aborted).
    void forget(const std::string& upload_id);

    // Uploads tracked now (for tests).
    std::size_t uploads() const;

private:
    struct Upload {
        std::map<std::uint32_t, std::uint64_t> sizes;             // part -> declared size, from begin_part
        std::map<std::uint32_t, std::shared_ptr<PartHash>> parts; // stored parts
        std::chrono::steady_clock::time_point touched;
        std::uint64_t hashed = 0;
        std::string trouble; // why no digest can be given, once known
    };
    Upload& upload(const std::string& upload_id);
    void drop(std::map<std::string, Upload>::iterator it);
    int open_spool();

    std::filesystem::path m_spool_dir;
    mutable std::mutex m_mutex;
    std::map<std::string, Upload> m_uploads;
    std::uint64_t m_hashed = 0;
    std::shared_ptr<std::atomic<std::size_t>> m_open_spools = std::make_shared<std::atomic<std::size_t>>(0);
};

} // namespace roar::proxy
