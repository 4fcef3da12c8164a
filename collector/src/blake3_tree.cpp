// BLAKE3's tree over the reference implementation's compression kernels
// (blake3_hash_many and blake3_compress_in_place, which dispatch to the
// SSE/AVX code at run time): chunk and parent chaining values, parallel
// subtrees for large buffers, and digests assembled from pieces. The tree
// rules follow the BLAKE3 specification: 1 KiB chunks of 64-byte blocks,
// the left subtree of any node holds the largest power of two of chunks
// that leaves at least one byte for the right, and only the root's last
// compression carries the ROOT flag.
#include "roar/collector/blake3_tree.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <thread>

extern "C" {
void blake3_compress_in_place(uint32_t cv[8], const uint8_t block[64], uint8_t block_len, uint64_t counter,
                              uint8_t flags);
void blake3_hash_many(const uint8_t* const* inputs, size_t num_inputs, size_t blocks, const uint32_t key[8],
                      uint64_t counter, bool increment_counter, uint8_t flags, uint8_t flags_start, uint8_t flags_end,
                      uint8_t* out);
}

namespace roar::collector::blake3 {

namespace {

constexpr size_t k_block_len = 64;
constexpr uint8_t k_chunk_start = 1;
constexpr uint8_t k_chunk_end = 2;
constexpr uint8_t k_parent = 4;
constexpr uint8_t k_root = 8;
// The initial chaining value of unkeyed hashing (the specification's IV).
constexpr uint32_t k_iv[8] = {0x6A09E667u, 0xBB67AE85u, 0x3C6EF372u, 0xA54FF53Au,
                              0x510E527Fu, 0x9B05688Cu, 0x1F83D9ABu, 0x5BE0CD19u};
// Chunks hashed per blake3_hash_many call when reducing a subtree: enough
// for every SIMD lane, small enough that the chaining values stay in L1.
constexpr size_t k_batch_chunks = 64;
// Largest subtree level PieceHasher keeps (2^9 chunks = 512 KiB).
constexpr unsigned k_max_level = 9;

Cv words_to_cv(const uint32_t words[8])
{
    Cv out;
    for (int i = 0; i < 8; ++i) {
        out[4 * i] = uint8_t(words[i]);
        out[4 * i + 1] = uint8_t(words[i] >> 8);
        out[4 * i + 2] = uint8_t(words[i] >> 16);
        out[4 * i + 3] = uint8_t(words[i] >> 24);
    }
    return out;
}

// The chaining value (or, with `root`, the digest) of one chunk of up to
// 1 KiB whose index in the content is `counter`.
Cv chunk_cv(const uint8_t* data, size_t len, uint64_t counter, bool root)
{
    uint32_t cv[8];
    std::memcpy(cv, k_iv, sizeof cv);
    const size_t blocks = len == 0 ? 1 : (len + k_block_len - 1) / k_block_len;
    for (size_t b = 0; b < blocks; ++b) {
        uint8_t block[k_block_len] = {};
        const size_t take = len == 0 ? 0 : std::min(k_block_len, len - b * k_block_len);
        if (len != 0) {
            std::memcpy(block, data + b * k_block_len, take);
        }
        const bool last = b + 1 == blocks;
        uint8_t flags = (b == 0 ? k_chunk_start : 0) | (last ? k_chunk_end : 0) | (last && root ? k_root : 0);
        blake3_compress_in_place(cv, block, uint8_t(len == 0 ? 0 : take), counter, flags);
    }
    return words_to_cv(cv);
}

} // namespace

Cv parent_cv(const Cv& left, const Cv& right, bool root)
{
    uint8_t block[k_block_len];
    std::memcpy(block, left.data(), 32);
    std::memcpy(block + 32, right.data(), 32);
    uint32_t cv[8];
    std::memcpy(cv, k_iv, sizeof cv);
    blake3_compress_in_place(cv, block, k_block_len, 0, uint8_t(k_parent | (root ? k_root : 0)));
    return words_to_cv(cv);
}

uint64_t left_subtree_len(uint64_t len)
{
    const uint64_t full_chunks = (len - 1) / k_chunk_len;
    return std::bit_floor(full_chunks) * k_chunk_len;
}

namespace {

// Reduces `n` (a power of two) adjacent chaining values in `cvs` to the
// two children of their subtree, in place, with SIMD parent compressions.
void reduce_to_children(uint8_t* cvs, size_t n)
{
    const uint8_t* inputs[k_batch_chunks];
    while (n > 2) {
        const size_t parents = n / 2;
        for (size_t done = 0; done < parents; done += k_batch_chunks) {
            const size_t m = std::min(k_batch_chunks, parents - done);
            for (size_t i = 0; i < m; ++i) {
                inputs[i] = cvs + (done + i) * 64;
            }
            // Output i overwrites input pair i's first half, which is
            // never read again (pairs are read in order, outputs written
            // to lower addresses): safe in place.
            uint8_t out[k_batch_chunks * 32];
            blake3_hash_many(inputs, m, 1, k_iv, 0, false, k_parent, 0, 0, out);
            std::memcpy(cvs + done * 32, out, m * 32);
        }
        n = parents;
    }
}

// The two children of the complete subtree of `chunks` (a power of two,
// at least 2) full chunks at `data`, the first with index `counter`.
std::pair<Cv, Cv> complete_subtree_children(const uint8_t* data, uint64_t chunks, uint64_t counter)
{
    // Level by level would need chunks * 32 bytes; hash in batches instead
    // and fold each batch's root into a stack of subtrees.
    std::vector<uint8_t> cvs;
    if (chunks <= k_batch_chunks) {
        cvs.resize(chunks * 32);
        const uint8_t* inputs[k_batch_chunks];
        for (uint64_t i = 0; i < chunks; ++i) {
            inputs[i] = data + i * k_chunk_len;
        }
        blake3_hash_many(inputs, chunks, k_chunk_len / k_block_len, k_iv, counter, true, 0, k_chunk_start, k_chunk_end,
                         cvs.data());
        reduce_to_children(cvs.data(), chunks);
        Cv left, right;
        std::memcpy(left.data(), cvs.data(), 32);
        std::memcpy(right.data(), cvs.data() + 32, 32);
        return {left, right};
    }
    const uint64_t half = chunks / 2;
    auto l = complete_subtree_children(data, half, counter);
    auto r = complete_subtree_children(data + half * k_chunk_len, half, counter + half);
    return {parent_cv(l.first, l.second, false), parent_cv(r.first, r.second, false)};
}

} // namespace

Cv subtree_cv(const uint8_t* data, uint64_t len, uint64_t counter, bool root, unsigned threads)
{
    if (len <= k_chunk_len) {
        return chunk_cv(data, len, counter, root);
    }
    const uint64_t chunks = (len + k_chunk_len - 1) / k_chunk_len;
    if (len % k_chunk_len == 0 && std::has_single_bit(chunks) && (threads <= 1 || chunks <= 8192)) {
        auto [l, r] = complete_subtree_children(data, chunks, counter);
        return parent_cv(l, r, root);
    }
    const uint64_t left = left_subtree_len(len);
    Cv l, r;
    if (threads > 1 && len >= (uint64_t(8) << 20)) {
        const unsigned right_threads = threads / 2;
        std::thread helper(
            [&] { r = subtree_cv(data + left, len - left, counter + left / k_chunk_len, false, right_threads); });
        l = subtree_cv(data, left, counter, false, threads - right_threads);
        helper.join();
    } else {
        l = subtree_cv(data, left, counter, false, threads);
        r = subtree_cv(data + left, len - left, counter + left / k_chunk_len, false, threads);
    }
    return parent_cv(l, r, root);
}

std::string to_hex(const Cv& digest)
{
    static const char digits[] = "0123456789abcdef";
    std::string hex(64, '0');
    for (size_t i = 0; i < 32; ++i) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0xf];
    }
    return hex;
}

