// Who is on the other end of an accepted connection, as a key for the
// per-peer connection cap: the remote address, and for a loopback peer
// also the user owning the client's socket (asked from the kernel with one
// sock_diag netlink lookup), so one local user cannot take every slot of
// another's proxy by opening connections from 127.0.0.1. The standalone
// daemon also asks which process holds the client's socket, to attribute
// its calls to that process.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace roar::proxy {

// The uid owning the TCP socket whose local end is `client` and remote end
// `server` (both on this machine); nullopt when the kernel does not say.
std::optional<unsigned> loopback_socket_uid(const boost::asio::ip::tcp::endpoint& client,
                                            const boost::asio::ip::tcp::endpoint& server);

// The pid of the process holding the client socket whose local end is
// `client` and remote end `server`, when `client` is a loopback address,
// the kernel names the socket and that process's /proc/PID/fd is readable
// (the same user's processes); nullopt otherwise. Walks /proc, listing the
// open files only of the processes whose user owns the socket (a process
// that changed its user after creating the socket is not found): meant
// for once per connection, not per request.
std::optional<std::uint32_t> loopback_peer_pid(const boost::asio::ip::tcp::endpoint& client,
                                               const boost::asio::ip::tcp::endpoint& server);

// "ADDRESS" of `remote`, or "ADDRESS uid N" when `remote` is a loopback
// address and its socket's owner is known; `local` is our end.
std::string peer_key(const boost::asio::ip::tcp::endpoint& local, const boost::asio::ip::tcp::endpoint& remote);

} // namespace roar::proxy
