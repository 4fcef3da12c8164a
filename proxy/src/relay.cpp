// The relay's libcurl transfer. Threading: one blocking curl_easy_perform
// on the session's thread. curl calls on_read when it can send more of the
// request body: we read (at most one buffer) from the client socket right
// then. curl calls on_write with each piece of the response body: we write
// it to the client socket (gathered into 256 KiB writes). A GetObject
// answered 200 with a large body is pipelined instead: the session thread
// only gathers curl's pieces into blocks, and the BLAKE3 helper thread
// writes each block to the client and then hashes it (body_hash.hpp); from
// the first block on, only the helper writes to the client until the
// session thread has joined it. Either way a slow client stalls the
// upstream read (TCP backpressure, at most 4 blocks queued) and a slow
// upstream stalls the client read; memory per transfer is curl's buffers,
// one gather buffer or the hash blocks, and one read buffer when decoding
// aws-chunked.
#include "relay.hpp"

#include "body_hash.hpp"
#include "roar/proxy/log.hpp"
#include "roar/proxy/s3_event.hpp"

#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace roar::proxy {

namespace http = boost::beast::http;

namespace {

constexpr std::size_t k_raw_buffer = 256 * 1024;
constexpr std::size_t k_curl_buffer = 256 * 1024;
constexpr std::size_t k_curl_download_buffer = 512 * 1024;
constexpr std::size_t k_out_buffer = BodyHash::k_block;
constexpr auto k_out_max_delay = std::chrono::milliseconds(20);
constexpr std::size_t k_max_xml_capture = 1024 * 1024;

std::string reason_for(unsigned status)
{
    const auto r = http::obsolete_reason(static_cast<http::status>(status));
    return r.empty() ? std::string("Unknown") : std::string(r);
}

class Transfer {
public:
    Transfer(ProxyContext& ctx, ClientStream& client, boost::beast::flat_buffer& buffer, RequestParser& parser,
             const ForwardPlan& plan, bool keep_alive)
        : m_ctx(ctx),
          m_client(client),
          m_buffer(buffer),
          m_parser(parser),
          m_plan(plan),
          m_client_keep_alive(keep_alive)
    {
        if (plan.body == BodyKind::AwsChunked) {
            ctx.metrics.aws_chunked_requests.fetch_add(1, std::memory_order_relaxed);
            m_decoder.emplace(plan.chunk_signing, plan.signed_trailer, plan.trailer);
        }
        if (plan.op == S3Op::PutObject) {
            m_request_hash.emplace();
        }
        if (m_decoder) {
            m_raw.reset(new char[k_raw_buffer]); // not zeroed: only bytes read into it are used
        }
    }

    RelayResult run();

private:
    static std::size_t on_read(char* dst, std::size_t size, std::size_t n, void* self)
    {
        return static_cast<Transfer*>(self)->produce(dst, size * n);
    }
    static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self)
    {
        static_cast<Transfer*>(self)->header_line(std::string_view(data, size * n));
        return size * n;
    }
    static std::size_t on_write(char* data, std::size_t size, std::size_t n, void* self)
    {
        return static_cast<Transfer*>(self)->consume(data, size * n);
    }
    static int on_progress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
    {
        auto* t = static_cast<Transfer*>(self);
        // A slow upstream must not leave bytes waiting in our buffer.
        if ((t->m_out_len > t->m_out_sent || !t->m_head.empty())
            && std::chrono::steady_clock::now() - t->m_out_since > k_out_max_delay && !t->flush_out()) {
            return 1;
        }
        return t->m_ctx.aborting.load() ? 1 : 0;
    }

    std::size_t produce(char* dst, std::size_t cap);
    // Whether the whole request body has been read from the client.
    bool body_complete() const { return m_raw_mode ? m_raw_left == 0 : m_parser.is_done(); }
    bool finish_body();
    void account_sent(const char* data, std::size_t n);
    void header_line(std::string_view line);
    std::size_t consume(const char* data, std::size_t n);
    bool write_out(std::string& head, const char* data, std::size_t n);
    bool flush_out();
    bool finish_pipeline();
    bool send_head();
    bool send_error(const S3Error& err);