std::string hash_parallel(const uint8_t* data, size_t len, unsigned threads)
{
    return to_hex(subtree_cv(data, len, 0, true, std::max(1u, threads)));
}

void PieceHasher::begin_piece(uint64_t offset)
{
    m_open = true;
    m_pos = offset;
    m_pending.clear();
    m_pending_at = offset;
}

void PieceHasher::update(const uint8_t* data, size_t len)
{
    if (!m_open || len == 0) {
        return;
    }
    m_pending.insert(m_pending.end(), data, data + len);
    m_pos += len;
    m_seen += len;
    flush_chunks(false);
}

void PieceHasher::end_piece()
{
    if (!m_open) {
        return;
    }
    flush_chunks(true);
    m_open = false;
}

void PieceHasher::flush_chunks(bool piece_end)
{
    size_t used = 0;
    auto keep_raw = [this](uint64_t at, const uint8_t* p, size_t n) {
        const uint64_t chunk = at / k_chunk_len;
        m_raw[chunk][uint32_t(at % k_chunk_len)].assign(p, p + n);
    };
    // A piece starting inside a chunk: those bytes are kept raw, to be
    // joined with the previous piece's end.
    if (m_pending_at % k_chunk_len != 0) {
        const size_t head = size_t(k_chunk_len - m_pending_at % k_chunk_len);
        if (m_pending.size() < head + (piece_end ? 0 : 1)) {
            if (!piece_end) {
                return;
            }
            keep_raw(m_pending_at, m_pending.data(), m_pending.size());
            m_pending.clear();
            return;
        }
        keep_raw(m_pending_at, m_pending.data(), head);
        used = head;
    }
    for (;;) {
        const size_t left = m_pending.size() - used;
        // The piece's last chunk (full or not) is kept raw: it may end the
        // content or be the root.
        const uint64_t full = left == 0 ? 0 : (left - 1) / k_chunk_len;
        const uint64_t at = m_pending_at + used;
        const uint64_t chunk = at / k_chunk_len;
        const uint64_t span = uint64_t(1) << k_max_level;
        if (chunk % span == 0 && full >= span) {
            auto [l, r] = complete_subtree_children(m_pending.data() + used, span, chunk);
            add_node(k_max_level, chunk >> k_max_level, Node{parent_cv(l, r, false), l, r});
            used += span * k_chunk_len;
            continue;
        }
        uint64_t n = std::min<uint64_t>(full, chunk % span == 0 ? full : span - chunk % span);
        if (chunk % span == 0 && !piece_end) {
            n = 0; // wait for the rest of this 512 KiB run
        }
        if (n == 0) {
            break;
        }
        std::vector<uint8_t> cvs(n * 32);
        std::vector<const uint8_t*> inputs(n);
        for (uint64_t i = 0; i < n; ++i) {
            inputs[i] = m_pending.data() + used + i * k_chunk_len;
        }
        blake3_hash_many(inputs.data(), n, k_chunk_len / k_block_len, k_iv, chunk, true, 0, k_chunk_start, k_chunk_end,
                         cvs.data());
        for (uint64_t i = 0; i < n; ++i) {
            Node node{};
            std::memcpy(node.cv.data(), cvs.data() + i * 32, 32);
            add_node(0, chunk + i, node);
        }
        used += n * k_chunk_len;
    }
    if (piece_end && used < m_pending.size()) {
        keep_raw(m_pending_at + used, m_pending.data() + used, m_pending.size() - used);
        used = m_pending.size();
    }
    m_pending.erase(m_pending.begin(), m_pending.begin() + std::ptrdiff_t(used));
    m_pending_at += used;
}

