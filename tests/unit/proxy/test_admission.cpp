// Admission: total and per-peer caps; the ones over a cap wait and are
// admitted in arrival order; a full waiting queue pauses accepting; a
// loopback peer is told apart by the user owning its socket.
#include "admission.hpp"
#include "peer_identity.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <unistd.h>

using roar::proxy::Admission;

TEST_CASE("connections over the total cap wait and are admitted in arrival order", "[proxy][admission]")
{
    Admission a(2, 10, 100);
    std::vector<std::string> admitted;
    auto admit = [&](std::string name) { return [&admitted, name] { admitted.push_back(name); }; };
    CHECK(a.arrive("p", admit("1")) == Admission::Result::Admitted);
    CHECK(a.arrive("q", admit("2")) == Admission::Result::Admitted);
    CHECK(a.arrive("p", admit("3")) == Admission::Result::Queued);
    CHECK(a.arrive("r", admit("4")) == Admission::Result::Queued);
    CHECK(a.active() == 2);
    CHECK(a.waiting() == 2);
    a.leave("q");
    CHECK(admitted == std::vector<std::string>{"3"});
    a.leave("p");
    CHECK(admitted == std::vector<std::string>{"3", "4"});
    CHECK(a.waiting() == 0);
    CHECK(a.active() == 2);
}

TEST_CASE("a peer at its cap waits without holding up other peers", "[proxy][admission]")
{
    Admission a(10, 2, 100);
    std::vector<std::string> admitted;
    auto admit = [&](std::string name) { return [&admitted, name] { admitted.push_back(name); }; };
    CHECK(a.arrive("busy", admit("b1")) == Admission::Result::Admitted);
    CHECK(a.arrive("busy", admit("b2")) == Admission::Result::Admitted);
    CHECK(a.arrive("busy", admit("b3")) == Admission::Result::Queued);
    CHECK(a.arrive("other", admit("o1")) == Admission::Result::Admitted);
    CHECK(a.arrive("busy", admit("b4")) == Admission::Result::Queued);
    a.leave("other");
    CHECK(admitted.empty());
    a.leave("busy");
    CHECK(admitted == std::vector<std::string>{"b3"});
}

TEST_CASE("a full waiting queue pauses accepting until there is room", "[proxy][admission]")
{
    Admission a(1, 1, 2);
    int admitted = 0;
    auto admit = [&] { ++admitted; };
    CHECK(a.arrive("p", admit) == Admission::Result::Admitted);
    CHECK(a.arrive("p", admit) == Admission::Result::Queued);
    CHECK(a.arrive("p", admit) == Admission::Result::Full);
    CHECK(a.leave("p")); // one admitted from the queue: room again
    CHECK(admitted == 1);
    a.clear_waiting();
    CHECK(a.waiting() == 0);
}

TEST_CASE("a loopback peer is keyed by its address and its socket's owner", "[proxy][admission][peer]")
{
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    asio::ip::tcp::socket server = acceptor.accept();
    const auto uid = roar::proxy::loopback_socket_uid(server.remote_endpoint(), server.local_endpoint());
    REQUIRE(uid.has_value());
    CHECK(*uid == ::getuid());
    CHECK(roar::proxy::peer_key(server.local_endpoint(), server.remote_endpoint())
          == "127.0.0.1 uid " + std::to_string(::getuid()));
    // Not a socket of this machine: no owner, the address alone.
    const asio::ip::tcp::endpoint far(asio::ip::make_address("192.0.2.7"), 4444);
    CHECK(roar::proxy::peer_key(server.local_endpoint(), far) == "192.0.2.7");
}
