// The relay's libcurl transfer on the event loop. Everything here runs on
// the connection's loop thread: curl's callbacks (inside
// curl_multi_socket_action), the Asio handlers that resume a paused
// direction, and the hashing pool's completions posted back. The rules
// that keep it simple:
//  * a callback either takes all the bytes curl offers or pauses, and
//    never calls back into curl; resuming (curl_easy_pause) happens only
//    from Asio handlers;
//  * the exchange holds a reference to itself while curl or a wait may
//    still call it, and drops it when done() has been called;
//  * an error of any kind on the request body sets the upstream connection
//    to close with a reset before curl is told to stop.
#include "relay.hpp"

#include "roar/proxy/log.hpp"
#include "roar/proxy/request.hpp"
#include "roar/proxy/s3_event.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace roar::proxy {

namespace {

constexpr std::size_t k_block = 1024 * 1024;
constexpr std::size_t k_max_blocks = 4;               // per hashed body: 4 MiB
constexpr std::size_t k_inline_hash = 64 * 1024;      // bodies declared this small are hashed on the loop
constexpr std::size_t k_curl_buffer = 512 * 1024;     // curl's receive and upload buffers
constexpr std::size_t k_max_queued = 4 * 1024 * 1024; // response bytes queued for the client before curl pauses
constexpr std::size_t k_raw_read = 256 * 1024;        // client reads of bodies that are decoded
constexpr std::size_t k_max_capture = 1024 * 1024;
constexpr std::size_t k_max_request_capture = 2 * 1024 * 1024; // a Complete body listing 10,000 parts

std::string reason_for(unsigned status)
{
    const auto r = boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status));
    return r.empty() ? std::string("Unknown") : std::string(r);
}

} // namespace

// The BLAKE3 of one body: inline on the loop for small bodies, else in
// blocks hashed by the pool. Loop thread only.
class StreamHash {
public:
    // With `sink`, the bytes go to it (on the pool) instead of a plain BLAKE3.
    StreamHash(HashPool& pool, boost::asio::io_context& io, std::optional<std::uint64_t> expected,
               std::function<void()> released, std::shared_ptr<BodySink> sink = nullptr)
        : m_pool(pool),
          m_io(io),
          m_inline(!sink && expected && *expected <= k_inline_hash),
          m_released(std::move(released))
    {
        if (m_inline) {
            blake3_hasher_init(&m_hasher);
        } else {
            m_digest = pool.start(std::move(sink));
        }
    }

    bool is_inline() const { return m_inline; }

    // Bytes append() can take now without a block being released first.
    std::size_t capacity() const
    {
        if (m_inline) {
            return SIZE_MAX;
        }
        std::size_t free = k_max_blocks > m_blocks.size() ? k_max_blocks - m_blocks.size() : 0;
        for (const auto& b : m_blocks) {
            if (b.use_count() == 1 && b != m_current) {
                ++free;
            }
        }
        return free * k_block + (m_current ? m_current->room() : 0);
    }

    // Appends `n` bytes at `data`; in block mode `piece(block, offset, len)`
    // is called for every stretch copied into a block (to send it from there).
    template <typename Piece> void append(const char* data, std::size_t n, Piece&& piece)
    {
        if (m_inline) {
            blake3_hasher_update(&m_hasher, data, n);
            return;
        }
        while (n > 0) {
            if (!m_current || m_current->room() == 0) {
                m_current = take_block();
            }
            const std::size_t take = std::min(n, m_current->room());
            const std::size_t offset = m_current->len;
            std::memcpy(m_current->tail(), data, take);
            m_current->len += take;
            piece(m_current, offset, take);
            data += take;
            n -= take;
            if (m_current->room() == 0) {
                submit();
            }
        }
    }

    // Hashes what is left; `done(hex)` runs on the loop (at once when inline).
    void finish(std::function<void(std::string)> done)
    {
        if (m_inline) {
            done(blake3_hex(m_hasher));
            return;
        }
        if (m_current && m_current->len > 0) {
            submit();
        }
        m_pool.finish(m_digest, m_io, std::move(done));
    }

private:
    BlockPtr take_block()
    {
        for (auto& b : m_blocks) {
            if (b.use_count() == 1) {
                b->len = 0;
                return b;
            }
        }
        // Past k_max_blocks only when curl hands over more than they hold at once.
        m_blocks.push_back(std::make_shared<Block>(k_block));
        return m_blocks.back();
    }

    void submit()
    {
        m_pool.submit(m_digest, m_current, m_current->len, m_io, m_released);
        m_current.reset();
    }

