// One client connection, from its first byte to its close: the preamble
// (plain HTTP, or a PROXY protocol v2 header from a redirected connection:
// the per-connection route is decided here), request heads read under a
// header-time and an idle bound, the pure handle() step, local answers or
// the relay, keep-alive and pipelining, and a lingering close so an error
// answer is not destroyed by a reset. Each entry point from the event loop
// is one exception boundary: whatever goes wrong answers an S3 error on
// that request if nothing was sent yet, else closes this connection, and
// never ends the process.
#pragma once

#include "client_io.hpp"
#include "event_loop.hpp"
#include "relay.hpp"
#include "roar/proxy/handler.hpp"
#include "roar/proxy/http_front.hpp"
#include "roar/proxy/preamble.hpp"

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace roar::proxy {

class Connection : public std::enable_shared_from_this<Connection> {
public:
    // A connection on `loop` over `socket` from `peer`; `closed` runs once when it ends.
    Connection(EventLoop& loop, boost::asio::ip::tcp::socket socket, std::string peer, std::function<void()> closed);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Starts reading the first bytes.
    void start();
    // The server is stopping: closes now unless a request is in flight
    // (that one finishes, answered with Connection: close).
    void close_if_idle();
    // Closes now, cutting a request in flight.
    void abort();
    bool busy() const { return m_phase == Phase::Handling || m_phase == Phase::Relaying || m_phase == Phase::Writing; }

private:
    enum class Phase { Preamble, Head, Handling, Relaying, Writing, Lingering, Closed };

    template <typename Fn> void guarded(const char* where, Fn&& fn);
    void fail_internal(const char* where, const std::string& what);

    void read_more();
    void on_bytes();
    void on_preamble_bytes();
    void accept_redirected();
    void on_head_bytes();
    void handle_head(ParsedHead parsed);
    Decision decide(const RequestHead& head, bool operational);
    void answer(const LocalResponse& resp, bool keep_alive, bool head_only);
    void relay(ForwardPlan plan, const ParsedHead& parsed);
    void on_relay_done(RelayOutcome outcome);
    void end_request(unsigned status);
    void after_response(bool keep_alive);
    void next_request();
    void linger_close();
    void close_now();

    std::chrono::steady_clock::time_point deadline() const;
    void arm_timer();
    void on_timer();

    EventLoop& m_loop;
    ProxyContext& m_ctx;
    std::shared_ptr<ClientIo> m_io;
    std::function<void()> m_closed;
    ConnectionRoute m_route;
    Phase m_phase = Phase::Preamble;
    bool m_reading = false;
    std::size_t m_scanned = 0; // bytes of the current head already searched for its end
    std::optional<std::chrono::steady_clock::time_point> m_head_started;
    std::chrono::steady_clock::time_point m_idle_since = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point m_linger_until{};
    boost::asio::steady_timer m_timer;
    std::chrono::steady_clock::time_point m_timer_at = std::chrono::steady_clock::time_point::max();
    std::shared_ptr<Exchange> m_exchange;
    // The request being served.
    bool m_in_request = false;
    bool m_response_started = false;
    std::string m_op;
    std::string m_method;
    std::string m_target;
    std::chrono::steady_clock::time_point m_request_started{};
};

} // namespace roar::proxy