void PieceHasher::add_node(unsigned level, uint64_t index, const Node& node)
{
    m_nodes[{level, index}] = node;
    // Join with a finished sibling into their parent, up to k_max_level.
    while (level < k_max_level) {
        const uint64_t sibling = index ^ 1;
        auto it = m_nodes.find({level, sibling});
        if (it == m_nodes.end()) {
            return;
        }
        const Node& left = (index & 1) ? it->second : m_nodes[{level, index}];
        const Node& right = (index & 1) ? m_nodes[{level, index}] : it->second;
        Node parent{parent_cv(left.cv, right.cv, false), left.cv, right.cv};
        m_nodes.erase({level, index});
        m_nodes.erase({level, sibling});
        ++level;
        index >>= 1;
        m_nodes[{level, index}] = parent;
    }
}

std::optional<Cv> PieceHasher::node_cv(uint64_t first_chunk, uint64_t content_len, bool root) const
{
    if (content_len <= k_chunk_len) {
        if (!root) {
            if (auto it = m_nodes.find({0u, first_chunk}); it != m_nodes.end()) {
                return it->second.cv;
            }
        }
        // The chunk's bytes from the raw segments the pieces left: they
        // must cover it from its first byte to its last, without gaps.
        std::vector<uint8_t> bytes;
        bytes.reserve(content_len);
        if (auto it = m_raw.find(first_chunk); it != m_raw.end()) {
            for (const auto& [start, segment] : it->second) {
                if (start != bytes.size()) {
                    return std::nullopt;
                }
                bytes.insert(bytes.end(), segment.begin(), segment.end());
            }
        }
        if (bytes.size() != content_len) {
            return std::nullopt;
        }
        return chunk_cv(bytes.data(), bytes.size(), first_chunk, root);
    }
    const uint64_t chunks = (content_len + k_chunk_len - 1) / k_chunk_len;
    if (content_len % k_chunk_len == 0 && std::has_single_bit(chunks) && first_chunk % chunks == 0) {
        const unsigned level = unsigned(std::countr_zero(chunks));
        if (level <= k_max_level) {
            if (auto it = m_nodes.find({level, first_chunk >> level}); it != m_nodes.end()) {
                return root ? parent_cv(it->second.left, it->second.right, true) : it->second.cv;
            }
        }
    }
    const uint64_t left = left_subtree_len(content_len);
    auto l = node_cv(first_chunk, left, false);
    if (!l) {
        return std::nullopt;
    }
    auto r = node_cv(first_chunk + left / k_chunk_len, content_len - left, false);
    if (!r) {
        return std::nullopt;
    }
    return parent_cv(*l, *r, root);
}

void PieceHasher::absorb(const PieceHasher& other)
{
    // Adding the nodes one by one joins siblings across the two the way
    // feeding the pieces here would have.
    for (const auto& [key, node] : other.m_nodes) {
        add_node(key.first, key.second, node);
    }
    for (const auto& [chunk, segments] : other.m_raw) {
        for (const auto& [start, bytes] : segments) {
            m_raw[chunk][start] = bytes;
        }
    }
    m_seen += other.m_seen;
}

std::optional<Cv> PieceHasher::finalize(uint64_t total) const
{
    if (m_open || m_seen != total) {
        return std::nullopt;
    }
    return node_cv(0, total, true);
}

} // namespace roar::collector::blake3