    HashPool& m_pool;
    boost::asio::io_context& m_io;
    bool m_inline;
    blake3_hasher m_hasher{};
    std::shared_ptr<HashPool::Digest> m_digest;
    std::vector<BlockPtr> m_blocks;
    BlockPtr m_current;
    std::function<void()> m_released;
};

Exchange::Exchange(ProxyContext& ctx, boost::asio::io_context& io, CurlMulti& multi, std::shared_ptr<ClientIo> client,
                   ForwardPlan plan, RelayRequest request, Done done)
    : m_ctx(ctx),
      m_io(io),
      m_multi(multi),
      m_client(std::move(client)),
      m_plan(std::move(plan)),
      m_request(request),
      m_done(std::move(done))
{
    if (m_plan.body == BodyKind::AwsChunked) {
        ctx.metrics.aws_chunked_requests.fetch_add(1, std::memory_order_relaxed);
        m_aws.emplace(m_plan.chunk_signing, m_plan.signed_trailer, m_plan.trailer);
        if (m_plan.forward_checksum) {
            m_encoder.emplace();
        }
    }
    if (m_request.framing == BodyFraming::Chunked) {
        m_chunked.emplace();
    }
    m_raw_left = m_request.framing == BodyFraming::Length ? m_request.content_length : 0;
    m_raw_done = m_request.framing == BodyFraming::None;
}

Exchange::~Exchange() { release_easy(true); }

void Exchange::release_easy(bool reset)
{
    if (m_easy != nullptr) {
        m_multi.remove(m_easy, reset);
        m_multi.give_easy(m_easy);
        m_easy = nullptr;
    }
    if (m_headers != nullptr) {
        curl_slist_free_all(m_headers);
        m_headers = nullptr;
    }
    if (m_connect_to != nullptr) {
        curl_slist_free_all(m_connect_to);
        m_connect_to = nullptr;
    }
}

bool Exchange::request_body_complete() const { return m_raw_done; }

bool Exchange::waiting_on_client() const { return m_read_waiting || m_client->queued() > 0; }

void Exchange::start()
{
    m_self = shared_from_this();
    std::weak_ptr<Exchange> weak = m_self;
    auto released = [weak] {
        if (auto self = weak.lock()) {
            self->resume();
        }
    };
    // The length of the body as hashed: the decoded one when aws-chunked passes through.
    const auto expected = m_plan.hash_decodes_aws_chunked              ? m_plan.decoded_length
                          : m_plan.upstream_length == k_unknown_length ? std::nullopt
                                                                       : std::optional(m_plan.upstream_length);
    if (m_plan.op == S3Op::PutObject && m_plan.hash_body) {
        m_request_hash = std::make_unique<StreamHash>(*m_ctx.hashes, m_io, expected, released);
    } else if (m_plan.op == S3Op::UploadPart && m_plan.hash_body && m_ctx.multipart) {
        // Hashed into the upload's pieces at a guessed offset (multipart_digest.hpp).
        const std::string& text = m_plan.part_number;
        std::uint32_t n = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        if (ec == std::errc() && end == text.data() + text.size() && n > 0 && !m_plan.upload_id.empty()) {
            m_part_number = n;
            m_part = m_ctx.multipart->begin_part(m_plan.upload_id, n, expected);
        }
        if (m_part) {
            m_request_hash = std::make_unique<StreamHash>(*m_ctx.hashes, m_io, expected, released, m_part);
        }
    }
    if (m_request_hash && m_plan.hash_decodes_aws_chunked) {
        // No signing key here: chunk signatures are left to the upstream.
        m_hash_decoder.emplace(std::nullopt, false, m_plan.hash_trailer);
    }

    // Answer Expect: 100-continue now that the request is authenticated.
    const bool buffered_whole =
        m_request.framing == BodyFraming::Length && m_client->in().size() >= m_request.content_length;
    if (m_plan.expect_continue && m_request.framing != BodyFraming::None && !buffered_whole) {
        m_client->write("HTTP/1.1 100 Continue\r\n\r\n");
    }

    m_easy = m_multi.take_easy();
    if (m_easy == nullptr) {
        send_error({503, "ServiceUnavailable", "roar-proxy could not start an upstream transfer."});
        fail(503);
        return;
    }
    CURL* h = m_easy;
    m_multi.prepare(h);
    for (const auto& [name, value] : m_plan.headers) {
        // curl sends "Name;" as an empty header, "Name:" would remove it.
        m_headers = curl_slist_append(m_headers, (value.empty() ? name + ";" : name + ": " + value).c_str());
    }
    m_headers = curl_slist_append(m_headers, "Expect:");
    m_headers = curl_slist_append(m_headers, "Accept:");
    curl_easy_setopt(h, CURLOPT_URL, m_plan.url.c_str());
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, m_headers);
    curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(m_ctx.opts.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(m_ctx.opts.stall_timeout.count()));
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, static_cast<long>(k_curl_buffer));
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, static_cast<long>(k_curl_buffer));
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!m_ctx.ca_bundle.empty()) {
        curl_easy_setopt(h, CURLOPT_CAINFO, m_ctx.ca_bundle.c_str());
    }
    if (!m_plan.connect_to.empty()) {
        m_connect_to = curl_slist_append(nullptr, m_plan.connect_to.c_str());
        curl_easy_setopt(h, CURLOPT_CONNECT_TO, m_connect_to);
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Exchange::curl_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Exchange::curl_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
    if (m_plan.method == "GET" && m_plan.body == BodyKind::None) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (m_plan.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m_plan.method.c_str());
        curl_easy_setopt(h, CURLOPT_READFUNCTION, &Exchange::curl_read);
        curl_easy_setopt(h, CURLOPT_READDATA, this);
        const curl_off_t size = m_plan.body == BodyKind::None ? 0
                                : m_plan.upstream_length == k_unknown_length
                                    ? -1
                                    : static_cast<curl_off_t>(m_plan.upstream_length);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, size);
    }
    m_ctx.metrics.upstream_requests.fetch_add(1, std::memory_order_relaxed);
    if (!m_multi.add(h, this)) {
        release_easy(false);
        send_error({503, "ServiceUnavailable", "roar-proxy could not start an upstream transfer."});
        fail(503);
    }
}

