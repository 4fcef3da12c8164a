// A Beast SyncReadStream/SyncWriteStream over a non-blocking client socket
// whose every wait is a poll() bounded by an idle timeout and interrupted
// by the server's abort flag, so a silent or vanished client can never
// wedge a session thread.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>

#include <poll.h>
#include <sys/uio.h>
#include <sys/socket.h>
#include <unistd.h>

namespace roar::proxy {

class ClientStream {
public:
    ClientStream(int fd, const std::atomic<bool>& abort, std::chrono::milliseconds timeout)
        : m_fd(fd), m_abort(&abort), m_timeout(timeout)
    { }
    ~ClientStream()
    {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
    }
    ClientStream(const ClientStream&) = delete;
    ClientStream& operator=(const ClientStream&) = delete;

    int fd() const { return m_fd; }
    // Makes waits give up when `abort` becomes true (e.g. the server's
    // "stopping" flag while idle between requests).
    void set_abort_flag(const std::atomic<bool>& abort) { m_abort = &abort; }
    void set_timeout(std::chrono::milliseconds t) { m_timeout = t; }
    // Whether the last failure was the idle timeout.
    bool timed_out() const { return m_timed_out; }

    // Waits until the socket is readable/writable per `events`; `ec` set on
    // timeout, abort, or error.
    bool wait(short events, boost::system::error_code& ec)
    {
        const auto deadline = std::chrono::steady_clock::now() + m_timeout;
        for (;;) {
            if (m_abort->load(std::memory_order_relaxed)) {
                ec = boost::asio::error::operation_aborted;
                return false;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                m_timed_out = true;
                ec = boost::beast::error::timeout;
                return false;
            }
            pollfd p{m_fd, events, 0};
            const int r = ::poll(&p, 1, static_cast<int>(std::min<long>(left.count(), 200)));
            if (r > 0) {
                return true;
            }
            if (r < 0 && errno != EINTR) {
                ec.assign(errno, boost::system::system_category());
                return false;
            }
        }
    }

    // After a socket call failed with errno: true to call again (it was
    // interrupted, or the socket became ready per `events`), false with `ec`
    // set (a real error, the timeout, or abort).
    bool retry_after_failure(short events, boost::system::error_code& ec)
    {
        if (errno == EINTR) {
            return true;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            ec.assign(errno, boost::system::system_category());
            return false;
        }
        return wait(events, ec);
    }

    template <class MutableBufferSequence>
    std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec)
    {
        ec = {};
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
             ++it) {
            boost::asio::mutable_buffer b = *it;
            if (b.size() == 0) {
                continue;
            }
            for (;;) {
                const ssize_t n = ::recv(m_fd, b.data(), b.size(), 0);
                if (n > 0) {
                    return static_cast<std::size_t>(n);
                }
                if (n == 0) {
                    ec = boost::asio::error::eof;
                    return 0;
                }
                if (!retry_after_failure(POLLIN, ec)) {
                    return 0;
                }
            }
        }
        return 0;
    }
    template <class MutableBufferSequence> std::size_t read_some(const MutableBufferSequence& buffers)
    {
        boost::system::error_code ec;
        const auto n = read_some(buffers, ec);
        if (ec) {
            throw boost::system::system_error(ec);
        }
        return n;
    }

    template <class ConstBufferSequence>
    std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec)
    {
        ec = {};
        for (auto it = boost::asio::buffer_sequence_begin(buffers); it != boost::asio::buffer_sequence_end(buffers);
             ++it) {
            boost::asio::const_buffer b = *it;
            if (b.size() == 0) {
                continue;
            }
            for (;;) {
                const ssize_t n = ::send(m_fd, b.data(), b.size(), MSG_NOSIGNAL);
                if (n >= 0) {
                    return static_cast<std::size_t>(n);
                }
                if (!retry_after_failure(POLLOUT, ec)) {
                    return 0;
                }
            }
        }
        return 0;
    }
    template <class ConstBufferSequence> std::size_t write_some(const ConstBufferSequence& buffers)
    {
        boost::system::error_code ec;
        const auto n = write_some(buffers, ec);
        if (ec) {
            throw boost::system::system_error(ec);
        }
        return n;
    }

    // Writes all of `data`; false on error (ec set).
    bool write_all(const void* data, std::size_t size, boost::system::error_code& ec)
    {
        const char* p = static_cast<const char*>(data);
        while (size > 0) {
            const std::size_t n = write_some(boost::asio::const_buffer(p, size), ec);
            if (ec) {
                return false;
            }
            p += n;
            size -= n;
        }
        return true;
    }

    // Writes all of the `count` buffers at `bufs` (one sendmsg when the
    // socket takes it all, e.g. a response head with its first body
    // bytes); false on error (ec set). Modifies `bufs`.
    bool write_all(iovec* bufs, std::size_t count, boost::system::error_code& ec)
    {
        ec = {};
        while (count > 0) {
            if (bufs->iov_len == 0) {
                ++bufs;
                --count;
                continue;
            }
            msghdr msg{};
            msg.msg_iov = bufs;
            msg.msg_iovlen = count;
            const ssize_t n = ::sendmsg(m_fd, &msg, MSG_NOSIGNAL);
            if (n < 0) {
                if (!retry_after_failure(POLLOUT, ec)) {
                    return false;
                }
                continue;
            }
            auto left = static_cast<std::size_t>(n);
            while (count > 0 && left >= bufs->iov_len) {
                left -= bufs->iov_len;
                ++bufs;
                --count;
            }
            if (count > 0) {
                bufs->iov_base = static_cast<char*>(bufs->iov_base) + left;
                bufs->iov_len -= left;
            }
        }
        return true;
    }

private:
    int m_fd;
    const std::atomic<bool>* m_abort;
    std::chrono::milliseconds m_timeout;
    bool m_timed_out = false;
};

} // namespace roar::proxy