    ProxyContext& m_ctx;
    ClientStream& m_client;
    boost::beast::flat_buffer& m_buffer;
    RequestParser& m_parser;
    const ForwardPlan& m_plan;
    bool m_client_keep_alive;

    // Request body.
    std::optional<AwsChunkedDecoder> m_decoder;
    std::unique_ptr<char[]> m_raw;
    bool m_raw_mode = false;      // reading the body past the parser, see produce()
    std::uint64_t m_raw_left = 0; // body bytes still to read in raw mode
    std::string m_pending;
    std::size_t m_pending_pos = 0;
    std::uint64_t m_sent = 0;
    bool m_body_done = false;
    std::optional<S3Error> m_body_error;
    bool m_client_failed = false;
    std::optional<BodyHash> m_request_hash; // PutObject only

    // Response.
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
    bool m_latency_seen = false;
    unsigned m_status = 0;
    std::string m_reason;
    std::vector<std::pair<std::string, std::string>> m_headers;
    bool m_head_sent = false; // built; it goes out with the first body bytes
    std::string m_head;       // built but not written yet
    bool m_chunked_out = false;
    bool m_keep_alive = false;
    std::uint64_t m_received = 0;
    // Response bytes gathered for the client: curl hands over 16 KiB at a
    // time, and one write per piece costs more than the copy. Allocated
    // with the first body byte, not zeroed; [m_out_sent, m_out_len) is
    // still to be written.
    std::unique_ptr<char[]> m_out;
    std::size_t m_out_cap = 0;
    std::size_t m_out_len = 0;
    std::size_t m_out_sent = 0;
    std::uint64_t m_response_length = UINT64_MAX; // Content-Length of the response, when sent
    std::chrono::steady_clock::time_point m_out_since;
    bool m_response_hash_decided = false;
    // Pipelined response (see the top of this file): the helper writes the
    // blocks; m_pipe_head is the response head, handed over with the first
    // block and written with it by the helper. Declared before the hash,
    // whose destructor joins the helper, so it outlives the helper.
    bool m_pipelined = false;
    std::string m_pipe_head;
    std::optional<BodyHash> m_response_hash; // GetObject answered 200 only
    std::string m_response_blake3;
    std::string m_xml;
};

std::size_t Transfer::produce(char* dst, std::size_t cap)
{
    for (;;) {
        if (m_pending_pos < m_pending.size()) {
            const std::size_t n = std::min(cap, m_pending.size() - m_pending_pos);
            std::memcpy(dst, m_pending.data() + m_pending_pos, n);
            m_pending_pos += n;
            account_sent(dst, n);
            return m_body_error ? CURL_READFUNC_ABORT : n;
        }
        if (m_body_done) {
            return 0;
        }
        if (body_complete()) {
            return finish_body() ? 0 : CURL_READFUNC_ABORT;
        }
        const bool direct = !m_decoder;
        char* into = direct ? dst : m_raw.get();
        const std::size_t room = direct ? cap : k_raw_buffer;
        boost::system::error_code ec;
        std::size_t n = 0;
        if (!m_raw_mode && !m_parser.chunked() && m_buffer.size() == 0 && m_parser.content_length_remaining()) {
            // Beast reads a body at most 64 KiB at a time, through its
            // buffer; once that buffer is drained, the rest of a
            // Content-Length body is read straight from the socket, exactly
            // that many bytes (a pipelined next request stays unread).
            m_raw_mode = true;
            m_raw_left = *m_parser.content_length_remaining();
        }
        if (m_raw_mode) {
            n = m_client.read_some(
                boost::asio::buffer(into, static_cast<std::size_t>(std::min<std::uint64_t>(room, m_raw_left))), ec);
            m_raw_left -= n;
        } else {
            m_parser.get().body().data = into;
            m_parser.get().body().size = room;
            m_parser.get().body().more = true;
            http::read_some(m_client, m_buffer, m_parser, ec);
            if (ec == http::error::need_buffer) {
                ec = {};
            }
            n = room - m_parser.get().body().size;
        }
        if (ec) {
            m_client_failed = true;
            log_debug("client body read failed: {}", ec.message());
            return CURL_READFUNC_ABORT;
        }
        m_ctx.metrics.bytes_in.fetch_add(n, std::memory_order_relaxed);
        if (n == 0) {
            continue;
        }
        if (direct) {
            account_sent(dst, n);
            return m_body_error ? CURL_READFUNC_ABORT : n;
        }
        m_pending.clear();
        m_pending_pos = 0;
        auto r = m_decoder->feed(std::string_view(m_raw.get(), n), m_pending);
        if (!r) {
            m_body_error = to_s3_error(r.error());
            return CURL_READFUNC_ABORT;
        }
    }
}

