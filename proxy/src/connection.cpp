// Connection: the per-connection state machine on its event loop.
//
//   Preamble --http--> Head --complete--> Handling --local--> (Writing) --keep-alive--> Head
//      |                 |                    |
//      +--PROXY v2--> accept_redirected()     +--plan--> Relaying --keep-alive--> Head
//                                                             \--else--> Lingering --> Closed
//
// Where a later change plugs in redirected connections (S3-ROUTING):
// on_preamble_bytes() is where the first bytes are inspected,
// accept_redirected() is where a PROXY v2 header is decoded, checked and
// turned into this connection's ConnectionRoute (forward target, pid), and
// decide() is where each request is planned by that route: re-signed for
// the configured upstream (ReSign) or forwarded unchanged (Forward).
#include "connection.hpp"

#include "peer_identity.hpp"

#include "roar/proxy/log.hpp"
#include "roar/proxy/redirect.hpp"
#include "tls_front.hpp"

#include <boost/asio/post.hpp>

#include <fmt/format.h>

#include <exception>

#include <sys/socket.h>
#include <unistd.h>

namespace roar::proxy {

namespace {

// The pid of the loopback process on the other end of socket `fd`, when
// peer_identity.hpp can tell; `fallback` otherwise.
std::uint32_t peer_pid_or(int fd, std::uint32_t fallback)
{
    boost::asio::ip::tcp::endpoint remote, local;
    socklen_t remote_len = static_cast<socklen_t>(remote.capacity());
    socklen_t local_len = static_cast<socklen_t>(local.capacity());
    if (::getpeername(fd, remote.data(), &remote_len) != 0 || ::getsockname(fd, local.data(), &local_len) != 0) {
        return fallback;
    }
    remote.resize(remote_len);
    local.resize(local_len);
    return loopback_peer_pid(remote, local).value_or(fallback);
}

constexpr std::size_t k_head_read = 16 * 1024;
constexpr auto k_linger = std::chrono::seconds(2);
constexpr std::size_t k_linger_bytes = 1024 * 1024;

std::string local_response_text(const LocalResponse& resp, bool keep_alive, bool head_only)
{
    const auto reason = [](unsigned status) -> std::string {
        switch (status) {
        case 200: return "OK";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 411: return "Length Required";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Error";
        }
    };
    std::string out = fmt::format("HTTP/1.1 {} {}\r\nServer: roar-proxy\r\nContent-Length: {}\r\n", resp.status,
                                  reason(resp.status), resp.body.size());
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
    return out;
}

// Records `record` of an exchange whose connection is gone (closed while
// the response was under way), on the loop with no connection to turn a
// failure into an answer.
void record_orphan(ProxyContext& ctx, const ExchangeRecord& record)
{
    try {
        ctx.recorder->record(record);
    } catch (const std::exception& e) {
        log_warn("recording {} after its connection closed failed: {}", record.target.uri(), e.what());
    }
}

// How a redirected connection's destination is named in the log.
std::string route_name(const ConnectionRoute& route)
{
    return route.authority.empty() ? route.destination : route.authority;
}

} // namespace

Connection::Connection(EventLoop& loop, boost::asio::ip::tcp::socket socket, std::string peer,
                       std::function<void()> closed)
    : m_loop(loop),
      m_ctx(loop.ctx()),
      m_io(std::make_shared<ClientIo>(std::move(socket))),
      m_closed(std::move(closed)),
      m_timer(loop.io())
{
    m_route.peer = std::move(peer);
    m_route.pid = static_cast<std::uint32_t>(::getpid());
    if (m_ctx.opts.peer_pids) {
        m_route.pid = peer_pid_or(m_io->fd(), m_route.pid);
    }
}

Connection::~Connection()
{
    if (m_exchange) {
        m_exchange->abort("connection destroyed");
    }
}

template <typename Fn> void Connection::guarded(const char* where, Fn&& fn)
{
    try {
        fn();
    } catch (const std::exception& e) {
        fail_internal(where, e.what());
    } catch (...) {
        fail_internal(where, "unknown exception");
    }
}

void Connection::fail_internal(const char* where, const std::string& what)
{
    log_warn("connection from {}: {} failed: {}", m_route.peer, where, what);
    try {
        if (m_in_request && !m_response_started && m_phase != Phase::Closed && !m_io->failed()) {
            if (m_exchange) {
                auto x = std::move(m_exchange);
                x->abort("internal error");
            }
            m_response_started = true;
            m_io->write(local_response_text(
                error_response({500, "InternalError", "roar-proxy failed on this request; see its log."},
                               m_target.empty() ? "/" : m_target, new_request_id()),
                false, m_method == "HEAD"));
            end_request(500);
            linger_close();
            return;
        }
        close_now();
    } catch (...) {
        // Last resort: drop the socket.
        m_io->close();
    }
}

void Connection::start()
{
    guarded("start", [&] {
        arm_timer();
        read_more();
    });
}

// ---- reading ----------------------------------------------------------------

void Connection::read_more()
{
    while (m_phase == Phase::Preamble || m_phase == Phase::Head || m_phase == Phase::Lingering) {
        std::size_t got = 0;
        const auto r = m_io->fill(k_head_read, got);
        if (r == ClientIo::Io::Ok) {
            on_bytes();
            continue;
        }
        if (r == ClientIo::Io::WouldBlock) {
            if (!m_reading) {
                m_reading = true;
                m_io->wait_readable([self = shared_from_this()](bool ok) {
                    self->m_reading = false;
                    self->guarded("read", [&] {
                        if (!ok) {
                            self->close_now();
                        } else {
                            self->read_more();
                        }
                    });
                });
            }
            return;
        }
        // The client closed or the socket failed: nothing to answer.
        if (!m_io->tls_error().empty()) {
            const std::string refusal = TlsFront::refusal(m_io->ssl());
            log_warn("TLS from pid {} to {} failed: {}", m_route.pid, route_name(m_route),
                     refusal.empty() ? m_io->tls_error() : refusal);
        }
        close_now();
        return;
    }
}

void Connection::on_bytes()
{
    switch (m_phase) {
    case Phase::Preamble: on_preamble_bytes(); break;
    case Phase::Head: on_head_bytes(); break;
    case Phase::Lingering: {
        const std::size_t n = m_io->in().size();
        m_io->in().consume(n);
        m_scanned += n; // counts discarded bytes here
        if (m_scanned > k_linger_bytes) {
            close_now();
        }
        break;
    }
    default: break;
    }
}

void Connection::on_preamble_bytes()
{
    switch (classify_preamble(m_io->in().view())) {
    case PreambleKind::NeedMore: return;
    case PreambleKind::Http:
        m_phase = Phase::Head;
        on_head_bytes();
        return;
    case PreambleKind::ProxyV2: accept_redirected(); return;
    }
}

void Connection::accept_redirected()
{
    // A redirected connection (S3-ROUTING): the PROXY v2 header at the
    // start of in() is admitted only from a loopback peer, with the job's
    // secret, naming a destination the job's routing rules redirect; it
    // becomes this connection's route (Forward, destination, pid), and the
    // client's HTTP follows.
    // The peer is "ADDRESS" or "ADDRESS uid N" (peer_identity.hpp).
    const std::string_view address = std::string_view(m_route.peer).substr(0, m_route.peer.find(' '));
    RedirectVerdict v = admit_redirect(m_io->in().view(), address, m_ctx.redirect);
    switch (v.kind) {
    case RedirectVerdict::Kind::NeedMore: return;
    case RedirectVerdict::Kind::Refused:
        m_ctx.metrics.redirects_refused.fetch_add(1, std::memory_order_relaxed);
        log_warn("refusing a redirected connection from {}: {}", m_route.peer, v.reason);
        close_now();
        return;
    case RedirectVerdict::Kind::Admitted: break;
    }
    m_io->in().consume(v.consumed);
    if (v.route.pid == 0) {
        v.route.pid = m_route.pid;
    }
    v.route.peer = m_route.peer;
    m_route = std::move(v.route);
    if (m_route.tls) {
        // proxy.intercept_tls: the client's handshake starts here; the
        // reads that follow run it, and in() holds plaintext afterwards.
        SSL* ssl = m_ctx.tls ? m_ctx.tls->new_session(m_route.authority.empty() ? m_route.dst_ip : m_route.authority,
                                                      m_route.dst_port)
                             : nullptr;
        if (ssl == nullptr) {
            m_ctx.metrics.redirects_refused.fetch_add(1, std::memory_order_relaxed);
            log_warn("refusing a redirected TLS connection from pid {} to {}: {}", m_route.pid, route_name(m_route),
                     m_ctx.tls ? "cannot start a TLS session" : "this roar-proxy does not intercept TLS");
            close_now();
            return;
        }
        m_io->start_tls(ssl);
    }
    m_ctx.metrics.redirects_admitted.fetch_add(1, std::memory_order_relaxed);
    log_debug("redirected connection from {} (pid {}) to {}{}{}", m_route.peer, m_route.pid,
              m_route.authority.empty() ? "" : m_route.authority + " at ", m_route.destination,
              m_route.tls ? " (TLS terminated here)" : "");
    m_phase = Phase::Head;
    on_head_bytes();
}

void Connection::on_head_bytes()
{
    if (m_io->in().empty()) {
        return;
    }
    if (!m_head_started) {
        m_head_started = std::chrono::steady_clock::now();
        arm_timer();
    }
    const std::string_view bytes = m_io->in().view();
    if (m_route.mode == ConnectionRoute::Mode::Forward && !m_route.tls && bytes.front() == '\x16') {
        // A TLS ClientHello on a connection the shim called plain (a
        // non-standard port without https:// in its entry): not HTTP.
        m_ctx.metrics.redirects_refused.fetch_add(1, std::memory_order_relaxed);
        log_warn("refusing a redirected TLS connection from pid {} to {}: its routing entry does not say https://",
                 m_route.pid, route_name(m_route));
        close_now();
        return;
    }
    const HeadLimits limits{m_ctx.opts.max_header_bytes, m_ctx.opts.max_header_fields};
    const std::size_t end = find_head_end(bytes.substr(0, std::min(bytes.size(), limits.max_bytes)), m_scanned);
    if (end == std::string_view::npos && bytes.size() < limits.max_bytes) {
        m_scanned = bytes.size();
        return;
    }
    HeadResult r = parse_request_head(bytes, limits);
    if (r.status == HeadStatus::Incomplete) {
        m_scanned = bytes.size();
        return;
    }
    m_scanned = 0;
    m_head_started.reset();
    if (r.status == HeadStatus::Invalid) {
        m_in_request = true;
        m_method.clear();
        m_target = "/";
        m_op = "rejected";
        m_request_started = std::chrono::steady_clock::now();
        m_ctx.metrics.inflight.fetch_add(1, std::memory_order_relaxed);
        log_info("malformed request from {} -> {} {}", m_route.peer, r.error.status, r.error.message);
        m_phase = Phase::Handling;
        answer(error_response({r.error.status, r.error.code, r.error.message}, "/", new_request_id()), false, false);
        return;
    }
    m_io->in().consume(r.parsed.size);
    handle_head(std::move(r.parsed));
}

// ---- requests ---------------------------------------------------------------

Decision Connection::decide(const RequestHead& head, bool operational)
{
    if (operational) {
        return handle(head, m_ctx.handler, Credentials{}, std::chrono::system_clock::now());
    }
    if (m_route.mode == ConnectionRoute::Mode::Forward) {
        // Redirected connections: `head` goes on unchanged (same Host and
        // Authorization, no verification, no re-signing); the upstream
        // authenticates it.
        return forward_plan(head, m_route, m_ctx.handler);
    }
    auto creds = m_ctx.creds.get();
    if (!creds) {
        return error_response({403, "InvalidAccessKeyId",
                               "roar-proxy has no AWS credentials to verify or re-sign requests: " + creds.error()},
                              head.raw_path(), new_request_id());
    }
    return handle(head, m_ctx.handler, *creds, std::chrono::system_clock::now());
}

void Connection::handle_head(ParsedHead parsed)
{
    m_phase = Phase::Handling;
    m_in_request = true;
    m_response_started = false;
    m_request_started = std::chrono::steady_clock::now();
    m_method = parsed.head.method;
    m_target = std::string(parsed.head.raw_path());
    m_ctx.metrics.inflight.fetch_add(1, std::memory_order_relaxed);
    const RequestHead& head = parsed.head;
    const bool operational = head.raw_path().rfind("/_roar/", 0) == 0;
    m_op = operational ? "roar" : "rejected";

    if (m_route.tls && m_route.tls_server_name.empty()) {
        m_route.tls_server_name = TlsFront::server_name(m_io->ssl());
    }
    Decision decision = decide(head, operational);
    if (auto* local = std::get_if<LocalResponse>(&decision)) {
        if (local->status == 403) {
            m_ctx.metrics.auth_failures.fetch_add(1, std::memory_order_relaxed);
        }
        if (!operational || local->status >= 400) {
            log_info("{} {} -> {} {}", head.method, redact_target(head.target), local->status, local->error_code);
        }
        // A request body we did not read poisons the connection.
        const bool keep = parsed.keep_alive && parsed.framing == BodyFraming::None && !m_ctx.stopping.load();
        answer(*local, keep, head.method == "HEAD");
        return;
    }
    relay(std::move(std::get<ForwardPlan>(decision)), parsed);
}

void Connection::answer(const LocalResponse& resp, bool keep_alive, bool head_only)
{
    m_response_started = true;
    m_io->write(local_response_text(resp, keep_alive, head_only));
    end_request(resp.status);
    after_response(keep_alive && !m_io->failed());
}

void Connection::relay(ForwardPlan plan, const ParsedHead& parsed)
{
    m_phase = Phase::Relaying;
    m_op = std::string(op_name(plan.op));
    RelayRequest request;
    request.framing = parsed.framing;
    request.content_length = parsed.content_length;
    request.client_keep_alive = parsed.keep_alive;
    request.pid = m_route.pid;
    std::weak_ptr<Connection> weak = shared_from_this();
    m_exchange = std::make_shared<Exchange>(
        m_ctx, m_loop.io(), m_loop.curl(), m_io, std::move(plan), request, [weak, &ctx = m_ctx](RelayOutcome outcome) {
            if (auto self = weak.lock()) {
                self->guarded("relay", [&] { self->on_relay_done(std::move(outcome)); });
            } else if (outcome.record) {
                record_orphan(ctx, *outcome.record);
            }
        });
    m_exchange->start();
}

void Connection::on_relay_done(RelayOutcome outcome)
{
    m_exchange.reset();
    // Recorded even when the connection gave up on the exchange: a client
    // that was sent part of an object read it.
    if (outcome.record) {
        m_ctx.recorder->record(*outcome.record);
    }
    if (m_phase != Phase::Relaying) {
        return; // the connection already gave up on this exchange (closed, or answered an internal error)
    }
    m_response_started = true;
    log_debug("{} {} ({}) -> {} in {:.3f}s", m_method, m_target, m_op, outcome.status,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - m_request_started).count());
    end_request(outcome.status);
    if (outcome.status == 0) {
        close_now(); // cut short: the client cannot tell where the response ends
        return;
    }
    after_response(outcome.keep_alive && !m_io->failed());
}

