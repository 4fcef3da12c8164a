// The gateway's server front: connections wait in an epoll set between
// requests and a bounded pool of threads serves the requests that arrive
// (GatewayServer::run), HTTP/1.1 framing through the proxy core's pure
// parser, authentication, and the S3 operations over the gateway library.
// See front.hpp and docs/gateway.md.
#include "roar/proxy/gateway/front.hpp"

#include "roar/proxy/aws_chunked.hpp"
#include "roar/proxy/gateway/admin_api.hpp"
#include "roar/proxy/gateway/backend_client.hpp"
#include "roar/proxy/gateway/bucket_policy.hpp"
#include "roar/proxy/gateway/multipart_sweep.hpp"
#include "roar/proxy/gateway/namespace_hash.hpp"
#include "roar/proxy/gateway/object_copy.hpp"
#include "roar/proxy/gateway/object_listing.hpp"
#include "roar/proxy/gateway/placement.hpp"
#include "roar/proxy/gateway/replication.hpp"
#include "roar/proxy/gateway/s3_documents.hpp"
#include "roar/proxy/gateway/secret_box.hpp"
#include "roar/proxy/gateway/tenant_keys.hpp"
#include "roar/proxy/gateway/trace_context.hpp"
#include "roar/proxy/http_front.hpp"
#include "roar/proxy/log.hpp"
#include "roar/proxy/request_auth.hpp"
#include "roar/proxy/sigv2.hpp"

#include <blake3.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <atomic>
#include <condition_variable>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace roar::proxy::gateway {

