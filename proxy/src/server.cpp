// The listener, the event loops and shutdown. The acceptor runs on loop 0
// and hands each accepted socket to the next loop in turn, through
// admission: a connection over the total or per-peer cap waits, unread,
// and is served in arrival order when one ends; when even the waiting
// queue is full the listener stops accepting (the kernel's backlog holds
// the rest) until there is room. Shutdown: stop() closes the acceptor and
// the idle connections at once, lets requests in flight finish for
// drain_timeout, then aborts them; the loops stop once no connection is
// left.
#include "roar/proxy/server.hpp"

#include "admission.hpp"
#include "event_loop.hpp"
#include "peer_identity.hpp"
#include "proxy_context.hpp"
#include "roar/proxy/handler.hpp"
#include "roar/collector/proxy_header.h"
#include "roar/proxy/log.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdlib>
#include <sys/socket.h>
#include <thread>
#include <vector>

namespace roar::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

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

struct Server::Impl {
    ProxyContext ctx;
    std::unique_ptr<Admission> admission;
    std::vector<std::unique_ptr<EventLoop>> loops; // loops[0] runs the acceptor
    std::unique_ptr<tcp::acceptor> acceptor;
    std::unique_ptr<asio::steady_timer> drain_timer;
    std::unique_ptr<asio::steady_timer> retry_timer;
    std::size_t next_loop = 0;
    bool accept_paused = false; // loop 0 only
    std::atomic<bool> loops_stopped{false};

    ~Impl()
    {
        // Hashing threads first (they post to the loops), then the loops,
        // whose connections still call back into this object as they close.
        ctx.hashes.reset();
        if (admission) {
            admission->clear_waiting();
        }
        acceptor.reset();
        drain_timer.reset();
        retry_timer.reset();
        loops.clear();
    }

    EventLoop& main_loop() { return *loops.front(); }

    tl::expected<void, std::string> listen(const ServerOptions& opts);

    void accept_next()
    {
        if (ctx.stopping.load() || !acceptor || !acceptor->is_open()) {
            return;
        }
        EventLoop& target = *loops[next_loop++ % loops.size()];
        acceptor->async_accept(target.io(), [this, &target](const boost::system::error_code& ec, tcp::socket socket) {
            if (ec) {
                if (ec == asio::error::operation_aborted || ctx.stopping.load()) {
                    return;
                }
                // Out of file descriptors and the like: try again shortly
                // rather than spinning or giving up.
                log_warn("accept failed: {}", ec.message());
                retry_timer->expires_after(std::chrono::milliseconds(100));
                retry_timer->async_wait([this](const boost::system::error_code& e) {
                    if (!e) {
                        accept_next();
                    }
                });
                return;
            }
            try {
                on_accepted(target, std::move(socket));
            } catch (const std::exception& e) {
                log_warn("dropping an accepted connection: {}", e.what());
            }
            if (!accept_paused) {
                accept_next();
            }
        });
    }

    void on_accepted(EventLoop& target, tcp::socket socket)
    {
        boost::system::error_code ec;
        boost::system::error_code ec2;
        const auto remote = socket.remote_endpoint(ec);
        const auto local = socket.local_endpoint(ec2);
        std::string peer = ec || ec2 ? std::string("unknown") : peer_key(local, remote);
        auto holder = std::make_shared<tcp::socket>(std::move(socket));
        auto admit = [this, &target, holder, peer] {
            ctx.metrics.connections_waiting.fetch_sub(1, std::memory_order_relaxed);
            asio::post(target.io(), [this, &target, holder, peer] { serve(target, std::move(*holder), peer); });
        };
        switch (admission->arrive(peer, admit)) {
        case Admission::Result::Admitted:
            asio::post(target.io(), [this, &target, holder, peer] { serve(target, std::move(*holder), peer); });
            break;
        case Admission::Result::Queued:
            ctx.metrics.connections_waiting.fetch_add(1, std::memory_order_relaxed);
            log_debug("connection from {} waits: {} connections are being served", peer, admission->active());
            break;
        case Admission::Result::Full:
            ctx.metrics.connections_waiting.fetch_add(1, std::memory_order_relaxed);
            accept_paused = true;
            log_warn("{} connections are waiting to be served; not accepting more until one ends",
                     admission->waiting());
            break;
        }
    }

