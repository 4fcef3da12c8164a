// Listener and sessions. The listener runs an Asio accept loop on the
// thread that calls run(); each accepted connection gets a session thread
// (bounded by max_connections) that reads request heads with Beast, asks
// handle() for a decision and answers locally or through the relay.
// Shutdown: stop() closes the acceptor and sets `stopping` (idle sessions
// leave at once, busy ones after their current exchange); after
// drain_timeout `aborting` cuts what is still in flight.
#include "roar/proxy/server.hpp"

#include "client_stream.hpp"
#include "proxy_context.hpp"
#include "relay.hpp"
#include "roar/proxy/handler.hpp"
#include "roar/proxy/log.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/read.hpp>

#include <condition_variable>
#include <map>
#include <vector>
#include <limits>
#include <cstdlib>
#include <thread>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

namespace roar::proxy {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

CurlPool::~CurlPool()
{
    for (CURL* h : m_idle) {
        curl_easy_cleanup(h);
    }
}

CURL* CurlPool::acquire()
{
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_idle.empty()) {
            CURL* h = m_idle.back();
            m_idle.pop_back();
            return h;
        }
    }
    return curl_easy_init();
}

void CurlPool::release(CURL* h)
{
    curl_easy_reset(h); // keeps the handle's connection cache
    const std::lock_guard<std::mutex> lock(m_mutex);
    if (m_idle.size() < k_max_idle) {
        m_idle.push_back(h);
        return;
    }
    curl_easy_cleanup(h);
}

tl::expected<Credentials, std::string> CredentialCache::get()
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    const auto now = std::chrono::steady_clock::now();
    if (m_checked == std::chrono::steady_clock::time_point{} || now - m_checked > std::chrono::seconds(5)) {
        auto fresh = resolve_credentials(process_env());
        if (fresh || !m_value) {
            m_value = std::move(fresh);
        }
        m_checked = now;
    }
    return m_value;
}

namespace {

RequestHead to_head(const http::request_parser<http::buffer_body>& parser)
{
    const auto& msg = parser.get();
    RequestHead head;
    head.method = std::string(msg.method_string());
    head.target = std::string(msg.target());
    for (const auto& field : msg) {
        head.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    return head;
}

void run_session(ProxyContext& ctx, int fd)
{
    ClientStream client(fd, ctx.stopping, std::chrono::milliseconds(ctx.opts.idle_timeout));
    boost::beast::flat_buffer buffer;
    // Beast reads at most the buffer's spare capacity at a time: give it
    // room for 64 KiB reads or bodies trickle through in 4 KiB pieces.
    buffer.reserve(64 * 1024);
    for (;;) {
        if (ctx.stopping.load()) {
            return;
        }
        RequestParser parser;
        parser.header_limit(static_cast<std::uint32_t>(ctx.opts.max_header_bytes));
        // Not boost::none: Beast 1.74 compares `len > optional` and a none limit fails.
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        client.set_abort_flag(ctx.stopping);
        boost::system::error_code ec;
        http::read_header(client, buffer, parser, ec);
        if (ec) {
            if (ec == http::error::header_limit) {
                write_local_response(client,
                                     error_response({431, "RequestHeaderSectionTooLarge",
                                                     "Your request header section exceeds the maximum allowed size."},
                                                    "/", new_request_id()),
                                     false, false);
            } else if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != boost::beast::error::timeout
                       && ec != asio::error::operation_aborted && ec != asio::error::connection_reset) {
                write_local_response(client,
                                     error_response({400, "BadRequest", "Malformed HTTP request: " + ec.message()}, "/",
                                                    new_request_id()),
                                     false, false);
            }
            return;
        }
        client.set_abort_flag(ctx.aborting);
        ctx.metrics.inflight.fetch_add(1);
        const RequestHead head = to_head(parser);
        const bool keep_alive = parser.get().keep_alive();
        const bool head_only = head.method == "HEAD";

        HandlerConfig cfg = ctx.handler;
        Credentials creds;
        auto resolved = ctx.creds.get();
        const bool operational = head.raw_path().rfind("/_roar/", 0) == 0;
        unsigned status = 0;
        std::string op = "roar";
        bool keep = false;
        if (resolved) {
            creds = *resolved;
        }
        Decision decision = (!resolved && !operational)
                                ? Decision(error_response({403, "InvalidAccessKeyId",
                                                           "roar-proxy has no AWS credentials to verify or re-sign "
                                                           "requests: "
                                                               + resolved.error()},
                                                          head.raw_path(), new_request_id()))
                                : handle(head, cfg, creds, std::chrono::system_clock::now());
        if (auto* local = std::get_if<LocalResponse>(&decision)) {
            status = local->status;
            if (local->status == 403) {
                ctx.metrics.auth_failures.fetch_add(1);
            }
            if (!operational || local->status >= 400) {
                log_info("{} {} -> {} {}", head.method, redact_target(head.target), local->status, local->error_code);
            }
            // A request body we did not read poisons the connection.
            keep = keep_alive && parser.is_done() && !ctx.stopping.load();
            if (!write_local_response(client, *local, keep, head_only)) {
                keep = false;
            }
            if (!operational) {
                op = "rejected";
            }
        } else {
            const auto& plan = std::get<ForwardPlan>(decision);
            op = std::string(op_name(plan.op));
            const auto started = std::chrono::steady_clock::now();
            const RelayResult r = relay(ctx, client, buffer, parser, plan, keep_alive);
            status = r.status;
            keep = r.keep_alive;
            log_debug("{} {} ({}) -> {} in {:.3f}s", head.method, redact_target(head.target), op, r.status,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        }
        if (!operational) {
            ctx.metrics.count_request(op, status);
        }
        ctx.metrics.inflight.fetch_sub(1);
        if (!keep) {
            return;
        }
    }
}

} // namespace

struct Server::Impl {
    ProxyContext ctx;
    asio::io_context ioc;
    tcp::acceptor acceptor{ioc};
    std::mutex mutex;
    std::condition_variable idle;
    std::size_t sessions = 0;
    // Session threads are joined (not detached) so that shutdown ends only
    // once every thread is gone: finished ones are collected on each accept
    // and at the end of run().
    std::map<std::thread::id, std::thread> threads;
    std::vector<std::thread::id> finished;
    std::thread drain_timer;

