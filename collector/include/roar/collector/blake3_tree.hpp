// BLAKE3's tree, used directly: digests of large buffers computed on
// several threads (subtrees hashed in parallel, then joined), and digests
// assembled from pieces hashed separately at known offsets (the parts of
// an S3 multipart upload), without holding the whole content.
//
// BLAKE3 splits its input into 1 KiB chunks; a chunk's chaining value
// depends on its bytes and its index, and two sibling subtrees join into a
// parent node. The tree's shape depends only on the total length, so any
// complete, aligned run of 2^k chunks is a node of the final tree whatever
// comes after it. PieceHasher keeps the chaining values of such runs (at
// most 512 chunks each, plus the two children of each, so the node can
// still become the root) and the raw bytes of chunks it saw only part of.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace roar::collector::blake3 {

inline constexpr std::size_t k_chunk_len = 1024;
using Cv = std::array<uint8_t, 32>;

// BLAKE3 of `len` bytes at `data` as lowercase hex, hashing subtrees on up
// to `threads` threads (1: on the caller's thread only). Equal to
// blake3_hasher_update over the same bytes.
std::string hash_parallel(const uint8_t* data, std::size_t len, unsigned threads);

// The chaining value of the subtree of `len` bytes (at least 1) at `data`
// whose first chunk is chunk number `first_chunk` of the content, or with
// `root` the digest of exactly those bytes (then `first_chunk` is 0).
// Halves of subtrees of 8 MiB and more go to a second thread while
// `threads` allows.
Cv subtree_cv(const uint8_t* data, uint64_t len, uint64_t first_chunk, bool root, unsigned threads = 1);

// The node joining two sibling subtrees; with `root`, the digest.
Cv parent_cv(const Cv& left, const Cv& right, bool root);

// Bytes in the left child of a node holding `len` bytes (more than one
// chunk): the largest power-of-two number of chunks that leaves at least
// one byte to the right.
uint64_t left_subtree_len(uint64_t len);

// The 32-byte digest as lowercase hex.
std::string to_hex(const Cv& digest);

// Content seen as pieces at known byte offsets, in any order, each piece
// fed front to back; the digest is available once the pieces cover
// [0, total) exactly. Memory: about 96 bytes per 512 KiB plus at most one
// chunk of raw bytes at each end of each piece.
class PieceHasher {
public:
    // Starts (or continues) the piece that begins at byte `offset`: the
    // next update()s for this piece are its bytes in order. A piece ends
    // with end_piece(); pieces must not overlap.
    void begin_piece(uint64_t offset);
    void update(const uint8_t* data, std::size_t len);
    void end_piece();

    // The digest of content `total` bytes long, if the pieces covered
    // every byte of [0, total) and nothing beyond; nullopt otherwise.
    std::optional<Cv> finalize(uint64_t total) const;

    // Bytes seen so far over every piece.
    uint64_t bytes_seen() const { return m_seen; }

    // Adds the finished pieces of `other` (no piece open in either, none
    // overlapping these), as if they had been fed here.
    void absorb(const PieceHasher& other);

private:
    struct Node {
        Cv cv;
        Cv left, right; // children, for level >= 1 (the node may be the root)
    };
    void flush_chunks(bool final_piece_end);
    void add_node(unsigned level, uint64_t index, const Node& node);
    std::optional<Cv> node_cv(uint64_t first_chunk, uint64_t content_len, bool root) const;

    // (level, index) -> node of the 2^level chunks starting at index << level.
    std::map<std::pair<unsigned, uint64_t>, Node> m_nodes;
    // Chunk index -> (offset in the chunk -> bytes), for chunks held only
    // in part (a piece starts or ends inside them) or kept whole because
    // they end a piece (the content's last chunk, or the root, needs them).
    std::map<uint64_t, std::map<uint32_t, std::vector<uint8_t>>> m_raw;
    uint64_t m_seen = 0;

    // The piece being fed.
    bool m_open = false;
    uint64_t m_pos = 0;             // absolute offset of the next byte
    std::vector<uint8_t> m_pending; // bytes from a chunk boundary (or the piece start) on
    uint64_t m_pending_at = 0;      // absolute offset of m_pending[0]
};

} // namespace roar::collector::blake3