namespace {

constexpr std::size_t k_io_chunk = 64 * 1024;
// A GET body is gathered up to this much per send: curl hands it over in
// 16 KiB pieces, and a send (with the client's wake-up) per piece was the
// cost of a large GET.
constexpr std::size_t k_send_batch = 512 * 1024;
constexpr std::uint64_t k_max_small_body = 1024 * 1024; // admin, CompleteMultipartUpload, Delete, CreateBucket
constexpr std::uint64_t k_max_object = 5ull << 30;      // S3's single PUT / part limit
constexpr std::chrono::seconds k_head_timeout{10};      // a request head, from its first byte
constexpr std::uint64_t k_min_part = 5ull << 20;        // S3's smallest part but the last
constexpr std::uint64_t k_drain_limit = 8ull << 20; // an unread body this small is drained to keep the answer readable
// File descriptors kept for everything but client connections (backends'
// connections, the metadata's files, logs) when the open-connection
// limit is checked against the process's descriptor limit.
constexpr unsigned k_fd_reserve = 256;
// After answering, a connection keeps its thread this long for the
// client's next request before it waits in the epoll set.
constexpr int k_linger_ms = 2;

std::string http_date(Millis ms)
{
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

std::string_view reason(unsigned status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
    }
}

// The whole answer of error `e` on a connection that then closes: a
// request the front refuses before (or without) parsing it.
std::string closing_answer(const S3Error& e, std::string_view request_id)
{
    const std::string body = error_xml(e, "", request_id);
    return fmt::format("HTTP/1.1 {} {}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n"
                       "Connection: close\r\n\r\n{}",
                       e.status, reason(e.status), body.size(), body);
}

std::string json_escape_label(std::string_view s)
{
    std::string out;
    for (char c : s) {
        if (c == '\\' || c == '"') {
            out += '\\';
        }
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

// --- metrics -------------------------------------------------------------------

class FrontMetrics {
public:
    void request(std::string_view op, unsigned status, double seconds)
    {
        std::lock_guard lock(m_mutex);
        m_requests[{std::string(op), status}] += 1;
        auto& l = m_latency[std::string(op)];
        l.first += seconds;
        l.second += 1;
    }
    void backend(const std::string& name, bool ok, double seconds)
    {
        std::lock_guard lock(m_mutex);
        auto& b = m_backends[name];
        b.requests += 1;
        b.errors += ok ? 0 : 1;
        b.seconds += seconds;
    }
    // A CopyObject or UploadPartCopy (`op`) made on `backend`, with its own copy call or streamed.
    void copy(std::string_view op, const std::string& backend, bool backend_copy)
    {
        std::lock_guard lock(m_mutex);
        m_copies[{std::string(op), backend, backend_copy ? "backend" : "streamed"}] += 1;
    }
    std::atomic<std::uint64_t> bytes_in{0};
    std::atomic<std::uint64_t> bytes_out{0};
    std::atomic<std::uint64_t> connections{0};
    std::atomic<std::uint64_t> refused_connections{0};
    std::atomic<std::uint64_t> refused_requests{0};

    // `open` client connections, `in_flight` requests, `threads` request
    // threads (the front's own counts).
    std::string render(const std::vector<BackendUsage>& usage, const std::vector<JobCount>& jobs, std::size_t open,
                       unsigned in_flight, std::size_t threads) const
    {
        std::string out;
        std::lock_guard lock(m_mutex);
        out += "# HELP roar_gateway_requests_total S3 and operations requests by operation and status.\n"
               "# TYPE roar_gateway_requests_total counter\n";
        for (const auto& [k, n] : m_requests) {
            out += fmt::format("roar_gateway_requests_total{{op=\"{}\",status=\"{}\"}} {}\n", k.first, k.second, n);
        }
        out += "# HELP roar_gateway_request_seconds Time to answer requests, by operation.\n"
               "# TYPE roar_gateway_request_seconds summary\n";
        for (const auto& [op, l] : m_latency) {
            out += fmt::format("roar_gateway_request_seconds_sum{{op=\"{}\"}} {:.6f}\n", op, l.first);
            out += fmt::format("roar_gateway_request_seconds_count{{op=\"{}\"}} {}\n", op, l.second);
        }
        // One metric with one value: its HELP and TYPE lines, then the value.
        const auto single = [&out](std::string_view name, std::string_view type, std::string_view help, auto value) {
            out += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
        };
        single("roar_gateway_bytes_in_total", "counter", "Body bytes received from clients.", bytes_in.load());
        single("roar_gateway_bytes_out_total", "counter", "Body bytes sent to clients.", bytes_out.load());
        single("roar_gateway_connections_total", "counter", "Connections accepted.", connections.load());
        single("roar_gateway_connections_refused_total", "counter", "Connections refused at the limit.",
               refused_connections.load());
        single("roar_gateway_requests_refused_total", "counter", "Requests refused with every request thread busy.",
               refused_requests.load());
        single("roar_gateway_connections_open", "gauge", "Client connections open, idle ones included.", open);
        single("roar_gateway_requests_in_flight", "gauge", "Requests being served.", in_flight);
        single("roar_gateway_request_threads", "gauge", "Request threads (busy or waiting for work).", threads);
        out += "# HELP roar_gateway_backend_requests_total Object transfers with each backend, by outcome.\n"
               "# TYPE roar_gateway_backend_requests_total counter\n";
        for (const auto& [name, b] : m_backends) {
            out += fmt::format("roar_gateway_backend_requests_total{{backend=\"{}\",outcome=\"ok\"}} {}\n",
                               json_escape_label(name), b.requests - b.errors);
            out += fmt::format("roar_gateway_backend_requests_total{{backend=\"{}\",outcome=\"error\"}} {}\n",
                               json_escape_label(name), b.errors);
        }
        out += "# HELP roar_gateway_backend_seconds Time spent in object transfers with each backend.\n"
               "# TYPE roar_gateway_backend_seconds summary\n";
        for (const auto& [name, b] : m_backends) {
            out += fmt::format("roar_gateway_backend_seconds_sum{{backend=\"{}\"}} {:.6f}\n", json_escape_label(name),
                               b.seconds);
            out += fmt::format("roar_gateway_backend_seconds_count{{backend=\"{}\"}} {}\n", json_escape_label(name),
                               b.requests);
        }
        out += "# HELP roar_gateway_copies_total Copies made for CopyObject and UploadPartCopy, by target backend and "
               "how: the backend's own copy call or streamed through the gateway.\n"
               "# TYPE roar_gateway_copies_total counter\n";
        for (const auto& [k, n] : m_copies) {
            const auto& [op, backend, mode] = k;
            out += fmt::format("roar_gateway_copies_total{{op=\"{}\",backend=\"{}\",mode=\"{}\"}} {}\n", op,
                               json_escape_label(backend), mode, n);
        }
        const auto gauge = [&](std::string_view name, std::string_view help, auto value_of) {
            out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
            for (const auto& u : usage) {
                if (auto v = value_of(u)) {
                    out += fmt::format("{}{{backend=\"{}\"}} {}\n", name, json_escape_label(u.name), *v);
                }
            }
        };
        gauge("roar_gateway_backend_used_bytes", "Bytes on the backend (copies waiting for deletion included).",
              [](const BackendUsage& u) { return std::optional<std::uint64_t>(u.used_bytes); });
        gauge("roar_gateway_backend_reserved_bytes", "Bytes reserved by uploads in flight.",
              [](const BackendUsage& u) { return std::optional<std::uint64_t>(u.reserved_bytes); });
        gauge("roar_gateway_backend_quota_bytes", "The backend's quota (absent: unlimited).",
              [](const BackendUsage& u) { return u.quota_bytes; });
        gauge("roar_gateway_backend_available_bytes", "Bytes that can still be reserved (absent: unlimited).",
              [](const BackendUsage& u) { return u.available(); });
        gauge("roar_gateway_backend_objects", "Object copies on the backend.",
              [](const BackendUsage& u) { return std::optional<std::uint64_t>(u.objects); });
        gauge("roar_gateway_backend_active_uploads", "Multipart uploads in progress on the backend.",
              [](const BackendUsage& u) { return std::optional<std::uint64_t>(u.active_uploads); });
        out += "# HELP roar_gateway_jobs Background jobs by kind and state (replication backlog).\n"
               "# TYPE roar_gateway_jobs gauge\n";
        for (const auto& j : jobs) {
            out +=
                fmt::format("roar_gateway_jobs{{kind=\"{}\",state=\"{}\"}} {}\n",
                            j.kind == JobKind::replicate ? "replicate" : "remove", json_escape_label(j.state), j.count);
        }
        return out;
    }

private:
    struct BackendStat {
        std::uint64_t requests = 0;
        std::uint64_t errors = 0;
        double seconds = 0;
    };
    mutable std::mutex m_mutex;
    std::map<std::pair<std::string, unsigned>, std::uint64_t> m_requests;
    std::map<std::string, std::pair<double, std::uint64_t>> m_latency;
    std::map<std::string, BackendStat> m_backends;
    std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> m_copies;
};

// --- connection I/O ------------------------------------------------------------

class Conn {
public:
    Conn(int fd, std::chrono::seconds timeout) : m_fd(fd), m_timeout_ms(static_cast<int>(timeout.count() * 1000)) { }
    ~Conn() { ::close(m_fd); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;

    // Reads more bytes into the buffer; false at EOF, error or timeout.
    bool read_more()
    {
        if (m_pos > 0 && m_pos == m_buf.size()) {
            m_buf.clear();
            m_pos = 0;
        }
        char tmp[k_io_chunk];
        const std::size_t n = read_into(tmp, sizeof tmp);
        m_buf.append(tmp, n);
        return n > 0;
    }
    // Reads up to `size` bytes straight into `dst` (available() must be
    // empty); 0 at EOF, error or timeout.
    std::size_t read_into(char* dst, std::size_t size)
    {
        // Bytes already waiting (the usual case after wait_readable) are
        // taken without a poll first; poll only bounds a real wait.
        ssize_t n = ::recv(m_fd, dst, size, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, m_timeout_ms) <= 0) {
                return 0;
            }
            n = ::recv(m_fd, dst, size, 0);
        }
        if (n <= 0) {
            return 0;
        }
        m_received += static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
    }
    // Takes the bytes already waiting on the socket, without waiting for
    // more, until `limit` are buffered or a read finds fewer than it had
    // room for (the rest, if any, wakes the epoll set again). False when
    // the peer has closed its side or the socket failed (what arrived
    // before is kept).
    bool take_waiting(std::size_t limit)
    {
        char tmp[k_io_chunk];
        while (m_buf.size() - m_pos < limit) {
            const ssize_t n = ::recv(m_fd, tmp, sizeof tmp, MSG_DONTWAIT);
            if (n > 0) {
                m_buf.append(tmp, static_cast<std::size_t>(n));
                m_received += static_cast<std::uint64_t>(n);
                if (static_cast<std::size_t>(n) < sizeof tmp) {
                    return true;
                }
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else {
                return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            }
        }
        return true;
    }
    std::string_view available() const { return std::string_view(m_buf).substr(m_pos); }
    void consume(std::size_t n)
    {
        m_pos += n;
        if (m_pos == m_buf.size()) {
            m_buf.clear();
            m_pos = 0;
        } else if (m_pos > k_io_chunk) {
            m_buf.erase(0, m_pos);
            m_pos = 0;
        }
    }
    bool write_all(std::string_view data)
    {
        while (!data.empty()) {
            // Written at once while the socket has room; poll only bounds
            // the wait for a full send buffer to drain.
            const ssize_t n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                pollfd p{m_fd, POLLOUT, 0};
                if (::poll(&p, 1, m_timeout_ms) <= 0) {
                    return false;
                }
                continue;
            }
            if (n <= 0) {
                return false;
            }
            data.remove_prefix(static_cast<std::size_t>(n));
            m_sent += static_cast<std::uint64_t>(n);
        }
        return true;
    }
    // Gives back a large emptied buffer: a connection waiting for its next
    // request keeps none of the one before.
    void release_buffer()
    {
        if (m_pos == m_buf.size() && m_buf.capacity() > 4096) {
            std::string().swap(m_buf);
            m_pos = 0;
        }
    }
    // Bytes read from and written to the client so far (heads included).
    std::uint64_t received() const { return m_received; }
    std::uint64_t sent() const { return m_sent; }

private:
    int m_fd;
    int m_timeout_ms;
    std::uint64_t m_received = 0;
    std::uint64_t m_sent = 0;
    std::string m_buf;
    std::size_t m_pos = 0;
};

std::int64_t steady_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// A client connection of the front. Its socket and buffer belong to the
// one thread that took its readiness from the epoll set (it is armed
// one-shot), the times to whoever sweeps.
struct FrontClient {
    FrontClient(int fd_, std::chrono::seconds timeout, std::uint64_t id_) : conn(fd_, timeout), fd(fd_), id(id_) { }
    Conn conn; // closes fd when the last holder lets go
    const int fd;
    const std::uint64_t id;
    std::mutex arming;                       // held while it is armed, taken by the thread its readiness wakes
    std::atomic<bool> busy{true};            // being read or served (not waiting in the set)
    std::atomic<std::int64_t> head_since{0}; // steady_ms() of a waiting partial head's first byte; 0: none
    std::atomic<std::int64_t> idle_since{0}; // steady_ms() since it has waited for a request
};

// --- request bodies ---------------------------------------------------------------

// An OpenSSL digest (`md`: SHA-256 for a signed payload, MD5 for Content-MD5)
// of bytes added piece by piece.
class Digest {
public:
    explicit Digest(const EVP_MD* md) : m_ctx(EVP_MD_CTX_new()) { EVP_DigestInit_ex(m_ctx, md, nullptr); }
    ~Digest() { EVP_MD_CTX_free(m_ctx); }
    Digest(const Digest&) = delete;
    Digest& operator=(const Digest&) = delete;
    void update(std::string_view d) { EVP_DigestUpdate(m_ctx, d.data(), d.size()); }
    std::string raw_digest()
    {
        unsigned char out[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        EVP_DigestFinal_ex(m_ctx, out, &len);
        return std::string(reinterpret_cast<const char*>(out), len);
    }

private:
    EVP_MD_CTX* m_ctx;
};

// How a request's body is framed and what proves it.
struct BodySpec {
    BodyFraming framing = BodyFraming::None;
    std::uint64_t raw_length = 0;     // Content-Length when framing is Length
    std::uint64_t decoded_length = 0; // payload bytes the object gets
    bool aws_chunked = false;
    std::optional<ChunkSigning> chunk_signing;
    bool signed_trailer = false;
    std::string trailer;
    std::string sha256; // hex x-amz-content-sha256 to check, empty when none applies
    // An x-amz-checksum-crc32/-crc32c/-sha1/-sha256 header: the payload's
    // checksum, checked like the SHA-256 (a trailer's is the decoder's).
    std::optional<TrailerChecksum> header_checksum;
    std::string content_md5; // the 16 raw bytes of a Content-MD5 header to check, empty when none
};

// Reads a request body from the connection as the decoded payload bytes,
// hashing them on the way; the payload's SHA-256 (when the client signed
// one), its flexible checksum and its Content-MD5 are checked before the
// last byte is handed out, so a body that does not match never reaches a
// backend whole.
class BodyReader {
public:
    BodyReader(Conn& conn, const BodySpec& spec, FrontMetrics& metrics)
        : m_conn(conn), m_spec(spec), m_metrics(metrics), m_raw_left(spec.raw_length)
    {
        if (spec.aws_chunked) {
            m_aws = std::make_unique<AwsChunkedDecoder>(spec.chunk_signing, spec.signed_trailer, spec.trailer);
        }
        if (!spec.sha256.empty()) {
            m_sha = std::make_unique<Digest>(EVP_sha256());
        }
        if (!spec.content_md5.empty()) {
            m_md5 = std::make_unique<Digest>(EVP_md5());
        }
        if (spec.header_checksum) {
            m_check = std::make_unique<Checksum>(spec.header_checksum->algorithm);
        }
        blake3_hasher_init(&m_b3);
        m_framing_done = spec.framing == BodyFraming::None || (spec.framing == BodyFraming::Length && m_raw_left == 0);
    }

    // BodySource: up to `size` payload bytes into `buf`; 0 at the end.
    std::optional<std::size_t> read(char* buf, std::size_t size)
    {
        if (m_pending_pos == m_pending.size() && m_spec.framing == BodyFraming::Length && !m_aws && !m_framing_done
            && !m_error && size > 0) {
            return read_plain(buf, size);
        }
        while (m_pending_pos == m_pending.size()) {
            if (m_error) {
                return std::nullopt;
            }
            if (m_delivered == m_spec.decoded_length && m_verified) {
                return 0;
            }
            m_pending.clear();
            m_pending_pos = 0;
            if (!fill()) {
                return std::nullopt;
            }
        }
        const std::size_t n = std::min(size, m_pending.size() - m_pending_pos);
        std::memcpy(buf, m_pending.data() + m_pending_pos, n);
        m_pending_pos += n;
        m_delivered += n;
        return n;
    }

    // Reads the whole (small) body into a string.
    std::optional<std::string> read_all()
    {
        std::string out;
        char buf[k_io_chunk];
        for (;;) {
            auto n = read(buf, sizeof buf);
            if (!n) {
                return std::nullopt;
            }
            if (*n == 0) {
                return out;
            }
            out.append(buf, *n);
        }
    }

    // Reads the framing left after the payload (chunk terminator, trailers)
    // so the connection can carry the next request.
    bool finish_framing()
    {
        while (!m_framing_done && !m_error) {
            if (!fill()) {
                return false;
            }
            if (!m_pending.empty() && m_pending_pos < m_pending.size()) {
                return false; // payload beyond the declared length
            }
        }
        return !m_error;
    }

    bool complete() const { return m_framing_done && m_delivered == m_spec.decoded_length && !m_error; }
    // The flexible checksum the payload came with (a header's, else the
    // aws-chunked trailer's), once the payload matched it; none before, or
    // when the client sent none.
    std::optional<TrailerChecksum> checksum() const
    {
        if (!m_verified) {
            return std::nullopt;
        }
        if (m_spec.header_checksum) {
            return m_spec.header_checksum;
        }
        return m_aws ? m_aws->verified_checksum() : std::nullopt;
    }
    const std::optional<S3Error>& error() const { return m_error; }
    std::string blake3_hex()
    {
        std::uint8_t out[BLAKE3_OUT_LEN];
        blake3_hasher_finalize(&m_b3, out, sizeof out);
        return sigv4::hex(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
    }

private:
    // A plain body read straight into `buf` (no copy through m_pending).
    std::optional<std::size_t> read_plain(char* buf, std::size_t size)
    {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(m_raw_left, size));
        std::size_t n = 0;
        if (const std::string_view in = m_conn.available(); !in.empty()) {
            n = std::min(want, in.size());
            std::memcpy(buf, in.data(), n);
            m_conn.consume(n);
        } else {
            n = m_conn.read_into(buf, want);
        }
        if (n == 0) {
            fail({400, "IncompleteBody", "The request body ended before its declared length."});
            return std::nullopt;
        }
        m_raw_left -= n;
        m_framing_done = m_raw_left == 0;
        m_metrics.bytes_in += n;
        if (!took(std::string_view(buf, n))) {
            return std::nullopt;
        }
        m_delivered += n;
        return n;
    }

    // Adds decoded bytes to m_pending (possibly none, while framing moves).
    bool fill()
    {
        if (m_framing_done) {
            return finalize();
        }
        if (m_conn.available().empty() && !m_conn.read_more()) {
            return fail({400, "IncompleteBody", "The request body ended before its declared length."});
        }
        const std::string_view in = m_conn.available();
        if (m_spec.framing == BodyFraming::Length) {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(m_raw_left, in.size()));
            std::string copy(in.substr(0, n)); // `in` views the connection buffer, which consume() may clear
            m_conn.consume(n);
            m_raw_left -= n;
            m_framing_done = m_raw_left == 0;
            return add(copy);
        }
        {
            auto step = m_chunked.step(in);
            if (step.error) {
                return fail({400, "IncompleteBody", "Malformed chunked request body: " + *step.error});
            }
            std::string copy(step.data); // step.data views the connection buffer, which consume() may clear
            m_conn.consume(step.consumed);
            m_framing_done = m_chunked.done();
            return add(copy);
        }
    }

    bool add(const std::string& data)
    {
        m_metrics.bytes_in += data.size();
        const std::size_t before = m_pending.size();
        if (m_aws) {
            if (auto r = m_aws->feed(data, m_pending); !r) {
                return fail(to_s3_error(r.error()));
            }
        } else {
            m_pending += data;
        }
        return took(std::string_view(m_pending).substr(before));
    }

    // Counts and hashes `added` decoded bytes; the last of them are checked.
    bool took(std::string_view added)
    {
        m_decoded += added.size();
        if (m_decoded > m_spec.decoded_length) {
            return fail({400, "IncompleteBody", "The request body is longer than its declared length."});
        }
        if (m_sha) {
            m_sha->update(added);
        }
        if (m_md5) {
            m_md5->update(added);
        }
        if (m_check) {
            m_check->update(added);
        }
        blake3_hasher_update(&m_b3, added.data(), added.size());
        if (m_decoded == m_spec.decoded_length) {
            return finalize();
        }
        return true;
    }

    // The whole payload is in: check it before its last bytes leave.
    bool finalize()
    {
        if (m_verified) {
            return true;
        }
        if (m_decoded != m_spec.decoded_length) {
            if (m_framing_done) {
                return fail({400, "IncompleteBody", "The request body ended before its declared length."});
            }
            return true;
        }
        if (m_aws) {
            if (!m_aws->complete()) {
                if (m_framing_done) {
                    return fail({400, "IncompleteBody", "The aws-chunked body ended without its final chunk."});
                }
                return true; // its last byte waits for the trailer
            }
            if (auto r = m_aws->finish(); !r) {
                return fail(to_s3_error(r.error()));
            }
        }
        if (m_sha && sigv4::hex(m_sha->raw_digest()) != to_lower(m_spec.sha256)) {
            return fail({400, "XAmzContentSHA256Mismatch",
                         "The provided 'x-amz-content-sha256' header does not match what was computed."});
        }
        if (m_check && m_check->finish_base64() != m_spec.header_checksum->value) {
            return fail({400, "BadDigest",
                         fmt::format("The {} you specified did not match the calculated checksum.",
                                     checksum_label(m_spec.header_checksum->algorithm))});
        }
        if (m_md5 && m_md5->raw_digest() != m_spec.content_md5) {
            return fail(s3::bad_digest());
        }
        m_verified = true;
        return true;
    }

    bool fail(S3Error e)
    {
        m_error = std::move(e);
        return false;
    }

    Conn& m_conn;
    const BodySpec& m_spec;
    FrontMetrics& m_metrics;
    std::uint64_t m_raw_left;
    ChunkedBodyDecoder m_chunked;
    std::unique_ptr<AwsChunkedDecoder> m_aws;
    std::unique_ptr<Digest> m_sha;
    std::unique_ptr<Digest> m_md5;     // of content_md5
    std::unique_ptr<Checksum> m_check; // of header_checksum's algorithm
    blake3_hasher m_b3{};
    std::string m_pending;
    std::size_t m_pending_pos = 0;
    std::uint64_t m_decoded = 0;
    std::uint64_t m_delivered = 0;
    bool m_framing_done = false;
    bool m_verified = false;
    std::optional<S3Error> m_error;
};

struct Response {
    unsigned status = 200;
    std::vector<Header> headers;
    std::string body;
    std::string content_type = "application/xml";
};

} // namespace

// --- pure pieces -----------------------------------------------------------------

std::string_view front_op_name(FrontOp op)
{
    switch (op) {
    case FrontOp::list_buckets: return "ListBuckets";
    case FrontOp::create_bucket: return "CreateBucket";
    case FrontOp::head_bucket: return "HeadBucket";
    case FrontOp::delete_bucket: return "DeleteBucket";
    case FrontOp::get_bucket_location: return "GetBucketLocation";
    case FrontOp::list_objects: return "ListObjects";
    case FrontOp::list_uploads: return "ListMultipartUploads";
    case FrontOp::delete_objects: return "DeleteObjects";
    case FrontOp::put_object: return "PutObject";
    case FrontOp::copy_object: return "CopyObject";
    case FrontOp::get_object: return "GetObject";
    case FrontOp::head_object: return "HeadObject";
    case FrontOp::delete_object: return "DeleteObject";
    case FrontOp::create_upload: return "CreateMultipartUpload";
    case FrontOp::upload_part: return "UploadPart";
    case FrontOp::complete_upload: return "CompleteMultipartUpload";
    case FrontOp::abort_upload: return "AbortMultipartUpload";
    case FrontOp::list_parts: return "ListParts";
    case FrontOp::unsupported: return "Unsupported";
    }
    return "Unsupported";
}

FrontOp classify_request(std::string_view method, std::string_view bucket, std::string_view key,
                         const std::vector<sigv4::QueryParam>& params)
{
    const auto has = [&](std::string_view name) {
        return std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.name == name; });
    };
    if (bucket.empty()) {
        return method == "GET" ? FrontOp::list_buckets : FrontOp::unsupported;
    }
    if (key.empty()) {
        // Bucket sub-resources the gateway does not keep (acl, policy,
        // versioning, ...) are refused rather than mistaken for a listing.
        static constexpr std::string_view known[] = {
            "list-type",          "prefix",      "delimiter",   "marker", "max-keys", "encoding-type",
            "continuation-token", "start-after", "fetch-owner", "x-id"};
        const bool plain = std::all_of(params.begin(), params.end(), [&](const auto& p) {
            return std::find(std::begin(known), std::end(known), p.name) != std::end(known)
                   || p.name.rfind("X-Amz-", 0) == 0 || p.name == "AWSAccessKeyId" || p.name == "Signature"
                   || p.name == "Expires";
        });
        if (method == "GET" && has("uploads")) {
            return FrontOp::list_uploads;
        }
        if (method == "GET" && has("location")) {
            return FrontOp::get_bucket_location;
        }
        if (method == "POST" && has("delete")) {
            return FrontOp::delete_objects;
        }
        if (!plain) {
            return FrontOp::unsupported;
        }
        if (method == "GET") {
            return FrontOp::list_objects;
        }
        if (method == "PUT") {
            return FrontOp::create_bucket;
        }
        if (method == "HEAD") {
            return FrontOp::head_bucket;
        }
        if (method == "DELETE") {
            return FrontOp::delete_bucket;
        }
        return FrontOp::unsupported;
    }
    const bool upload = has("uploadId");
    FrontOp op = FrontOp::unsupported;
    // The parameters `op` reads besides the signature's and x-id.
    std::vector<std::string_view> reads;
    if (method == "POST" && has("uploads")) {
        op = FrontOp::create_upload;
        reads = {"uploads"};
    } else if (method == "POST" && upload) {
        op = FrontOp::complete_upload;
        reads = {"uploadId"};
    } else if (method == "PUT" && upload && has("partNumber")) {
        op = FrontOp::upload_part;
        reads = {"uploadId", "partNumber"};
    } else if (method == "DELETE" && upload) {
        op = FrontOp::abort_upload;
        reads = {"uploadId"};
    } else if (method == "GET" && upload) {
        op = FrontOp::list_parts;
        reads = {"uploadId", "max-parts", "part-number-marker", "encoding-type"};
    } else if (method == "PUT") {
        op = FrontOp::put_object;
    } else if (method == "GET" || method == "HEAD") {
        op = method == "GET" ? FrontOp::get_object : FrontOp::head_object;
        reads = {"versionId",
                 "partNumber",
                 "response-content-type",
                 "response-content-disposition",
                 "response-content-encoding",
                 "response-content-language",
                 "response-cache-control",
                 "response-expires"};
    } else if (method == "DELETE") {
        op = FrontOp::delete_object;
        reads = {"versionId"};
    }
    const bool plain = std::all_of(params.begin(), params.end(), [&](const auto& p) {
        if (p.name == "versionId") {
            // Only the null version (every object of an unversioned bucket) is kept.
            return p.value == "null" && std::find(reads.begin(), reads.end(), p.name) != reads.end();
        }
        return std::find(reads.begin(), reads.end(), p.name) != reads.end() || p.name == "x-id"
               || p.name.rfind("X-Amz-", 0) == 0 || p.name == "AWSAccessKeyId" || p.name == "Signature"
               || p.name == "Expires";
    });
    return plain ? op : FrontOp::unsupported;
}

std::optional<CopySource> parse_copy_source(std::string_view value)
{
    // The query is cut before decoding: an encoded '?' belongs to the key.
    std::string_view v = sigv4::trim_blanks(value);
    std::optional<std::string> version_id;
    if (const auto q = v.find('?'); q != std::string_view::npos) {
        const std::string_view query = v.substr(q + 1);
        if (query.substr(0, 10) != "versionId=") {
            return std::nullopt;
        }
        version_id = sigv4::percent_decode(query.substr(10));
        if (!version_id) {
            return std::nullopt;
        }
        v = v.substr(0, q);
    }
    auto decoded = sigv4::percent_decode(v);
    if (!decoded) {
        return std::nullopt;
    }
    std::string_view d = *decoded;
    if (!d.empty() && d.front() == '/') {
        d.remove_prefix(1);
    }
    const auto slash = d.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == d.size()) {
        return std::nullopt;
    }
    return CopySource{std::string(d.substr(0, slash)), std::string(d.substr(slash + 1)), std::move(version_id)};
}

