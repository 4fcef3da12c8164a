// CurlMulti: the Asio <-> curl_multi_socket_action bridge.
#include "curl_multi.hpp"

#include "roar/proxy/log.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <sys/socket.h>
#include <unistd.h>

namespace roar::proxy {

// One socket curl opened: Asio waits on it for what curl asked for.
struct CurlMulti::Watch {
    Watch(boost::asio::io_context& io, int socket) : desc(io, socket), fd(socket) { }
    boost::asio::posix::stream_descriptor desc;
    int fd;
    int what = 0; // CURL_POLL_* curl wants now
    bool reading = false;
    bool writing = false;
    bool closed = false;
    bool reset = false; // close with SO_LINGER 0
};

CurlMulti::CurlMulti(boost::asio::io_context& io) : m_io(io), m_multi(curl_multi_init()), m_timer(io)
{
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETFUNCTION, &CurlMulti::on_socket);
    curl_multi_setopt(m_multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERFUNCTION, &CurlMulti::on_timer);
    curl_multi_setopt(m_multi, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(m_multi, CURLMOPT_MAXCONNECTS, 64L);
}

CurlMulti::~CurlMulti()
{
    for (CURL* e : m_idle) {
        curl_easy_cleanup(e);
    }
    // Closes the cached connections through on_close while the watches exist.
    curl_multi_cleanup(m_multi);
    for (auto& [fd, w] : m_sockets) {
        w->closed = true;
        boost::system::error_code ec;
        w->desc.close(ec);
    }
}

CURL* CurlMulti::take_easy()
{
    if (!m_idle.empty()) {
        CURL* e = m_idle.back();
        m_idle.pop_back();
        return e;
    }
    return curl_easy_init();
}

void CurlMulti::give_easy(CURL* easy)
{
    curl_easy_reset(easy);
    if (m_idle.size() < k_max_idle_easy) {
        m_idle.push_back(easy);
        return;
    }
    curl_easy_cleanup(easy);
}

void CurlMulti::prepare(CURL* easy)
{
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &CurlMulti::on_open);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &CurlMulti::on_close);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
}

bool CurlMulti::add(CURL* easy, CurlTransfer* owner)
{
    curl_easy_setopt(easy, CURLOPT_PRIVATE, static_cast<void*>(owner));
    if (curl_multi_add_handle(m_multi, easy) != CURLM_OK) {
        return false;
    }
    ++m_running;
    return true;
}

void CurlMulti::reset_connection(CURL* easy)
{
    // curl reports a transfer's socket through CURLINFO_ACTIVESOCKET only
    // once its connection is settled; the socket callback says it earlier.
    curl_socket_t fd = CURL_SOCKET_BAD;
    if (curl_easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD) {
        const auto it = m_easy_socket.find(easy);
        if (it == m_easy_socket.end()) {
            return;
        }
        fd = it->second;
    }
    // Set now as well as at close: whatever curl does next, the socket ends in an RST.
    const linger lg{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (auto it = m_sockets.find(fd); it != m_sockets.end()) {
        it->second->reset = true;
    }
}

void CurlMulti::remove(CURL* easy, bool reset)
{
    if (reset) {
        reset_connection(easy);
    }
    m_easy_socket.erase(easy);
    if (curl_multi_remove_handle(m_multi, easy) == CURLM_OK && m_running > 0) {
        --m_running;
    }
}

void CurlMulti::kick()
{
    if (!m_kick_posted) {
        m_kick_posted = true;
        boost::asio::post(m_io, [this] {
            m_kick_posted = false;
            action(CURL_SOCKET_TIMEOUT, 0);
        });
    }
}

curl_socket_t CurlMulti::on_open(void* self, curlsocktype purpose, curl_sockaddr* address)
{
    auto* m = static_cast<CurlMulti*>(self);
    if (purpose != CURLSOCKTYPE_IPCXN) {
        return CURL_SOCKET_BAD;
    }
    const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0) {
        return CURL_SOCKET_BAD;
    }
    try {
        auto w = std::make_shared<Watch>(m->m_io, fd);
        m->m_sockets[fd] = std::move(w);
    } catch (const std::exception& e) {
        log_warn("cannot watch an upstream socket: {}", e.what());
        ::close(fd);
        return CURL_SOCKET_BAD;
    }
    return fd;
}

