// peer_key(): the remote address plus, for loopback peers, the socket
// owner's uid from NETLINK_SOCK_DIAG (an exact-match lookup, not a dump);
// loopback_peer_pid(): the same lookup's socket inode, found among the
// open files in /proc of the processes of the socket's owner.
#include "peer_identity.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <string_view>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

namespace roar::proxy {

namespace {

void put_address(const boost::asio::ip::address& a, __be32 out[4])
{
    if (a.is_v4()) {
        const auto b = a.to_v4().to_bytes();
        std::memcpy(out, b.data(), b.size());
    } else {
        const auto b = a.to_v6().to_bytes();
        std::memcpy(out, b.data(), b.size());
    }
}

// The kernel's sock_diag answer for the TCP socket whose local end is
// `client` and remote end `server`; nullopt when it does not say.
std::optional<inet_diag_msg> client_socket_diag(const boost::asio::ip::tcp::endpoint& client,
                                                const boost::asio::ip::tcp::endpoint& server)
{
    if (client.address().is_v4() != server.address().is_v4()) {
        return std::nullopt;
    }
    const int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) {
        return std::nullopt;
    }
    const timeval tv{0, 200000}; // the kernel answers at once; never hang the accept loop
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct {
        nlmsghdr nlh;
        inet_diag_req_v2 req;
    } msg{};
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST;
    msg.req.sdiag_family = client.address().is_v4() ? AF_INET : AF_INET6;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = ~0u;
    // The client's socket: its source is the client end, its destination us.
    msg.req.id.idiag_sport = htons(client.port());
    msg.req.id.idiag_dport = htons(server.port());
    put_address(client.address(), msg.req.id.idiag_src);
    put_address(server.address(), msg.req.id.idiag_dst);
    msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    std::optional<inet_diag_msg> found;
    if (::sendto(fd, &msg, sizeof msg, 0, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel)
        == static_cast<ssize_t>(sizeof msg)) {
        alignas(nlmsghdr) char buf[8192];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n >= static_cast<ssize_t>(sizeof(nlmsghdr))) {
            const auto* h = reinterpret_cast<const nlmsghdr*>(buf);
            if (NLMSG_OK(h, static_cast<unsigned>(n)) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY
                && h->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
                std::memcpy(&found.emplace(), NLMSG_DATA(h), sizeof(inet_diag_msg));
            }
        }
    }
    ::close(fd);
    return found;
}

} // namespace

std::optional<unsigned> loopback_socket_uid(const boost::asio::ip::tcp::endpoint& client,
                                            const boost::asio::ip::tcp::endpoint& server)
{
    const auto diag = client_socket_diag(client, server);
    if (!diag) {
        return std::nullopt;
    }
    return diag->idiag_uid;
}

std::optional<std::uint32_t> loopback_peer_pid(const boost::asio::ip::tcp::endpoint& client,
                                               const boost::asio::ip::tcp::endpoint& server)
{
    if (!client.address().is_loopback()) {
        return std::nullopt;
    }
    const auto diag = client_socket_diag(client, server);
    if (!diag || diag->idiag_inode == 0) {
        return std::nullopt;
    }
    const std::string wanted = "socket:[" + std::to_string(diag->idiag_inode) + "]";
    std::error_code ec;
    for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = proc.path().filename().string();
        std::uint32_t pid = 0;
        const auto parsed = std::from_chars(name.data(), name.data() + name.size(), pid);
        if (parsed.ec != std::errc() || parsed.ptr != name.data() + name.size() || pid == 0) {
            continue;
        }
        // The socket belongs to the user who created it; /proc/PID is owned
        // by the process's user. One stat skips every other user's process
        // without listing its open files.
        struct stat st { };
        if (::stat(proc.path().c_str(), &st) != 0 || st.st_uid != diag->idiag_uid) {
            continue;
        }
        std::error_code fd_ec; // another user's process, or one that just exited: skipped
        for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fd", fd_ec)) {
            char target[64];
            const ssize_t n = ::readlink(fd.path().c_str(), target, sizeof target);
            if (n > 0 && std::string_view(target, static_cast<std::size_t>(n)) == wanted) {
                return pid;
            }
        }
    }
    return std::nullopt;
}

std::string peer_key(const boost::asio::ip::tcp::endpoint& local, const boost::asio::ip::tcp::endpoint& remote)
{
    std::string key = remote.address().to_string();
    if (remote.address().is_loopback()) {
        if (const auto uid = loopback_socket_uid(remote, local)) {
            key += " uid " + std::to_string(*uid);
        }
    }
    return key;
}

} // namespace roar::proxy