tl::expected<ByteRange, S3Error> parse_copy_source_range(std::optional<std::string_view> value, std::uint64_t size)
{
    if (!value) {
        return size == 0 ? ByteRange{0, std::nullopt} : ByteRange{0, size - 1};
    }
    const S3Error invalid{400, "InvalidArgument",
                          fmt::format("Range specified is not valid for source object of size: {}", size)};
    const std::string_view v = sigv4::trim_blanks(*value);
    if (v.substr(0, 6) != "bytes=") {
        return tl::unexpected(invalid);
    }
    const std::string_view spec = v.substr(6);
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) {
        return tl::unexpected(invalid);
    }
    const auto first = parse_decimal(spec.substr(0, dash));
    const auto last = parse_decimal(spec.substr(dash + 1));
    if (!first || !last || *first > *last || *last >= size) {
        return tl::unexpected(invalid);
    }
    return ByteRange{*first, *last};
}

std::optional<MetadataDirective> parse_metadata_directive(std::optional<std::string_view> value)
{
    if (!value) {
        return MetadataDirective::copy;
    }
    const std::string_view v = sigv4::trim_blanks(*value);
    if (v == "COPY") {
        return MetadataDirective::copy;
    }
    if (v == "REPLACE") {
        return MetadataDirective::replace;
    }
    return std::nullopt;
}

std::optional<std::string> virtual_host_bucket(std::string_view host, std::string_view suffix)
{
    host = sigv4::trim_blanks(host);
    if (suffix.empty() || host.empty() || host.front() == '[') {
        return std::nullopt; // no suffix configured, or an IPv6 literal
    }
    if (const auto colon = host.rfind(':'); colon != std::string_view::npos) {
        host = host.substr(0, colon);
    }
    if (!host.empty() && host.back() == '.') {
        host.remove_suffix(1); // a fully qualified name
    }
    const std::string h = to_lower(host);
    const std::string tail = "." + to_lower(suffix);
    if (h.size() <= tail.size() || h.compare(h.size() - tail.size(), tail.size(), tail) != 0) {
        return std::nullopt;
    }
    return h.substr(0, h.size() - tail.size());
}

tl::expected<std::optional<ByteRange>, S3Error> parse_range(std::optional<std::string_view> value, std::uint64_t size)
{
    if (!value) {
        return std::optional<ByteRange>();
    }
    std::string_view v = sigv4::trim_blanks(*value);
    if (v.substr(0, 6) != "bytes=" || v.find(',') != std::string_view::npos) {
        return std::optional<ByteRange>(); // another unit or several ranges: the whole object, as S3 does
    }
    v.remove_prefix(6);
    const auto dash = v.find('-');
    if (dash == std::string_view::npos) {
        return std::optional<ByteRange>();
    }
    const auto first_text = sigv4::trim_blanks(v.substr(0, dash));
    const auto last_text = sigv4::trim_blanks(v.substr(dash + 1));
    const S3Error invalid{416, "InvalidRange", "The requested range is not satisfiable."};
    ByteRange r;
    if (first_text.empty()) {
        const auto suffix = parse_decimal(last_text);
        if (!suffix) {
            return std::optional<ByteRange>();
        }
        if (*suffix == 0 || size == 0) {
            return tl::unexpected(invalid);
        }
        r.first = *suffix >= size ? 0 : size - *suffix;
        r.last = size - 1;
        return std::optional<ByteRange>(r);
    }
    const auto first = parse_decimal(first_text);
    if (!first) {
        return std::optional<ByteRange>();
    }
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!last_text.empty()) {
        const auto l = parse_decimal(last_text);
        if (!l || *l < *first) {
            return std::optional<ByteRange>(); // a syntactically invalid range is ignored
        }
        last = std::min(last, *l);
    }
    if (*first >= size) {
        return tl::unexpected(invalid);
    }
    r.first = *first;
    r.last = last;
    return std::optional<ByteRange>(r);
}

