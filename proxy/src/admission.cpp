// Admission: counters per peer and a FIFO of waiting connections.
#include "admission.hpp"

#include <vector>

namespace roar::proxy {

Admission::Admission(std::size_t max_total, std::size_t max_per_peer, std::size_t max_waiting)
    : m_max_total(std::max<std::size_t>(max_total, 1)),
      m_max_per_peer(std::max<std::size_t>(max_per_peer, 1)),
      m_max_waiting(max_waiting)
{ }

bool Admission::fits(const std::string& peer) const
{
    if (m_active >= m_max_total) {
        return false;
    }
    const auto it = m_per_peer.find(peer);
    return it == m_per_peer.end() || it->second < m_max_per_peer;
}

Admission::Result Admission::arrive(const std::string& peer, std::function<void()> admit)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    // Strict arrival order for a peer: nothing overtakes its waiting connections.
    bool peer_waiting = false;
    for (const auto& w : m_waiting) {
        if (w.peer == peer) {
            peer_waiting = true;
            break;
        }
    }
    if (!peer_waiting && fits(peer)) {
        ++m_active;
        ++m_per_peer[peer];
        return Result::Admitted;
    }
    m_waiting.push_back(Waiter{peer, std::move(admit)});
    return m_waiting.size() >= m_max_waiting ? Result::Full : Result::Queued;
}

bool Admission::leave(const std::string& peer)
{
    std::vector<std::function<void()>> admitted;
    bool room_again = false;
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        const bool was_full = m_waiting.size() >= m_max_waiting;
        if (m_active > 0) {
            --m_active;
        }
        if (auto it = m_per_peer.find(peer); it != m_per_peer.end()) {
            if (--it->second == 0) {
                m_per_peer.erase(it);
            }
        }
        for (auto it = m_waiting.begin(); it != m_waiting.end() && m_active < m_max_total;) {
            if (fits(it->peer)) {
                ++m_active;
                ++m_per_peer[it->peer];
                admitted.push_back(std::move(it->admit));
                it = m_waiting.erase(it);
            } else {
                ++it;
            }
        }
        room_again = was_full && m_waiting.size() < m_max_waiting;
    }
    for (auto& fn : admitted) {
        fn();
    }
    return room_again;
}

void Admission::clear_waiting()
{
    std::deque<Waiter> dropped;
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        dropped.swap(m_waiting);
    }
}

std::size_t Admission::active() const
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    return m_active;
}

std::size_t Admission::waiting() const
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    return m_waiting.size();
}

} // namespace roar::proxy
