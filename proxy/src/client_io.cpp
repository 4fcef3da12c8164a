// ClientIo: non-blocking reads into a buffer or the caller's memory, and a
// gather-writing output queue that waits for writability through Asio.
#include "client_io.hpp"

#include <boost/asio/post.hpp>

#include <openssl/err.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace roar::proxy {

namespace {

constexpr std::size_t k_copy_block = 64 * 1024;
constexpr std::size_t k_max_iov = 64;
constexpr std::size_t k_tls_read = 64 * 1024;
// The most plaintext one TLS record carries.
constexpr std::size_t k_tls_record = 16 * 1024;

} // namespace

void InBuffer::consume(std::size_t n)
{
    m_begin += std::min(n, size());
    if (m_begin == m_end) {
        m_begin = 0;
        m_end = 0;
    }
}

char* InBuffer::prepare(std::size_t n)
{
    if (m_buf.size() - m_end >= n) {
        return m_buf.data() + m_end;
    }
    if (m_begin > 0) {
        std::memmove(m_buf.data(), m_buf.data() + m_begin, size());
        m_end -= m_begin;
        m_begin = 0;
    }
    if (m_buf.size() - m_end < n) {
        m_buf.resize(std::max(m_end + n, 2 * m_buf.size()));
    }
    return m_buf.data() + m_end;
}

void InBuffer::shrink()
{
    if (empty() && m_buf.size() > 64 * 1024) {
        std::vector<char>().swap(m_buf);
        m_begin = 0;
        m_end = 0;
    }
}

ClientIo::ClientIo(boost::asio::ip::tcp::socket socket) : m_socket(std::move(socket)), m_fd(m_socket.native_handle())
{
    boost::system::error_code ec;
    m_socket.non_blocking(true, ec);
    m_socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
}

ClientIo::~ClientIo()
{
    close();
    if (m_ssl != nullptr) {
        SSL_free(m_ssl);
    }
}

void ClientIo::start_tls(SSL* ssl)
{
    m_ssl = ssl;
    m_rbio = BIO_new(BIO_s_mem());
    m_wbio = BIO_new(BIO_s_mem());
    if (m_rbio == nullptr || m_wbio == nullptr) {
        BIO_free(m_rbio);
        BIO_free(m_wbio);
        m_rbio = nullptr;
        m_wbio = nullptr;
        m_tls_error = "out of memory";
        fail();
        return;
    }
    BIO_set_mem_eof_return(m_rbio, -1); // an empty read BIO means "want more", not EOF
    SSL_set_bio(m_ssl, m_rbio, m_wbio);
    SSL_set_accept_state(m_ssl);
    m_raw.resize(k_tls_read);
    if (!m_in.empty()) {
        BIO_write(m_rbio, m_in.data(), static_cast<int>(m_in.size()));
        m_in.consume(m_in.size());
    }
}

ClientIo::Io ClientIo::fill(std::size_t max, std::size_t& got)
{
    got = 0;
    char* into = m_in.prepare(max);
    const Io r = recv(into, max, got);
    m_in.commit(got);
    return r;
}

ClientIo::Io ClientIo::recv(char* dst, std::size_t n, std::size_t& got)
{
    got = 0;
    if (m_ssl == nullptr) {
        return raw_recv(dst, n, got);
    }
    if (m_fd < 0 || !m_tls_error.empty()) {
        return Io::Error;
    }
    if (n == 0) {
        return Io::Ok;
    }
    for (;;) {
        ERR_clear_error();
        std::size_t r = 0;
        const int rc = SSL_read_ex(m_ssl, dst, n, &r);
        const int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(m_ssl, rc);
        pump_tls_output(); // handshake records, alerts, session tickets
        send_queued();
        if (rc == 1) {
            got = r;
            return Io::Ok;
        }
        if (err == SSL_ERROR_ZERO_RETURN) {
            return Io::Closed; // close_notify
        }
        if (err != SSL_ERROR_WANT_READ) {
            const unsigned long code = ERR_peek_error();
            char buf[256] = "the TLS connection failed";
            if (code != 0) {
                ERR_error_string_n(code, buf, sizeof buf);
            }
            ERR_clear_error();
            m_tls_error = buf;
            return Io::Error;
        }
        std::size_t raw = 0;
        const Io io = raw_recv(m_raw.data(), m_raw.size(), raw);
        if (io != Io::Ok) {
            return io;
        }
        BIO_write(m_rbio, m_raw.data(), static_cast<int>(raw));
    }
}

