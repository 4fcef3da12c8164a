// roar-proxy process control: fork/exec with a ready pipe, SIGTERM with a
// deadline, and the daemon's pid/port files (written by proxy_daemon.cpp).
#include "roar/collector/proxy_control.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>
#include <tuple>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace roar::collector::proxy_control {

namespace {

std::string tail_of(const std::string& path, std::size_t lines)
{
    std::ifstream in(path);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);) {
        all.push_back(line);
    }
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
        out += "\n  " + all[i];
    }
    return out;
}

// "; its log says:" and the last lines of `log_file`, or "" when there is
// no log or nothing in it (the proxy's reason then went to stderr).
std::string log_tail_clause(const std::string& log_file)
{
    const std::string tail = log_file.empty() ? std::string() : tail_of(log_file, 5);
    return tail.empty() ? std::string() : "; its log says:" + tail;
}

bool alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// The pid in a pid file, if that process still runs roar-proxy.
pid_t live_pid_from(const std::string& path)
{
    std::ifstream in(path);
    long pid = -1;
    if (!(in >> pid) || pid <= 0 || !alive(static_cast<pid_t>(pid))) {
        return -1;
    }
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    return name.rfind("roar-proxy", 0) == 0 ? static_cast<pid_t>(pid) : -1;
}

// A close-on-exec TCP socket listening on `host`:`port` (an IPv4 or IPv6
// literal; port 0: a free one), at fd 5 or above (so it cannot collide with
// the fds the child is given), and its port; or why not.
std::variant<std::pair<int, std::uint16_t>, std::string> listen_socket(const std::string& host, std::uint16_t port)
{
    sockaddr_storage addr{};
    socklen_t length = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        length = sizeof *v4;
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        length = sizeof *v6;
    } else {
        return "cannot listen on '" + host + "': not an IP address";
    }
    const int made = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int fd = made < 0 ? -1 : ::fcntl(made, F_DUPFD_CLOEXEC, 5);
    if (made >= 0) {
        ::close(made);
    }
    const int one = 1;
    if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0
        || ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), length) != 0 || ::listen(fd, SOMAXCONN) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
        std::string why = "cannot listen on " + host + ":" + std::to_string(port) + ": " + std::strerror(errno);
        if (fd >= 0) {
            ::close(fd);
        }
        return why;
    }
    return std::pair{fd, static_cast<std::uint16_t>(ntohs(addr.ss_family == AF_INET ? v4->sin_port : v6->sin6_port))};
}

// Whether `fd` has something to read now, without waiting: for the ready
// pipe a line or its end, for the listening socket a pending connection.
// False for -1 (already closed).
bool readable_now(int fd)
{
    pollfd p{fd, POLLIN, 0};
    return fd >= 0 && ::poll(&p, 1, 0) > 0;
}

} // namespace

std::optional<std::uint16_t> read_ready_port(int fd, std::chrono::milliseconds timeout)
{
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        char buf[32];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) {
            break;
        }
        line.append(buf, static_cast<std::size_t>(n));
        if (line.find('\n') != std::string::npos) {
            break;
        }
    }
    unsigned port = 0;
    if (std::from_chars(line.data(), line.data() + line.size(), port).ec != std::errc() || port == 0 || port > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(port);
}