// ---- curl callbacks: never throw into curl --------------------------------

std::size_t Exchange::curl_read(char* dst, std::size_t size, std::size_t n, void* self)
{
    auto* x = static_cast<Exchange*>(self);
    try {
        return x->produce(dst, size * n);
    } catch (const std::exception& e) {
        x->body_error({500, "InternalError", std::string("roar-proxy failed reading the request body: ") + e.what()});
        return CURL_READFUNC_ABORT;
    }
}

std::size_t Exchange::curl_header(char* data, std::size_t size, std::size_t n, void* self)
{
    auto* x = static_cast<Exchange*>(self);
    try {
        return x->header_line(std::string_view(data, size * n)) ? size * n : 0;
    } catch (const std::exception& e) {
        x->m_upstream_bad = std::string("roar-proxy failed reading the upstream's response: ") + e.what();
        return 0;
    }
}

std::size_t Exchange::curl_write(char* data, std::size_t size, std::size_t n, void* self)
{
    auto* x = static_cast<Exchange*>(self);
    try {
        return x->consume(data, size * n);
    } catch (const std::exception& e) {
        x->m_upstream_bad = std::string("roar-proxy failed relaying the response: ") + e.what();
        return 0;
    }
}

// ---- request body ---------------------------------------------------------

void Exchange::body_error(S3Error err)
{
    if (!m_body_error) {
        m_body_error = std::move(err);
    }
    // Whatever curl does next, its connection ends in a reset, not a FIN
    // after a shorter body the upstream might accept.
    if (m_easy != nullptr) {
        m_multi.reset_connection(m_easy);
    }
}

void Exchange::account_sent(const char* data, std::size_t n)
{
    m_sent += n;
    m_ctx.metrics.upstream_bytes_sent.fetch_add(n, std::memory_order_relaxed);
    if (m_request_hash && !m_hash_broken) {
        if (m_hash_decoder) {
            m_hash_scratch.clear();
            if (auto r = m_hash_decoder->feed(std::string_view(data, n), m_hash_scratch); !r) {
                // The upstream refuses it too; the record gets no BLAKE3.
                m_hash_broken = true;
                log_debug("{} {}: aws-chunked body not hashed: {}", m_plan.method, m_plan.target.uri(),
                          r.error().message);
            } else if (!m_hash_scratch.empty()) {
                m_request_hash->append(m_hash_scratch.data(), m_hash_scratch.size(),
                                       [](const BlockPtr&, std::size_t, std::size_t) {});
            }
        } else {
            m_request_hash->append(data, n, [](const BlockPtr&, std::size_t, std::size_t) {});
        }
    }
    if (m_plan.op == S3Op::CompleteMultipartUpload && m_request_capture.size() < k_max_request_capture) {
        m_request_capture.append(data, std::min(n, k_max_request_capture - m_request_capture.size()));
    }
    if (m_plan.upstream_length != k_unknown_length && m_sent > m_plan.upstream_length) {
        body_error({400, "IncompleteBody", "The request body is longer than declared."});
    }
}

