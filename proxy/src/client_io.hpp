// The client socket of one connection, on its event loop: an input buffer
// that request heads and bodies are read into (or body bytes read straight
// into the caller's memory), and an output queue of byte ranges (copies, or
// references to relay blocks) written with non-blocking sendmsg, waiting
// for writability through Asio only when the socket is full. Nothing here
// blocks; the owner is told about progress through one-shot callbacks
// that run from Asio handlers only, never from inside a write() call, so
// they can safely resume a paused curl transfer.
//
// After start_tls() the same interface carries TLS (a redirected
// connection under proxy.intercept_tls): reads decrypt and writes encrypt
// through OpenSSL memory BIOs, so the socket stays non-blocking and on the
// event loop; the handshake runs inside the first reads. Plaintext written
// or queued is gathered into full records and sealed when it is sent, so a
// response head and a small body leave as one TLS record in one sendmsg.
#pragma once

#include "block.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace roar::proxy {

// Bytes received and not consumed yet: [begin, end) of a growable buffer.
class InBuffer {
public:
    const char* data() const { return m_buf.data() + m_begin; }
    std::size_t size() const { return m_end - m_begin; }
    std::string_view view() const { return {data(), size()}; }
    bool empty() const { return m_begin == m_end; }
    // Drops the first `n` bytes.
    void consume(std::size_t n);
    // Room for at least `n` more bytes at the end; commit() what was written there.
    char* prepare(std::size_t n);
    void commit(std::size_t n) { m_end += n; }
    // Frees a large buffer once it is empty (between requests).
    void shrink();

private:
    std::vector<char> m_buf;
    std::size_t m_begin = 0;
    std::size_t m_end = 0;
};

class ClientIo : public std::enable_shared_from_this<ClientIo> {
public:
    enum class Io {
        Ok,         // bytes moved
        WouldBlock, // nothing to read now
        Closed,     // the peer closed its side
        Error,      // the socket failed
    };

    explicit ClientIo(boost::asio::ip::tcp::socket socket);
    ~ClientIo();
    ClientIo(const ClientIo&) = delete;
    ClientIo& operator=(const ClientIo&) = delete;

    int fd() const { return m_fd; }
    // Terminates TLS on this socket from here on with `ssl` (server side;
    // this takes it): the bytes in in() are the start of the client's
    // handshake, and in() holds decrypted bytes afterwards.
    void start_tls(SSL* ssl);
    // The TLS session (nullptr for plain connections).
    SSL* ssl() const { return m_ssl; }
    // Whether the TLS handshake has completed.
    bool tls_established() const { return m_ssl != nullptr && SSL_is_init_finished(m_ssl) == 1; }
    // Why TLS failed ("" when it did not).
    const std::string& tls_error() const { return m_tls_error; }
    InBuffer& in() { return m_in; }
    // When bytes last moved in either direction.
    std::chrono::steady_clock::time_point last_progress() const { return m_progress; }

    // Receives up to `max` bytes into in(); `got` is how many.
    Io fill(std::size_t max, std::size_t& got);
    // Receives up to `n` bytes straight into `dst` (in() must be empty).
    Io recv(char* dst, std::size_t n, std::size_t& got);
    // Calls `fn(true)` once when the socket is readable, `fn(false)` when
    // the wait failed or was cancelled. One waiter at a time.
    void wait_readable(std::function<void(bool)> fn);

    // Writes `bytes`: what the socket takes at once goes straight from
    // `bytes` (when nothing is queued before it), the rest is copied.
    void write(std::string_view bytes);
    // The same for `count` pieces at `parts`, in one sendmsg.
    void write(const std::string_view* parts, std::size_t count);
    // Queues a copy of `bytes` without sending yet (see send_queued()).
    void queue(std::string_view bytes);
    // Sends what is queued, as far as the socket takes it now.
    void send_queued();
    // Sends what is queued from an Asio handler posted now (once until it
    // ran), so pieces queued by one batch of callbacks leave in one sendmsg.
    void send_soon();
    // Queues `len` bytes at `offset` of `block` by reference (no copy).
    void write(const BlockPtr& block, std::size_t offset, std::size_t len);
    // The same without sending yet.
    void queue(const BlockPtr& block, std::size_t offset, std::size_t len);
    // Bytes queued and not written yet (plaintext not sealed into a TLS
    // record yet included).
    std::size_t queued() const { return m_queued + m_plain.size(); }
    // Whether a write failed (the client went away); later writes are dropped.
    bool failed() const { return m_failed; }
    // Calls `fn()` after the next time queued bytes were written following a
    // wait for writability, or the socket failed (Asio handler context).
    void on_written(std::function<void()> fn) { m_on_written = std::move(fn); }

    // Ends the sending direction (FIN) once the queue is empty; reads still work.
    void shutdown_send();
    // Cancels waits; the callbacks get false / run with failed() set.
    void cancel();
    // Closes the socket now (RST if unread bytes are pending).
    void close();
    bool is_open() const { return m_fd >= 0; }

private:
    struct Segment {
        BlockPtr block; // keeps the bytes alive
        const char* data;
        std::size_t len;
        bool copy; // the block belongs to this queue: more copies may be appended
    };
    void flush();
    void fail();
    Io raw_recv(char* dst, std::size_t n, std::size_t& got);
    void raw_queue(std::string_view bytes);
    // Adds `bytes` to the plaintext being gathered into TLS records,
    // sealing each record that fills up (TLS only).
    void encrypt(std::string_view bytes);
    // Seals the gathered plaintext into a record in the output queue.
    void seal();
    // Encrypts `bytes` into records in the output queue.
    void ssl_write(std::string_view bytes);
    // Moves what OpenSSL wrote (records, alerts) into the output queue.
    void pump_tls_output();
    bool tls_readable() const;
    void arm_write_wait();

    boost::asio::ip::tcp::socket m_socket;
    int m_fd;
    InBuffer m_in;
    std::deque<Segment> m_out;
    std::size_t m_queued = 0;
    bool m_failed = false;
    bool m_write_waiting = false;
    bool m_read_waiting = false;
    bool m_shutdown_pending = false;
    bool m_send_posted = false;
    std::function<void()> m_on_written;
    SSL* m_ssl = nullptr;
    BIO* m_rbio = nullptr; // ciphertext from the client (owned by m_ssl)
    BIO* m_wbio = nullptr; // ciphertext to the client (owned by m_ssl)
    // A socket read's ciphertext.
    std::vector<char> m_raw;
    // Plaintext for the client not sealed into a record yet (less than one record).
    std::string m_plain;
    std::string m_tls_error;
    std::chrono::steady_clock::time_point m_progress = std::chrono::steady_clock::now();
};

} // namespace roar::proxy
