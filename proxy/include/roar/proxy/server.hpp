// The proxy server: a listener and a small fixed pool of event loops. Each
// loop is an Asio io_context that owns its client connections and a libcurl
// multi handle driven from the same io_context (multi-socket API), so one
// thread moves the bytes of many connections in both directions, pausing
// curl when a client is slow and the client when the upstream is slow.
// BLAKE3 of bodies runs on a separate hashing pool. Connections are
// admitted under a total and a per-peer cap; the ones over a cap wait in
// arrival order instead of being refused.
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
    // A listening TCP socket to serve instead of binding listen_host:port
    // (roar run binds it and hands it over, so a job need not wait for the
    // proxy to start); -1: bind.
    int listen_fd = -1;
    std::string upstream;           // empty = per-request AWS endpoint from the credential scope
    bool forward_checksums = false; // pass verified trailing checksums on (HandlerConfig)
    std::size_t threads = 1;        // event loops
    std::size_t hash_threads = 1;   // BLAKE3 threads
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_header_fields = 100;
    std::size_t max_connections = 1024;              // admitted at once, all peers
    std::size_t max_per_peer = 512;                  // admitted at once from one peer
    std::size_t max_waiting = 4096;                  // accepted and waiting for admission; beyond, accepting pauses
    std::chrono::milliseconds header_timeout{10000}; // first byte of a request head to its end
    std::chrono::milliseconds idle_timeout{60000};   // no request started, or no progress on the client socket
    std::chrono::seconds connect_timeout{10};        // upstream TCP/TLS connect
    std::chrono::seconds stall_timeout{120};         // upstream transfer without progress
    std::chrono::seconds drain_timeout{5};           // in-flight grace period at shutdown
    // Redirected connections (S3-ROUTING): the job's secret (ROAR_S3_SECRET;
    // empty: none is admitted) and its ROAR_S3_HOSTS list.
    std::string route_secret;
    std::string route_hosts;
    // proxy.intercept_tls: the roar CA's directory (tls_ca.hpp); redirected
    // TLS connections are terminated with its leaves. Empty: they are refused.
    std::string tls_ca_dir;
    // Where parts of multipart uploads are spooled while their offset is
    // unsure (unlinked files; empty: the system's temporary directory).
    std::string spool_dir;
    // Attribute the calls on each direct loopback connection to the process
    // holding the client's socket (peer_identity.hpp) rather than to the
    // proxy; the standalone daemon's recorder makes a job per such process.
    bool peer_pids = false;
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
    // Serves on this thread (and opts.threads - 1 more) until stop() has
    // taken effect; returns once every connection is closed.
    void run();
    // Stops accepting, closes idle connections, lets in-flight requests
    // finish for drain_timeout, then aborts them. Safe to call from any
    // thread (not from a signal handler).
    void stop();
    Metrics& metrics();

private:
    Server();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace roar::proxy