std::size_t Exchange::pause_read_until_readable()
{
    m_read_paused = true;
    if (!m_read_waiting) {
        m_read_waiting = true;
        m_client->wait_readable([weak = weak_from_this()](bool ok) {
            auto self = weak.lock();
            if (!self) {
                return;
            }
            self->m_read_waiting = false;
            if (self->m_finished) {
                return;
            }
            if (!ok) {
                self->m_client_failed = true;
                self->abort("the client's socket failed");
                return;
            }
            self->resume();
        });
    }
    return CURL_READFUNC_PAUSE;
}

std::size_t Exchange::produce(char* dst, std::size_t cap)
{
    if (m_finished || m_body_error || m_client_failed) {
        return CURL_READFUNC_ABORT;
    }
    if (m_request_hash) {
        // Take no more than can be hashed without waiting for a block.
        cap = std::min(cap, m_request_hash->capacity());
        if (cap == 0) {
            m_read_paused = true; // resumed when the pool releases a block
            return CURL_READFUNC_PAUSE;
        }
    }
    const std::size_t n = m_aws || m_chunked ? produce_decoded(dst, cap) : produce_raw(dst, cap);
    if (n == CURL_READFUNC_ABORT || n == CURL_READFUNC_PAUSE) {
        return n;
    }
    if (n > 0) {
        account_sent(dst, n);
        return m_body_error ? CURL_READFUNC_ABORT : n;
    }
    // End of the body.
    return finish_body() ? 0 : CURL_READFUNC_ABORT;
}

std::size_t Exchange::produce_raw(char* dst, std::size_t cap)
{
    if (m_raw_left == 0) {
        m_raw_done = true;
        return 0;
    }
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(cap, m_raw_left));
    InBuffer& in = m_client->in();
    std::size_t got = 0;
    if (!in.empty()) {
        got = std::min(want, in.size());
        std::memcpy(dst, in.data(), got);
        in.consume(got);
    } else {
        // Straight from the socket into curl's buffer, never past this body
        // (a pipelined next request stays in the socket).
        switch (m_client->recv(dst, want, got)) {
        case ClientIo::Io::Ok: break;
        case ClientIo::Io::WouldBlock: return pause_read_until_readable();
        case ClientIo::Io::Closed:
        case ClientIo::Io::Error:
            m_client_failed = true;
            body_error({400, "IncompleteBody", "The client closed the connection before the body was complete."});
            return CURL_READFUNC_ABORT;
        }
    }
    m_ctx.metrics.bytes_in.fetch_add(got, std::memory_order_relaxed);
    m_raw_left -= got;
    if (m_raw_left == 0) {
        m_raw_done = true;
    }
    return got;
}

std::size_t Exchange::produce_decoded(char* dst, std::size_t cap)
{
    for (;;) {
        if (m_pending_pos < m_pending.size()) {
            const std::size_t n = std::min(cap, m_pending.size() - m_pending_pos);
            std::memcpy(dst, m_pending.data() + m_pending_pos, n);
            m_pending_pos += n;
            if (m_pending_pos == m_pending.size()) {
                m_pending.clear();
                m_pending_pos = 0;
            }
            return n;
        }
        if (m_raw_done) {
            return 0;
        }
        InBuffer& in = m_client->in();
        if (in.empty()) {
            const std::size_t max =
                m_chunked ? k_raw_read : static_cast<std::size_t>(std::min<std::uint64_t>(k_raw_read, m_raw_left));
            std::size_t got = 0;
            switch (m_client->fill(max, got)) {
            case ClientIo::Io::Ok: break;
            case ClientIo::Io::WouldBlock: return pause_read_until_readable();
            case ClientIo::Io::Closed:
            case ClientIo::Io::Error:
                m_client_failed = true;
                body_error({400, "IncompleteBody", "The client closed the connection before the body was complete."});
                return CURL_READFUNC_ABORT;
            }
            m_ctx.metrics.bytes_in.fetch_add(got, std::memory_order_relaxed);
        }
        // One piece of payload out of the transfer framing.
        std::string_view payload;
        if (m_chunked) {
            const auto step = m_chunked->step(in.view());
            if (step.error) {
                body_error({400, "IncompleteBody", "Malformed chunked request body: " + *step.error});
                return CURL_READFUNC_ABORT;
            }
            payload = step.data;
            // `payload` points into `in`: use it before consuming.
            if (m_aws) {
                auto r = decode_aws(payload);
                if (!r) {
                    body_error(to_s3_error(r.error()));
                    return CURL_READFUNC_ABORT;
                }
            } else {
                m_pending.append(payload);
            }
            in.consume(step.consumed);
            m_raw_done = m_chunked->done();
        } else {
            const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), m_raw_left));
            auto r = decode_aws(std::string_view(in.data(), take));
            in.consume(take);
            m_raw_left -= take;
            m_raw_done = m_raw_left == 0;
            if (!r) {
                body_error(to_s3_error(r.error()));
                return CURL_READFUNC_ABORT;
            }
        }
    }
}