ClientIo::Io ClientIo::raw_recv(char* dst, std::size_t n, std::size_t& got)
{
    got = 0;
    if (m_fd < 0) {
        return Io::Error;
    }
    for (;;) {
        const ssize_t r = ::recv(m_fd, dst, n, 0);
        if (r > 0) {
            got = static_cast<std::size_t>(r);
            m_progress = std::chrono::steady_clock::now();
            return Io::Ok;
        }
        if (r == 0) {
            return n == 0 ? Io::Ok : Io::Closed;
        }
        if (errno == EINTR) {
            continue;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK ? Io::WouldBlock : Io::Error;
    }
}

bool ClientIo::tls_readable() const
{
    // Decrypted bytes, or records read from the socket and not processed:
    // the socket may never become readable again for them.
    return m_ssl != nullptr && (SSL_pending(m_ssl) > 0 || BIO_ctrl_pending(m_rbio) > 0);
}

void ClientIo::wait_readable(std::function<void(bool)> fn)
{
    if (m_fd < 0) {
        fn(false);
        return;
    }
    if (tls_readable()) {
        m_read_waiting = true;
        boost::asio::post(m_socket.get_executor(), [self = shared_from_this(), fn = std::move(fn)] {
            self->m_read_waiting = false;
            fn(self->m_fd >= 0);
        });
        return;
    }
    m_read_waiting = true;
    m_socket.async_wait(boost::asio::socket_base::wait_read,
                        [self = shared_from_this(), fn = std::move(fn)](const boost::system::error_code& ec) {
                            self->m_read_waiting = false;
                            fn(!ec && self->m_fd >= 0);
                        });
}

void ClientIo::write(std::string_view bytes) { write(&bytes, 1); }

void ClientIo::write(const std::string_view* parts, std::size_t count)
{
    if (m_failed) {
        return;
    }
    if (m_ssl != nullptr) {
        for (std::size_t i = 0; i < count; ++i) {
            encrypt(parts[i]);
        }
        send_queued(); // seals what was gathered
        return;
    }
    std::size_t skip = 0; // bytes of `parts` already sent
    if (m_out.empty()) {
        // Straight from the caller's memory in one sendmsg; only what the
        // socket does not take now is copied.
        iovec iov[8];
        std::size_t n_iov = 0;
        for (std::size_t i = 0; i < count && n_iov < 8; ++i) {
            if (!parts[i].empty()) {
                iov[n_iov++] = {const_cast<char*>(parts[i].data()), parts[i].size()};
            }
        }
        if (n_iov == 0) {
            return;
        }
        for (;;) {
            msghdr msg{};
            msg.msg_iov = iov;
            msg.msg_iovlen = n_iov;
            const ssize_t n = ::sendmsg(m_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) {
                m_progress = std::chrono::steady_clock::now();
                skip = static_cast<std::size_t>(n);
                break;
            }
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                fail();
                return;
            }
            break;
        }
    }
    for (std::size_t i = 0; i < count; ++i) {
        std::string_view part = parts[i];
        const std::size_t drop = std::min(skip, part.size());
        part.remove_prefix(drop);
        skip -= drop;
        raw_queue(part);
    }
    if (!m_out.empty() && !m_write_waiting) {
        arm_write_wait();
    }
}

void ClientIo::queue(std::string_view bytes)
{
    if (m_ssl != nullptr) {
        encrypt(bytes);
        return;
    }
    raw_queue(bytes);
}

void ClientIo::encrypt(std::string_view bytes)
{
    while (!bytes.empty() && !m_failed) {
        if (m_plain.empty() && bytes.size() >= k_tls_record) {
            // Whole records straight from the caller's memory.
            const std::size_t whole = bytes.size() - bytes.size() % k_tls_record;
            ssl_write(bytes.substr(0, whole));
            bytes.remove_prefix(whole);
            continue;
        }
        const std::size_t take = std::min(bytes.size(), k_tls_record - m_plain.size());
        m_plain.append(bytes.data(), take);
        bytes.remove_prefix(take);
        if (m_plain.size() == k_tls_record) {
            seal();
        }
    }
}

void ClientIo::seal()
{
    if (m_plain.empty() || m_failed) {
        return;
    }
    ssl_write(m_plain);
    m_plain.clear();
}

void ClientIo::ssl_write(std::string_view bytes)
{
    while (!bytes.empty() && !m_failed) {
        ERR_clear_error();
        std::size_t wrote = 0;
        if (SSL_write_ex(m_ssl, bytes.data(), bytes.size(), &wrote) != 1) {
            // Only after a failed handshake or a fatal alert: the client cannot be answered.
            ERR_clear_error();
            if (m_tls_error.empty()) {
                m_tls_error = "cannot encrypt for the client";
            }
            fail();
            return;
        }
        bytes.remove_prefix(wrote);
    }
    pump_tls_output();
}

void ClientIo::pump_tls_output()
{
    char* data = nullptr;
    const long n = BIO_get_mem_data(m_wbio, &data);
    if (n > 0) {
        raw_queue(std::string_view(data, static_cast<std::size_t>(n)));
        (void)BIO_reset(m_wbio);
    }
}

