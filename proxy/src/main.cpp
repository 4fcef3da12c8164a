// roar-proxy: a loopback S3 proxy that verifies and re-signs SigV4
// requests, streams bodies to the upstream endpoint, and publishes S3
// lineage events into a job's event ring. See docs/proxy.md.
#include "roar/collector/event_format.h"
#include "roar/collector/s3_route.h"
#include "roar/proxy/event_ring.hpp"
#include "roar/proxy/log.hpp"
#include "roar/proxy/server.hpp"

#include <CLI/CLI.hpp>
#include <curl/curl.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

namespace {

// The one fatal error type: caught in main and printed as one line.
struct Fatal {
    std::string message;
};

std::pair<std::string, std::uint16_t> parse_listen(const std::string& text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon + 1 == text.size()) {
        throw Fatal{"--listen wants HOST:PORT, got '" + text + "'"};
    }
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const std::string_view digits = std::string_view(text).substr(colon + 1);
    std::uint16_t port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port, 10);
    if (ec != std::errc() || end != digits.data() + digits.size()) {
        throw Fatal{"--listen port must be 0..65535, got '" + std::string(digits) + "'"};
    }
    return {host, port};
}

int run(int argc, char** argv)
{
    CLI::App app{"roar-proxy: records S3 reads and writes of a job as lineage (see docs/proxy.md)"};
    std::string listen = "127.0.0.1:9090";
    std::string upstream;
    std::string ring_name;
    int ready_fd = -1;
    std::string pid_file;
    std::string log_file;
    bool verbose = false;
    roar::proxy::ServerOptions opts;
    long header_timeout_ms = static_cast<long>(opts.header_timeout.count());
    long idle_timeout_ms = static_cast<long>(opts.idle_timeout.count());
    app.add_option("--listen", listen, "HOST:PORT to listen on (port 0 picks a free port)")->capture_default_str();
    app.add_option(
        "--upstream", upstream,
        "upstream S3 endpoint URL (else $ROAR_UPSTREAM_S3_ENDPOINT, else https://s3.<region>.amazonaws.com)");
    app.add_option("--ring", ring_name, "POSIX shm name of the job's event ring (else $ROAR_RING)");
    app.add_option("--ready-fd", ready_fd, "write the listening port and a newline to this fd, then close it");
    app.add_option("--pid-file", pid_file, "write the proxy's pid to this file");
    app.add_option("--log-file", log_file, "append log lines here instead of stderr");
    app.add_flag("--verbose", verbose, "log every request (secrets redacted)");
    app.add_option("--threads", opts.threads, "event loops moving bytes")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--hash-threads", opts.hash_threads, "threads computing BLAKE3 of bodies")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--max-connections", opts.max_connections, "connections served at once; more wait their turn")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--max-per-peer", opts.max_per_peer, "connections served at once from one peer address")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--header-timeout-ms", header_timeout_ms, "time allowed for a request head once it has started")
        ->check(CLI::Range(100L, 3600000L))
        ->capture_default_str();
    app.add_option("--idle-timeout-ms", idle_timeout_ms,
                   "time a connection may stay without a request or without client progress")
        ->check(CLI::Range(100L, 86400000L))
        ->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }

    if (!roar::proxy::logger().open(log_file, verbose)) {
        throw Fatal{"cannot open log file " + log_file};
    }
    if (upstream.empty()) {
        if (const char* env = std::getenv("ROAR_UPSTREAM_S3_ENDPOINT"); env != nullptr) {
            upstream = env;
        }
    }
    if (ring_name.empty()) {
        if (const char* env = std::getenv(ROAR_ENV_RING); env != nullptr) {
            ring_name = env;
        }
    }

    // Signals are taken by a dedicated thread with sigwait; block them
    // before any other thread exists so every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    std::unique_ptr<roar::proxy::RingPublisher> ring;
    if (!ring_name.empty()) {
        auto opened = roar::proxy::RingPublisher::open(ring_name);
        if (!opened) {
            throw Fatal{opened.error() + " (is the job's collector running?)"};
        }
        ring = std::move(*opened);
    }

    std::tie(opts.listen_host, opts.listen_port) = parse_listen(listen);
    opts.header_timeout = std::chrono::milliseconds(header_timeout_ms);
    opts.idle_timeout = std::chrono::milliseconds(idle_timeout_ms);
    opts.upstream = upstream;
    // Redirected connections (S3-ROUTING): the job's secret and routing
    // rules come in the environment (readable only by the proxy's owner),
    // never on the command line.
    if (const char* env = std::getenv(ROAR_ENV_S3_SECRET); env != nullptr) {
        opts.route_secret = env;
    }
    if (const char* env = std::getenv(ROAR_ENV_S3_HOSTS); env != nullptr) {
        opts.route_hosts = env;
    }
    auto server = roar::proxy::Server::create(opts, std::move(ring));
    if (!server) {
        throw Fatal{server.error()};
    }
    const auto port = (*server)->port();
    roar::proxy::log_info("listening on {}:{}, upstream {}{}", opts.listen_host, port,
                          upstream.empty() ? "https://s3.<region>.amazonaws.com" : upstream,
                          ring_name.empty() ? "" : ", events to ring " + ring_name);
    if (!pid_file.empty()) {
        std::ofstream(pid_file) << getpid() << "\n";
    }
    if (ready_fd >= 0) {
        const std::string line = std::to_string(port) + "\n";
        if (::write(ready_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            throw Fatal{"cannot write the ready signal to fd " + std::to_string(ready_fd)};
        }
        ::close(ready_fd);
    }

    roar::proxy::Server* srv = server->get();
    std::thread([srv, signals] {
        int sig = 0;
        sigwait(&signals, &sig);
        roar::proxy::log_info("signal {}: shutting down", sig);
        srv->stop();
    }).detach();

    srv->run();
    roar::proxy::log_info("stopped");
    if (!pid_file.empty()) {
        std::remove(pid_file.c_str());
    }
    server->reset();
    curl_global_cleanup();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const Fatal& f) {
        std::fprintf(stderr, "roar-proxy: %s\n", f.message.c_str());
        return 1;
    }
}
