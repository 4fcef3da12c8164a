// ClientIo's deferred send: pieces queued by one batch of callbacks (a
// response body handed over by curl 16 KiB at a time) leave together from
// a posted handler, in order, and whoever waits for the queue to drain is
// told once they have.
#include "client_io.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <sys/socket.h>

using namespace roar::proxy;
namespace asio = boost::asio;

namespace {

// A connected loopback pair: `server` wrapped in a ClientIo, `peer` plain.
struct Pair {
    asio::io_context io;
    asio::ip::tcp::socket peer{io};
    std::shared_ptr<ClientIo> client;

    Pair()
    {
        asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        peer.connect(acceptor.local_endpoint());
        client = std::make_shared<ClientIo>(acceptor.accept());
    }

    // Bytes the peer can read now, without waiting.
    std::string peer_read()
    {
        std::string out;
        char buf[65536];
        for (;;) {
            const ssize_t n = ::recv(peer.native_handle(), buf, sizeof buf, MSG_DONTWAIT);
            if (n <= 0) {
                return out;
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
    }
};

} // namespace

TEST_CASE("pieces queued with send_soon leave only once the loop runs, in order, and the drain is reported",
          "[proxy][client_io]")
{
    Pair p;
    auto block = std::make_shared<Block>(64 * 1024);
    std::string expected;
    for (int i = 0; i < 3; ++i) {
        const std::string head = "piece " + std::to_string(i) + ":";
        const std::size_t offset = block->len;
        std::memset(block->tail(), 'a' + i, 16 * 1024);
        block->len += 16 * 1024;
        p.client->queue(head);
        p.client->queue(block, offset, 16 * 1024);
        p.client->send_soon();
        expected += head + std::string(16 * 1024, static_cast<char>('a' + i));
    }
    bool drained = false;
    p.client->on_written([&] { drained = true; });

    REQUIRE(p.client->queued() == expected.size());
    CHECK(p.peer_read().empty());

    p.io.run();
    CHECK(p.client->queued() == 0);
    CHECK(drained);
    std::string got;
    for (int tries = 0; tries < 100 && got.size() < expected.size(); ++tries) {
        got += p.peer_read();
    }
    CHECK(got == expected);
}

TEST_CASE("send_soon on a closed connection sends nothing and reports no drain", "[proxy][client_io]")
{
    Pair p;
    p.client->queue("never sent");
    p.client->send_soon();
    bool drained = false;
    p.client->on_written([&] { drained = true; });
    p.client->close();
    p.io.run();
    CHECK_FALSE(drained);
}
