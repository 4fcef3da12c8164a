// The bounded pipe between a backend GET and a backend PUT, and the
// verified copy built on it (see object_copy.hpp).
#include "roar/proxy/gateway/object_copy.hpp"

#include "roar/proxy/etag.hpp"

#include <blake3.h>
#include <openssl/evp.h>

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace roar::proxy::gateway {

namespace {

std::string hex(const unsigned char* p, std::size_t n)
{
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out += fmt::format("{:02x}", p[i]);
    }
    return out;
}

// A byte ring between one writer thread and one reader thread. Either side
// can cancel; the writer finishes with finish().
class BoundedPipe {
public:
    explicit BoundedPipe(std::size_t capacity) : m_buf(std::max<std::size_t>(capacity, 4096)) { }

    // Copies all of `data` in, waiting for room; false once cancelled.
    bool write(const char* data, std::size_t n)
    {
        std::unique_lock lock(m_mutex);
        while (n > 0) {
            m_cv.wait(lock, [&] { return m_cancelled || m_size < m_buf.size(); });
            if (m_cancelled) {
                return false;
            }
            const std::size_t tail = (m_head + m_size) % m_buf.size();
            const std::size_t chunk = std::min({n, m_buf.size() - m_size, m_buf.size() - tail});
            std::memcpy(m_buf.data() + tail, data, chunk);
            m_size += chunk;
            data += chunk;
            n -= chunk;
            m_cv.notify_all();
        }
        return true;
    }

    void finish()
    {
        std::lock_guard lock(m_mutex);
        m_finished = true;
        m_cv.notify_all();
    }

    void cancel()
    {
        std::lock_guard lock(m_mutex);
        m_cancelled = true;
        m_cv.notify_all();
    }

    // Up to `n` bytes into `out`: the count, 0 at the end, nullopt once cancelled.
    std::optional<std::size_t> read(char* out, std::size_t n)
    {
        std::unique_lock lock(m_mutex);
        m_cv.wait(lock, [&] { return m_cancelled || m_size > 0 || m_finished; });
        if (m_cancelled) {
            return std::nullopt;
        }
        if (m_size == 0) {
            return 0;
        }
        const std::size_t chunk = std::min({n, m_size, m_buf.size() - m_head});
        std::memcpy(out, m_buf.data() + m_head, chunk);
        m_head = (m_head + chunk) % m_buf.size();
        m_size -= chunk;
        m_cv.notify_all();
        return chunk;
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::vector<char> m_buf;
    std::size_t m_head = 0;
    std::size_t m_size = 0;
    bool m_finished = false;
    bool m_cancelled = false;
};

struct Md5 {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
    Md5() { EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr); }
    void update(const char* p, std::size_t n) { EVP_DigestUpdate(ctx.get(), p, n); }
    std::string hex_digest()
    {
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        EVP_DigestFinal_ex(ctx.get(), out, &len);
        return hex(out, len);
    }
};

// Copies bytes [first, first + size) of the source into one target request
// made by `send` (a PUT or an UploadPart reading from the given source),
// feeding `blake3` on the way; returns the target's ETag after checking it.
BackendResult<std::string> copy_range(const CopyRequest& req, std::uint64_t first, std::uint64_t size,
                                      blake3_hasher& b3,
                                      const std::function<BackendResult<std::string>(const BodySource&)>& send)
{
    BoundedPipe pipe(req.pipe_bytes);
    BackendResult<GetResponse> got = tl::unexpected(BackendError{0, "Aborted", "not started"});
    std::thread producer([&] {
        GetOptions options;
        if (req.size > 0 && (first > 0 || size < req.size)) {
            options.range = ByteRange{first, first + size - 1};
        }
        got = req.source->get_object(req.from.bucket, req.from.key, options, nullptr,
                                     [&](const char* p, std::size_t n) { return pipe.write(p, n); });
        if (got) {
            pipe.finish();
        } else {
            pipe.cancel();
        }
    });
    Md5 md5;
    std::uint64_t sent = 0;
    bool short_source = false;
    BodySource source = [&](char* buf, std::size_t n) -> std::optional<std::size_t> {
        auto r = pipe.read(buf, static_cast<std::size_t>(std::min<std::uint64_t>(n, size - sent)));
        if (!r) {
            return std::nullopt;
        }
        if (*r == 0 && sent < size) {
            short_source = true;
            return std::nullopt;
        }
        md5.update(buf, *r);
        blake3_hasher_update(&b3, buf, *r);
        sent += *r;
        return r;
    };
    auto put = send(source);
    pipe.cancel(); // releases the producer if the target stopped early
    producer.join();
    // The side that failed first explains it: a GET we cancelled because the
    // PUT stopped reports "Aborted", which says nothing.
    if (!got && got.error().code != "Aborted") {
        return tl::unexpected(got.error());
    }
    if (short_source) {
        return tl::unexpected(
            BackendError{0, "BadResponse", fmt::format("{} sent {} of {} bytes", req.from.backend, sent, size)});
    }
    if (!put) {
        return tl::unexpected(put.error());
    }
    if (!got) {
        return tl::unexpected(got.error());
    }
    if (got->content_length != size) {
        return tl::unexpected(BackendError{
            0, "BadResponse",
            fmt::format("{} answered {} bytes for a range of {}", req.from.backend, got->content_length, size)});
    }
    if (is_plain_md5_etag(*put) && unquote_etag(*put) != md5.hex_digest()) {
        return tl::unexpected(BackendError{
            0, "BadDigest", fmt::format("{} stored bytes whose MD5 is not that of the bytes sent", req.to.backend)});
    }
    return put;
}

} // namespace

