// Connection admission: at most `max_total` connections are served at
// once, at most `max_per_peer` of them from one peer; a connection over a
// cap is not refused but waits, unread, and is admitted in arrival order
// as soon as it fits (a peer at its cap does not hold up other peers'
// connections behind it). Thread-safe: the listener arrives, any loop
// leaves. Pure bookkeeping: what admitting means is the callback's.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace roar::proxy {

class Admission {
public:
    Admission(std::size_t max_total, std::size_t max_per_peer, std::size_t max_waiting);

    enum class Result {
        Admitted, // `admit` was not kept: serve the connection now
        Queued,   // `admit` is called (from leave(), on the leaving thread) once the connection fits
        Full,     // the waiting queue is full: stop accepting until leave() says there is room
    };
    // A new connection from `peer`.
    Result arrive(const std::string& peer, std::function<void()> admit);
    // A served connection of `peer` ended: admits the waiting ones that now
    // fit, oldest first. Returns true when the waiting queue went from full
    // to not full (accepting may resume).
    bool leave(const std::string& peer);
    // Drops every waiting connection (shutdown); their callbacks are destroyed unrun.
    void clear_waiting();

    std::size_t active() const;
    std::size_t waiting() const;

private:
    struct Waiter {
        std::string peer;
        std::function<void()> admit;
    };
    bool fits(const std::string& peer) const;

    const std::size_t m_max_total;
    const std::size_t m_max_per_peer;
    const std::size_t m_max_waiting;
    mutable std::mutex m_mutex;
    std::size_t m_active = 0;
    std::unordered_map<std::string, std::size_t> m_per_peer;
    std::deque<Waiter> m_waiting;
};

} // namespace roar::proxy