    void join_finished()
    {
        std::vector<std::thread> done;
        {
            const std::lock_guard<std::mutex> lock(mutex);
            for (const auto& id : finished) {
                auto it = threads.find(id);
                if (it != threads.end()) {
                    done.push_back(std::move(it->second));
                    threads.erase(it);
                }
            }
            finished.clear();
        }
        for (auto& t : done) {
            t.join();
        }
    }

    void accept_next()
    {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
            if (ec) {
                if (ec != asio::error::operation_aborted) {
                    log_warn("accept failed: {}", ec.message());
                    if (!ctx.stopping.load()) {
                        accept_next();
                    }
                }
                return;
            }
            join_finished();
            start_session(std::move(socket));
            accept_next();
        });
    }

    void start_session(tcp::socket socket)
    {
        boost::system::error_code ec;
        socket.set_option(tcp::no_delay(true), ec);
        {
            const std::lock_guard<std::mutex> lock(mutex);
            if (sessions >= ctx.opts.max_connections) {
                log_warn("refusing a connection: {} sessions already open", sessions);
                return; // socket closes
            }
            ++sessions;
        }
        const int fd = socket.release(ec);
        if (ec) {
            end_session();
            return;
        }
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        const std::lock_guard<std::mutex> lock(mutex);
        std::thread t([this, fd] {
            run_session(ctx, fd);
            end_session(std::this_thread::get_id());
        });
        const auto id = t.get_id();
        threads.emplace(id, std::move(t));
    }

    void end_session(std::thread::id self = {})
    {
        const std::lock_guard<std::mutex> lock(mutex);
        --sessions;
        if (self != std::thread::id{}) {
            finished.push_back(self);
        }
        idle.notify_all();
    }
};

Server::Server() : m_impl(std::make_unique<Impl>()) { }

Server::~Server()
{
    if (m_impl && m_impl->drain_timer.joinable()) {
        m_impl->drain_timer.join();
    }
}

tl::expected<std::unique_ptr<Server>, std::string> Server::create(const ServerOptions& opts,
                                                                  std::unique_ptr<RingPublisher> ring)
{
    std::unique_ptr<Server> s(new Server());
    Impl& impl = *s->m_impl;
    impl.ctx.opts = opts;
    impl.ctx.ring = std::move(ring);
    impl.ctx.handler.upstream = opts.upstream;
    impl.ctx.handler.metrics_text = [&impl] { return impl.ctx.metrics.render(); };
    if (const char* ca = std::getenv("AWS_CA_BUNDLE"); ca != nullptr && *ca != '\0') {
        impl.ctx.ca_bundle = ca;
    }
    if (opts.upstream.size() > 0 && !parse_endpoint(opts.upstream)) {
        return tl::unexpected("upstream '" + opts.upstream + "' is not an http(s)://host[:port] URL");
    }
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(opts.listen_host, ec);
    if (ec) {
        return tl::unexpected("cannot listen on '" + opts.listen_host + "': not an IP address");
    }
    const tcp::endpoint ep(addr, opts.listen_port);
    impl.acceptor.open(ep.protocol(), ec);
    if (!ec) {
        impl.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
        impl.acceptor.bind(ep, ec);
    }
    if (!ec) {
        impl.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return tl::unexpected(
            fmt::format("cannot listen on {}:{}: {}", opts.listen_host, opts.listen_port, ec.message()));
    }
    if (auto creds = impl.ctx.creds.get(); creds) {
        log_info("verifying and re-signing with credentials from {}", creds->source);
    } else {
        log_warn("{}; S3 requests will be refused until credentials appear", creds.error());
    }
    return s;
}

std::uint16_t Server::port() const
{
    boost::system::error_code ec;
    return m_impl->acceptor.local_endpoint(ec).port();
}

Metrics& Server::metrics() { return m_impl->ctx.metrics; }

void Server::run()
{
    m_impl->accept_next();
    m_impl->ioc.run();
    {
        std::unique_lock<std::mutex> lock(m_impl->mutex);
        m_impl->idle.wait(lock, [this] { return m_impl->sessions == 0; });
    }
    m_impl->join_finished();
    if (m_impl->ctx.ring) {
        m_impl->ctx.ring->ring_doorbell();
    }
}

void Server::stop()
{
    if (m_impl->ctx.stopping.exchange(true)) {
        return;
    }
    // The drain timer must exist before the acceptor closes: closing lets
    // run() return and the owner destroy this Server, which joins it.
    m_impl->drain_timer = std::thread([this] {
        std::unique_lock<std::mutex> lock(m_impl->mutex);
        if (!m_impl->idle.wait_for(lock, m_impl->ctx.opts.drain_timeout, [this] { return m_impl->sessions == 0; })) {
            log_warn("aborting {} in-flight session(s) at shutdown", m_impl->sessions);
            m_impl->ctx.aborting.store(true);
        }
    });
    // Nothing may touch *this after this post.
    asio::post(m_impl->ioc, [this] {
        boost::system::error_code ec;
        m_impl->acceptor.close(ec);
    });
}

} // namespace roar::proxy