    void serve(EventLoop& loop, tcp::socket socket, const std::string& peer)
    {
        ctx.metrics.connections_open.fetch_add(1, std::memory_order_relaxed);
        loop.serve(std::move(socket), peer, [this, peer] { connection_closed(peer); });
    }

    void connection_closed(const std::string& peer)
    {
        ctx.metrics.connections_open.fetch_sub(1, std::memory_order_relaxed);
        if (admission->leave(peer)) {
            asio::post(main_loop().io(), [this] {
                if (accept_paused) {
                    accept_paused = false;
                    accept_next();
                }
            });
        }
        if (ctx.stopping.load()) {
            check_stopped();
        }
    }

    void check_stopped()
    {
        if (ctx.metrics.connections_open.load() > 0 || loops_stopped.exchange(true)) {
            return;
        }
        for (auto& loop : loops) {
            EventLoop* l = loop.get();
            asio::post(l->io(), [l] { l->stop(); });
        }
    }

    void begin_shutdown()
    {
        boost::system::error_code ec;
        acceptor->close(ec);
        retry_timer->cancel();
        const auto dropped = admission->waiting();
        admission->clear_waiting();
        ctx.metrics.connections_waiting.fetch_sub(static_cast<std::int64_t>(dropped), std::memory_order_relaxed);
        for (auto& loop : loops) {
            EventLoop* l = loop.get();
            asio::post(l->io(), [l] { l->close_idle(); });
        }
        drain_timer->expires_after(ctx.opts.drain_timeout);
        drain_timer->async_wait([this](const boost::system::error_code& e) {
            if (e) {
                return;
            }
            if (const auto n = ctx.metrics.inflight.load(); n > 0) {
                log_warn("aborting {} in-flight session(s) at shutdown", n);
            }
            for (auto& loop : loops) {
                EventLoop* l = loop.get();
                asio::post(l->io(), [l] { l->abort_all(); });
            }
            // Connections already closed report through connection_closed();
            // none open at all: stop now.
            check_stopped();
        });
        check_stopped();
    }
};

Server::Server() : m_impl(std::make_unique<Impl>()) { }

Server::~Server() = default;

tl::expected<std::unique_ptr<Server>, std::string> Server::create(const ServerOptions& opts,
                                                                  std::unique_ptr<RingPublisher> ring)
{
    std::unique_ptr<Server> s(new Server());
    Impl& impl = *s->m_impl;
    impl.ctx.opts = opts;
    impl.ctx.multipart = std::make_unique<MultipartDigests>(
        opts.spool_dir.empty() ? std::filesystem::temp_directory_path() : std::filesystem::path(opts.spool_dir));
    impl.ctx.recorder = std::make_unique<Recorder>(std::move(ring), impl.ctx.metrics, impl.ctx.multipart.get());
    impl.ctx.hashes = std::make_unique<HashPool>(opts.hash_threads);
    impl.ctx.handler.upstream = opts.upstream;
    impl.ctx.handler.forward_checksums = opts.forward_checksums;
    if (!opts.route_secret.empty() && !roar_pp2_is_hex(opts.route_secret.c_str(), opts.route_secret.size())) {
        return tl::unexpected(std::string("ROAR_S3_SECRET is not lowercase hex"));
    }
    if (!opts.route_secret.empty() && opts.route_secret.size() != ROAR_PP2_SECRET_LEN) {
        return tl::unexpected(fmt::format("ROAR_S3_SECRET must be {} hex characters", ROAR_PP2_SECRET_LEN));
    }
    impl.ctx.redirect = RedirectPolicy::from(opts.route_secret, opts.route_hosts);
    if (!opts.tls_ca_dir.empty()) {
        auto front = TlsFront::create(opts.tls_ca_dir, impl.ctx.redirect);
        if (!front) {
            return tl::unexpected("cannot intercept TLS: " + front.error());
        }
        impl.ctx.tls = std::move(*front);
    }
    impl.ctx.handler.metrics_text = [&impl] { return impl.ctx.metrics.render(); };
    if (const char* ca = std::getenv("AWS_CA_BUNDLE"); ca != nullptr && *ca != '\0') {
        impl.ctx.ca_bundle = ca;
    }
    if (!opts.upstream.empty() && !parse_endpoint(opts.upstream)) {
        return tl::unexpected("upstream '" + opts.upstream + "' is not an http(s)://host[:port] URL");
    }
    impl.admission = std::make_unique<Admission>(opts.max_connections, opts.max_per_peer, opts.max_waiting);
    for (std::size_t i = 0; i < std::max<std::size_t>(opts.threads, 1); ++i) {
        impl.loops.push_back(std::make_unique<EventLoop>(impl.ctx));
    }
    impl.acceptor = std::make_unique<tcp::acceptor>(impl.main_loop().io());
    impl.drain_timer = std::make_unique<asio::steady_timer>(impl.main_loop().io());
    impl.retry_timer = std::make_unique<asio::steady_timer>(impl.main_loop().io());

    if (auto listening = impl.listen(opts); !listening) {
        return tl::unexpected(listening.error());
    }
    if (auto creds = impl.ctx.creds.get(); creds) {
        log_info("verifying and re-signing with credentials from {}", creds->source);
    } else {
        log_warn("{}; S3 requests will be refused until credentials appear", creds.error());
    }
    return s;
}