namespace {

// Starts roar-proxy per `opts`, handing it `listen_fd` (bound to
// `listen_port`) when that is not -1; the fd is closed on failure.
std::variant<ProxyProcess, std::string> spawn(const StartOptions& opts, int listen_fd, std::uint16_t listen_port)
{
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) {
        const int err = errno;
        if (listen_fd >= 0) {
            ::close(listen_fd);
        }
        return std::string("cannot create a pipe for roar-proxy: ") + std::strerror(err);
    }
    if (const int moved = ::fcntl(ready[1], F_DUPFD_CLOEXEC, 5); moved >= 0) {
        ::close(ready[1]);
        ready[1] = moved;
    }
    std::vector<std::string> args = {opts.binary, "--listen", opts.listen_host + ":" + std::to_string(opts.port),
                                     "--ready-fd", "3"};
    if (listen_fd >= 0) {
        args.insert(args.end(), {"--listen-fd", "4"});
    }
    if (!opts.upstream.empty()) {
        args.insert(args.end(), {"--upstream", opts.upstream});
    }
    if (opts.forward_checksums) {
        args.emplace_back("--forward-checksums");
    }
    if (!opts.ring.empty()) {
        args.insert(args.end(), {"--ring", opts.ring});
    }
    if (opts.peer_pids) {
        args.emplace_back("--peer-pids");
    }
    if (!opts.log_file.empty()) {
        args.insert(args.end(), {"--log-file", opts.log_file});
    }
    if (!opts.pid_file.empty()) {
        args.insert(args.end(), {"--pid-file", opts.pid_file});
    }
    // The proxy dies with the thread that started it (PR_SET_PDEATHSIG, set
    // by roar-proxy itself, which exits at once if this process is already
    // gone).
    args.insert(args.end(), {"--exit-with-parent", std::to_string(::getpid())});
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    // The proxy's environment: roar's own plus opts.env (which wins).
    std::vector<std::string> env_entries;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        const std::string_view entry(*e);
        const std::string_view name = entry.substr(0, entry.find('=') + 1);
        const bool replaced = std::any_of(opts.env.begin(), opts.env.end(),
                                          [&](const std::string& extra) { return extra.rfind(name, 0) == 0; });
        if (!replaced) {
            env_entries.emplace_back(entry);
        }
    }
    env_entries.insert(env_entries.end(), opts.env.begin(), opts.env.end());
    std::vector<char*> envp;
    for (auto& e : env_entries) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    // posix_spawn: no copy of roar's page tables (a fork cost roar run
    // milliseconds of copying and copy-on-write faults). The proxy gets its
    // own process group (a Ctrl-C meant for the job must not stop it before
    // the job's last S3 call is recorded), the ready pipe as fd 3 and the
    // listening socket as fd 4 (both are at 5 or above, so neither dup2
    // overwrites the other, and each copy is inheritable).
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, ready[1], 3);
    if (listen_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, listen_fd, 4);
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid = -1;
    const int spawned = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        ::close(ready[0]);
        ::close(ready[1]);
        if (listen_fd >= 0) {
            ::close(listen_fd);
        }
        return "cannot start roar-proxy (" + opts.binary + "): " + std::strerror(spawned);
    }
    ::close(ready[1]);
    if (listen_fd >= 0) {
        // The proxy accepts on its copy; ProxyChild keeps this one while the
        // proxy starts, to see whether a client is waiting.
        return ProxyProcess{pid, listen_port, ready[0], listen_fd};
    }

    const auto ready_port = read_ready_port(ready[0], opts.ready_timeout);
    ::close(ready[0]);
    const long port = ready_port ? long(*ready_port) : -1;
    if (port <= 0 || port > 65535) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        std::string why = "roar-proxy (" + opts.binary + ") did not start listening on " + opts.listen_host + ":"
                          + std::to_string(opts.port);
        why += log_tail_clause(opts.log_file);
        return why;
    }
    return ProxyProcess{pid, static_cast<std::uint16_t>(port)};
}

} // namespace

std::variant<ProxyProcess, std::string> start(const StartOptions& opts)
{
    int listen_fd = -1;
    std::uint16_t listen_port = 0;
    if (opts.hand_over) {
        auto listening = listen_socket(opts.listen_host, opts.port);
        if (auto* err = std::get_if<std::string>(&listening)) {
            return *err;
        }
        std::tie(listen_fd, listen_port) = std::get<std::pair<int, std::uint16_t>>(listening);
    }
    return spawn(opts, listen_fd, listen_port);
}