tl::expected<std::optional<int>, S3Error> parse_part_number(std::optional<std::string_view> value)
{
    if (!value) {
        return std::optional<int>();
    }
    const auto n = parse_decimal(*value);
    if (!n || *n < 1 || *n > 10000) {
        return tl::unexpected(
            S3Error{400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive"});
    }
    return std::optional<int>(static_cast<int>(*n));
}

tl::expected<PartSpan, S3Error> locate_part(const ObjectRecord& o, const std::vector<PartRecord>& parts, int number)
{
    const S3Error no_part{416, "InvalidPartNumber", "The requested partnumber is not satisfiable"};
    if (!o.parts_count) {
        return tl::unexpected(s3::not_implemented(
            "partNumber on an object whose part sizes the gateway does not know (found by sync, or completed by an "
            "older roar-proxy); read it with a Range"));
    }
    if (*o.parts_count == 0) {
        if (number != 1) {
            return tl::unexpected(no_part);
        }
        return PartSpan{0, o.size, std::nullopt};
    }
    std::uint64_t first = 0;
    for (const auto& p : parts) {
        if (p.number == number) {
            if (first + p.size > o.size || parts.size() != *o.parts_count) {
                return tl::unexpected(s3::internal_error(
                    fmt::format("the recorded parts of {} do not add up to its {} bytes", o.key, o.size)));
            }
            return PartSpan{first, p.size, o.parts_count};
        }
        first += p.size;
    }
    return tl::unexpected(no_part);
}

namespace {

// An If-Modified-Since/If-Unmodified-Since `value` in seconds since the
// epoch; nullopt when it does not parse (the header is then ignored).
std::optional<std::int64_t> condition_seconds(std::optional<std::string_view> value)
{
    if (!value) {
        return std::nullopt;
    }
    const auto t = sigv2::parse_http_date(*value);
    if (!t) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

} // namespace

ReadVerdict evaluate_read_conditions(const ReadConditions& c, std::string_view etag, Millis last_modified)
{
    const std::int64_t modified = last_modified / 1000;
    if (c.if_match) {
        if (!etag_list_matches(*c.if_match, etag)) {
            return {ReadDecision::precondition_failed, "If-Match"};
        }
    } else if (const auto since = condition_seconds(c.if_unmodified_since); since && modified > *since) {
        return {ReadDecision::precondition_failed, "If-Unmodified-Since"};
    }
    if (c.if_none_match) {
        if (etag_list_matches(*c.if_none_match, etag)) {
            return {ReadDecision::not_modified, "If-None-Match"};
        }
    } else if (const auto since = condition_seconds(c.if_modified_since); since && modified <= *since) {
        return {ReadDecision::not_modified, "If-Modified-Since"};
    }
    return {};
}

tl::expected<WriteCondition, S3Error> parse_write_condition(std::optional<std::string_view> if_match,
                                                            std::optional<std::string_view> if_none_match)
{
    WriteCondition c;
    if (if_none_match) {
        if (sigv4::trim_blanks(*if_none_match) != "*") {
            return tl::unexpected(s3::not_implemented("If-None-Match other than * on a write"));
        }
        c.if_none_match_any = true;
    }
    if (if_match) {
        c.if_match = std::string(sigv4::trim_blanks(*if_match));
    }
    return c;
}

std::optional<S3Error> refused_object_header(FrontOp op, const RequestHead& head)
{
    const bool write = op == FrontOp::put_object || op == FrontOp::copy_object || op == FrontOp::create_upload;
    const bool object_bytes = write || op == FrontOp::get_object || op == FrontOp::head_object
                              || op == FrontOp::upload_part || op == FrontOp::complete_upload;
    const bool copy = op == FrontOp::copy_object || (op == FrontOp::upload_part && head.header("x-amz-copy-source"));
    const auto starts = [](std::string_view name, std::string_view prefix) { return name.rfind(prefix, 0) == 0; };
    for (const auto& [raw_name, raw_value] : head.headers) {
        const std::string name = to_lower(raw_name);
        const std::string_view value = sigv4::trim_blanks(raw_value);
        if (object_bytes && starts(name, "x-amz-server-side-encryption-customer-")) {
            return s3::not_implemented(name + " (SSE-C: objects are not encrypted with a customer key)");
        }
        if (copy && starts(name, "x-amz-copy-source-server-side-encryption-customer-")) {
            return s3::not_implemented(name + " (SSE-C: objects are not encrypted with a customer key)");
        }
        if (!write) {
            continue;
        }
        if (name == "x-amz-server-side-encryption") {
            return s3::not_implemented(
                fmt::format("x-amz-server-side-encryption {} (objects are not encrypted by the gateway)", value));
        }
        if (starts(name, "x-amz-server-side-encryption-")) {
            return s3::not_implemented(name + " (objects are not encrypted by the gateway)");
        }
        if (starts(name, "x-amz-object-lock-")) {
            return s3::not_implemented(name + " (object lock is not kept)");
        }
        if (name == "x-amz-website-redirect-location") {
            return s3::not_implemented(name + " (website redirects are not kept)");
        }
        if (starts(name, "x-amz-grant-")) {
            return s3::not_implemented(name + " (ACLs are not kept: every object is private)");
        }
        // Every object is its tenant's alone: "bucket-owner-full-control"
        // (which tools send when writing to another account's bucket)
        // means the same here.
        if (name == "x-amz-acl" && value != "private" && value != "bucket-owner-full-control") {
            return s3::not_implemented(fmt::format("x-amz-acl {} (ACLs are not kept: every object is private)", value));
        }
        if (name == "x-amz-tagging") {
            return s3::not_implemented("x-amz-tagging (object tags are not kept)");
        }
        if (name == "x-amz-tagging-directive" && value != "COPY") {
            return s3::not_implemented(fmt::format("x-amz-tagging-directive {} (object tags are not kept)", value));
        }
        if (name == "x-amz-storage-class" && value != "STANDARD") {
            return s3::not_implemented(fmt::format("x-amz-storage-class {} (every object is STANDARD)", value));
        }
    }
    return std::nullopt;
}

tl::expected<std::string, S3Error> parse_content_md5(std::optional<std::string_view> value)
{
    if (!value) {
        return std::string();
    }
    const std::string_view v = sigv4::trim_blanks(*value);
    // base64 of 16 bytes: 22 characters and "==".
    if (v.size() != 24 || v.substr(22) != "==") {
        return tl::unexpected(s3::invalid_digest());
    }
    unsigned char out[18];
    if (EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(v.data()), static_cast<int>(v.size())) != 18) {
        return tl::unexpected(s3::invalid_digest());
    }
    return std::string(reinterpret_cast<const char*>(out), 16);
}

// --- the server ------------------------------------------------------------------------

struct GatewayServer::Impl {
    GatewayConfig config;
    FrontOptions options;
    std::unique_ptr<MetadataStore> store;
    std::optional<SecretBox> box;
    std::vector<std::unique_ptr<BackendClient>> clients;
    BackendSet backends;
    std::unique_ptr<AdminApi> admin;
    FrontMetrics metrics;
    int listen_fd = -1;
    std::uint16_t port = 0;
    std::atomic<bool> stopping{false};
    std::mutex mutex; // with cv: stopping, the drain, the background sweep's sleep
    std::condition_variable cv;
    std::vector<std::thread> workers; // background: replication, the stale-upload sweep

    // The front (run()): connections wait for a request in `epoll_fd`, each
    // armed one-shot; a thread of the pool takes a ready one, reads what
    // has arrived and, once the head is whole, serves the request.
    int epoll_fd = -1;
    std::mutex listen_mutex; // accepting, and closing the listener
    std::mutex clients_mutex;
    std::unordered_map<std::uint64_t, std::shared_ptr<FrontClient>> front_clients;
    std::uint64_t last_client_id = 0;
    std::atomic<unsigned> serving{0}; // requests being served
    std::atomic<unsigned> waiting{0}; // pool threads waiting in epoll_wait
    int sweep_fd = -1;                // timerfd: the sweep, once a second
    int stop_fd = -1;                 // eventfd: readable once stop() was called
    std::mutex pool_mutex;
    std::vector<std::thread> pool;
    std::vector<std::thread> retired; // pool threads that ended when idle, to be joined
    std::atomic<std::size_t> pool_size{0};

    ~Impl()
    {
        if (listen_fd >= 0) {
            ::close(listen_fd);
        }
        for (int fd : {epoll_fd, sweep_fd, stop_fd}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }

    Millis ttl() const
    {
        return std::chrono::duration_cast<std::chrono::milliseconds>(config.metadata.reservation_ttl).count();
    }
    Millis delete_at(Millis now) const
    {
        return now + std::chrono::duration_cast<std::chrono::milliseconds>(config.replication.delete_grace).count();
    }

    bool serve_request(Conn& conn);
    void start_background();

    void pool_thread();
    bool retire_idle_thread();
    void add_pool_thread();
    void join_retired();
    void accept_waiting();
    void take_ready(FrontClient& client);
    void wait_for_request(FrontClient& client);
    void forget(const FrontClient& client);
    void sweep(std::int64_t now);
};

namespace {

// Everything one request needs while it is served.
struct Exchange {
    GatewayServer::Impl& g;
    Conn& conn;
    const ParsedHead& parsed;
    const RequestHead& head;
    std::string request_id;
    std::string path; // decoded
    std::string bucket;
    std::string key;
    std::vector<sigv4::QueryParam> params;
    FrontOp op = FrontOp::unsupported;
    BodySpec body;
    bool body_consumed = false;
    bool close_after = false;
    bool response_started = false;
    std::optional<Caller> caller;

    std::optional<std::string> param(std::string_view name) const
    {
        for (const auto& p : params) {
            if (p.name == name) {
                return p.value;
            }
        }
        return std::nullopt;
    }

    // The bytes send() writes for `r`: its head, and its body unless the
    // request is a HEAD.
    std::string render(const Response& r) const
    {
        std::string out = fmt::format("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
        out += "x-amz-request-id: " + request_id + "\r\n";
        out += "Date: " + http_date(now_millis()) + "\r\n";
        out += "Server: roar-gateway\r\n";
        bool has_length = false;
        for (const auto& [n, v] : r.headers) {
            out += n + ": " + v + "\r\n";
            has_length = has_length || iequals(n, "content-length");
        }
        if (!has_length) {
            out += fmt::format("Content-Length: {}\r\n", r.body.size());
        }
        if (!r.body.empty()) {
            out += "Content-Type: " + r.content_type + "\r\n";
        }
        if (close_after || !parsed.keep_alive) {
            out += "Connection: close\r\n";
        }
        out += "\r\n";
        if (head.method != "HEAD") {
            out += r.body;
        }
        return out;
    }

    bool send(const Response& r)
    {
        response_started = true;
        return conn.write_all(render(r));
    }

    Response error(const S3Error& e) const
    {
        Response r;
        r.status = e.status;
        r.body = error_xml(e, path, request_id);
        return r;
    }
};

std::optional<std::string> access_key_of(const RequestHead& head, const std::vector<sigv4::QueryParam>& params)
{
    if (auto auth = head.header("authorization")) {
        const auto v = sigv4::trim_blanks(*auth);
        if (v.substr(0, sigv4::k_algorithm.size()) == sigv4::k_algorithm) {
            if (auto f = sigv4::parse_authorization(v)) {
                return f->credential.access_key;
            }
            return std::nullopt;
        }
        if (v.substr(0, 4) == "AWS ") {
            const auto rest = v.substr(4);
            return std::string(rest.substr(0, rest.find(':')));
        }
        return std::nullopt;
    }
    for (const auto& p : params) {
        if (p.name == "X-Amz-Credential") {
            if (auto c = sigv4::parse_credential(p.value)) {
                return c->access_key;
            }
        }
        if (p.name == "AWSAccessKeyId") {
            return p.value;
        }
    }
    return std::nullopt;
}

// Decides how the body of `x` is framed and verified; an S3 error when it cannot be taken.
std::optional<S3Error> plan_body(Exchange& x, const VerifiedAuth& auth)
{
    BodySpec& b = x.body;
    b.framing = x.parsed.framing;
    b.raw_length = x.parsed.content_length;
    b.decoded_length = b.framing == BodyFraming::Length ? b.raw_length : 0;
    const std::string content_sha(x.head.header("x-amz-content-sha256").value_or(""));
    if (content_sha.rfind("STREAMING-", 0) == 0) {
        if (content_sha != "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" && content_sha != "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
            && content_sha != "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
            return S3Error{400, "InvalidArgument", "Unsupported x-amz-content-sha256 streaming mode."};
        }
        const auto decoded = parse_decimal(x.head.header("x-amz-decoded-content-length").value_or(""));
        if (!decoded) {
            return S3Error{411, "MissingContentLength", "aws-chunked uploads need x-amz-decoded-content-length."};
        }
        b.aws_chunked = true;
        b.decoded_length = *decoded;
        if (content_sha.rfind("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 0) == 0) {
            b.chunk_signing = ChunkSigning{auth.signing_key, auth.amz_date, auth.credential.scope(), auth.signature};
            b.signed_trailer = content_sha.size() > std::string_view("STREAMING-AWS4-HMAC-SHA256-PAYLOAD").size();
        }
        b.trailer = std::string(sigv4::trim_blanks(x.head.header("x-amz-trailer").value_or("")));
        if (!b.trailer.empty()) {
            if (auto declared = parse_declared_trailer(b.trailer); !declared) {
                return to_s3_error(declared.error());
            }
        }
    } else if (b.framing == BodyFraming::Chunked) {
        // A Transfer-Encoding: chunked body without aws-chunked has no
        // length the backend could be told up front.
        return S3Error{411, "MissingContentLength", "You must provide the Content-Length HTTP header."};
    } else if (sigv4::is_hex_sha256(content_sha) && !auth.presigned) {
        b.sha256 = content_sha;
    }
    auto md5 = parse_content_md5(x.head.header("content-md5"));
    if (!md5) {
        return md5.error();
    }
    b.content_md5 = std::move(*md5);
    static constexpr std::string_view k_checksum_prefix = "x-amz-checksum-";
    for (const auto& [name, value] : x.head.headers) {
        // Every request passes here: only a checksum header is copied to lower case.
        if (name.size() < k_checksum_prefix.size()
            || !iequals(std::string_view(name).substr(0, k_checksum_prefix.size()), k_checksum_prefix)) {
            continue;
        }
        const std::string lname = to_lower(name);
        if (lname == "x-amz-checksum-mode" || lname == "x-amz-checksum-algorithm" || lname == "x-amz-checksum-type") {
            continue;
        }
        const auto algorithm = checksum_algorithm(lname);
        if (!algorithm) {
            // A checksum the gateway cannot compute (x-amz-checksum-crc64nvme)
            // is refused, as in a trailer, rather than passed by unchecked.
            return S3Error{400, "InvalidRequest",
                           fmt::format("The gateway cannot verify {}: send a CRC32, CRC32C, SHA-1 or SHA-256 "
                                       "checksum instead.",
                                       lname)};
        }
        if (b.header_checksum) {
            return S3Error{400, "InvalidRequest",
                           "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."};
        }
        const std::string_view v = sigv4::trim_blanks(value);
        if (v.size() != checksum_value_length(*algorithm)) {
            return S3Error{400, "InvalidRequest", fmt::format("Value for {} header is invalid.", lname)};
        }
        b.header_checksum = TrailerChecksum{*algorithm, std::string(v)};
    }
    return std::nullopt;
}

Result<Response> not_implemented(Exchange& x)
{
    return x.error(
        {501, "NotImplemented",
         fmt::format("The gateway does not implement {} {} (see docs/gateway.md).", x.head.method, x.head.raw_path())});
}

// What a request step gives: its value, or the S3 error response to send.
template <typename T> using Answer = tl::expected<T, Response>;

// GW_ANSWER(var, expr): `expr` is a Result<Answer<T>>; returns its metadata
// error or its response, else binds its value to `var`.
#define GW_ANSWER(var, expr)                                                                                           \
    auto var##_r = (expr);                                                                                             \
    if (!var##_r) {                                                                                                    \
        return tl::unexpected(var##_r.error());                                                                        \
    }                                                                                                                  \
    if (!*var##_r) {                                                                                                   \
        return std::move(*var##_r).error();                                                                            \
    }                                                                                                                  \
    auto& var = **var##_r;

// The policy of the caller's bucket `bucket`, or the S3 error response to send.
Result<Answer<BucketPolicy>> bucket_policy(Exchange& x, const std::string& bucket)
{
    auto p = lookup_bucket_policy(*x.g.store, x.g.config, BucketRef{x.caller->tenant, bucket});
    if (!p) {
        return tl::unexpected(p.error());
    }
    if (!*p) {
        return Answer<BucketPolicy>(tl::unexpected(x.error(s3::no_such_bucket(bucket))));
    }
    return Answer<BucketPolicy>(std::move(**p));
}

#define GW_POLICY(var) GW_ANSWER(var, bucket_policy(x, x.bucket))

#define GW_TRYR(var, expr)                                                                                             \
    auto var = (expr);                                                                                                 \
    if (!var) {                                                                                                        \
        return tl::unexpected(std::move(var).error());                                                                 \
    }

PutOptions put_options(const Exchange& x)
{
    PutOptions o;
    o.content_type = std::string(x.head.header("content-type").value_or("binary/octet-stream"));
    for (const auto& [n, v] : x.head.headers) {
        const auto ln = to_lower(n);
        if (ln.rfind("x-amz-meta-", 0) == 0) {
            o.meta.emplace_back(ln.substr(11), v);
        }
    }
    return o;
}

// The standard headers S3 keeps with an object and gives back on GET and
// HEAD (Content-Type aside, which has its own column), as S3 writes them.
constexpr std::string_view k_object_header_names[] = {"Cache-Control", "Content-Disposition", "Content-Encoding",
                                                      "Content-Language", "Expires"};

// Content-Encoding without the aws-chunked coding, which is the request's
// framing and not the object's (S3 drops it too).
std::string object_content_encoding(std::string_view value)
{
    std::string out;
    while (!value.empty()) {
        const auto comma = value.find(',');
        const std::string_view coding = sigv4::trim_blanks(value.substr(0, comma));
        if (!coding.empty() && !iequals(coding, "aws-chunked")) {
            out += out.empty() ? "" : ", ";
            out += coding;
        }
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
    }
    return out;
}

// The standard object headers (k_object_header_names) of the request of
// `x`, for the metadata to keep.
std::vector<Header> object_headers_of(const Exchange& x)
{
    std::vector<Header> out;
    for (const std::string_view name : k_object_header_names) {
        const auto v = x.head.header(name);
        if (!v) {
            continue;
        }
        std::string value(sigv4::trim_blanks(*v));
        if (name == "Content-Encoding") {
            value = object_content_encoding(value);
        }
        if (!value.empty()) {
            out.emplace_back(std::string(name), std::move(value));
        }
    }
    return out;
}

// The write condition of the request of `x` (If-Match, If-None-Match).
tl::expected<WriteCondition, S3Error> write_condition_of(const Exchange& x)
{
    return parse_write_condition(x.head.header("if-match"), x.head.header("if-none-match"));
}

// The S3 error for write condition `c` found `check` (not met).
S3Error condition_error(const Exchange& x, const WriteCondition& c, ConditionCheck check)
{
    if (check == ConditionCheck::no_object) {
        return s3::no_such_key(x.key);
    }
    return s3::precondition_failed(c.if_match ? "If-Match" : "If-None-Match");
}

// Checks write condition `c` against the current object of the key of `x`
// in `policy` before any byte moves (the store checks it again when it
// commits); the S3 error when it does not hold.
Result<std::optional<S3Error>> precheck_write(Exchange& x, const BucketPolicy& policy, const WriteCondition& c)
{
    if (!c.any()) {
        return std::optional<S3Error>();
    }
    GW_TRYR(current, x.g.store->find_object(policy.bucket, x.key));
    const ConditionCheck check = check_write_condition(c, current->has_value() ? &**current : nullptr);
    if (check == ConditionCheck::met) {
        return std::optional<S3Error>();
    }
    return std::optional<S3Error>(condition_error(x, c, check));
}

// Answers 100 Continue when the client waits for it (after every check
// that could refuse the request, before the body is read).
bool continue_if_asked(Exchange& x)
{
    if (x.parsed.expect_continue) {
        return x.conn.write_all("HTTP/1.1 100 Continue\r\n\r\n");
    }
    return true;
}

Result<Response> do_list_buckets(Exchange& x)
{
    std::vector<s3::BucketEntry> out;
    for (const auto& b : x.g.config.buckets) {
        const std::string& owner = b.tenant.empty() ? x.g.config.auth.tenant : b.tenant;
        if (owner == x.caller->tenant) {
            GW_TRYR(seen, x.g.store->setting(bucket_first_seen_setting({owner, b.name})));
            const auto since = parse_decimal(seen->value_or(""));
            out.push_back({b.name, static_cast<Millis>(since.value_or(0))});
        }
    }
    GW_TRYR(ns, x.g.store->list_namespaces(x.caller->tenant));
    for (const auto& n : *ns) {
        out.push_back({n.bucket.bucket, n.created_at});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    Response r;
    r.body = s3::list_buckets_xml(out);
    return r;
}

// The whole body of an S3 call that carries a small XML document (`call`:
// CreateBucket, Delete, CompleteMultipartUpload), at most k_max_small_body;
// nullopt with `refusal` set to the S3 error to answer.
std::optional<std::string> read_small_body(Exchange& x, const char* call, Response& refusal)
{
    if (x.body.decoded_length > k_max_small_body) {
        refusal = x.error({400, "MaxMessageLengthExceeded", fmt::format("The {} body is too large.", call)});
        return std::nullopt;
    }
    BodyReader reader(x.conn, x.body, x.g.metrics);
    auto text = continue_if_asked(x) ? reader.read_all() : std::nullopt;
    if (!text || !reader.finish_framing()) {
        x.close_after = true;
        refusal = x.error(reader.error().value_or(S3Error{400, "IncompleteBody", "The request body was not read."}));
        return std::nullopt;
    }
    x.body_consumed = true;
    return text;
}

Result<Response> do_create_bucket(Exchange& x)
{
    Response refusal;
    if (!read_small_body(x, "CreateBucket", refusal)) {
        return refusal;
    }
    const BucketRef ref{x.caller->tenant, x.bucket};
    if (x.g.config.bucket(ref.tenant, ref.bucket)) {
        return Response{}; // a configured bucket exists already, and is the caller's
    }
    if (!valid_bucket_name(x.bucket)) {
        return x.error({400, "InvalidBucketName", "The specified bucket is not valid."});
    }
    GW_TRYR(existing, x.g.store->find_namespace(ref));
    if (*existing) {
        return x.error({409, "BucketAlreadyOwnedByYou",
                        "Your previous request to create the named bucket succeeded and you already own it."});
    }
    if (!x.g.config.tenant_settings(ref.tenant).create_buckets) {
        return x.error({403, "AccessDenied", "Tenant " + ref.tenant + " may not create buckets."});
    }
    auto policy = resolve_bucket_policy(x.g.config, ref, std::nullopt);
    if (!policy) {
        return x.error({400, "InvalidRequest", policy.error().message});
    }
    const std::string backend_bucket = namespace_bucket_name(x.g.config.namespace_prefix, ref.tenant, ref.bucket);
    unsigned made = 0;
    for (const auto& name : policy->backends) {
        ObjectBackend* io = x.g.backends.io(name);
        if (!io) {
            continue;
        }
        if (auto r = io->create_bucket(backend_bucket); r) {
            ++made;
        } else {
            log_warn("gateway: creating backend bucket {} on {}: {}", backend_bucket, name, r.error().describe());
        }
    }
    if (made == 0) {
        return x.error(s3::service_unavailable("no backend of the bucket's policy could create its backend bucket"));
    }
    GW_TRYR(bound, x.g.store->bind_namespace(ref, backend_bucket, now_millis()));
    Response r;
    r.headers.emplace_back("Location", "/" + x.bucket);
    return r;
}

Result<Response> do_head_bucket(Exchange& x)
{
    GW_POLICY(policy);
    (void)policy;
    Response r;
    r.headers.emplace_back("x-amz-bucket-region", "us-east-1");
    return r;
}

Result<Response> do_bucket_location(Exchange& x)
{
    GW_POLICY(policy);
    (void)policy;
    Response r;
    r.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></LocationConstraint>";
    return r;
}

Result<Response> do_delete_bucket(Exchange& x)
{
    GW_POLICY(policy);
    const BucketRef ref{x.caller->tenant, x.bucket};
    if (policy.mode == NamespaceMode::direct) {
        return x.error({400, "InvalidRequest", "Buckets from the gateway configuration cannot be deleted."});
    }
    GW_TRYR(objs, x.g.store->list_objects(ref, "", "", 1));
    GW_TRYR(ups, x.g.store->list_uploads(ref, "", "", "", 1));
    if (!objs->empty() || !ups->empty()) {
        return x.error({409, "BucketNotEmpty", "The bucket you tried to delete is not empty."});
    }
    GW_TRYR(removed, x.g.store->remove_namespace(ref));
    Response r;
    r.status = 204;
    return r;
}

Result<Response> do_list_objects(Exchange& x)
{
    GW_POLICY(policy);
    auto req = parse_list_request(x.params);
    if (!req) {
        return x.error(req.error());
    }
    const BucketRef ref = policy.bucket;
    MetadataStore& store = *x.g.store;
    const KeyFetch fetch = [&](std::string_view prefix, std::string_view after,
                               std::size_t limit) -> Result<std::vector<ListEntry>> {
        GW_TRYR(objs, store.list_objects(ref, prefix, after, limit));
        std::vector<ListEntry> out;
        out.reserve(objs->size());
        for (auto& o : *objs) {
            out.push_back({std::move(o.key), o.size, std::move(o.etag), o.last_modified});
        }
        return out;
    };
    auto page = list_objects_page(*req, fetch);
    if (!page) {
        return x.error(page.error());
    }
    Response r;
    r.body = list_objects_xml(x.bucket, *req, *page);
    return r;
}

Result<Response> do_list_uploads(Exchange& x)
{
    GW_POLICY(policy);
    auto req = parse_upload_list_request(x.params);
    if (!req) {
        return x.error(req.error());
    }
    const BucketRef ref = policy.bucket;
    MetadataStore& store = *x.g.store;
    const UploadFetch fetch = [&](std::string_view prefix, std::string_view km, std::string_view um,
                                  std::size_t limit) { return store.list_uploads(ref, prefix, km, um, limit); };
    auto page = list_uploads_page(*req, fetch);
    if (!page) {
        return x.error(page.error());
    }
    Response r;
    r.body = list_uploads_xml(x.bucket, *req, *page);
    return r;
}

Result<Response> do_delete_objects(Exchange& x)
{
    GW_POLICY(policy);
    Response refusal;
    const auto text = read_small_body(x, "Delete", refusal);
    if (!text) {
        return refusal;
    }
    auto req = s3::parse_delete_objects(*text);
    if (!req) {
        return x.error(req.error());
    }
    std::vector<s3::DeleteOutcome> outcomes;
    const Millis now = now_millis();
    if (req->names_versions) {
        return x.error(s3::not_implemented("DeleteObjects naming a VersionId other than null (versioning)"));
    }
    for (const auto& k : req->keys) {
        auto d = x.g.store->delete_object(policy.bucket, k, now, x.g.delete_at(now));
        outcomes.push_back({k, d ? std::nullopt : std::optional<S3Error>(s3::internal_error(d.error().message))});
    }
    Response r;
    r.body = s3::delete_result_xml(outcomes, req->quiet);
    return r;
}

// Streams the request body of `x` to `at` on `io` as `size` bytes.
BackendResult<std::string> upload_body(Exchange& x, BodyReader& reader, ObjectBackend& io, const Location& at,
                                       std::uint64_t size, const PutOptions& opts, const std::string& upload_id = {},
                                       int part = 0)
{
    const BodySource source = [&](char* buf, std::size_t n) { return reader.read(buf, n); };
    const auto t0 = std::chrono::steady_clock::now();
    auto r = upload_id.empty() ? io.put_object(at.bucket, at.key, size, source, opts)
                               : io.upload_part(at.bucket, at.key, upload_id, part, size, source);
    x.g.metrics.backend(at.backend, r.has_value(),
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return r;
}

// The S3 error for a failed upload: the client's own (a bad body) first.
S3Error upload_error(const BodyReader& reader, const BackendError& e)
{
    if (reader.error()) {
        return *reader.error();
    }
    return s3::service_unavailable("backend: " + e.describe());
}

// An object's new home: the reservation placement made, the chosen
// backend's client and the backend key of version `version`.
struct Placed {
    Reservation res;
    ObjectBackend* io = nullptr;
    Location at;
    std::string version;
};

// Chooses where `size` bytes for the key of `x` in `policy` go (residency
// and quota decide here, before any byte leaves) and reserves them; the S3
// error response when no allowed backend has room.
Result<Answer<Placed>> place_object(Exchange& x, const BucketPolicy& policy, std::uint64_t size)
{
    const Millis now = now_millis();
    Placed p;
    p.version = new_id(now);
    GW_TRYR(reservation, reserve_placement(*x.g.store, policy, size, {}, now, x.g.ttl()));
    if (!*reservation) {
        return Answer<Placed>(tl::unexpected(x.error(s3::insufficient_storage(x.bucket, size))));
    }
    p.res = **reservation;
    const BackendConfig* bcfg = x.g.backends.config(p.res.backend);
    p.io = x.g.backends.io(p.res.backend);
    if (!bcfg || !p.io || !may_store(policy, *bcfg)) {
        GW_TRYR(rel, x.g.store->release(p.res));
        return Answer<Placed>(
            tl::unexpected(x.error(s3::internal_error("placement chose a backend the policy does not allow"))));
    }
    p.at = location_for(policy, *bcfg, x.key, p.version);
    return Answer<Placed>(std::move(p));
}

// A verified flexible checksum as the metadata keeps it (ObjectRecord's
// checksum_header and checksum_value); both empty when there is none.
struct KeptChecksum {
    std::string header;
    std::string value;
};

KeptChecksum kept_checksum(const std::optional<TrailerChecksum>& c)
{
    return c ? KeptChecksum{std::string(c->header()), c->value} : KeptChecksum{};
}

// What an object keeps besides its bytes: content type and user metadata
// (`put`, as the backend got them), the standard headers GET gives back,
// and the condition its write makes current under.
struct ObjectMeta {
    PutOptions put;
    std::vector<Header> object_headers;
    WriteCondition condition;
};

// Records the `size` bytes written at `p` (ETag `etag`, BLAKE3 `blake3`,
// flexible checksum `checksum`, metadata and write condition `meta`) as
// the key of `x` in `policy`: object and copy rows, quota and replication
// job in one transaction; if that fails, or the condition no longer holds
// (the S3 error response then), the bytes are charged and queued for
// removal. Returns the commit time.
Result<Answer<Millis>> commit_placed(Exchange& x, const BucketPolicy& policy, const Placed& p, std::uint64_t size,
                                     const std::string& etag, const std::string& blake3, const KeptChecksum& checksum,
                                     const ObjectMeta& meta)
{
    const PutOptions& opts = meta.put;
    const Millis now = now_millis();
    auto committed = x.g.store->commit_object(NewObject{.bucket = policy.bucket,
                                                        .key = x.key,
                                                        .size = size,
                                                        .etag = etag,
                                                        .blake3 = blake3,
                                                        .content_type = opts.content_type,
                                                        .user_metadata = opts.meta,
                                                        .checksum_header = checksum.header,
                                                        .checksum_value = checksum.value,
                                                        .object_headers = meta.object_headers,
                                                        .version = p.version,
                                                        .location = p.at,
                                                        .reservation = p.res,
                                                        .replicas = policy.replicas,
                                                        .now = now,
                                                        .delete_at = x.g.delete_at(now),
                                                        .condition = meta.condition});
    if (!committed) {
        (void)x.g.store->abandon_copy(p.res, p.at, now);
        return tl::unexpected(committed.error());
    }
    if (committed->condition != ConditionCheck::met) {
        GW_TRYR(ab, x.g.store->abandon_copy(p.res, p.at, now));
        return Answer<Millis>(tl::unexpected(x.error(condition_error(x, meta.condition, committed->condition))));
    }
    return Answer<Millis>(now);
}

Result<Response> do_put_object(Exchange& x)
{
    GW_POLICY(policy);
    if (x.key.size() > max_key_length(policy)) {
        return x.error(s3::key_too_long(max_key_length(policy)));
    }
    const std::uint64_t size = x.body.decoded_length;
    if (size > k_max_object) {
        return x.error({400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size (5 GiB)."});
    }
    const auto condition = write_condition_of(x);
    if (!condition) {
        return x.error(condition.error());
    }
    GW_TRYR(unmet, precheck_write(x, policy, *condition));
    if (*unmet) {
        return x.error(**unmet);
    }
    GW_ANSWER(placed, place_object(x, policy, size));
    if (!continue_if_asked(x)) {
        GW_TRYR(rel, x.g.store->release(placed.res));
        x.close_after = true;
        return x.error(s3::internal_error("client went away"));
    }
    x.body_consumed = true;
    BodyReader reader(x.conn, x.body, x.g.metrics);
    const ObjectMeta meta{put_options(x), object_headers_of(x), *condition};
    auto etag = upload_body(x, reader, *placed.io, placed.at, size, meta.put);
    if (!etag) {
        x.close_after = !reader.complete() || !reader.finish_framing();
        if (etag.error().status == 0 && !reader.error()) {
            // No answer: the backend may hold the bytes; count them and queue their removal.
            GW_TRYR(ab, x.g.store->abandon_copy(placed.res, placed.at, now_millis()));
        } else {
            GW_TRYR(rel, x.g.store->release(placed.res));
        }
        return x.error(upload_error(reader, etag.error()));
    }
    if (!reader.finish_framing()) {
        x.close_after = true;
    }
    const KeptChecksum checksum = kept_checksum(reader.checksum());
    GW_ANSWER(committed, commit_placed(x, policy, placed, size, *etag, reader.blake3_hex(), checksum, meta));
    (void)committed;
    Response r;
    r.headers.emplace_back("ETag", *etag);
    if (!checksum.header.empty()) {
        r.headers.emplace_back(checksum.header, checksum.value); // S3 answers a PUT with the checksum it verified
    }
    return r;
}

// The object an x-amz-copy-source header names, and its bucket's policy.
struct CopySourceObject {
    BucketPolicy policy;
    ObjectRecord object;
};

// The object the x-amz-copy-source of `x` names, looked up as the caller
// (another tenant's bucket of that name is a different bucket, so copies
// never cross tenants); the S3 error response when the header is malformed
// or conditional, or names nothing.
Result<Answer<CopySourceObject>> find_copy_source(Exchange& x)
{
    const auto source = parse_copy_source(x.head.header("x-amz-copy-source").value_or(""));
    if (!source) {
        return Answer<CopySourceObject>(tl::unexpected(x.error(
            {400, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey."})));
    }
    if (source->version_id && *source->version_id != "null") {
        // null is the version id of every object of an unversioned bucket:
        // the current object. Any other names a version the gateway does
        // not keep.
        return Answer<CopySourceObject>(tl::unexpected(x.error(s3::not_implemented(
            "x-amz-copy-source with a versionId other than null (the gateway keeps one version of a key)"))));
    }
    for (const auto& [n, v] : x.head.headers) {
        if (to_lower(n).rfind("x-amz-copy-source-if-", 0) == 0) {
            GW_TRYR(refused, not_implemented(x)); // conditional copies are refused rather than ignored
            return Answer<CopySourceObject>(tl::unexpected(std::move(*refused)));
        }
    }
    GW_TRYR(policy, bucket_policy(x, source->bucket));
    if (!*policy) {
        return Answer<CopySourceObject>(tl::unexpected(std::move(*policy).error()));
    }
    GW_TRYR(found, x.g.store->find_object((*policy)->bucket, source->key));
    if (!*found) {
        return Answer<CopySourceObject>(tl::unexpected(x.error(s3::no_such_key(source->key))));
    }
    return Answer<CopySourceObject>(CopySourceObject{std::move(**policy), std::move(**found)});
}

// One attempt at copying from source copy `from` (on `source`); `backend_copy`
// says whether it is the target backend's own copy call.
template <typename T> using CopyAttempt =
    std::function<BackendResult<T>(ObjectBackend& source, const Location& from, bool backend_copy)>;

// Runs `attempt` for operation `op` over the copies of `src` until one
// succeeds: first (when `backend_copy` allows) with the target backend's own
// copy call on a copy that already lives on `target_backend`, then streamed
// through the gateway from each copy in the source policy's read order.
template <typename T> BackendResult<T> copy_from_copies(Exchange& x, std::string_view op, const CopySourceObject& src,
                                                        const std::string& target_backend, bool backend_copy,
                                                        const CopyAttempt<T>& attempt)
{
    std::optional<BackendError> last_error;
    for (const bool server_side : {true, false}) {
        if (server_side && !backend_copy) {
            continue;
        }
        for (const auto& from : read_order(src.object.copies, src.policy, {})) {
            ObjectBackend* source = x.g.backends.io(from.backend);
            if (!source || (server_side && from.backend != target_backend)) {
                continue;
            }
            const auto t0 = std::chrono::steady_clock::now();
            auto r = attempt(*source, from, server_side);
            x.g.metrics.backend(target_backend, r.has_value(),
                                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            if (r) {
                x.g.metrics.copy(op, target_backend, server_side);
                return r;
            }
            log_warn("gateway: {} {} of {} from {} to {}: {}; trying the next copy", x.request_id, op, src.object.key,
                     from.backend, target_backend, r.error().describe());
            last_error = r.error();
        }
    }
    return tl::unexpected(last_error.value_or(BackendError{0, "NoCopy", "the object has no readable copy"}));
}

Result<Response> do_copy_object(Exchange& x)
{
    const auto directive = parse_metadata_directive(x.head.header("x-amz-metadata-directive"));
    if (!directive) {
        return x.error({400, "InvalidArgument", "Unknown metadata directive."});
    }
    const auto condition = write_condition_of(x);
    if (!condition) {
        return x.error(condition.error());
    }
    GW_ANSWER(src, find_copy_source(x));
    GW_POLICY(policy);
    if (x.key.size() > max_key_length(policy)) {
        return x.error(s3::key_too_long(max_key_length(policy)));
    }
    GW_TRYR(unmet, precheck_write(x, policy, *condition));
    if (*unmet) {
        return x.error(**unmet);
    }
    const ObjectRecord& o = src.object;
    if (src.policy.bucket == policy.bucket && o.key == x.key && *directive == MetadataDirective::copy) {
        return x.error({400, "InvalidRequest",
                        "This copy request is illegal because it is trying to copy an object to itself without "
                        "changing the object's metadata, storage class, website redirect location or encryption "
                        "attributes."});
    }
    GW_ANSWER(placed, place_object(x, policy, o.size));
    ObjectMeta meta;
    meta.condition = *condition;
    if (*directive == MetadataDirective::replace) {
        meta.put = put_options(x);
        meta.object_headers = object_headers_of(x);
    } else {
        meta.put.content_type = o.content_type.empty() ? "binary/octet-stream" : o.content_type;
        meta.put.meta = o.user_metadata;
        meta.object_headers = o.object_headers;
    }
    const PutOptions& opts = meta.put;
    // The backend's CopyObject keeps the source's backend metadata, which is
    // what GetObject returns: only a COPY directive may use it.
    const CopyAttempt<CopyResult> attempt = [&](ObjectBackend& source, const Location& from,
                                                bool backend_copy) -> BackendResult<CopyResult> {
        if (backend_copy) {
            auto etag = placed.io->copy_object(from.bucket, from.key, placed.at.bucket, placed.at.key);
            if (!etag) {
                return tl::unexpected(etag.error());
            }
            return CopyResult{*etag, o.blake3};
        }
        return stream_copy({.source = &source,
                            .from = from,
                            .target = placed.io,
                            .to = placed.at,
                            .size = o.size,
                            .put = opts,
                            .multipart_threshold = x.g.config.replication.multipart_threshold,
                            .part_size = x.g.config.replication.part_size});
    };
    auto copied =
        copy_from_copies(x, "CopyObject", src, placed.res.backend, *directive == MetadataDirective::copy, attempt);
    if (!copied) {
        // A failed or unverified copy may have left bytes at `at`: count them and queue their removal.
        GW_TRYR(ab, x.g.store->abandon_copy(placed.res, placed.at, now_millis()));
        return x.error(s3::service_unavailable("copy: " + copied.error().describe()));
    }
    if (!o.blake3.empty() && !copied->blake3.empty() && copied->blake3 != o.blake3) {
        GW_TRYR(ab, x.g.store->abandon_copy(placed.res, placed.at, now_millis()));
        return x.error(s3::service_unavailable("copy: the bytes read differ from the source's recorded BLAKE3"));
    }
    // The copy has the source's bytes, so it keeps the source's checksum.
    GW_ANSWER(committed, commit_placed(x, policy, placed, o.size, copied->etag, copied->blake3,
                                       KeptChecksum{o.checksum_header, o.checksum_value}, meta));
    Response r;
    r.body = s3::copy_object_xml(copied->etag, committed);
    return r;
}

// The byte range GetObject/HeadObject of object `o` reads: when the request
// names partNumber `part`, that part's in `layout` (o's, from
// object_parts) with o's parts count, else its Range header's (nullopt: the
// whole object); the error to answer otherwise.
struct ReadSpan {
    std::optional<ByteRange> range;
    std::optional<unsigned> parts_count;
    bool empty_part = false; // a part of no bytes: nothing to read from a copy
};

Answer<ReadSpan> read_span(Exchange& x, const ObjectRecord& o, const std::vector<PartRecord>& layout,
                           std::optional<int> part)
{
    using Out = Answer<ReadSpan>;
    if (!part) {
        auto range = parse_range(x.head.header("range"), o.size);
        if (!range) {
            Response r = x.error(range.error());
            r.headers.emplace_back("Content-Range", fmt::format("bytes */{}", o.size));
            return Out(tl::unexpect, std::move(r));
        }
        return Out(ReadSpan{*range, std::nullopt});
    }
    auto span = locate_part(o, layout, *part);
    if (!span) {
        return Out(tl::unexpect, x.error(span.error()));
    }
    if (span->size == 0) {
        return Out(ReadSpan{std::nullopt, span->parts_count, true});
    }
    return Out(ReadSpan{ByteRange{span->first, span->first + span->size - 1}, span->parts_count});
}

Result<Response> do_head_or_get_object(Exchange& x, bool get)
{
    const auto part = parse_part_number(x.param("partNumber"));
    if (!part) {
        return x.error(part.error());
    }
    if (*part && x.head.header("range")) {
        return x.error({400, "InvalidRequest", "Cannot specify both Range header and partNumber query parameter"});
    }
    // The bucket's policy, the object and a part's layout in one read
    // snapshot (the layout is the version's found), over before any backend
    // is asked.
    auto lookups = x.g.store->read_scope();
    GW_POLICY(policy);
    GW_TRYR(found, x.g.store->find_object(policy.bucket, x.key));
    std::vector<PartRecord> layout;
    if (*part && *found && (*found)->parts_count.value_or(0) > 0) {
        GW_TRYR(parts, x.g.store->object_parts((*found)->id));
        layout = std::move(*parts);
    }
    lookups.reset();
    if (!*found) {
        return x.error(s3::no_such_key(x.key));
    }
    const ObjectRecord& o = **found;
    const ReadVerdict verdict =
        evaluate_read_conditions({x.head.header("if-match"), x.head.header("if-none-match"),
                                  x.head.header("if-modified-since"), x.head.header("if-unmodified-since")},
                                 o.etag, o.last_modified);
    if (verdict.decision == ReadDecision::precondition_failed) {
        return x.error(s3::precondition_failed(verdict.condition));
    }
    if (verdict.decision == ReadDecision::not_modified) {
        Response r; // no body, as S3 answers
        r.status = 304;
        r.headers.emplace_back("ETag", o.etag);
        r.headers.emplace_back("Last-Modified", http_date(o.last_modified));
        return r;
    }
    auto spanned = read_span(x, o, layout, *part);
    if (!spanned) {
        return std::move(spanned).error();
    }
    const ReadSpan& span = *spanned;
    const std::optional<ByteRange>& range = span.range;
    // The checksum kept at PUT, when the client asks for it
    // (x-amz-checksum-mode: ENABLED) and reads the whole object: it covers
    // the whole object only, so a ranged read or a part gets none.
    const bool with_checksum =
        !o.checksum_header.empty() && !range && !*part
        && iequals(sigv4::trim_blanks(x.head.header("x-amz-checksum-mode").value_or("")), "ENABLED");
    // The object's standard headers, with the response-* parameters'
    // overrides (a signed request's, as S3 allows).
    std::vector<Header> shown{{"Content-Type", o.content_type.empty() ? "binary/octet-stream" : o.content_type}};
    shown.insert(shown.end(), o.object_headers.begin(), o.object_headers.end());
    static constexpr std::pair<std::string_view, std::string_view> k_overrides[] = {
        {"response-content-type", "Content-Type"},         {"response-content-disposition", "Content-Disposition"},
        {"response-content-encoding", "Content-Encoding"}, {"response-content-language", "Content-Language"},
        {"response-cache-control", "Cache-Control"},       {"response-expires", "Expires"}};
    for (const auto& [param, name] : k_overrides) {
        if (auto v = x.param(param)) {
            std::erase_if(shown, [&](const Header& h) { return h.first == name; });
            shown.emplace_back(std::string(name), std::move(*v));
        }
    }
    const auto base_headers = [&](Response& r) {
        r.headers.emplace_back("ETag", o.etag);
        r.headers.emplace_back("Last-Modified", http_date(o.last_modified));
        r.headers.emplace_back("Accept-Ranges", "bytes");
        r.headers.insert(r.headers.end(), shown.begin(), shown.end());
        if (with_checksum) {
            r.headers.emplace_back(o.checksum_header, o.checksum_value);
        }
        if (span.parts_count) {
            r.headers.emplace_back("x-amz-mp-parts-count", std::to_string(*span.parts_count));
        }
    };
    // A part of no bytes (an empty object's, or a multipart upload's empty
    // last part) is answered from the metadata alone.
    if (!get || span.empty_part) {
        Response r;
        base_headers(r);
        for (const auto& [n, v] : o.user_metadata) {
            r.headers.emplace_back("x-amz-meta-" + n, v);
        }
        std::uint64_t length = span.empty_part ? 0 : o.size;
        if (range) {
            r.status = 206;
            length = *range->last - range->first + 1;
            r.headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", range->first, *range->last, o.size));
        }
        r.headers.emplace_back("Content-Length", std::to_string(length));
        return r;
    }
    GetOptions gopts;
    gopts.range = range;
    std::optional<BackendError> last_error;
    for (const auto& loc : read_order(o.copies, policy, {})) {
        ObjectBackend* io = x.g.backends.io(loc.backend);
        if (!io) {
            continue;
        }
        bool sink_failed = false;
        // The head and the body's pieces are gathered and leave together
        // (k_send_batch at a time): a small object costs the client one
        // wake-up. Bytes not sent yet are dropped when this copy fails, so
        // the next copy starts the response afresh.
        std::string head_out;
        std::uint64_t unsent_body = 0; // body bytes in head_out
        // Sends `bytes`, of which `body` are body bytes, to the client.
        const auto send = [&](std::string_view bytes, std::uint64_t body) {
            x.response_started = true;
            if (!x.conn.write_all(bytes)) {
                sink_failed = true;
                return false;
            }
            x.g.metrics.bytes_out += body;
            return true;
        };
        const auto write_out = [&](std::string& bytes) {
            const bool ok = send(bytes, unsent_body);
            bytes.clear();
            if (ok) {
                unsent_body = 0;
            }
            return ok;
        };
        // A copy changed behind the gateway's back is not served as the
        // recorded object: the next copy is tried.
        std::string changed;
        const HeadCallback on_head = [&](const GetResponse& resp) {
            if (resp.head.size != o.size) {
                changed = fmt::format("the copy holds {} bytes where the record has {}", resp.head.size, o.size);
                return false;
            }
            Response r;
            r.status = resp.status == 206 ? 206 : 200;
            base_headers(r);
            for (const auto& [n, v] : resp.head.meta) {
                if (n != "roar-blake3") {
                    r.headers.emplace_back("x-amz-meta-" + n, v);
                }
            }
            r.headers.emplace_back("Content-Length", std::to_string(resp.content_length));
            if (!resp.content_range.empty()) {
                r.headers.emplace_back("Content-Range", resp.content_range);
            }
            head_out = x.render(r);
            return true;
        };
        const BodySink sink = [&](const char* data, std::size_t n) {
            // Once the response has started (no failover is possible any
            // more), large pieces go to the client straight from curl's
            // buffer instead of through head_out: one copy less per byte.
            if (x.response_started && head_out.empty() && n >= k_io_chunk) {
                return send(std::string_view(data, n), n);
            }
            if (head_out.size() + n > k_io_chunk && head_out.capacity() < k_send_batch) {
                head_out.reserve(k_send_batch + k_io_chunk); // one allocation for a large body
            }
            head_out.append(data, n);
            unsent_body += n;
            return head_out.size() < k_send_batch || write_out(head_out);
        };
        const auto t0 = std::chrono::steady_clock::now();
        auto got = io->get_object(loc.bucket, loc.key, gopts, on_head, sink);
        x.g.metrics.backend(loc.backend, got.has_value(),
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (got) {
            if (!head_out.empty() && !write_out(head_out)) { // the rest (or, for an empty body, the head alone)
                x.close_after = true;
            }
            Response done;
            done.status = got->status;
            return done; // already sent
        }
        if (x.response_started) {
            // The head went out: the client sees a short body; the connection ends.
            x.close_after = true;
            log_warn("gateway: {} GET {}/{} from {} broke after the response started: {}", x.request_id, loc.bucket,
                     loc.key, loc.backend, sink_failed ? "client went away" : got.error().describe());
            Response done;
            done.status = 500;
            return done;
        }
        if (!changed.empty()) {
            got = tl::unexpected(BackendError{0, "BadResponse", changed});
        }
        log_warn("gateway: {} GET {} on {}: {}; trying the next copy", x.request_id, loc.key, loc.backend,
                 got.error().describe());
        last_error = got.error();
    }
    return x.error(s3::service_unavailable(last_error ? "no copy could be read: " + last_error->describe()
                                                      : "the object has no readable copy"));
}

Result<Response> do_delete_object(Exchange& x)
{
    GW_POLICY(policy);
    const Millis now = now_millis();
    GW_TRYR(removed, x.g.store->delete_object(policy.bucket, x.key, now, x.g.delete_at(now)));
    Response r;
    r.status = 204;
    return r;
}

Result<Response> do_create_upload(Exchange& x)
{
    GW_POLICY(policy);
    if (x.key.size() > max_key_length(policy)) {
        return x.error(s3::key_too_long(max_key_length(policy)));
    }
    const Millis now = now_millis();
    GW_TRYR(usage, x.g.store->backend_usage());
    // The object's size is not known yet: prefer a backend with room for
    // at least one full-size part (S3's 5 MiB minimum), in policy order.
    auto candidates = placement_candidates(policy, *usage, k_min_part, {});
    if (candidates.empty()) {
        candidates = placement_candidates(policy, *usage, 1, {});
    }
    if (candidates.empty()) {
        return x.error(s3::insufficient_storage(x.bucket, 1));
    }
    const BackendConfig* bcfg = x.g.backends.config(candidates.front());
    ObjectBackend* io = x.g.backends.io(candidates.front());
    if (!bcfg || !io || !may_store(policy, *bcfg)) {
        return x.error(s3::internal_error("placement chose a backend the policy does not allow"));
    }
    UploadRecord u;
    u.id = new_id(now);
    u.bucket = policy.bucket;
    u.key = x.key;
    u.location = location_for(policy, *bcfg, x.key, new_id(now));
    const PutOptions opts = put_options(x);
    u.content_type = opts.content_type;
    u.user_metadata = opts.meta;
    u.object_headers = object_headers_of(x);
    u.created_at = now;
    auto backend_id = io->create_multipart(u.location.bucket, u.location.key, opts);
    if (!backend_id) {
        return x.error(s3::service_unavailable("backend: " + backend_id.error().describe()));
    }
    u.backend_upload_id = *backend_id;
    GW_TRYR(created, x.g.store->create_upload(u));
    Response r;
    r.body = s3::initiate_multipart_xml(x.bucket, x.key, u.id);
    return r;
}

// The upload the request names, if it belongs to this bucket and key.
Result<std::optional<UploadRecord>> find_upload_of(Exchange& x, const BucketPolicy& policy)
{
    const auto id = x.param("uploadId").value_or("");
    GW_TRYR(u, x.g.store->find_upload(id));
    if (!*u || !((*u)->bucket == policy.bucket) || (*u)->key != x.key) {
        return std::optional<UploadRecord>();
    }
    return *u;
}

// Where a part of upload `u` goes: `size` bytes reserved on the upload's
// backend, and that backend's client.
struct PartSlot {
    Reservation res;
    ObjectBackend* io = nullptr;
};

// Reserves `size` bytes for a part of upload `u` on its pinned backend; the
// S3 error response when that backend has no room or is no longer configured.
Result<Answer<PartSlot>> reserve_part(Exchange& x, const UploadRecord& u, std::uint64_t size)
{
    const Millis now = now_millis();
    GW_TRYR(reservation, x.g.store->reserve(u.location.backend, size, now, now + x.g.ttl()));
    if (!*reservation) {
        return Answer<PartSlot>(tl::unexpected(x.error(s3::insufficient_storage(x.bucket, size))));
    }
    PartSlot slot{**reservation, x.g.backends.io(u.location.backend)};
    if (!slot.io) {
        GW_TRYR(rel, x.g.store->release(slot.res));
        return Answer<PartSlot>(
            tl::unexpected(x.error(s3::internal_error("the upload's backend is no longer configured"))));
    }
    return Answer<PartSlot>(slot);
}

// Records part `number` of upload `u` (`size` bytes, ETag `etag`) made in
// `slot`; the S3 error response (with the bytes released) when the upload
// is gone. Returns the time recorded.
Result<Answer<Millis>> record_part_of(Exchange& x, const UploadRecord& u, int number, std::uint64_t size,
                                      const std::string& etag, const PartSlot& slot)
{
    const Millis now = now_millis();
    GW_TRYR(recorded, x.g.store->record_part(u.id, number, size, etag, slot.res, now));
    if (!*recorded) {
        GW_TRYR(rel, x.g.store->release(slot.res));
        return Answer<Millis>(tl::unexpected(x.error(s3::no_such_upload(u.id))));
    }
    return Answer<Millis>(now);
}

// UploadPartCopy: part `number` of upload `u` made of a range of the
// object x-amz-copy-source names, with the part's size reserved on the
// upload's backend first. When a copy of the source lives on that backend,
// the backend's own UploadPartCopy makes it; otherwise (or when that fails)
// it is streamed from one of the source's copies.
Result<Response> do_upload_part_copy(Exchange& x, const UploadRecord& u, int number)
{
    GW_ANSWER(src, find_copy_source(x));
    const ObjectRecord& o = src.object;
    const auto range = parse_copy_source_range(x.head.header("x-amz-copy-source-range"), o.size);
    if (!range) {
        return x.error(range.error());
    }
    const std::uint64_t size = range->last ? *range->last - range->first + 1 : 0;
    GW_ANSWER(slot, reserve_part(x, u, size));
    const CopyAttempt<std::string> attempt = [&](ObjectBackend& source, const Location& from,
                                                 bool backend_copy) -> BackendResult<std::string> {
        if (backend_copy) {
            return slot.io->upload_part_copy(from.bucket, from.key, *range, u.location.bucket, u.location.key,
                                             u.backend_upload_id, number);
        }
        const CopyRequest req{.source = &source, .from = from, .target = slot.io, .to = u.location, .size = o.size};
        return stream_copy_part(req, range->first, size, u.backend_upload_id, number);
    };
    // An empty part has no byte range to name: it is streamed.
    auto etag = copy_from_copies(x, "UploadPartCopy", src, u.location.backend, size > 0, attempt);
    if (!etag) {
        GW_TRYR(rel, x.g.store->release(slot.res));
        return x.error(s3::service_unavailable("part copy: " + etag.error().describe()));
    }
    GW_ANSWER(when, record_part_of(x, u, number, size, *etag, slot));
    Response r;
    r.body = s3::copy_part_xml(*etag, when);
    return r;
}

Result<Response> do_upload_part(Exchange& x)
{
    GW_POLICY(policy);
    const auto number = parse_decimal(x.param("partNumber").value_or(""));
    if (!number || *number < 1 || *number > 10000) {
        return x.error({400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive."});
    }
    GW_TRYR(up, find_upload_of(x, policy));
    if (!*up) {
        return x.error(s3::no_such_upload(x.param("uploadId").value_or("")));
    }
    const UploadRecord& u = **up;
    if (x.head.header("x-amz-copy-source")) {
        return do_upload_part_copy(x, u, static_cast<int>(*number));
    }
    const std::uint64_t size = x.body.decoded_length;
    if (size > k_max_object) {
        return x.error({400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size (5 GiB)."});
    }
    GW_ANSWER(slot, reserve_part(x, u, size));
    if (!continue_if_asked(x)) {
        GW_TRYR(rel, x.g.store->release(slot.res));
        x.close_after = true;
        return x.error(s3::internal_error("client went away"));
    }
    x.body_consumed = true;
    BodyReader reader(x.conn, x.body, x.g.metrics);
    auto etag = upload_body(x, reader, *slot.io, u.location, size, {}, u.backend_upload_id, static_cast<int>(*number));
    if (!etag) {
        x.close_after = !reader.complete() || !reader.finish_framing();
        GW_TRYR(rel, x.g.store->release(slot.res));
        return x.error(upload_error(reader, etag.error()));
    }
    if (!reader.finish_framing()) {
        x.close_after = true;
    }
    GW_ANSWER(when, record_part_of(x, u, static_cast<int>(*number), size, *etag, slot));
    (void)when;
    Response r;
    r.headers.emplace_back("ETag", *etag);
    return r;
}

std::string unquote(std::string_view s)
{
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
        s = s.substr(1, s.size() - 2);
    }
    return std::string(s);
}

Result<Response> do_complete_upload(Exchange& x)
{
    GW_POLICY(policy);
    const auto condition = write_condition_of(x);
    if (!condition) {
        return x.error(condition.error());
    }
    Response refusal;
    const auto text = read_small_body(x, "CompleteMultipartUpload", refusal);
    if (!text) {
        return refusal;
    }
    GW_TRYR(up, find_upload_of(x, policy));
    if (!*up) {
        return x.error(s3::no_such_upload(x.param("uploadId").value_or("")));
    }
    const UploadRecord& u = **up;
    auto wanted = s3::parse_complete_multipart(*text);
    if (!wanted) {
        return x.error(wanted.error());
    }
    if (wanted->empty()) {
        return x.error(s3::malformed_xml("no parts"));
    }
    GW_TRYR(stored, x.g.store->list_parts(u.id, 0, 10001));
    std::map<int, PartRecord> by_number;
    for (const auto& p : *stored) {
        by_number[p.number] = p;
    }
    std::vector<UploadedPart> parts;
    std::vector<int> numbers;
    for (const auto& w : *wanted) {
        const auto it = by_number.find(w.number);
        if (it == by_number.end() || unquote(it->second.etag) != unquote(w.etag)) {
            return x.error(s3::invalid_part(w.number));
        }
        parts.push_back({w.number, it->second.etag});
        numbers.push_back(w.number);
    }
    ObjectBackend* io = x.g.backends.io(u.location.backend);
    if (!io) {
        return x.error(s3::internal_error("the upload's backend is no longer configured"));
    }
    // Checked before the backend joins the parts (the upload stays usable
    // when it fails here), and again when the completion commits.
    GW_TRYR(unmet, precheck_write(x, policy, *condition));
    if (*unmet) {
        return x.error(**unmet);
    }
    auto etag = io->complete_multipart(u.location.bucket, u.location.key, u.backend_upload_id, parts);
    if (!etag) {
        if (etag.error().status >= 400 && etag.error().status < 500) {
            return x.error({static_cast<unsigned>(etag.error().status), etag.error().code, etag.error().message});
        }
        return x.error(s3::service_unavailable("backend: " + etag.error().describe()));
    }
    const Millis now = now_millis();
    CompleteUpload c;
    c.upload_id = u.id;
    c.parts = numbers;
    c.etag = *etag;
    c.replicas = policy.replicas;
    c.now = now;
    c.delete_at = x.g.delete_at(now);
    c.condition = *condition;
    GW_TRYR(done, x.g.store->complete_upload(c));
    if (done->condition != ConditionCheck::met) {
        return x.error(condition_error(x, *condition, done->condition));
    }
    Response r;
    r.body = s3::complete_multipart_xml("/" + x.bucket + "/" + x.key, x.bucket, x.key, *etag);
    return r;
}

Result<Response> do_abort_upload(Exchange& x)
{
    GW_POLICY(policy);
    GW_TRYR(up, find_upload_of(x, policy));
    if (!*up) {
        return x.error(s3::no_such_upload(x.param("uploadId").value_or("")));
    }
    const UploadRecord& u = **up;
    if (ObjectBackend* io = x.g.backends.io(u.location.backend)) {
        if (auto a = io->abort_multipart(u.location.bucket, u.location.key, u.backend_upload_id); !a) {
            return x.error(s3::service_unavailable("backend: " + a.error().describe()));
        }
    }
    GW_TRYR(removed, x.g.store->remove_upload(u.id));
    Response r;
    r.status = 204;
    return r;
}

Result<Response> do_list_parts(Exchange& x)
{
    GW_POLICY(policy);
    auto req = parse_part_list_request(x.params);
    if (!req) {
        return x.error(req.error());
    }
    GW_TRYR(up, find_upload_of(x, policy));
    if (!*up) {
        return x.error(s3::no_such_upload(x.param("uploadId").value_or("")));
    }
    GW_TRYR(parts, x.g.store->list_parts((*up)->id, req->part_number_marker, req->max_parts + 1));
    Response r;
    r.body = list_parts_xml(x.bucket, **up, *req, *parts);
    return r;
}

Result<Response> dispatch(Exchange& x)
{
    // Before anything is looked up, placed or sent: a header asking for
    // what the gateway does not implement is refused, never ignored.
    if (auto refused = refused_object_header(x.op, x.head)) {
        return x.error(*refused);
    }
    switch (x.op) {
    case FrontOp::list_buckets: return do_list_buckets(x);
    case FrontOp::create_bucket: return do_create_bucket(x);
    case FrontOp::head_bucket: return do_head_bucket(x);
    case FrontOp::delete_bucket: return do_delete_bucket(x);
    case FrontOp::get_bucket_location: return do_bucket_location(x);
    case FrontOp::list_objects: return do_list_objects(x);
    case FrontOp::list_uploads: return do_list_uploads(x);
    case FrontOp::delete_objects: return do_delete_objects(x);
    case FrontOp::put_object: return do_put_object(x);
    case FrontOp::copy_object: return do_copy_object(x);
    case FrontOp::get_object: return do_head_or_get_object(x, true);
    case FrontOp::head_object: return do_head_or_get_object(x, false);
    case FrontOp::delete_object: return do_delete_object(x);
    case FrontOp::create_upload: return do_create_upload(x);
    case FrontOp::upload_part: return do_upload_part(x);
    case FrontOp::complete_upload: return do_complete_upload(x);
    case FrontOp::abort_upload: return do_abort_upload(x);
    case FrontOp::list_parts: return do_list_parts(x);
    case FrontOp::unsupported: return not_implemented(x);
    }
    return not_implemented(x);
}

// /_roar/health, /_roar/ready, /_roar/metrics and the admin API.
std::optional<Response> operations_endpoint(Exchange& x, std::string& op_label)
{
    Response r;
    r.content_type = "text/plain; charset=utf-8";
    if (x.path == "/_roar/health") {
        op_label = "health";
        r.body = "ok\n";
        return r;
    }
    if (x.path == "/_roar/ready") {
        op_label = "ready";
        auto usage = x.g.store->backend_usage();
        if (!usage) {
            r.status = 503;
            r.body = "not ready: metadata: " + usage.error().message + "\n";
            return r;
        }
        std::string lines;
        unsigned up = 0;
        for (const auto& name : x.g.backends.names()) {
            const BackendConfig* cfg = x.g.backends.config(name);
            auto l = x.g.backends.io(name)->list_objects(cfg->bucket, "", "", "", 1);
            // Any HTTP answer (even an error document) means the backend is there.
            const bool answers = l.has_value() || l.error().status != 0;
            up += answers ? 1 : 0;
            lines += fmt::format("backend {}: {}\n", name, answers ? "answers" : "down: " + l.error().describe());
        }
        r.status = up > 0 ? 200 : 503;
        r.body = (up > 0 ? "ready\nmetadata: ok\n" : "not ready: no backend answers\nmetadata: ok\n") + lines;
        return r;
    }
    if (x.path == "/_roar/metrics") {
        op_label = "metrics";
        auto usage = x.g.store->backend_usage();
        auto jobs = x.g.store->job_backlog();
        r.content_type = "text/plain; version=0.0.4";
        std::size_t open = 0;
        {
            std::lock_guard lock(x.g.clients_mutex);
            open = x.g.front_clients.size();
        }
        r.body =
            x.g.metrics.render(usage ? *usage : std::vector<BackendUsage>{}, jobs ? *jobs : std::vector<JobCount>{},
                               open, x.g.serving.load(), x.g.pool_size.load());
        return r;
    }
    if (is_admin_path(x.path)) {
        op_label = "admin";
        if (x.body.decoded_length > k_max_small_body || x.parsed.framing == BodyFraming::Chunked) {
            r.status = 413;
            r.content_type = "application/json";
            r.body =
                R"({"error":{"code":"RequestTooLarge","message":"admin requests carry at most 1 MiB with a Content-Length"}})";
            x.close_after = true;
            return r;
        }
        BodyReader reader(x.conn, x.body, x.g.metrics);
        auto text = continue_if_asked(x) ? reader.read_all() : std::nullopt;
        if (!text || !reader.finish_framing()) {
            x.close_after = true;
            r.status = 400;
            r.content_type = "application/json";
            r.body = R"({"error":{"code":"IncompleteBody","message":"the request body was not read"}})";
            return r;
        }
        x.body_consumed = true;
        AdminRequest req{x.head.method, x.path, std::string(x.head.header("authorization").value_or("")), *text};
        const auto resp = x.g.admin->handle(req, now_millis());
        r.status = resp.status;
        r.content_type = "application/json";
        r.body = resp.body;
        return r;
    }
    return std::nullopt;
}

// The request's log record: who, what, outcome, bytes on the client
// connection, duration, the backends called and the trace (never a
// header value or a query string).
void log_request(const Exchange& x, const std::string& op, unsigned status, std::uint64_t bytes_in,
                 std::uint64_t bytes_out, double seconds, const std::optional<TraceContext>& client_trace)
{
    const TraceScope* trace = TraceScope::current();
    std::string backends;
    for (const auto& b : trace->backends()) {
        backends += (backends.empty() ? "" : ",") + b;
    }
    std::vector<LogField> fields{{"request_id", x.request_id},
                                 {"op", op},
                                 {"method", x.head.method},
                                 {"bucket", x.bucket},
                                 {"key", x.key},
                                 {"status", std::uint64_t{status}},
                                 {"bytes_in", bytes_in},
                                 {"bytes_out", bytes_out},
                                 {"duration_ms", seconds * 1000.0},
                                 {"backend", backends},
                                 {"trace_id", trace->context().trace_id},
                                 {"span_id", trace->context().span_id}};
    if (client_trace) {
        fields.push_back({"parent_span_id", client_trace->span_id});
    }
    if (x.caller) {
        fields.push_back({"tenant", x.caller->tenant});
    }
    logger().write_record("info", "gateway request", fields);
}

} // namespace

bool GatewayServer::Impl::serve_request(Conn& conn)
{
    // The head.
    // A head must arrive whole within k_head_timeout of its first byte,
    // so a client dripping header bytes cannot hold a connection slot.
    std::size_t scanned = 0;
    const auto head_start = std::chrono::steady_clock::now();
    while (find_head_end(conn.available(), scanned) == std::string_view::npos) {
        scanned = conn.available().size();
        if (scanned > HeadLimits{}.max_bytes) {
            break;
        }
        if (std::chrono::steady_clock::now() - head_start > k_head_timeout || !conn.read_more()) {
            return false;
        }
    }
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t received0 = conn.received() - conn.available().size();
    const std::uint64_t sent0 = conn.sent();
    const HeadResult hr = parse_request_head(conn.available());
    const std::string request_id = new_request_id();
    if (hr.status != HeadStatus::Complete) {
        const S3Error e{hr.error.status, hr.error.code.empty() ? "BadRequest" : hr.error.code, hr.error.message};
        conn.write_all(closing_answer(e, request_id));
        return false;
    }
    const ParsedHead parsed = hr.parsed;
    conn.consume(parsed.size);
    // The gateway's span of this request: a child of the client's valid
    // traceparent, else a new trace; every backend call carries it.
    const auto client_trace = parse_traceparent(parsed.head.header("traceparent").value_or(""));
    TraceScope trace(start_span(client_trace));
    Exchange x{*this, conn,  parsed, parsed.head, request_id,  {}, {}, {}, {}, FrontOp::unsupported,
               {},    false, false,  false,       std::nullopt};
    x.body.framing = parsed.framing;
    x.body.raw_length = parsed.content_length;
    x.body.decoded_length = parsed.framing == BodyFraming::Length ? parsed.content_length : 0;
    std::string op_label = "unknown";
    Response resp;
    const auto finish = [&](const Response& r) {
        if (!x.response_started) {
            x.send(r);
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        metrics.request(op_label, r.status, seconds);
        log_request(x, op_label, r.status, conn.received() - conn.available().size() - received0, conn.sent() - sent0,
                    seconds, client_trace);
    };

    const auto decoded_path = sigv4::percent_decode(parsed.head.raw_path());
    const auto params = sigv4::parse_query(parsed.head.raw_query());
    if (!decoded_path || !params || decoded_path->empty() || decoded_path->front() != '/') {
        x.close_after = true;
        finish(x.error({400, "InvalidURI", "Couldn't parse the specified URI."}));
        return false;
    }
    x.path = *decoded_path;
    x.params = *params;
    if (auto r = operations_endpoint(x, op_label)) {
        finish(*r);
        return !x.close_after && parsed.keep_alive;
    }
    {
        // Virtual-host style names the bucket in Host and the key in the
        // whole path; path style names both in the path. The signature
        // covers the Host and path exactly as sent, so either verifies.
        const std::string_view p = std::string_view(x.path).substr(1);
        if (auto vhost = virtual_host_bucket(parsed.head.header("host").value_or(""), config.virtual_host_suffix)) {
            x.bucket = std::move(*vhost);
            x.key = std::string(p);
        } else {
            const auto slash = p.find('/');
            x.bucket = std::string(p.substr(0, slash));
            x.key = slash == std::string_view::npos ? std::string() : std::string(p.substr(slash + 1));
        }
    }
    x.op = classify_request(parsed.head.method, x.bucket, x.key, x.params);
    if (x.op == FrontOp::put_object && parsed.head.header("x-amz-copy-source")) {
        x.op = FrontOp::copy_object;
    }
    op_label = std::string(front_op_name(x.op));

    // Who is calling, and is it really them.
    const Millis now = now_millis();
    const auto ak = access_key_of(parsed.head, x.params);
    std::optional<S3Error> refused;
    if (!ak) {
        refused = S3Error{403, "AccessDenied", "Anonymous requests are not accepted by the gateway; sign with SigV4."};
    } else {
        auto caller = resolve_caller(config, *store, box ? &*box : nullptr, *ak, now);
        if (!caller) {
            log_warn("gateway: {} resolving the caller: {}", request_id, caller.error().message);
            refused = s3::internal_error("the caller's key could not be looked up");
        } else if (!*caller) {
            refused =
                S3Error{403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."};
        } else {
            x.caller = **caller;
        }
    }
    std::optional<VerifiedAuth> auth;
    if (!refused) {
        auto v = verify_request(parsed.head, x.caller->credentials, std::chrono::system_clock::now());
        if (!v) {
            refused = v.error();
        } else if (v->scheme == AuthScheme::Preflight) {
            refused = S3Error{403, "AccessDenied", "CORS is not configured on the gateway."};
        } else {
            auth = *v;
        }
    }
    if (!refused) {
        refused = plan_body(x, *auth);
    }
    if (refused) {
        resp = x.error(*refused);
    } else {
        auto r = dispatch(x);
        if (!r) {
            log_warn("gateway: {} {} {}: {}", request_id, op_label, x.path, r.error().message);
            resp = x.error(s3::internal_error("metadata: " + r.error().message));
        } else {
            resp = std::move(*r);
        }
    }
    // A body nobody read: drain a small one so the client reads the answer,
    // close on a large one.
    if (!x.body_consumed && parsed.framing != BodyFraming::None) {
        if (parsed.framing == BodyFraming::Length && parsed.content_length <= k_drain_limit
            && !parsed.expect_continue) {
            BodySpec drain;
            drain.framing = BodyFraming::Length;
            drain.raw_length = parsed.content_length;
            drain.decoded_length = parsed.content_length;
            BodyReader reader(conn, drain, metrics);
            if (!reader.read_all()) {
                x.close_after = true;
            }
        } else {
            x.close_after = true;
        }
    }
    finish(resp);
    return !x.close_after && parsed.keep_alive;
}

namespace {

// The epoll data of the set's other members (a client's is its FrontClient).
char k_listener_tag, k_sweep_tag, k_stop_tag;

// Arms `fd` one-shot in the set, with `data` as its data (a client, or one
// of the tags). A client's entry in Impl::front_clients outlives its arming:
// only the thread that took its readiness (or accepted it) forgets it.
bool arm(int epoll_fd, int op, int fd, void* data)
{
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    ev.data.ptr = data;
    return ::epoll_ctl(epoll_fd, op, fd, &ev) == 0;
}

// A 503 SlowDown on `fd`, closing the connection.
void refuse(int fd, std::string_view message)
{
    const std::string out = closing_answer({503, "SlowDown", std::string(message)}, "");
    (void)::send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// The open-connection limit the process's file descriptors allow: the soft
// limit is raised towards the hard one when `wanted` needs it, else the
// connection limit is lowered, and that is logged.
unsigned fit_open_connections(unsigned wanted)
{
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        return wanted;
    }
    const rlim_t need = rlim_t(wanted) + k_fd_reserve;
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
        rlimit raised = lim;
        raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? need : std::min(need, lim.rlim_max);
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
            lim = raised;
        }
    }
    if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= need) {
        return wanted;
    }
    const auto fits = static_cast<unsigned>(lim.rlim_cur > 2 * k_fd_reserve ? lim.rlim_cur - k_fd_reserve
                                                                            : std::max<rlim_t>(1, lim.rlim_cur / 2));
    log_warn("gateway: {} open connections asked for; the file descriptor limit ({}) leaves room for {}", wanted,
             lim.rlim_cur, fits);
    return fits;
}

} // namespace

// One thread of the front's pool: takes whatever is ready (the listener, a
// connection, the sweep's timer) until stop() makes its eventfd readable,
// which wakes every thread. An idle gateway wakes once a second, to sweep.
// A thread that found no work for `thread_idle` ends while another thread
// is waiting, so the pool a burst of requests grew shrinks back.
void GatewayServer::Impl::pool_thread()
{
    const auto idle_ms =
        static_cast<int>(std::min<std::int64_t>(std::chrono::milliseconds(options.thread_idle).count(), INT_MAX));
    while (!stopping.load()) {
        epoll_event ev{};
        waiting.fetch_add(1);
        const int n = ::epoll_wait(epoll_fd, &ev, 1, idle_ms);
        waiting.fetch_sub(1);
        if (n == 0 && retire_idle_thread()) {
            return;
        }
        if (n != 1 || ev.data.ptr == &k_stop_tag) {
            continue;
        }
        if (ev.data.ptr == &k_listener_tag) {
            accept_waiting();
        } else if (ev.data.ptr == &k_sweep_tag) {
            std::uint64_t expirations = 0;
            (void)::read(sweep_fd, &expirations, sizeof expirations);
            sweep(steady_ms());
            arm(epoll_fd, EPOLL_CTL_MOD, sweep_fd, &k_sweep_tag);
        } else {
            take_ready(*static_cast<FrontClient*>(ev.data.ptr));
        }
    }
}

// The calling pool thread, idle, leaves the pool when another thread is
// waiting for work and more than two are left; its std::thread moves to
// `retired`, joined by the next add_pool_thread() or by run().
bool GatewayServer::Impl::retire_idle_thread()
{
    std::lock_guard lock(pool_mutex);
    if (stopping.load() || waiting.load() == 0 || pool.size() <= 2) {
        return false;
    }
    const auto self = std::find_if(pool.begin(), pool.end(),
                                   [](const std::thread& t) { return t.get_id() == std::this_thread::get_id(); });
    if (self == pool.end()) {
        return false;
    }
    retired.push_back(std::move(*self));
    pool.erase(self);
    pool_size.store(pool.size());
    return true;
}

// Joins the threads that retired (each has left pool_thread() or is about
// to: it holds no lock and touches nothing after retiring). pool_mutex held.
void GatewayServer::Impl::join_retired()
{
    for (auto& t : retired) {
        t.join();
    }
    retired.clear();
}

// Another thread for the pool, unless one is already waiting for work or
// the pool is full (a request per thread, and one more to answer 503).
void GatewayServer::Impl::add_pool_thread()
{
    if (waiting.load() > 0) {
        return;
    }
    std::lock_guard lock(pool_mutex);
    join_retired();
    if (stopping.load() || waiting.load() > 0 || pool.size() > options.max_connections) {
        return;
    }
    pool.emplace_back([this] { pool_thread(); });
    pool_size.store(pool.size());
}

void GatewayServer::Impl::accept_waiting()
{
    std::lock_guard accepting(listen_mutex);
    if (listen_fd < 0) {
        return;
    }
    for (;;) {
        const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // The connection stays queued; taking it again at once would spin.
                log_warn("gateway: cannot accept a connection: {}", std::strerror(errno));
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            break;
        }
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        metrics.connections += 1;
        std::shared_ptr<FrontClient> client;
        {
            std::lock_guard lock(clients_mutex);
            if (front_clients.size() < options.max_open_connections) {
                client = std::make_shared<FrontClient>(fd, options.io_timeout, ++last_client_id);
                client->idle_since = steady_ms();
                front_clients.emplace(client->id, client);
            }
        }
        if (!client) {
            metrics.refused_connections += 1;
            refuse(fd, "The gateway has its maximum number of connections open; retry.");
            ::close(fd);
            continue;
        }
        std::unique_lock armed(client->arming); // as in wait_for_request
        client->busy = false;
        if (!arm(epoll_fd, EPOLL_CTL_ADD, fd, client.get())) {
            armed.unlock();
            log_warn("gateway: cannot watch a connection: {}", std::strerror(errno));
            forget(*client);
        }
    }
    arm(epoll_fd, EPOLL_CTL_MOD, listen_fd, &k_listener_tag);
}

// Drops `client` from the front, closing its socket (once the accepting
// thread lets go, for one just accepted). `client` is gone afterwards.
void GatewayServer::Impl::forget(const FrontClient& client)
{
    std::lock_guard lock(clients_mutex);
    front_clients.erase(client.id);
}

// Back into the set until its next bytes arrive. Once armed, another
// thread may take it (and forget it) at once: nothing here touches it
// after `arming` is released.
void GatewayServer::Impl::wait_for_request(FrontClient& client)
{
    std::unique_lock armed(client.arming);
    client.busy = false;
    if (arm(epoll_fd, EPOLL_CTL_MOD, client.fd, &client)) {
        return;
    }
    armed.unlock();
    forget(client);
}

// `client` has bytes (or has closed): reads what is there and, once its
// request head is whole, serves requests while whole ones keep arriving.
void GatewayServer::Impl::take_ready(FrontClient& client)
{
    {
        // After the thread that armed it is done with it (epoll orders the
        // two, but is no C++ synchronisation).
        std::lock_guard armed(client.arming);
        client.busy = true;
    }
    Conn& conn = client.conn;
    const std::size_t max_head = HeadLimits{}.max_bytes;
    const bool open = conn.take_waiting(max_head + 1);
    const auto head_waiting = [&conn, max_head] {
        return find_head_end(conn.available()) != std::string_view::npos || conn.available().size() > max_head;
    };
    if (!head_waiting()) {
        if (!open || stopping.load()) {
            forget(client);
            return;
        }
        if (!conn.available().empty() && client.head_since.load() == 0) {
            client.head_since = steady_ms();
        }
        wait_for_request(client);
        return;
    }
    if (stopping.load()) {
        forget(client);
        return;
    }
    if (serving.fetch_add(1) >= options.max_connections) {
        serving.fetch_sub(1);
        metrics.refused_requests += 1;
        refuse(client.fd, "The gateway is serving its maximum number of requests; retry.");
        forget(client);
        return;
    }
    add_pool_thread(); // someone must still be waiting for the set while this request is served
    bool keep = true;
    bool still_open = open;
    for (;;) {
        while (keep && !stopping.load() && head_waiting()) {
            keep = serve_request(conn);
        }
        if (!keep || stopping.load() || !conn.available().empty()) {
            break;
        }
        // A client sending requests back to back has its next one here
        // within a moment: waited for on this thread, it costs a poll
        // instead of re-arming the set and waking another thread.
        pollfd p{client.fd, POLLIN, 0};
        if (::poll(&p, 1, k_linger_ms) != 1) {
            break;
        }
        still_open = conn.take_waiting(max_head + 1);
        if (!still_open && !head_waiting()) {
            break;
        }
    }
    serving.fetch_sub(1);
    if (stopping.load()) {
        { // the drain in run() waits for `serving` under `mutex`
            std::lock_guard lock(mutex);
        }
        cv.notify_all();
    }
    if (!keep || !still_open || stopping.load()) {
        forget(client);
        return;
    }
    client.head_since = conn.available().empty() ? 0 : steady_ms();
    client.idle_since = steady_ms();
    conn.release_buffer();
    wait_for_request(client);
}

// Cuts the connections waiting in the set past their time: a partial head
// older than k_head_timeout, an idle keep-alive connection older than the
// I/O timeout. The shutdown wakes the set, whose thread then drops them.
void GatewayServer::Impl::sweep(std::int64_t now)
{
    const std::int64_t head_limit = std::chrono::milliseconds(k_head_timeout).count();
    const std::int64_t idle_limit = std::chrono::milliseconds(options.io_timeout).count();
    std::lock_guard lock(clients_mutex);
    for (const auto& [id, client] : front_clients) {
        if (client->busy.load()) {
            continue;
        }
        const std::int64_t head = client->head_since.load();
        if (head != 0 ? now - head > head_limit : now - client->idle_since.load() > idle_limit) {
            ::shutdown(client->fd, SHUT_RDWR);
        }
    }
}

void GatewayServer::Impl::start_background()
{
    for (unsigned i = 0; i < config.replication.workers; ++i) {
        workers.emplace_back([this, i] {
            ReplicationWorker worker(*store, backends, config, fmt::format("gw-{}-{}", ::getpid(), i));
            worker.run(stopping, [](const JobReport& r) {
                if (r.outcome != JobOutcome::idle) {
                    log_info("gateway: job {}: {}", r.job_id, r.detail);
                }
            });
        });
    }
    workers.emplace_back([this] {
        const auto stale = std::chrono::duration_cast<std::chrono::milliseconds>(config.multipart.stale_after);
        while (!stopping.load()) {
            const TraceScope trace(start_span(std::nullopt)); // one trace per sweep
            auto r = sweep_stale_uploads(*store, backends, now_millis(), stale);
            if (!r) {
                log_warn("gateway: multipart sweep: {}", r.error().message);
            } else if (r->aborted + r->reservations_expired > 0) {
                log_info("gateway: multipart sweep: {} stale uploads aborted, {} lapsed reservations released",
                         r->aborted, r->reservations_expired);
            }
            std::unique_lock lock(mutex);
            cv.wait_for(lock, config.multipart.sweep_interval, [this] { return stopping.load(); });
        }
    });
}

GatewayServer::GatewayServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) { }

GatewayServer::~GatewayServer()
{
    stop();
    for (auto& t : m_impl->workers) {
        if (t.joinable()) {
            t.join();
        }
    }
}

Result<std::unique_ptr<GatewayServer>> GatewayServer::create(GatewayConfig config, FrontOptions options)
{
    auto impl = std::make_unique<Impl>();
    impl->config = std::move(config);
    impl->options = options;
    GW_TRYR(store, open_metadata_store(impl->config.metadata));
    impl->store = std::move(*store);
    GW_TRYR(seeded, seed_metadata(*impl->store, impl->config, now_millis()));
    if (impl->config.secrets.enabled) {
        GW_TRYR(box, open_secret_box(*impl->store, impl->config.secrets.passphrase));
        impl->box.emplace(std::move(*box));
    }
    for (const auto& b : impl->config.backends) {
        impl->clients.push_back(std::make_unique<BackendClient>(b));
        impl->backends.add(b, *impl->clients.back());
    }
    impl->admin = std::make_unique<AdminApi>(impl->config, *impl->store, impl->box ? &*impl->box : nullptr);

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(impl->config.listen_port);
    if (int rc = ::getaddrinfo(impl->config.listen_host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        return fail("listen {}: {}", impl->config.listen, gai_strerror(rc));
    }
    int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || ::bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
        const int err = errno;
        ::freeaddrinfo(res);
        if (fd >= 0) {
            ::close(fd);
        }
        return fail("listen {}: {}", impl->config.listen, std::strerror(err));
    }
    ::freeaddrinfo(res);
    impl->listen_fd = fd;
    // Accepted until the queue is empty, by whichever pool thread the
    // listener's readiness wakes.
    if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
        return fail("listen {}: {}", impl->config.listen, std::strerror(errno));
    }
    // The set: the listener, the sweep's timer (once a second) and stop()'s
    // eventfd (level-triggered, never read: it wakes every thread).
    impl->epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    impl->sweep_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    impl->stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const itimerspec every_second{{1, 0}, {1, 0}};
    epoll_event stop_event{};
    stop_event.events = EPOLLIN;
    stop_event.data.ptr = &k_stop_tag;
    if (impl->epoll_fd < 0 || impl->sweep_fd < 0 || impl->stop_fd < 0
        || ::timerfd_settime(impl->sweep_fd, 0, &every_second, nullptr) != 0
        || !arm(impl->epoll_fd, EPOLL_CTL_ADD, fd, &k_listener_tag)
        || !arm(impl->epoll_fd, EPOLL_CTL_ADD, impl->sweep_fd, &k_sweep_tag)
        || ::epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->stop_fd, &stop_event) != 0) {
        return fail("gateway: epoll: {}", std::strerror(errno));
    }
    impl->options.max_open_connections = fit_open_connections(impl->options.max_open_connections);
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    impl->port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                  : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    return std::unique_ptr<GatewayServer>(new GatewayServer(std::move(impl)));
}

std::uint16_t GatewayServer::port() const { return m_impl->port; }

void GatewayServer::stop()
{
    Impl& g = *m_impl;
    // Notified under the lock: run() may return, and the server be
    // destroyed, as soon as it sees `stopping`.
    std::lock_guard lock(g.mutex);
    g.stopping = true;
    const std::uint64_t one = 1;
    (void)::write(g.stop_fd, &one, sizeof one); // wakes the pool's threads
    g.cv.notify_all();
}

void GatewayServer::run()
{
    Impl& g = *m_impl;
    if (g.options.background) {
        g.start_background();
    }
    {
        std::lock_guard lock(g.pool_mutex);
        for (unsigned i = 0; i < std::min(2u, g.options.max_connections + 1); ++i) {
            g.pool.emplace_back([&g] { g.pool_thread(); });
        }
        g.pool_size.store(g.pool.size());
    }
    std::unique_lock lock(g.mutex);
    g.cv.wait(lock, [&g] { return g.stopping.load(); });
    lock.unlock();
    {
        // No new connections: the listener closes (once no thread is accepting).
        std::lock_guard accepting(g.listen_mutex);
        ::epoll_ctl(g.epoll_fd, EPOLL_CTL_DEL, g.listen_fd, nullptr);
        ::close(g.listen_fd);
        g.listen_fd = -1;
    }
    // Drain: the requests being served finish.
    lock.lock();
    if (!g.cv.wait_for(lock, g.options.drain_timeout, [&g] { return g.serving.load() == 0; })) {
        // Transfers still running after the drain time: cut their sockets
        // (their backend transfers then fail at once) and wait for the
        // threads, which use this object, to end.
        log_warn("gateway: {} requests still in flight after the drain time; closing them", g.serving.load());
        {
            std::lock_guard clients(g.clients_mutex);
            for (const auto& [id, client] : g.front_clients) {
                if (client->busy.load()) {
                    ::shutdown(client->fd, SHUT_RDWR);
                }
            }
        }
        g.cv.wait(lock, [&g] { return g.serving.load() == 0; });
    }
    lock.unlock();
    std::vector<std::thread> pool;
    {
        std::lock_guard pool_lock(g.pool_mutex); // no thread is added or retired once `stopping` is set
        pool.swap(g.pool);
        g.join_retired();
    }
    for (auto& t : pool) {
        t.join();
    }
    {
        std::lock_guard clients(g.clients_mutex); // the idle connections close here
        g.front_clients.clear();
    }
    for (auto& t : g.workers) {
        if (t.joinable()) {
            t.join();
        }
    }
    g.workers.clear();
}

} // namespace roar::proxy::gateway
