// MultipartDigests: offset guesses when a part starts, spools for the
// guesses that cannot be checked yet, and the check and assembly at
// CompleteMultipartUpload.
#include "multipart_digest.hpp"

#include "roar/proxy/log.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>

#include <fmt/format.h>
#include <stdlib.h>
#include <unistd.h>

namespace roar::proxy {

namespace blake3 = collector::blake3;

namespace {

constexpr std::size_t k_reread_block = 1024 * 1024;

} // namespace

PartHash::PartHash(std::uint64_t offset, int spool_fd, std::shared_ptr<std::atomic<std::size_t>> open_spools)
    : m_offset(offset), m_spool_fd(spool_fd), m_open_spools(std::move(open_spools)), m_spool_ok(spool_fd >= 0)
{
    m_pieces.begin_piece(offset);
    if (m_spool_fd >= 0 && m_open_spools) {
        m_open_spools->fetch_add(1);
    }
}

PartHash::~PartHash()
{
    if (m_spool_fd >= 0) {
        ::close(m_spool_fd);
        if (m_open_spools) {
            m_open_spools->fetch_sub(1);
        }
    }
}

void PartHash::update(const std::uint8_t* data, std::size_t len)
{
    m_pieces.update(data, len);
    while (m_spool_ok && len > 0) {
        const ssize_t n = ::write(m_spool_fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            m_spool_ok = false; // the guess can no longer be redone; Complete says so if it was wrong
            break;
        }
        m_spooled += static_cast<std::uint64_t>(n);
        data += n;
        len -= static_cast<std::size_t>(n);
    }
}

void PartHash::finish() { m_pieces.end_piece(); }

std::optional<blake3::PieceHasher> PartHash::rehash_at(std::uint64_t offset) const
{
    if (!m_spool_ok || m_spooled != bytes()) {
        return std::nullopt;
    }
    blake3::PieceHasher out;
    out.begin_piece(offset);
    std::vector<std::uint8_t> buf(k_reread_block);
    std::uint64_t at = 0;
    while (at < m_spooled) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), m_spooled - at));
        const ssize_t n = ::pread(m_spool_fd, buf.data(), want, static_cast<off_t>(at));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return std::nullopt;
        }
        out.update(buf.data(), static_cast<std::size_t>(n));
        at += static_cast<std::uint64_t>(n);
    }
    out.end_piece();
    return out;
}

std::vector<std::uint32_t> listed_parts(std::string_view xml)
{
    static constexpr std::string_view k_open = "<PartNumber>";
    static constexpr std::string_view k_close = "</PartNumber>";
    if (xml.find("</CompleteMultipartUpload>") == std::string_view::npos) {
        return {};
    }
    std::vector<std::uint32_t> out;
    std::size_t pos = 0;
    while ((pos = xml.find(k_open, pos)) != std::string_view::npos) {
        const std::size_t start = pos + k_open.size();
        const std::size_t end = xml.find(k_close, start);
        if (end == std::string_view::npos) {
            return {};
        }
        std::string_view text = xml.substr(start, end - start);
        while (!text.empty() && (text.front() == ' ' || text.front() == '\n' || text.front() == '\t')) {
            text.remove_prefix(1);
        }
        while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t')) {
            text.remove_suffix(1);
        }
        std::uint32_t n = 0;
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec != std::errc() || ptr != text.data() + text.size() || n == 0) {
            return {};
        }
        out.push_back(n);
        pos = end + k_close.size();
    }
    return out;
}

MultipartDigests::MultipartDigests(std::filesystem::path spool_dir) : m_spool_dir(std::move(spool_dir)) { }

MultipartDigests::Upload& MultipartDigests::upload(const std::string& upload_id)
{
    auto it = m_uploads.find(upload_id);
    if (it == m_uploads.end()) {
        if (m_uploads.size() >= k_max_uploads) {
            // Forget the upload left alone longest (most likely abandoned).
            drop(std::min_element(m_uploads.begin(), m_uploads.end(),
                                  [](const auto& a, const auto& b) { return a.second.touched < b.second.touched; }));
        }
        it = m_uploads.emplace(upload_id, Upload{}).first;
    }
    it->second.touched = std::chrono::steady_clock::now();
    return it->second;
}

void MultipartDigests::drop(std::map<std::string, Upload>::iterator it)
{
    m_hashed -= std::min(m_hashed, it->second.hashed);
    m_uploads.erase(it);
}