// Opens the acceptor per `opts`: adopts opts.listen_fd, or binds
// listen_host:listen_port and listens.
tl::expected<void, std::string> Server::Impl::listen(const ServerOptions& opts)
{
    boost::system::error_code ec;
    if (opts.listen_fd >= 0) {
        sockaddr_storage local{};
        socklen_t length = sizeof local;
        if (::getsockname(opts.listen_fd, reinterpret_cast<sockaddr*>(&local), &length) != 0
            || (local.ss_family != AF_INET && local.ss_family != AF_INET6)) {
            return tl::unexpected(fmt::format("--listen-fd {} is not a TCP socket", opts.listen_fd));
        }
        acceptor->assign(local.ss_family == AF_INET ? tcp::v4() : tcp::v6(), opts.listen_fd, ec);
        if (ec) {
            return tl::unexpected(fmt::format("cannot serve --listen-fd {}: {}", opts.listen_fd, ec.message()));
        }
        return {};
    }
    const auto addr = asio::ip::make_address(opts.listen_host, ec);
    if (ec) {
        return tl::unexpected("cannot listen on '" + opts.listen_host + "': not an IP address");
    }
    const tcp::endpoint ep(addr, opts.listen_port);
    acceptor->open(ep.protocol(), ec);
    if (!ec) {
        acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        acceptor->bind(ep, ec);
    }
    if (!ec) {
        acceptor->listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return tl::unexpected(
            fmt::format("cannot listen on {}:{}: {}", opts.listen_host, opts.listen_port, ec.message()));
    }
    return {};
}

std::uint16_t Server::port() const
{
    boost::system::error_code ec;
    return m_impl->acceptor->local_endpoint(ec).port();
}

Metrics& Server::metrics() { return m_impl->ctx.metrics; }

void Server::run()
{
    Impl& impl = *m_impl;
    asio::post(impl.main_loop().io(), [&impl] { impl.accept_next(); });
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < impl.loops.size(); ++i) {
        EventLoop* l = impl.loops[i].get();
        threads.emplace_back([l] { l->run(); });
    }
    impl.main_loop().run();
    for (auto& t : threads) {
        t.join();
    }
    impl.ctx.recorder->flush();
}

void Server::stop()
{
    if (m_impl->ctx.stopping.exchange(true)) {
        return;
    }
    Impl* impl = m_impl.get();
    asio::post(impl->main_loop().io(), [impl] { impl->begin_shutdown(); });
}

} // namespace roar::proxy