void Connection::end_request(unsigned status)
{
    if (!m_in_request) {
        return;
    }
    m_in_request = false;
    if (m_op != "roar") {
        m_ctx.metrics.count_request(m_op, status);
    }
    m_ctx.metrics.inflight.fetch_sub(1, std::memory_order_relaxed);
}

void Connection::after_response(bool keep_alive)
{
    if (m_phase == Phase::Closed) {
        return;
    }
    if (!keep_alive || m_ctx.stopping.load()) {
        linger_close();
        return;
    }
    if (m_io->queued() > 0) {
        // Read the next request only once this response is out: a client
        // that pipelines without reading cannot make the queue grow.
        m_phase = Phase::Writing;
        m_io->on_written([self = shared_from_this()] {
            self->guarded("write", [&] {
                if (self->m_phase != Phase::Writing) {
                    return;
                }
                if (self->m_io->failed()) {
                    self->close_now();
                } else {
                    self->after_response(true);
                }
            });
        });
        return;
    }
    next_request();
}

void Connection::next_request()
{
    m_phase = Phase::Head;
    m_scanned = 0;
    m_head_started.reset();
    m_idle_since = std::chrono::steady_clock::now();
    m_io->in().shrink();
    arm_timer();
    if (!m_io->in().empty()) {
        // A pipelined request: parse it from the loop, not from this stack.
        boost::asio::post(m_loop.io(), [self = shared_from_this()] {
            self->guarded("read", [&] {
                if (self->m_phase == Phase::Head) {
                    self->on_head_bytes();
                    self->read_more();
                }
            });
        });
        return;
    }
    read_more();
}

