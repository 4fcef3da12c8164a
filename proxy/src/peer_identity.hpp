// Who is on the other end of an accepted connection, as a key for the
// per-peer connection cap: the remote address, and for a loopback peer
// also the user owning the client's socket (asked from the kernel with one
// sock_diag netlink lookup), so one local user cannot take every slot of
// another's proxy by opening connections from 127.0.0.1.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string>

namespace roar::proxy {

// The uid owning the TCP socket whose local end is `client` and remote end
// `server` (both on this machine); nullopt when the kernel does not say.
std::optional<unsigned> loopback_socket_uid(const boost::asio::ip::tcp::endpoint& client,
                                            const boost::asio::ip::tcp::endpoint& server);

// "ADDRESS" of `remote`, or "ADDRESS uid N" when `remote` is a loopback
// address and its socket's owner is known; `local` is our end.
std::string peer_key(const boost::asio::ip::tcp::endpoint& local, const boost::asio::ip::tcp::endpoint& remote);

} // namespace roar::proxy
