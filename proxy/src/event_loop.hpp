// One event loop of the proxy: an Asio io_context run by one thread, the
// libcurl multi handle driven from it, and the client connections it
// owns. Every connection and every transfer of a loop is touched only by
// that loop's thread.
#pragma once

#include "curl_multi.hpp"
#include "proxy_context.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace roar::proxy {

class Connection;

class EventLoop {
public:
    explicit EventLoop(ProxyContext& ctx);
    // Closes the connections still open (aborting their transfers) before
    // the curl multi handle and the io_context go.
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    boost::asio::io_context& io() { return m_io; }
    CurlMulti& curl() { return m_curl; }
    ProxyContext& ctx() { return m_ctx; }

    // Runs the loop on this thread until stop(); an exception that escapes
    // a handler is logged and the loop goes on.
    void run();
    // Makes run() return (any thread).
    void stop();

    // Loop thread: serves `socket` from `peer`; `closed` runs once when the
    // connection has ended.
    void serve(boost::asio::ip::tcp::socket socket, std::string peer, std::function<void()> closed);
    // Loop thread: the server is stopping; idle connections close now.
    void close_idle();
    // Loop thread: the drain time is over; every connection closes now.
    void abort_all();
    // Loop thread: called by a connection that has closed.
    void forget(Connection* c);

private:
    ProxyContext& m_ctx;
    boost::asio::io_context m_io{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> m_work;
    CurlMulti m_curl; // after m_io: destroyed first, while the io_context still exists
    std::unordered_map<Connection*, std::shared_ptr<Connection>> m_connections;
};

} // namespace roar::proxy