// ---- closing ----------------------------------------------------------------

void Connection::linger_close()
{
    if (m_phase == Phase::Closed || m_phase == Phase::Lingering) {
        return;
    }
    // Send what is queued, then FIN, and read (discarding) until the
    // client closes too: closing with unread bytes would reset the
    // connection and could destroy the answer before the client reads it.
    m_phase = Phase::Lingering;
    m_scanned = 0;
    m_linger_until = std::chrono::steady_clock::now() + k_linger;
    m_io->shutdown_send();
    arm_timer();
    if (!m_io->in().empty()) {
        on_bytes();
    }
    if (m_phase == Phase::Lingering) {
        read_more();
    }
}

void Connection::close_now()
{
    if (m_phase == Phase::Closed) {
        return;
    }
    auto self = shared_from_this(); // forget() drops the loop's reference
    m_phase = Phase::Closed;
    boost::system::error_code ec;
    m_timer.cancel();
    if (m_exchange) {
        auto x = std::move(m_exchange);
        x->abort("connection closed");
    }
    end_request(0);
    m_io->close();
    if (m_closed) {
        auto closed = std::move(m_closed);
        m_closed = nullptr;
        closed();
    }
    m_loop.forget(this);
}

void Connection::close_if_idle()
{
    guarded("shutdown", [&] {
        if (!busy()) {
            close_now();
        }
    });
}