BackendResult<std::string> stream_copy_part(const CopyRequest& req, std::uint64_t first, std::uint64_t size,
                                            const std::string& upload_id, int number)
{
    blake3_hasher b3;
    blake3_hasher_init(&b3);
    return copy_range(req, first, size, b3, [&](const BodySource& source) {
        return req.target->upload_part(req.to.bucket, req.to.key, upload_id, number, size, source);
    });
}

BackendResult<CopyResult> stream_copy(const CopyRequest& req)
{
    blake3_hasher b3;
    blake3_hasher_init(&b3);
    CopyResult result;
    if (req.size <= req.multipart_threshold || req.part_size == 0) {
        auto etag = copy_range(req, 0, req.size, b3, [&](const BodySource& source) {
            return req.target->put_object(req.to.bucket, req.to.key, req.size, source, req.put);
        });
        if (!etag) {
            return tl::unexpected(etag.error());
        }
        result.etag = std::move(*etag);
    } else {
        auto upload = req.target->create_multipart(req.to.bucket, req.to.key, req.put);
        if (!upload) {
            return tl::unexpected(upload.error());
        }
        std::vector<UploadedPart> parts;
        for (std::uint64_t first = 0; first < req.size; first += req.part_size) {
            const std::uint64_t n = std::min(req.part_size, req.size - first);
            const int number = static_cast<int>(parts.size() + 1);
            auto etag = copy_range(req, first, n, b3, [&](const BodySource& source) {
                return req.target->upload_part(req.to.bucket, req.to.key, *upload, number, n, source);
            });
            if (!etag) {
                (void)req.target->abort_multipart(req.to.bucket, req.to.key, *upload);
                return tl::unexpected(etag.error());
            }
            parts.push_back({number, std::move(*etag)});
        }
        auto etag = req.target->complete_multipart(req.to.bucket, req.to.key, *upload, parts);
        if (!etag) {
            (void)req.target->abort_multipart(req.to.bucket, req.to.key, *upload);
            return tl::unexpected(etag.error());
        }
        result.etag = std::move(*etag);
    }
    std::uint8_t digest[BLAKE3_OUT_LEN];
    blake3_hasher_finalize(&b3, digest, BLAKE3_OUT_LEN);
    result.blake3 = hex(digest, BLAKE3_OUT_LEN);
    return result;
}

} // namespace roar::proxy::gateway
