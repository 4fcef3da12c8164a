// libcurl's multi-socket interface driven by an Asio io_context: curl says
// which of its sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake
// it (CURLMOPT_TIMERFUNCTION); socket readiness and the timer call
// curl_multi_socket_action on the loop's thread, and finished transfers are
// handed back to their owners. curl's sockets are opened and closed through
// this class too, so Asio can wait on them and a connection whose request
// body was cut short can be closed with a reset (SO_LINGER 0) instead of a
// clean FIN. The multi handle's connection cache keeps upstream connections
// alive between requests; idle easy handles are pooled.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

namespace roar::proxy {

// The owner of a transfer added to a CurlMulti.
class CurlTransfer {
public:
    virtual ~CurlTransfer() = default;
    // The transfer ended with `result` (its easy handle is already removed).
    virtual void on_curl_done(CURLcode result) = 0;
};

class CurlMulti {
public:
    static constexpr std::size_t k_max_idle_easy = 64;

    explicit CurlMulti(boost::asio::io_context& io);
    ~CurlMulti();
    CurlMulti(const CurlMulti&) = delete;
    CurlMulti& operator=(const CurlMulti&) = delete;

    // An easy handle (pooled or new), reset to defaults.
    CURL* take_easy();
    // Returns `easy` (not added to the multi) to the pool.
    void give_easy(CURL* easy);
    // Sets the socket callbacks of `easy` to this multi's (call after take_easy).
    void prepare(CURL* easy);

    // Starts `easy`; `owner->on_curl_done` is called when it ends.
    bool add(CURL* easy, CurlTransfer* owner);
    // Stops `easy` without calling its owner; with `reset`, its connection
    // is closed with an RST (nothing more of the request reaches the upstream).
    void remove(CURL* easy, bool reset);
    // Marks the connection `easy` is using to be closed with an RST.
    void reset_connection(CURL* easy);
    // Runs curl for every transfer whose timers are due (e.g. after
    // curl_easy_pause(CURLPAUSE_CONT)).
    void kick();
    // Transfers running now.
    std::size_t running() const { return m_running; }

private:
    struct Watch;
    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socketp);
    static int on_timer(CURLM* multi, long timeout_ms, void* self);
    static curl_socket_t on_open(void* self, curlsocktype purpose, curl_sockaddr* address);
    static int on_close(void* self, curl_socket_t fd);
    void arm(const std::shared_ptr<Watch>& w, bool write);
    void arm_timer();
    void action(curl_socket_t fd, int flags);
    void check_done();

    boost::asio::io_context& m_io;
    CURLM* m_multi;
    boost::asio::steady_timer m_timer;
    bool m_timer_wanted = false; // curl asked to be called at m_timer_due
    bool m_timer_armed = false;  // m_timer waits until m_timer_expiry
    bool m_kick_posted = false;  // a "call curl now" handler is queued
    std::chrono::steady_clock::time_point m_timer_due{};
    std::chrono::steady_clock::time_point m_timer_expiry{};
    std::uint64_t m_timer_generation = 0;
    std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> m_sockets;
    std::unordered_map<CURL*, curl_socket_t> m_easy_socket; // the socket a running transfer uses
    std::vector<CURL*> m_idle;
    std::size_t m_running = 0;
    bool m_in_action = false;
};

} // namespace roar::proxy