int CurlMulti::on_close(void* self, curl_socket_t fd)
{
    auto* m = static_cast<CurlMulti*>(self);
    const auto it = m->m_sockets.find(fd);
    if (it == m->m_sockets.end()) {
        return ::close(fd);
    }
    std::shared_ptr<Watch> w = std::move(it->second);
    m->m_sockets.erase(it);
    w->closed = true;
    if (w->reset) {
        const linger lg{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    boost::system::error_code ec;
    w->desc.cancel(ec);
    w->desc.release(); // closed below, not by Asio
    return ::close(fd);
}

int CurlMulti::on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void*)
{
    auto* m = static_cast<CurlMulti*>(self);
    if (what != CURL_POLL_REMOVE) {
        m->m_easy_socket[easy] = fd;
    }
    const auto it = m->m_sockets.find(fd);
    if (it == m->m_sockets.end()) {
        return 0; // not one of ours (e.g. a resolver's): curl's timer covers it
    }
    const std::shared_ptr<Watch>& w = it->second;
    w->what = what == CURL_POLL_REMOVE ? 0 : what;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) {
        m->arm(w, false);
    }
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) {
        m->arm(w, true);
    }
    return 0;
}

void CurlMulti::arm(const std::shared_ptr<Watch>& w, bool write)
{
    bool& pending = write ? w->writing : w->reading;
    if (pending || w->closed) {
        return;
    }
    pending = true;
    w->desc.async_wait(write ? boost::asio::posix::descriptor_base::wait_write
                             : boost::asio::posix::descriptor_base::wait_read,
                       [this, w, write](const boost::system::error_code& ec) {
                           (write ? w->writing : w->reading) = false;
                           if (w->closed || ec == boost::asio::error::operation_aborted) {
                               return;
                           }
                           const int want = write ? CURL_POLL_OUT : CURL_POLL_IN;
                           if ((w->what & want) == 0) {
                               return; // curl no longer cares
                           }
                           action(w->fd, ec ? CURL_CSELECT_ERR : (write ? CURL_CSELECT_OUT : CURL_CSELECT_IN));
                           // Still wanted (and still open): wait again.
                           if (!w->closed && (w->what & want) != 0) {
                               arm(w, write);
                           }
                       });
}

int CurlMulti::on_timer(CURLM*, long timeout_ms, void* self)
{
    // Each call replaces curl's previous timeout. Timer changes cost a
    // timerfd_settime each, which adds up at thousands of requests per
    // second: "now" becomes a posted handler, and an armed timer that fires
    // no later than wanted is kept (curl just re-arms it if it fires early).
    auto* m = static_cast<CurlMulti*>(self);
    if (timeout_ms < 0) {
        m->m_timer_wanted = false;
        return 0;
    }
    if (timeout_ms == 0) {
        m->m_timer_wanted = false;
        if (!m->m_kick_posted) {
            m->m_kick_posted = true;
            boost::asio::post(m->m_io, [m] {
                m->m_kick_posted = false;
                m->action(CURL_SOCKET_TIMEOUT, 0);
            });
        }
        return 0;
    }
    m->m_timer_wanted = true;
    m->m_timer_due = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    if (m->m_timer_armed && m->m_timer_expiry <= m->m_timer_due) {
        return 0;
    }
    m->arm_timer();
    return 0;
}

void CurlMulti::arm_timer()
{
    m_timer_armed = true;
    m_timer_expiry = m_timer_due;
    const auto generation = ++m_timer_generation;
    m_timer.expires_at(m_timer_due);
    m_timer.async_wait([this, generation](const boost::system::error_code& ec) {
        if (ec || generation != m_timer_generation) {
            return; // replaced by a later arm_timer()
        }
        m_timer_armed = false;
        if (!m_timer_wanted) {
            return;
        }
        if (std::chrono::steady_clock::now() < m_timer_due) {
            arm_timer(); // curl moved its timeout later meanwhile
            return;
        }
        m_timer_wanted = false;
        action(CURL_SOCKET_TIMEOUT, 0);
    });
}

void CurlMulti::action(curl_socket_t fd, int flags)
{
    int still = 0;
    m_in_action = true;
    curl_multi_socket_action(m_multi, fd, flags, &still);
    m_in_action = false;
    check_done();
}

void CurlMulti::check_done()
{
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(m_multi, &left)) {
        if (msg->msg != CURLMSG_DONE) {
            continue;
        }
        CURL* easy = msg->easy_handle;
        const CURLcode result = msg->data.result;
        char* priv = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        auto* owner = reinterpret_cast<CurlTransfer*>(priv);
        m_easy_socket.erase(easy);
        curl_multi_remove_handle(m_multi, easy);
        if (m_running > 0) {
            --m_running;
        }
        if (owner != nullptr) {
            owner->on_curl_done(result);
        }
    }
}

} // namespace roar::proxy