bool Transfer::finish_body()
{
    m_body_done = true;
    if (m_decoder) {
        if (auto r = m_decoder->finish(); !r) {
            m_body_error = to_s3_error(r.error());
            return false;
        }
    }
    if (m_plan.upstream_length != k_unknown_length && m_sent != m_plan.upstream_length) {
        m_body_error =
            S3Error{400, "IncompleteBody",
                    fmt::format("The request body has {} bytes but {} were declared.", m_sent, m_plan.upstream_length)};
        return false;
    }
    return true;
}

void Transfer::account_sent(const char* data, std::size_t n)
{
    m_sent += n;
    m_ctx.metrics.upstream_bytes_sent.fetch_add(n, std::memory_order_relaxed);
    if (m_request_hash) {
        m_request_hash->update(data, n);
    }
    if (m_plan.upstream_length != k_unknown_length && m_sent > m_plan.upstream_length) {
        m_body_error = S3Error{400, "IncompleteBody", "The request body is longer than declared."};
    }
}

void Transfer::header_line(std::string_view line)
{
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.remove_suffix(1);
    }
    if (line.rfind("HTTP/", 0) == 0) {
        // A new response (after 1xx or a CONNECT reply) starts over.
        m_headers.clear();
        m_response_length = UINT64_MAX;
        const auto sp = line.find(' ');
        if (sp != std::string_view::npos && line.size() >= sp + 4) {
            m_status = static_cast<unsigned>(std::atoi(std::string(line.substr(sp + 1, 3)).c_str()));
            m_reason = line.size() > sp + 5 ? std::string(line.substr(sp + 5)) : reason_for(m_status);
        }
        if (!m_latency_seen && m_status >= 200) {
            m_latency_seen = true;
            m_ctx.metrics.observe_upstream_latency(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count());
        }
        return;
    }
    const auto colon = line.find(':');
    if (line.empty() || colon == std::string_view::npos) {
        return;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    if (iequals(line.substr(0, colon), "content-length")) {
        m_response_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
    }
    m_headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
}