void ClientIo::raw_queue(std::string_view bytes)
{
    while (!bytes.empty() && !m_failed) {
        Segment* last = m_out.empty() ? nullptr : &m_out.back();
        if (last == nullptr || !last->copy || last->data + last->len != last->block->tail()
            || last->block->room() == 0) {
            auto block = std::make_shared<Block>(std::max(k_copy_block, std::min<std::size_t>(bytes.size(), 1 << 20)));
            m_out.push_back(Segment{block, block->data.get(), 0, true});
            last = &m_out.back();
        }
        const std::size_t take = std::min(bytes.size(), last->block->room());
        std::memcpy(last->block->tail(), bytes.data(), take);
        last->block->len += take;
        last->len += take;
        m_queued += take;
        bytes.remove_prefix(take);
    }
}

void ClientIo::send_queued()
{
    if (m_ssl != nullptr) {
        seal();
    }
    if (!m_write_waiting && !m_failed) {
        flush();
    }
}

void ClientIo::send_soon()
{
    if (m_send_posted || m_failed) {
        return;
    }
    m_send_posted = true;
    boost::asio::post(m_socket.get_executor(), [self = shared_from_this()] {
        self->m_send_posted = false;
        if (self->m_fd < 0) {
            return;
        }
        self->send_queued();
        // Everything left without a wait for writability: whoever waits
        // for the queue to drain hears it now.
        if (!self->m_write_waiting && self->m_on_written) {
            auto fn = std::move(self->m_on_written);
            self->m_on_written = nullptr;
            fn();
        }
    });
}

void ClientIo::write(const BlockPtr& block, std::size_t offset, std::size_t len)
{
    queue(block, offset, len);
    send_queued();
}

void ClientIo::queue(const BlockPtr& block, std::size_t offset, std::size_t len)
{
    if (m_failed || len == 0) {
        return;
    }
    const char* data = block->data.get() + offset;
    if (m_ssl != nullptr) {
        encrypt(std::string_view(data, len));
        return;
    }
    if (!m_out.empty()) {
        Segment& last = m_out.back();
        if (!last.copy && last.block == block && last.data + last.len == data) {
            last.len += len;
            m_queued += len;
            return;
        }
    }
    m_out.push_back(Segment{block, data, len, false});
    m_queued += len;
}

void ClientIo::flush()
{
    while (!m_out.empty() && !m_failed) {
        iovec iov[k_max_iov];
        std::size_t count = 0;
        for (auto it = m_out.begin(); it != m_out.end() && count < k_max_iov; ++it) {
            iov[count++] = {const_cast<char*>(it->data), it->len};
        }
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = count;
        const ssize_t n = ::sendmsg(m_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                arm_write_wait();
                return;
            }
            fail();
            return;
        }
        m_progress = std::chrono::steady_clock::now();
        auto left = static_cast<std::size_t>(n);
        m_queued -= left;
        while (left > 0) {
            Segment& s = m_out.front();
            if (left < s.len) {
                s.data += left;
                s.len -= left;
                break;
            }
            left -= s.len;
            m_out.pop_front();
        }
    }
    if (m_out.empty() && m_shutdown_pending && m_fd >= 0) {
        m_shutdown_pending = false;
        ::shutdown(m_fd, SHUT_WR);
    }
}

void ClientIo::arm_write_wait()
{
    if (m_write_waiting || m_out.empty() || m_failed || m_fd < 0) {
        return;
    }
    m_write_waiting = true;
    m_socket.async_wait(boost::asio::socket_base::wait_write,
                        [self = shared_from_this()](const boost::system::error_code& ec) {
                            self->m_write_waiting = false;
                            if (ec || self->m_fd < 0) {
                                self->fail();
                            } else {
                                self->flush();
                            }
                            if (self->m_on_written) {
                                auto fn = std::move(self->m_on_written);
                                self->m_on_written = nullptr;
                                fn();
                            }
                        });
}

void ClientIo::fail()
{
    m_failed = true;
    m_out.clear();
    m_queued = 0;
    m_plain.clear();
}

void ClientIo::shutdown_send()
{
    if (m_fd < 0) {
        return;
    }
    if (m_ssl != nullptr && !m_failed && m_tls_error.empty() && SSL_is_init_finished(m_ssl) == 1) {
        seal();
        ERR_clear_error();
        SSL_shutdown(m_ssl); // queues close_notify
        ERR_clear_error();
        pump_tls_output();
        send_queued();
    }
    if (m_out.empty()) {
        ::shutdown(m_fd, SHUT_WR);
    } else {
        m_shutdown_pending = true;
    }
}

void ClientIo::cancel()
{
    boost::system::error_code ec;
    m_socket.cancel(ec);
}

void ClientIo::close()
{
    if (m_fd < 0) {
        return;
    }
    boost::system::error_code ec;
    m_socket.close(ec);
    m_fd = -1;
    if (!m_failed) {
        fail();
    }
}

} // namespace roar::proxy