tl::expected<void, ChunkError> Exchange::decode_aws(std::string_view framed)
{
    if (!m_encoder) {
        return m_aws->feed(framed, m_pending);
    }
    m_decoded.clear();
    auto r = m_aws->feed(framed, m_decoded);
    if (!r) {
        return r;
    }
    m_encoder->feed(m_decoded, m_pending);
    if (m_aws->complete()) {
        // The decoder holds the last byte back until the trailer has
        // verified, so the upstream's terminal chunk follows that check.
        if (!m_aws->verified_checksum()) {
            return tl::unexpected(ChunkError{ChunkError::Malformed, "aws-chunked body ended without its checksum"});
        }
        m_encoder->finish(*m_aws->verified_checksum(), m_pending);
        m_encoder.reset();
    }
    return {};
}

bool Exchange::finish_body()
{
    m_body_done = true;
    if (m_hash_decoder && !m_hash_broken && !m_hash_decoder->finish()) {
        m_hash_broken = true;
    }
    if (m_aws) {
        if (auto r = m_aws->finish(); !r) {
            body_error(to_s3_error(r.error()));
            return false;
        }
    }
    if (m_plan.upstream_length != k_unknown_length && m_sent != m_plan.upstream_length) {
        body_error(
            {400, "IncompleteBody",
             fmt::format("The request body has {} bytes but {} were declared.", m_sent, m_plan.upstream_length)});
        return false;
    }
    return true;
}

// ---- response -------------------------------------------------------------

bool Exchange::header_line(std::string_view line)
{
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    if (line.rfind("HTTP/", 0) == 0) {
        // A new response (after a 1xx) starts over.
        m_response_headers.clear();
        m_response_length.reset();
        m_status = 0;
        const auto sp = line.find(' ');
        unsigned status = 0;
        if (sp != std::string_view::npos && line.size() >= sp + 4) {
            const std::string_view code = line.substr(sp + 1, 3);
            const auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
            if (ec != std::errc() || end != code.data() + code.size() || status < 100 || status > 599) {
                status = 0;
            }
        }
        if (status == 0) {
            m_upstream_bad = "the upstream sent a malformed status line";
            return false;
        }
        m_status = status;
        m_reason = line.size() > sp + 5 ? std::string(line.substr(sp + 5)) : reason_for(m_status);
        for (const char c : m_reason) {
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
                m_reason = reason_for(m_status);
                break;
            }
        }
        if (!m_latency_seen && m_status >= 200) {
            m_latency_seen = true;
            m_ctx.metrics.observe_upstream_latency(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count());
        }
        return true;
    }
    const auto colon = line.find(':');
    if (line.empty() || colon == std::string_view::npos) {
        return true;
    }
    const std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
        value.remove_suffix(1);
    }
    if (iequals(name, "content-length")) {
        const auto n = parse_decimal(value);
        if (!n || (m_response_length && *m_response_length != *n)) {
            m_upstream_bad = "the upstream sent a malformed Content-Length";
            return false;
        }
        m_response_length = n;
    }
    m_response_headers.emplace_back(std::string(name), std::string(value));
    return true;
}

void Exchange::build_head()
{
    m_head_built = true;
    bool has_length = false;
    std::string head;
    head.reserve(512);
    head = fmt::format("HTTP/1.1 {} {}\r\n", m_status, m_reason.empty() ? reason_for(m_status) : m_reason);
    for (const auto& [name, value] : m_response_headers) {
        if (is_hop_by_hop(name)) {
            continue;
        }
        if (iequals(name, "content-length")) {
            has_length = true;
        }
        head.append(name).append(": ").append(value).append("\r\n");
    }
    const bool bodyless = m_plan.method == "HEAD" || m_status == 204 || m_status == 304 || m_status < 200;
    if (!has_length && !bodyless) {
        m_chunked_out = true;
        head += "Transfer-Encoding: chunked\r\n";
    }
    m_keep_alive = m_request.client_keep_alive && request_body_complete() && !m_ctx.stopping.load();
    head += m_keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    head += "\r\n";
    m_head = std::move(head);

    // Only a whole object (200) gets a BLAKE3 in its record.
    if (m_plan.op == S3Op::GetObject && m_status == 200) {
        std::weak_ptr<Exchange> weak = m_self;
        m_response_hash = std::make_unique<StreamHash>(*m_ctx.hashes, m_io, m_response_length, [weak] {
            if (auto self = weak.lock()) {
                self->resume();
            }
        });
    }
}

