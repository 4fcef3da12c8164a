// Process control for roar-proxy, used by `roar proxy` (the standalone
// daemon: .roar/proxy.pid + .roar/proxy.port) and by a job session (a
// job-scoped proxy on a free port, owned by a ProxyChild). The port is
// bound once, by whoever listens on it: the proxy (it reports the port on
// --ready-fd) or, for a job, roar run itself (StartOptions::hand_over), so
// concurrent jobs never race for a port. A job-scoped proxy
// is killed by the kernel when the thread that started it dies
// (PR_SET_PDEATHSIG), so it never outlives a killed `roar run` with the
// user's credentials in memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <sys/types.h>

namespace roar::collector::proxy_control {

struct ProxyProcess {
    pid_t pid = -1;
    std::uint16_t port = 0;
    // While a handed-over proxy (StartOptions::hand_over) starts: the read
    // end of its ready pipe and the caller's copy of the listening socket;
    // -1 once it listens (or failed).
    int ready_fd = -1;
    int listen_fd = -1;
};

struct StartOptions {
    std::string binary; // path of roar-proxy
    std::string listen_host = "127.0.0.1";
    std::uint16_t port = 0;       // 0 = a free port chosen by the proxy
    std::string upstream;         // empty: the proxy uses $ROAR_UPSTREAM_S3_ENDPOINT or AWS
    std::string ring;             // shm name of the job's event ring, empty = no events
    std::string log_file;         // empty = inherit stderr
    std::string pid_file;         // empty = none
    std::vector<std::string> env; // "NAME=value" entries added to the proxy's environment (the job's S3 secret)
    bool peer_pids = false;       // --peer-pids: calls on direct loopback connections carry the client's pid
    std::chrono::milliseconds ready_timeout{10000};
    bool forward_checksums = false; // --forward-checksums (roar.toml proxy.forward_checksums)
    // Bind the listening socket here and hand it to the proxy (--listen-fd),
    // returning at once: the caller's clients can connect right away (the
    // kernel queues them until the proxy accepts) and need not wait for the
    // proxy's start-up. The ProxyChild then follows the start.
    bool hand_over = false;
    // With hand_over, for ProxyChild: roar-proxy itself is started by
    // ProxyChild::check_start, as soon as a client waits on the socket or
    // this long after the first check_start() (a job's, once it runs),
    // whichever comes first. A short job that makes no S3 call never pays
    // for a proxy; a longer one has it ready before its S3 client is, as
    // without the delay.
    std::optional<std::chrono::milliseconds> defer_start;
};

// The port a starting process writes to `fd` as one line once it listens,
// read within `timeout`; nullopt when none comes (it failed, or is slow).
std::optional<std::uint16_t> read_ready_port(int fd, std::chrono::milliseconds timeout);

// Starts roar-proxy per `opts` and waits until it listens (with
// `hand_over`: once its socket listens); returns its pid and port, or a
// message saying why it did not start (with the last lines of its log when
// there is one).
std::variant<ProxyProcess, std::string> start(const StartOptions& opts);

// Sends SIGTERM to `pid` and waits up to `timeout` for it to exit (reaping
// it when `is_child`), then SIGKILL. Returns true when it exited by itself
// with status 0 (or, for a non-child, exited before the timeout).
bool stop(pid_t pid, std::chrono::milliseconds timeout, bool is_child);

// Asks `pid` to stop (SIGTERM) without waiting: for a job-scoped proxy
// whose exit the job launcher's reap loop collects (roar is a subreaper,
// so it must not wait for the proxy separately).
void request_stop(pid_t pid);

// Owns a job-scoped roar-proxy child: stops it (SIGTERM, then SIGKILL after
// a deadline) and reaps it when asked, and on every other path out of the
// owner's scope, exceptions included.
class ProxyChild {
public:
    // Starts roar-proxy per `opts` (with `defer_start`: binds its socket
    // and checks that its binary can be run; check_start() starts it).
    static std::variant<ProxyChild, std::string> start(const StartOptions& opts);

    ProxyChild(ProxyChild&& other) noexcept
        : m_process(other.m_process),
          m_log_file(std::move(other.m_log_file)),
          m_deferred(std::move(other.m_deferred)),
          m_start_by(other.m_start_by)
    {
        other.m_process = ProxyProcess{};
        other.m_deferred.reset();
    }
    ProxyChild& operator=(ProxyChild&&) = delete;
    ProxyChild(const ProxyChild&) = delete;
    ~ProxyChild();

    // -1 while a deferred proxy (StartOptions::defer_start) is not started.
    pid_t pid() const { return m_process.pid; }
    std::uint16_t port() const { return m_process.port; }
    // For a handed-over proxy, without waiting: empty while it starts or
    // once it listens; once, when it ended before it listened, why (with its
    // log's last lines). Clients then find the port closed. A deferred
    // proxy is started here once a client waits or its delay has passed
    // (pid() then names it); if it cannot be, the message says why.
    std::string check_start();

    // Stops the proxy, waiting up to `timeout` for it to finish what is in
    // flight; true when it exited by itself with status 0, or was still
    // starting with no client waiting (it never served anyone: it is killed
    // without waiting). Later calls (and the destructor) do nothing.
    bool stop(std::chrono::milliseconds timeout);

private:
    ProxyChild(ProxyProcess process, std::string log_file) : m_process(process), m_log_file(std::move(log_file)) { }
    void close_start_fds();
    std::string start_deferred();
    ProxyProcess m_process;
    std::string m_log_file;
    std::optional<StartOptions> m_deferred;                          // not started yet: how to start it
    std::optional<std::chrono::steady_clock::time_point> m_start_by; // set by the first check_start()
};

// The standalone daemon of the project whose .roar directory is `roar_dir`
// (proxy_daemon.hpp starts it): running when proxy.pid names a live
// process whose name starts with roar-proxy (the daemon is roar-proxyd).
struct DaemonStatus {
    bool running = false;
    pid_t pid = -1;
    std::uint16_t port = 0;
};
DaemonStatus daemon_status(const std::string& roar_dir);

// Stops the daemon (SIGTERM, SIGKILL after 30 s) and removes its files; an
// error message, or empty on success.
std::string stop_daemon(const std::string& roar_dir);

} // namespace roar::collector::proxy_control