int MultipartDigests::open_spool()
{
    std::error_code ec;
    std::filesystem::create_directories(m_spool_dir, ec);
    std::string name = (m_spool_dir / "roar-part-XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    if (fd >= 0) {
        ::unlink(name.c_str()); // gone with the proxy, whatever happens to it
    }
    return fd;
}

std::shared_ptr<PartHash> MultipartDigests::begin_part(const std::string& upload_id, std::uint32_t part,
                                                       std::optional<std::uint64_t> length)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    Upload& up = upload(upload_id);
    if (!up.trouble.empty()) {
        return nullptr;
    }
    if (length && m_hashed + *length > k_max_hashed) {
        up.trouble = fmt::format("roar-proxy was already hashing {} GiB of uncompleted uploads", k_max_hashed >> 30);
        return nullptr;
    }
    // Every part but the last has the same size P: the largest size seen
    // is P (a smaller one is the last part's). A part seen alone could be
    // the short last one, so its guess waits for Complete, spooled.
    std::uint64_t largest_other = 0;
    bool others = false;
    for (const auto& [n, size] : up.sizes) {
        if (n != part) {
            others = true;
            largest_other = std::max(largest_other, size);
        }
    }
    std::uint64_t offset = 0;
    bool certain = true;
    if (part > 1) {
        if (!length) {
            offset = std::uint64_t(part - 1) * largest_other;
            certain = false;
        } else if (!others) {
            offset = std::uint64_t(part - 1) * *length;
            certain = false;
        } else {
            offset = std::uint64_t(part - 1) * std::max(largest_other, *length);
        }
    }
    if (length) {
        up.sizes[part] = *length;
        up.hashed += *length;
        m_hashed += *length;
    }
    int fd = -1;
    if (!certain && m_open_spools->load() < k_max_spools) {
        fd = open_spool();
        log_debug("upload {}: part {} hashed at guessed offset {}, spooled ({})", upload_id, part, offset,
                  fd >= 0 ? "ok" : "failed");
    }
    return std::make_shared<PartHash>(offset, fd, m_open_spools);
}

void MultipartDigests::add_part(const std::string& upload_id, std::uint32_t part, std::shared_ptr<PartHash> hash)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    const auto it = m_uploads.find(upload_id);
    if (it != m_uploads.end()) {
        it->second.parts[part] = std::move(hash);
        it->second.touched = std::chrono::steady_clock::now();
    }
}

MultipartDigest MultipartDigests::complete(const std::string& upload_id, const std::vector<std::uint32_t>& listed)
{
    MultipartDigest out;
    Upload up;
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        const auto it = m_uploads.find(upload_id);
        if (it == m_uploads.end()) {
            out.note = "no BLAKE3: roar-proxy hashed none of this upload's parts (not seen, or sent in a framing it "
                       "does not decode)";
            return out;
        }
        up = std::move(it->second);
        drop(it);
    }
    if (listed.empty()) {
        out.note = "no BLAKE3: roar-proxy could not read the part list of the CompleteMultipartUpload request";
        return out;
    }
    blake3::PieceHasher whole;
    std::uint64_t offset = 0;
    for (const std::uint32_t n : listed) {
        const auto it = up.parts.find(n);
        if (it == up.parts.end()) {
            out.note = up.trouble.empty()
                           ? fmt::format("no BLAKE3: roar-proxy did not hash part {} whole (not seen, or sent "
                                         "in a framing it does not decode)",
                                         n)
                           : "no BLAKE3: " + up.trouble;
            return out; // the size is unknown too
        }
        const PartHash& part = *it->second;
        if (out.note.empty()) {
            if (part.offset() == offset) {
                whole.absorb(part.pieces());
            } else if (const auto again = part.rehash_at(offset)) {
                whole.absorb(*again);
            } else {
                out.note = fmt::format("no BLAKE3: part {} was hashed at offset {} but is at {}, and its bytes "
                                       "were not kept to hash again",
                                       n, part.offset(), offset);
            }
        }
        offset += part.bytes();
    }
    out.bytes = static_cast<std::int64_t>(offset);
    if (out.note.empty()) {
        if (const auto cv = whole.finalize(offset)) {
            out.blake3 = blake3::to_hex(*cv);
        } else {
            out.note = "no BLAKE3: the parts did not cover the object";
        }
    }
    return out;
}

void MultipartDigests::forget(const std::string& upload_id)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    if (const auto it = m_uploads.find(upload_id); it != m_uploads.end()) {
        drop(it);
    }
}

std::size_t MultipartDigests::uploads() const
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    return m_uploads.size();
}

} // namespace roar::proxy