bool Exchange::write_capacity(std::size_t n) const
{
    if (m_response_hash && !m_response_hash->is_inline()
        && m_response_hash->capacity() < std::min(n, k_max_blocks * k_block)) {
        return false;
    }
    return m_client->queued() == 0 || m_client->queued() + n <= k_max_queued;
}

std::size_t Exchange::consume(const char* data, std::size_t n)
{
    if (m_finished) {
        return 0;
    }
    if (!m_head_built) {
        build_head();
    }
    if (m_client->failed()) {
        m_client_failed = true;
        return 0;
    }
    if (!write_capacity(n)) {
        m_write_paused = true;
        watch_client_writes();
        return CURL_WRITEFUNC_PAUSE;
    }
    m_received += n;
    m_ctx.metrics.upstream_bytes_received.fetch_add(n, std::memory_order_relaxed);
    if (wants_xml_body(m_plan.op) && m_capture.size() < k_max_capture) {
        m_capture.append(data, std::min(n, k_max_capture - m_capture.size()));
    }
    char size_line[24];
    std::string_view chunk_head;
    if (m_chunked_out && n > 0) {
        const auto end = fmt::format_to_n(size_line, sizeof size_line, "{:x}\r\n", n).out;
        chunk_head = std::string_view(size_line, static_cast<std::size_t>(end - size_line));
    }
    const std::string_view chunk_tail = m_chunked_out && n > 0 ? std::string_view("\r\n") : std::string_view();
    if (m_response_hash && !m_response_hash->is_inline()) {
        // One copy, into the hash's blocks: sent and hashed from there.
        m_client->queue(m_head);
        m_client->queue(chunk_head);
        m_head.clear();
        m_head_queued = true;
        m_response_hash->append(data, n, [this](const BlockPtr& block, std::size_t offset, std::size_t len) {
            m_client->queue(block, offset, len);
        });
        m_client->queue(chunk_tail);
        // curl hands the body over in 16 KiB pieces: what one socket event
        // brought leaves in one sendmsg after curl returns.
        m_client->send_soon();
    } else {
        if (m_response_hash) {
            m_response_hash->append(data, n, [](const BlockPtr&, std::size_t, std::size_t) {});
        }
        // Straight from curl's buffer when the socket takes it (the head
        // and a small body leave in one segment); the rest is copied.
        const std::string_view parts[] = {m_head, chunk_head, std::string_view(data, n), chunk_tail};
        m_client->write(parts, 4);
        m_head.clear();
        m_head_queued = true;
    }
    m_ctx.metrics.bytes_out.fetch_add(n, std::memory_order_relaxed);
    if (m_client->failed()) {
        m_client_failed = true;
        return 0;
    }
    return n;
}

// ---- flow control ---------------------------------------------------------

void Exchange::watch_client_writes()
{
    if (m_watching_writes || m_client->queued() == 0) {
        return;
    }
    m_watching_writes = true;
    m_client->on_written([weak = weak_from_this()] {
        if (auto self = weak.lock()) {
            self->m_watching_writes = false;
            if (self->m_client->failed() && !self->m_finished) {
                self->m_client_failed = true;
                if (self->m_completing) {
                    self->maybe_done();
                } else {
                    self->abort("the client went away");
                }
                return;
            }
            self->resume();
        }
    });
}

void Exchange::set_pause()
{
    if (m_easy != nullptr) {
        curl_easy_pause(m_easy, (m_read_paused ? CURLPAUSE_SEND : 0) | (m_write_paused ? CURLPAUSE_RECV : 0));
    }
}

void Exchange::resume()
{
    if (m_finished) {
        return;
    }
    if (m_completing) {
        maybe_done();
        return;
    }
    bool changed = false;
    if (m_write_paused) {
        // Resume at half the queue limit, so curl hands over large pieces.
        const bool room =
            (!m_response_hash || m_response_hash->is_inline() || m_response_hash->capacity() >= k_curl_buffer)
            && m_client->queued() <= k_max_queued / 2;
        if (room) {
            m_write_paused = false;
            changed = true;
        } else {
            watch_client_writes();
        }
    }
    if (m_read_paused && !m_read_waiting && (!m_request_hash || m_request_hash->capacity() > 0)) {
        m_read_paused = false;
        changed = true;
    }
    if (changed) {
        set_pause();
    }
}

