// EventLoop: the io_context, its curl multi handle and its connections.
#include "event_loop.hpp"

#include "connection.hpp"
#include "roar/proxy/log.hpp"

#include <vector>

namespace roar::proxy {

EventLoop::EventLoop(ProxyContext& ctx) : m_ctx(ctx), m_work(boost::asio::make_work_guard(m_io)), m_curl(m_io) { }

EventLoop::~EventLoop() { abort_all(); }

void EventLoop::run()
{
    for (;;) {
        try {
            m_io.run();
            return;
        } catch (const std::exception& e) {
            // Connections and the relay catch their own errors; this is
            // the last resort that keeps the proxy alive for everyone else.
            log_warn("event loop: unexpected error (the loop goes on): {}", e.what());
        } catch (...) {
            log_warn("event loop: unexpected error (the loop goes on)");
        }
    }
}

void EventLoop::stop()
{
    m_work.reset();
    m_io.stop();
}

void EventLoop::serve(boost::asio::ip::tcp::socket socket, std::string peer, std::function<void()> closed)
{
    auto c = std::make_shared<Connection>(*this, std::move(socket), std::move(peer), std::move(closed));
    m_connections.emplace(c.get(), c);
    if (m_ctx.stopping.load()) {
        c->abort();
        return;
    }
    c->start();
}

void EventLoop::close_idle()
{
    std::vector<std::shared_ptr<Connection>> all;
    for (const auto& [p, c] : m_connections) {
        all.push_back(c);
    }
    for (const auto& c : all) {
        c->close_if_idle();
    }
}

void EventLoop::abort_all()
{
    std::vector<std::shared_ptr<Connection>> all;
    for (const auto& [p, c] : m_connections) {
        all.push_back(c);
    }
    for (const auto& c : all) {
        c->abort();
    }
    m_connections.clear();
}

void EventLoop::forget(Connection* c) { m_connections.erase(c); }

} // namespace roar::proxy