bool stop(pid_t pid, std::chrono::milliseconds timeout, bool is_child)
{
    if (pid <= 0) {
        return false;
    }
    // A pidfd becomes readable the moment the process exits, so the wait
    // ends then: polling every 20 ms, as before, added up to 20 ms to the
    // end of every job whose proxy had served a request. Without pidfds
    // (kernels before 5.3) it polls every millisecond.
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool exited = false;
    bool clean = false;
    while (true) {
        if (is_child) {
            int status = 0;
            const pid_t r = ::waitpid(pid, &status, WNOHANG);
            if (r == pid || r < 0) {
                exited = true;
                clean = r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
                break;
            }
        } else if (!alive(pid)) {
            exited = clean = true;
            break;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        if (pidfd >= 0) {
            pollfd p{pidfd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(std::min<long long>(left.count() + 1, 1000))) == 1 && !is_child) {
                // It has exited, and stays readable: what is left is its own
                // parent reaping it, which the loop waits for in 1 ms steps
                // (callers rely on the pid being gone).
                ::close(pidfd);
                pidfd = -1;
            }
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
    if (pidfd >= 0) {
        ::close(pidfd);
    }
    if (!exited) {
        ::kill(pid, SIGKILL);
        if (is_child) {
            ::waitpid(pid, nullptr, 0);
        }
    }
    return clean;
}

void request_stop(pid_t pid)
{
    if (pid > 0) {
        ::kill(pid, SIGTERM);
    }
}

std::variant<ProxyChild, std::string> ProxyChild::start(const StartOptions& opts)
{
    if (opts.defer_start && opts.hand_over) {
        // What would make every start fail is found now, as without deferral.
        if (::access(opts.binary.c_str(), X_OK) != 0) {
            const int err = errno;
            return "cannot start roar-proxy (" + opts.binary + "): " + std::strerror(err);
        }
        auto listening = listen_socket(opts.listen_host, opts.port);
        if (auto* err = std::get_if<std::string>(&listening)) {
            return *err;
        }
        const auto [fd, port] = std::get<std::pair<int, std::uint16_t>>(listening);
        ProxyChild child(ProxyProcess{-1, port, -1, fd}, opts.log_file);
        child.m_deferred = opts;
        return child;
    }
    auto started = proxy_control::start(opts);
    if (auto* err = std::get_if<std::string>(&started)) {
        return *err;
    }
    return ProxyChild(std::get<ProxyProcess>(started), opts.log_file);
}

ProxyChild::~ProxyChild() { stop(std::chrono::seconds(5)); }

void ProxyChild::close_start_fds()
{
    for (int* fd : {&m_process.ready_fd, &m_process.listen_fd}) {
        if (*fd >= 0) {
            ::close(*fd);
            *fd = -1;
        }
    }
}

// Starts the deferred proxy on the socket this side holds; "" or why not
// (the socket is then closed: waiting clients find the port closed).
std::string ProxyChild::start_deferred()
{
    const StartOptions opts = std::move(*m_deferred);
    m_deferred.reset();
    const int listen_fd = m_process.listen_fd;
    m_process.listen_fd = -1; // spawn() owns it now, and closes it on failure
    auto started = spawn(opts, listen_fd, m_process.port);
    if (auto* err = std::get_if<std::string>(&started)) {
        return *err;
    }
    m_process = std::get<ProxyProcess>(started);
    return {};
}

std::string ProxyChild::check_start()
{
    if (m_deferred) {
        // A client waits, or the job has run long enough to need the proxy
        // soon: it starts now.
        const auto now = std::chrono::steady_clock::now();
        if (!m_start_by) {
            m_start_by = now + *m_deferred->defer_start;
        }
        const bool due = now >= *m_start_by || readable_now(m_process.listen_fd);
        return due ? start_deferred() : std::string();
    }
    if (!readable_now(m_process.ready_fd)) {
        return {};
    }
    // A line, or the end of the pipe: the proxy listens, or ended.
    const bool listening = read_ready_port(m_process.ready_fd, std::chrono::milliseconds(100)).has_value();
    close_start_fds();
    if (listening) {
        return {};
    }
    std::string why = "roar-proxy ended before it listened";
    why += log_tail_clause(m_log_file);
    return why;
}

bool ProxyChild::stop(std::chrono::milliseconds timeout)
{
    if (m_deferred) {
        // Never asked for. A client that connected since the last check
        // (the job is over, but its request may be in the socket) is
        // served as a starting proxy's would be.
        if (!readable_now(m_process.listen_fd) || !start_deferred().empty()) {
            m_deferred.reset();
            close_start_fds();
            return true;
        }
    }
    if (m_process.pid <= 0) {
        close_start_fds();
        return false;
    }
    if (m_process.ready_fd >= 0) {
        // Still starting (as far as this side knows). Pending connections
        // first, then the ready line: the proxy writes that line before it
        // accepts, and no client comes after the job, so a proxy that is not
        // ready with nobody waiting has served no one and has nothing to
        // publish.
        if (!readable_now(m_process.listen_fd) && !readable_now(m_process.ready_fd)) {
            ::kill(m_process.pid, SIGKILL);
            ::waitpid(m_process.pid, nullptr, 0);
            close_start_fds();
            m_process.pid = -1;
            return true;
        }
        read_ready_port(m_process.ready_fd, timeout); // let it start and serve the waiting client
        close_start_fds();
    }
    const bool clean = proxy_control::stop(m_process.pid, timeout, true);
    m_process.pid = -1;
    return clean;
}

DaemonStatus daemon_status(const std::string& roar_dir)
{
    DaemonStatus st;
    st.pid = live_pid_from(roar_dir + "/proxy.pid");
    st.running = st.pid > 0;
    if (st.running) {
        std::ifstream in(roar_dir + "/proxy.port");
        long port = 0;
        if (in >> port && port > 0 && port < 65536) {
            st.port = static_cast<std::uint16_t>(port);
        }
    }
    return st;
}

std::string stop_daemon(const std::string& roar_dir)
{
    const auto st = daemon_status(roar_dir);
    if (!st.running) {
        ::unlink((roar_dir + "/proxy.port").c_str());
        return "no proxy daemon is running for this project";
    }
    // The daemon stops its proxy (up to 10 s for calls in flight), then
    // stores every open client job.
    const bool clean = stop(st.pid, std::chrono::seconds(30), false);
    ::unlink((roar_dir + "/proxy.port").c_str());
    ::unlink((roar_dir + "/proxy.pid").c_str());
    return clean ? std::string() : "the proxy daemon (pid=" + std::to_string(st.pid) + ") had to be killed";
}

} // namespace roar::collector::proxy_control