// ---- completion -----------------------------------------------------------

void Exchange::on_curl_done(CURLcode result)
{
    // The multi has removed the handle already.
    if (m_easy != nullptr) {
        m_multi.give_easy(m_easy);
        m_easy = nullptr;
    }
    if (m_finished) {
        return;
    }
    if (m_body_error) {
        log_warn("{} {} refused: {} ({})", m_plan.method, m_plan.target.uri(), m_body_error->code,
                 m_body_error->message);
        const unsigned status = !m_head_queued && send_error(*m_body_error) ? m_body_error->status : 0;
        fail(status);
        return;
    }
    if (m_client_failed || m_client->failed()) {
        m_ctx.metrics.client_aborts.fetch_add(1, std::memory_order_relaxed);
        log_debug("{} {}: client went away", m_plan.method, m_plan.target.uri());
        fail(0);
        return;
    }
    if (result != CURLE_OK || !m_upstream_bad.empty() || m_status < 200) {
        m_ctx.metrics.upstream_errors.fetch_add(1, std::memory_order_relaxed);
        const std::string why = !m_upstream_bad.empty() ? m_upstream_bad
                                : result != CURLE_OK    ? std::string(curl_easy_strerror(result))
                                                        : std::string("no final response");
        log_warn("{} {}: upstream transfer failed: {}", m_plan.method, m_plan.target.uri(), why);
        if (m_head_queued) {
            fail(0); // the client sees a truncated body and a closed connection
            return;
        }
        S3Error err{502, "BadGateway", "roar-proxy could not relay the upstream S3 endpoint's response: " + why};
        if (result == CURLE_COULDNT_CONNECT || result == CURLE_COULDNT_RESOLVE_HOST) {
            err = {503, "ServiceUnavailable", "roar-proxy could not reach the upstream S3 endpoint: " + why};
        } else if (result == CURLE_OPERATION_TIMEDOUT) {
            err = {504, "GatewayTimeout", "The upstream S3 endpoint did not answer in time: " + why};
        }
        fail(send_error(err) ? err.status : 0);
        return;
    }
    if (m_part && m_status / 100 == 2 && !m_hash_broken) {
        store_part_then_respond();
        return;
    }
    respond();
}

void Exchange::store_part_then_respond()
{
    // The part joins its upload before the client hears it was stored, so
    // the client's CompleteMultipartUpload always finds it.
    std::weak_ptr<Exchange> weak = m_self;
    m_request_hash->finish([weak](const std::string&) {
        auto self = weak.lock();
        if (!self || self->m_finished) {
            return;
        }
        self->m_ctx.multipart->add_part(self->m_plan.upload_id, self->m_part_number, self->m_part);
        self->respond();
    });
}

void Exchange::respond()
{
    if (!m_head_built) {
        build_head();
    }
    // The head (when no body came) and the last chunk leave together.
    if (!m_head_queued) {
        m_client->queue(m_head);
        m_head.clear();
        m_head_queued = true;
    }
    if (m_chunked_out) {
        m_client->queue("0\r\n\r\n");
    }
    m_client->send_queued();
    complete(m_keep_alive);
}

void Exchange::complete(bool keep_alive)
{
    m_completing = true;
    m_completion_keep_alive = keep_alive;
    std::weak_ptr<Exchange> weak = m_self;
    if (m_request_hash && !m_part && m_status / 100 == 2) {
        ++m_waiting_hashes;
        m_request_hash->finish([weak](std::string hex) {
            if (auto self = weak.lock()) {
                self->m_request_blake3 = std::move(hex);
                --self->m_waiting_hashes;
                self->maybe_done();
            }
        });
    }
    if (m_response_hash) {
        ++m_waiting_hashes;
        m_response_hash->finish([weak](std::string hex) {
            if (auto self = weak.lock()) {
                self->m_response_blake3 = std::move(hex);
                --self->m_waiting_hashes;
                self->maybe_done();
            }
        });
    }
    maybe_done();
}

void Exchange::maybe_done()
{
    if (m_finished || !m_completing) {
        return;
    }
    if (m_client->failed()) {
        m_ctx.metrics.client_aborts.fetch_add(1, std::memory_order_relaxed);
        fail(0);
        return;
    }
    if (m_client->queued() > 0) {
        watch_client_writes();
        return;
    }
    if (m_waiting_hashes > 0) {
        return;
    }
    m_finished = true;
    RelayOutcome out;
    out.status = m_status;
    out.keep_alive = m_completion_keep_alive;
    out.record = make_record();
    release_easy(false);
    post_done(std::move(out));
}