void Connection::abort()
{
    guarded("abort", [&] { close_now(); });
}

// ---- timeouts ---------------------------------------------------------------

std::chrono::steady_clock::time_point Connection::deadline() const
{
    using clock = std::chrono::steady_clock;
    const auto idle = m_ctx.opts.idle_timeout;
    switch (m_phase) {
    case Phase::Preamble:
    case Phase::Head:
        if (m_head_started) {
            return std::min(*m_head_started + m_ctx.opts.header_timeout, m_idle_since + idle);
        }
        return m_idle_since + idle;
    case Phase::Relaying:
        // The upstream side has curl's own timeouts; here: a client that
        // neither sends the body nor reads the response.
        if (m_exchange && m_exchange->waiting_on_client()) {
            return m_io->last_progress() + idle;
        }
        return clock::now() + idle;
    case Phase::Writing: return m_io->last_progress() + idle;
    case Phase::Lingering: return m_linger_until;
    case Phase::Handling: return clock::now() + idle;
    case Phase::Closed: return clock::time_point::max();
    }
    return clock::time_point::max();
}

void Connection::arm_timer()
{
    const auto at = deadline();
    if (at >= m_timer_at) {
        return; // the armed timer fires earlier and re-checks
    }
    m_timer_at = at;
    m_timer.expires_at(at);
    m_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
        if (ec) {
            return;
        }
        if (auto self = weak.lock()) {
            self->m_timer_at = std::chrono::steady_clock::time_point::max();
            self->guarded("timer", [&] { self->on_timer(); });
        }
    });
}

void Connection::on_timer()
{
    if (m_phase == Phase::Closed) {
        return;
    }
    if (std::chrono::steady_clock::now() < deadline()) {
        arm_timer();
        return;
    }
    switch (m_phase) {
    case Phase::Head:
        if (m_head_started) {
            m_ctx.metrics.header_timeouts.fetch_add(1, std::memory_order_relaxed);
            log_info("closing the connection from {}: no complete request head within {} ms", m_route.peer,
                     m_ctx.opts.header_timeout.count());
            m_in_request = true;
            m_op = "rejected";
            m_ctx.metrics.inflight.fetch_add(1, std::memory_order_relaxed);
            m_response_started = true;
            m_io->write(local_response_text(
                error_response({400, "RequestTimeout",
                                "Your socket connection to the server was not read from or written to within the "
                                "timeout period."},
                               "/", new_request_id()),
                false, false));
            end_request(400);
            linger_close();
            return;
        }
        close_now(); // idle keep-alive connection
        return;
    case Phase::Relaying:
        log_info("{} {}: the client made no progress for {} ms; closing", m_method, m_target,
                 m_ctx.opts.idle_timeout.count());
        close_now();
        return;
    default: close_now(); return;
    }
}

} // namespace roar::proxy
