// The listener and its sessions. The listener accepts on an Asio
// io_context thread and hands each connection to its own session thread;
// a session parses requests with Beast, asks the pure handle() what to do
// and either answers locally or runs the relay, whose upstream transfer is
// a blocking libcurl easy transfer on that same thread: curl's read
// callback pulls the client's body from the socket and its write callback
// pushes the upstream's body to the socket, so both directions are
// backpressured by the sockets themselves; only the BLAKE3 of a body runs
// beside the session, on at most four 256 KiB blocks.
#pragma once

#include "roar/proxy/credentials.hpp"
#include "roar/proxy/event_ring.hpp"
#include "roar/proxy/metrics.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <tl/expected.hpp>

namespace roar::proxy {

struct ServerOptions {
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 9090; // 0 = any free port
    std::string upstream;             // empty = per-request AWS endpoint from the credential scope
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_connections = 256;
    std::chrono::seconds idle_timeout{60};    // waiting for a request head or for socket progress
    std::chrono::seconds connect_timeout{10}; // upstream TCP/TLS connect
    std::chrono::seconds stall_timeout{120};  // upstream transfer without progress
    std::chrono::seconds drain_timeout{5};    // in-flight grace period at shutdown
};

class Server {
public:
    // Binds per `opts` (the port is known after this returns), using
    // `ring` (may be null) for events; the error says why binding failed.
    static tl::expected<std::unique_ptr<Server>, std::string> create(const ServerOptions& opts,
                                                                     std::unique_ptr<RingPublisher> ring);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    std::uint16_t port() const;
    // Serves until stop() is called; returns once every session ended.
    void run();
    // Stops accepting, lets in-flight requests finish for drain_timeout,
    // then aborts them. Safe to call from any thread (not from a signal handler).
    void stop();
    Metrics& metrics();

private:
    Server();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace roar::proxy