void Exchange::fail(unsigned status_sent)
{
    if (m_finished) {
        return;
    }
    m_finished = true;
    RelayOutcome out;
    out.status = status_sent;
    out.keep_alive = false;
    // The client was sent the head of a successful answer and some of its
    // body: what it saw happened, and the recorder decides what it means.
    if (m_head_queued && m_status / 100 == 2 && !m_body_error && request_body_complete()) {
        out.record = make_record();
        out.record->cut = true;
        out.record->blake3_hex.clear();
    }
    release_easy(!request_body_complete() || m_body_error.has_value());
    post_done(std::move(out));
}

void Exchange::post_done(RelayOutcome out)
{
    // From the loop, never from the caller's stack (which may be the
    // connection itself, or curl's): the owner may destroy this exchange.
    if (m_done) {
        boost::asio::post(m_io, [done = std::move(m_done), out = std::move(out), self = std::move(m_self)]() mutable {
            done(std::move(out));
        });
    }
    m_done = nullptr;
    m_self.reset();
}

void Exchange::abort(std::string_view why)
{
    if (m_finished) {
        return;
    }
    log_debug("{} {}: aborted: {}", m_plan.method, m_plan.target.uri(), why);
    if (m_client_failed) {
        m_ctx.metrics.client_aborts.fetch_add(1, std::memory_order_relaxed);
    }
    fail(0);
}

bool Exchange::send_error(const S3Error& err)
{
    m_status = err.status;
    const auto resp = error_response(err, m_plan.target.uri(), m_plan.request_id);
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nServer: roar-proxy\r\nContent-Length: {}\r\n", resp.status,
                                  reason_for(resp.status), resp.body.size());
    out += "Content-Type: " + resp.content_type + "\r\n";
    for (const auto& [name, value] : resp.headers) {
        out += name + ": " + value + "\r\n";
    }
    out += "Connection: close\r\n\r\n";
    if (m_plan.method != "HEAD") {
        out += resp.body;
    }
    m_client->write(out);
    m_head_queued = true;
    return !m_client->failed();
}

ExchangeRecord Exchange::make_record() const
{
    ExchangeRecord r;
    r.method = m_plan.method;
    r.op = m_plan.op;
    r.target = m_plan.target;
    r.range = m_plan.range;
    r.upload_id = m_plan.upload_id;
    r.part_number = m_plan.part_number;
    r.copy_source = m_plan.copy_source;
    r.copy_source_if_match = m_plan.copy_source_if_match;
    r.copy_source_range = m_plan.copy_source_range;
    r.pid = m_request.pid;
    r.status = m_status;
    for (const auto& [name, value] : m_response_headers) {
        if (iequals(name, "etag")) {
            r.etag = value;
        } else if (iequals(name, "x-amz-version-id")) {
            r.version_id = value;
        } else if (iequals(name, "x-amz-copy-source-version-id")) {
            r.copy_source_version_id = value;
        } else if (iequals(name, "x-amz-delete-marker")) {
            r.delete_marker = value;
        } else if (iequals(name, "content-range")) {
            r.content_range = value;
        } else if (iequals(name, "x-amz-server-side-encryption") && r.encryption.empty()) {
            r.encryption = value;
        } else if (iequals(name, "x-amz-server-side-encryption-customer-algorithm")) {
            r.encryption = "SSE-C";
        }
    }
    r.content_length = m_response_length;
    // An aws-chunked body's object is its decoded bytes, not the framing:
    // re-framed for the upstream (forward_checksum), counted by the decoder;
    // passing through, counted by the hash's decoding copy, else (not
    // hashed) the x-amz-decoded-content-length the upstream accepted.
    r.request_bytes = m_sent;
    if (m_plan.forward_checksum) {
        r.request_bytes = m_aws->decoded_bytes();
    } else if (m_hash_decoder && !m_hash_broken) {
        r.request_bytes = m_hash_decoder->decoded_bytes();
    } else if (m_plan.hash_decodes_aws_chunked && m_plan.decoded_length && m_status / 100 == 2) {
        r.request_bytes = *m_plan.decoded_length;
    }
    r.response_bytes = m_received;
    if (m_request_hash && m_status / 100 == 2 && !m_hash_broken) {
        r.blake3_hex = m_request_blake3;
    } else if (m_response_hash && m_status == 200) {
        r.blake3_hex = m_response_blake3;
    }
    r.response_body = m_capture;
    r.request_body = m_request_capture;
    return r;
}

} // namespace roar::proxy