bool Transfer::send_head()
{
    m_head_sent = true;
    bool has_length = false;
    std::string head;
    head.reserve(512);
    head = fmt::format("HTTP/1.1 {} {}\r\n", m_status, m_reason.empty() ? reason_for(m_status) : m_reason);
    for (const auto& [name, value] : m_headers) {
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
    m_keep_alive = m_client_keep_alive && body_complete() && !m_ctx.stopping.load();
    head += m_keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    head += "\r\n";
    m_head = std::move(head);
    m_out_since = std::chrono::steady_clock::now();
    return true;
}

std::size_t Transfer::consume(const char* data, const std::size_t n)
{
    if (!m_head_sent && !send_head()) {
        return 0;
    }
    m_received += n;
    m_ctx.metrics.upstream_bytes_received.fetch_add(n, std::memory_order_relaxed);
    if (!m_response_hash_decided) {
        // Only a whole object (200) gets a BLAKE3 in its event.
        m_response_hash_decided = true;
        if (m_plan.op == S3Op::GetObject && m_status == 200) {
            m_response_hash.emplace(m_response_length);
            // No request body (nothing else touches the client socket
            // meanwhile) and large: the helper writes the blocks.
            if (!m_response_hash->is_inline() && m_plan.body == BodyKind::None) {
                m_pipelined = true;
                m_response_hash->set_sink(
                    [this](const char* block, std::size_t len) { return write_out(m_pipe_head, block, len); });
            }
        }
    }
    if (m_pipelined && m_response_hash->sink_failed()) {
        m_client_failed = true; // the helper could not write to the client
        return 0;
    }
    if (wants_xml_body(m_plan.op) && m_xml.size() < k_max_xml_capture) {
        m_xml.append(data, std::min(n, k_max_xml_capture - m_xml.size()));
    }
    for (std::size_t done = 0; done < n;) {
        if (!m_out) {
            // When hashing a large body, the gather buffer is the hasher's
            // block: it is sent and hashed from the same memory, with no
            // second copy. A small body gets a buffer of its own size.
            if (m_response_hash && !m_response_hash->is_inline()) {
                m_out = m_response_hash->take_block();
                m_out_cap = k_out_buffer;
            } else {
                m_out_cap = static_cast<std::size_t>(std::clamp<std::uint64_t>(m_response_length, 1, k_out_buffer));
                m_out.reset(new char[m_out_cap]);
            }
            m_out_len = 0;
            m_out_sent = 0;
        }
        if (m_out_len == m_out_sent && m_head.empty()) {
            m_out_since = std::chrono::steady_clock::now();
        }
        const std::size_t take = std::min(n - done, m_out_cap - m_out_len);
        std::memcpy(m_out.get() + m_out_len, data + done, take);
        if (m_response_hash && m_response_hash->is_inline()) {
            m_response_hash->update(data + done, take);
        }
        m_out_len += take;
        done += take;
        if (m_out_len == m_out_cap && !flush_out()) {
            return 0;
        }
    }
    return n;
}

bool Transfer::flush_out()
{
    if (m_pipelined) {
        // Hand the gathered bytes (a full block, or what a slow upstream
        // sent in 20 ms) to the helper; the next byte goes into a new block.
        if (m_out && m_out_len > 0) {
            if (!m_head.empty()) {
                m_pipe_head = std::move(m_head); // before the helper can run
                m_head.clear();
            }
            m_response_hash->submit(std::move(m_out), m_out_len);
            m_out_len = 0;
            m_out_sent = 0;
        }
        if (m_response_hash->sink_failed()) {
            m_client_failed = true;
            return false;
        }
        return true;
    }
    const std::size_t from = m_out_sent;
    const std::size_t to = m_out_len;
    const char* block = m_out.get();
    const bool full = m_out && to == m_out_cap;
    if (full && m_response_hash && !m_response_hash->is_inline()) {
        // Hashing starts while the block is being sent; it is not written
        // again before our next take_block().
        m_response_hash->submit(std::move(m_out), to);
    }
    m_out_sent = to;
    const bool ok = (to == from && m_head.empty()) || write_out(m_head, block + from, to - from);
    if (full) {
        m_out_len = 0;
        m_out_sent = 0;
    }
    if (!ok) {
        m_client_failed = true;
    }
    return ok;
}

bool Transfer::finish_pipeline()
{
    // Submits the last, short block, waits until the helper has written
    // and hashed every block: after this, the session thread owns the
    // client socket again. False when a write to the client failed.
    if (m_out && m_out_len > 0) {
        m_response_hash->submit(std::move(m_out), m_out_len);
        m_out_len = 0;
    }
    m_response_blake3 = m_response_hash->finish_hex();
    if (m_response_hash->sink_failed()) {
        m_client_failed = true;
        return false;
    }
    return true;
}

bool Transfer::write_out(std::string& head, const char* data, std::size_t n)
{
    // Runs on the session thread, or on the hashing helper when pipelined;
    // it touches only `head`, the client socket and atomic counters.
    // One sendmsg for the pending head, the chunk-size line, the bytes and
    // the chunk's CRLF: a small response leaves in one segment.
    char size_line[24];
    iovec parts[4];
    std::size_t count = 0;
    if (!head.empty()) {
        parts[count++] = {head.data(), head.size()};
    }
    if (n > 0) {
        if (m_chunked_out) {
            const auto end = fmt::format_to_n(size_line, sizeof size_line, "{:x}\r\n", n).out;
            parts[count++] = {size_line, static_cast<std::size_t>(end - size_line)};
        }
        parts[count++] = {const_cast<char*>(data), n};
        if (m_chunked_out) {
            parts[count++] = {const_cast<char*>("\r\n"), 2};
        }
    }
    boost::system::error_code ec;
    const bool ok = m_client.write_all(parts, count, ec);
    head.clear();
    if (!ok) {
        return false;
    }
    m_ctx.metrics.bytes_out.fetch_add(n, std::memory_order_relaxed);
    return true;
}

bool Transfer::send_error(const S3Error& err)
{
    m_status = err.status;
    const auto resp = error_response(err, m_plan.target.uri(), m_plan.request_id);
    return write_local_response(m_client, resp, false, m_plan.method == "HEAD");
}

RelayResult Transfer::run()
{
    // Answer Expect: 100-continue now that the request is authenticated.
    if (m_plan.expect_continue && m_plan.body != BodyKind::None && !body_complete()) {
        static constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";
        boost::system::error_code ec;
        if (!m_client.write_all(k_continue.data(), k_continue.size(), ec)) {
            m_ctx.metrics.client_aborts.fetch_add(1);
            return {};
        }
    }

    CURL* h = m_ctx.curl.acquire();
    curl_slist* headers = nullptr;
    for (const auto& [name, value] : m_plan.headers) {
        // curl sends "Name;" as an empty header, "Name:" would remove it.
        headers = curl_slist_append(headers, (value.empty() ? name + ";" : name + ": " + value).c_str());
    }
    headers = curl_slist_append(headers, "Expect:");
    headers = curl_slist_append(headers, "Accept:");
    curl_easy_setopt(h, CURLOPT_URL, m_plan.url.c_str());
    curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, static_cast<long>(m_ctx.opts.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(m_ctx.opts.stall_timeout.count()));
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, static_cast<long>(k_curl_download_buffer));
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, static_cast<long>(k_curl_buffer));
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (!m_ctx.ca_bundle.empty()) {
        curl_easy_setopt(h, CURLOPT_CAINFO, m_ctx.ca_bundle.c_str());
    }
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Transfer::on_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Transfer::on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, this);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    if (m_plan.method == "GET" && m_plan.body == BodyKind::None) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (m_plan.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m_plan.method.c_str());
        curl_easy_setopt(h, CURLOPT_READFUNCTION, &Transfer::on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, this);
        const curl_off_t size = m_plan.body == BodyKind::None ? 0
                                : m_plan.upstream_length == k_unknown_length
                                    ? -1
                                    : static_cast<curl_off_t>(m_plan.upstream_length);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, size);
    }

    m_ctx.metrics.upstream_requests.fetch_add(1, std::memory_order_relaxed);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    m_ctx.curl.release(h);
    if (!m_client_failed && !flush_out() && rc == CURLE_OK) {
        rc = CURLE_WRITE_ERROR;
    }
    // Whatever happened, the helper finishes writing before anyone else
    // writes to the client or closes it.
    if (m_pipelined && !finish_pipeline() && rc == CURLE_OK) {
        rc = CURLE_WRITE_ERROR;
    }

    RelayResult result;
    if (m_body_error) {
        // The upstream body was cut short, so it cannot have stored it.
        log_warn("{} {} refused: {} ({})", m_plan.method, m_plan.target.uri(), m_body_error->code,
                 m_body_error->message);
        if (!m_head_sent && send_error(*m_body_error)) {
            result.status = m_body_error->status;
        }
        return result;
    }
    if (m_client_failed) {
        m_ctx.metrics.client_aborts.fetch_add(1, std::memory_order_relaxed);
        log_debug("{} {}: client went away", m_plan.method, m_plan.target.uri());
        return result;
    }
    if (rc != CURLE_OK) {
        m_ctx.metrics.upstream_errors.fetch_add(1, std::memory_order_relaxed);
        log_warn("{} {}: upstream transfer failed: {}", m_plan.method, m_plan.target.uri(), curl_easy_strerror(rc));
        if (m_head_sent) {
            return result; // the client sees a truncated body and a closed connection
        }
        S3Error err{502, "BadGateway",
                    std::string("roar-proxy could not reach the upstream S3 endpoint: ") + curl_easy_strerror(rc)};
        if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || m_ctx.aborting.load()) {
            err.status = 503;
            err.code = "ServiceUnavailable";
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            err.status = 504;
            err.code = "GatewayTimeout";
        }
        if (send_error(err)) {
            result.status = err.status;
        }
        return result;
    }
    if (!m_head_sent && (!send_head() || !flush_out())) {
        m_ctx.metrics.client_aborts.fetch_add(1, std::memory_order_relaxed);
        return result;
    }
    boost::system::error_code ec;
    if (m_chunked_out && !m_client.write_all("0\r\n\r\n", 5, ec)) {
        m_ctx.metrics.client_aborts.fetch_add(1, std::memory_order_relaxed);
        return result;
    }
    result.status = m_status;
    result.keep_alive = m_keep_alive;

    // Lineage.
    ExchangeFacts facts;
    facts.status = m_status;
    for (const auto& [name, value] : m_headers) {
        facts.headers.emplace_back(to_lower(name), value);
    }
    facts.request_bytes = m_sent;
    facts.response_bytes = m_received;
    if (m_request_hash && m_status / 100 == 2) {
        facts.blake3_hex = m_request_hash->finish_hex();
    } else if (m_response_hash && m_status == 200) {
        if (!m_pipelined) {
            // The gather buffer is lent by the hash: its last, short block.
            if (m_out && m_out_len > 0 && !m_response_hash->is_inline()) {
                m_response_hash->submit(std::move(m_out), m_out_len);
            }
            m_response_blake3 = m_response_hash->finish_hex();
        }
        facts.blake3_hex = m_response_blake3;
    }
    facts.xml_body = std::move(m_xml);
    if (m_status / 100 == 2) {
        if (m_plan.op == S3Op::UploadPart) {
            m_ctx.parts.add_part(m_plan.upload_id, m_plan.part_number, m_sent);
        } else if (m_plan.op == S3Op::CompleteMultipartUpload && facts.xml_body.find("<Error>") == std::string::npos) {
            facts.multipart_bytes = m_ctx.parts.take(m_plan.upload_id);
        } else if (m_plan.op == S3Op::AbortMultipartUpload) {
            m_ctx.parts.forget(m_plan.upload_id);
        }
    }
    if (m_ctx.ring) {
        for (const auto& ev : lineage_events(m_plan, facts)) {
            if (m_ctx.ring->publish(ev)) {
                m_ctx.metrics.events_published.fetch_add(1, std::memory_order_relaxed);
            } else {
                m_ctx.metrics.events_dropped.fetch_add(1, std::memory_order_relaxed);
                log_warn("event ring full: dropped the {} event for {}", op_name(m_plan.op), ev.uri);
            }
        }
    }
    return result;
}

} // namespace

bool write_local_response(ClientStream& client, const LocalResponse& resp, bool keep_alive, bool head_only)
{
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nServer: roar-proxy\r\nContent-Length: {}\r\n", resp.status,
                                  reason_for(resp.status), resp.body.size());
    if (!resp.content_type.empty()) {
        out += "Content-Type: " + resp.content_type + "\r\n";
    }
    for (const auto& [name, value] : resp.headers) {
        out += name + ": " + value + "\r\n";
    }
    out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    if (!head_only) {
        out += resp.body;
    }
    boost::system::error_code ec;
    return client.write_all(out.data(), out.size(), ec);
}

RelayResult relay(ProxyContext& ctx, ClientStream& client, boost::beast::flat_buffer& buffer, RequestParser& parser,
                  const ForwardPlan& plan, bool client_keep_alive)
{
    Transfer t(ctx, client, buffer, parser, plan, client_keep_alive);
    return t.run();
}

} // namespace roar::proxy
