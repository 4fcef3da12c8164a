// roar-proxy: a loopback S3 proxy that verifies and re-signs SigV4
// requests, streams bodies to the upstream endpoint, and publishes S3
// lineage events into a job's event ring. See docs/proxy.md.
#include "roar/collector/event_format.h"
#include "roar/collector/s3_route.h"
#include "roar/proxy/event_ring.hpp"
#include "roar/proxy/gateway/config.hpp"
#include "roar/proxy/gateway/front.hpp"
#include "roar/proxy/gateway/operator_commands.hpp"
#include "roar/proxy/log.hpp"
#include "roar/proxy/server.hpp"
#include "roar/proxy/tls_ca.hpp"

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include <malloc.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace {

// libcurl allocates its receive buffer (CURLOPT_BUFFERSIZE: 512 KiB here)
// for every transfer and frees it when the transfer ends. glibc's default
// policy gives the top of the heap back to the kernel as soon as more than
// twice the largest freed block is free there, so under steady load the
// heap grew and shrank by brk every few dozen requests, each time with page
// faults and TLB flushes (16 clients of 1 KiB GETs: 155 brk calls per
// 6,400 requests, and malloc's share of the proxy's CPU near 10%). A fixed
// policy keeps up to 16 MiB free at the top for the next transfers and
// takes blocks up to 4 MiB (curl's buffers, the relay's 1 MiB hashing
// blocks) from the heap instead of a mapping each.
void keep_heap_for_transfers()
{
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 16 * 1024 * 1024);
}

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

// Blocks SIGTERM/SIGINT in every thread; a dedicated thread takes them.
sigset_t block_signals()
{
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    return signals;
}

void write_ready(int ready_fd, std::uint16_t port, const std::string& pid_file)
{
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
}

// Runs `server` (a job proxy or a gateway) until one of the blocked
// `signals` arrives, then stops it, removes the pid file and releases it.
template <typename ServerPtr>
int serve_until_signal(ServerPtr& server, const sigset_t& signals, const std::string& pid_file, const char* what)
{
    auto* srv = server.get();
    std::thread([srv, signals, what] {
        int sig = 0;
        sigwait(&signals, &sig);
        roar::proxy::log_info("signal {}: {}", sig, what);
        srv->stop();
    }).detach();
    srv->run();
    roar::proxy::log_info("stopped");
    if (!pid_file.empty()) {
        std::remove(pid_file.c_str());
    }
    server.reset();
    curl_global_cleanup();
    return 0;
}

// roar-proxy --gateway FILE: the team S3 gateway (docs/gateway.md).
int run_gateway(const std::string& file, int ready_fd, const std::string& pid_file,
                const roar::proxy::gateway::FrontOptions& options, bool log_format_given)
{
    namespace gw = roar::proxy::gateway;
    const sigset_t signals = block_signals();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    auto config = gw::load_gateway_config(file, roar::proxy::process_env());
    if (!config) {
        throw Fatal{config.error().message};
    }
    if (!log_format_given && config->log_format == "json") {
        roar::proxy::logger().set_format(roar::proxy::LogFormat::json);
    }
    auto server = gw::GatewayServer::create(std::move(*config), options);
    if (!server) {
        throw Fatal{server.error().message};
    }
    roar::proxy::log_info("gateway listening on port {} ({})", (*server)->port(), file);
    write_ready(ready_fd, (*server)->port(), pid_file);
    return serve_until_signal(*server, signals, pid_file, "draining and shutting down");
}

// The configuration of `roar-proxy --gateway FILE sync|rebalance`.
roar::proxy::gateway::GatewayConfig load_for_command(const std::string& file, const char* command)
{
    if (file.empty()) {
        throw Fatal{std::string(command) + ": name the gateway's configuration with --gateway FILE before '" + command
                    + "'"};
    }
    auto config = roar::proxy::gateway::load_gateway_config(file, roar::proxy::process_env());
    if (!config) {
        throw Fatal{std::string(command) + ": " + config.error().message};
    }
    return std::move(*config);
}

// "TENANT/BUCKET" of sync --bucket.
roar::proxy::gateway::BucketRef parse_bucket_ref(const std::string& text)
{
    const auto slash = text.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == text.size()
        || text.find('/', slash + 1) != std::string::npos) {
        throw Fatal{"sync: --bucket wants TENANT/BUCKET, got '" + text + "'"};
    }
    return {text.substr(0, slash), text.substr(slash + 1)};
}

std::size_t collect_body(char* data, std::size_t size, std::size_t n, void* out)
{
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

// roar-proxy admin WORDS...: the admin API of a running gateway.
int run_admin(const std::string& url, const std::string& token_env, const std::vector<std::string>& words)
{
    const char* token = std::getenv(token_env.c_str());
    if (token == nullptr || *token == '\0') {
        throw Fatal{"admin: the admin token is read from $" + token_env + ", which is not set"};
    }
    const auto word = [&](std::size_t i) { return i < words.size() ? words[i] : std::string(); };
    const auto need = [&](std::size_t n, const char* usage) {
        if (words.size() != n) {
            throw Fatal{std::string("admin: usage: roar-proxy admin ") + usage};
        }
    };
    std::string method = "GET";
    std::string path;
    std::string body;
    const std::string what = word(0) + " " + word(1);
    if (what == "tenants list") {
        need(2, "tenants list");
        path = "tenants";
    } else if (what == "tenants create") {
        need(3, "tenants create NAME");
        method = "POST";
        path = "tenants";
        body = nlohmann::json{{"name", word(2)}}.dump();
    } else if (what == "tenants show") {
        need(3, "tenants show NAME");
        path = "tenants/" + word(2);
    } else if (what == "tenants disable" || what == "tenants enable") {
        need(3, "tenants disable|enable NAME");
        method = "POST";
        path = "tenants/" + word(2) + "/" + word(1);
    } else if (what == "keys list") {
        need(3, "keys list TENANT");
        path = "tenants/" + word(2) + "/keys";
    } else if (what == "keys create") {
        need(3, "keys create TENANT");
        method = "POST";
        path = "tenants/" + word(2) + "/keys";
    } else if (what == "keys rotate") {
        if (words.size() != 3 && words.size() != 4) {
            throw Fatal{"admin: usage: roar-proxy admin keys rotate ACCESS_KEY [GRACE_SECONDS]"};
        }
        method = "POST";
        path = "keys/" + word(2) + "/rotate";
        std::uint64_t grace = 0;
        if (words.size() == 4) {
            const auto& g = words[3];
            const auto [end, ec] = std::from_chars(g.data(), g.data() + g.size(), grace, 10);
            if (ec != std::errc() || end != g.data() + g.size()) {
                throw Fatal{"admin: GRACE_SECONDS must be a whole number, got '" + g + "'"};
            }
        }
        body = nlohmann::json{{"grace_seconds", grace}}.dump();
    } else if (what == "keys revoke") {
        need(3, "keys revoke ACCESS_KEY");
        method = "POST";
        path = "keys/" + word(2) + "/revoke";
    } else if (what == "backends status") {
        need(2, "backends status");
        path = "backends";
    } else if (word(0) == "jobs") {
        need(1, "jobs");
        path = "jobs";
    } else {
        throw Fatal{"admin: unknown command '" + what
                    + "'; one of: tenants list|create|show|disable|enable, keys list|create|rotate|revoke, "
                      "backends status, jobs"};
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL* curl = curl_easy_init();
    std::string full = url;
    while (!full.empty() && full.back() == '/') {
        full.pop_back();
    }
    full += "/_roar/admin/" + path;
    std::string response;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, (std::string("Authorization: Bearer ") + token).c_str());
    headers = curl_slist_append(headers, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, full.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    if (method != "GET") {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    if (rc != CURLE_OK) {
        throw Fatal{"admin: " + full + ": " + curl_easy_strerror(rc)};
    }
    const auto parsed = nlohmann::json::parse(response, nullptr, false);
    if (status < 200 || status >= 300) {
        std::string message = response;
        if (!parsed.is_discarded() && parsed.contains("error")) {
            message = parsed["error"].value("code", "") + ": " + parsed["error"].value("message", "");
        }
        std::fprintf(stderr, "roar-proxy: admin: HTTP %ld: %s\n", status, message.c_str());
        return 1;
    }
    std::printf("%s\n", parsed.is_discarded() ? response.c_str() : parsed.dump(2).c_str());
    return 0;
}

// --exit-with-parent PID (roar run's and the proxy daemon's job proxy):
// SIGKILL when the thread that started this process ends, and exit now if
// that process is already gone (the parent is then another one). Read from
// argv before anything else, so the window where the parent's death goes
// unnoticed is only the exec.
void exit_with_parent(int argc, char** argv)
{
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string_view(argv[i]) != "--exit-with-parent") {
            continue;
        }
        const std::string_view text(argv[i + 1]);
        long parent = 0;
        const auto parsed = std::from_chars(text.data(), text.data() + text.size(), parent);
        if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size() || parent <= 0) {
            return; // CLI11 reports the bad value
        }
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != static_cast<pid_t>(parent)) {
            std::_Exit(1);
        }
        return;
    }
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
    app.add_flag("--forward-checksums", opts.forward_checksums,
                 "pass a verified trailing checksum (x-amz-checksum-* in an aws-chunked trailer) on to the upstream, "
                 "re-framed as aws-chunked: only for upstreams that decode aws-chunked (AWS S3, MinIO, moto)");
    app.add_option("--ring", ring_name, "POSIX shm name of the job's event ring (else $ROAR_RING)");
    app.add_option("--ready-fd", ready_fd, "write the listening port and a newline to this fd, then close it");
    app.add_option("--listen-fd", opts.listen_fd,
                   "serve this inherited listening TCP socket instead of binding --listen (roar run hands one over)");
    app.add_option("--pid-file", pid_file, "write the proxy's pid to this file");
    long exit_with_parent_pid = 0;
    app.add_option("--exit-with-parent", exit_with_parent_pid,
                   "be killed when the thread of process PID that started this one ends (roar run's job proxy)")
        ->check(CLI::PositiveNumber);
    app.add_option("--log-file", log_file, "append log lines here instead of stderr");
    app.add_flag("--verbose", verbose, "log every request (secrets redacted)");
    std::string log_format;
    app.add_option("--log-format", log_format,
                   "log lines as text or as one JSON object each (a gateway's default: its log_format)")
        ->check(CLI::IsMember({"text", "json"}));
    app.add_flag("--peer-pids", opts.peer_pids,
                 "attribute each direct loopback connection's calls to the pid holding the client socket");
    std::string gateway_file;
    app.add_option("--gateway", gateway_file, "run the team S3 gateway configured by this TOML file (docs/gateway.md)");
    roar::proxy::gateway::FrontOptions gateway_options;
    app.add_option("--gateway-connections", gateway_options.max_connections,
                   "gateway: requests served at once (a thread each); one more is answered 503 SlowDown")
        ->check(CLI::Range(1, 4096))
        ->capture_default_str();
    app.add_option("--gateway-open-connections", gateway_options.max_open_connections,
                   "gateway: connections open at once, idle keep-alive ones included (they wait without a "
                   "thread); one more is answered 503 SlowDown")
        ->check(CLI::Range(1, 1000000))
        ->capture_default_str();
    app.add_option("--gateway-thread-idle", gateway_options.thread_idle,
                   "gateway: seconds a request thread may wait for work before it ends, while another waits "
                   "too (the pool grows with load and shrinks back to two threads)")
        ->check(CLI::Range(1, 86400))
        ->capture_default_str();
    auto* admin = app.add_subcommand("admin", "call the admin API of a running gateway (docs/gateway.md)");
    std::string admin_url = std::getenv("ROAR_GATEWAY_URL") != nullptr ? std::getenv("ROAR_GATEWAY_URL") : "";
    std::string admin_token_env = "ROAR_GATEWAY_ADMIN_TOKEN";
    std::vector<std::string> admin_words;
    admin->add_option("--url", admin_url, "the gateway's URL (else $ROAR_GATEWAY_URL)");
    admin->add_option("--token-env", admin_token_env, "environment variable holding the admin token")
        ->capture_default_str();
    admin
        ->add_option("command", admin_words,
                     "tenants list | tenants create|show|disable|enable NAME | keys list|create TENANT | "
                     "keys rotate AK [GRACE_SECONDS] | keys revoke AK | backends status | jobs")
        ->required();
    namespace gw = roar::proxy::gateway;
    auto* sync = app.add_subcommand(
        "sync", "with --gateway FILE: import the objects already in a backend bucket into the metadata");
    gw::SyncOptions sync_options;
    std::string sync_bucket;
    bool sync_json = false;
    sync->add_option("--backend", sync_options.backend, "the [[backend]] to import from")->required();
    sync->add_option("--prefix", sync_options.prefix, "only backend keys starting with this");
    sync->add_option("--bucket", sync_bucket, "import into this TENANT/BUCKET only (needed for tenant buckets)");
    sync->add_flag("--dry-run", sync_options.dry_run, "classify the objects, change nothing");
    sync->add_flag("--json", sync_json, "print the summary as one JSON object");
    auto* rebalance = app.add_subcommand(
        "rebalance", "with --gateway FILE: move objects from backends above the high water mark to ones with room");
    gw::RebalanceOptions rebalance_options;
    bool rebalance_json = false;
    double high_water = 0;
    double low_water = 0;
    rebalance->add_flag("--dry-run", rebalance_options.dry_run, "print the plan, change nothing");
    rebalance->add_flag("--json", rebalance_json, "print the summary as one JSON object");
    auto* high_opt = rebalance->add_option("--high-water", high_water,
                                           "fraction of its quota above which a backend gives objects away "
                                           "(else [rebalance] high_water)");
    auto* low_opt = rebalance->add_option("--low-water", low_water,
                                          "fraction of its quota a relieved backend is brought down to "
                                          "(else [rebalance] low_water)");
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

    if (admin->parsed()) {
        if (admin_url.empty()) {
            throw Fatal{"admin: name the gateway with --url http://HOST:PORT or $ROAR_GATEWAY_URL"};
        }
        return run_admin(admin_url, admin_token_env, admin_words);
    }
    if (sync->parsed()) {
        if (!sync_bucket.empty()) {
            sync_options.bucket = parse_bucket_ref(sync_bucket);
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        const int rc =
            gw::run_sync_command(load_for_command(gateway_file, "sync"), sync_options, sync_json, stdout, stderr);
        curl_global_cleanup();
        return rc;
    }
    if (rebalance->parsed()) {
        if (high_opt->count() > 0) {
            rebalance_options.high_water = high_water;
        }
        if (low_opt->count() > 0) {
            rebalance_options.low_water = low_water;
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        const int rc = gw::run_rebalance_command(load_for_command(gateway_file, "rebalance"), rebalance_options,
                                                 rebalance_json, stdout, stderr);
        curl_global_cleanup();
        return rc;
    }
    if (!roar::proxy::logger().open(log_file, verbose)) {
        throw Fatal{"cannot open log file " + log_file};
    }
    if (log_format == "json") {
        roar::proxy::logger().set_format(roar::proxy::LogFormat::json);
    }
    if (!gateway_file.empty()) {
        return run_gateway(gateway_file, ready_fd, pid_file, gateway_options, !log_format.empty());
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
    const sigset_t signals = block_signals();
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
    // proxy.intercept_tls: the job's shim redirects TLS connections too,
    // and this proxy terminates them with leaves of the roar CA.
    if (const char* env = std::getenv(ROAR_ENV_S3_TLS); env != nullptr && std::string_view(env) == "1") {
        auto dir = roar::proxy::ca_directory([](const char* name) -> const char* { return std::getenv(name); });
        if (!dir) {
            throw Fatal{dir.error()};
        }
        opts.tls_ca_dir = dir->string();
    }
    auto server = roar::proxy::Server::create(opts, std::move(ring));
    if (!server) {
        throw Fatal{server.error()};
    }
    const auto port = (*server)->port();
    roar::proxy::log_info("listening on {}:{}, upstream {}{}", opts.listen_host, port,
                          upstream.empty() ? "https://s3.<region>.amazonaws.com" : upstream,
                          ring_name.empty() ? "" : ", events to ring " + ring_name);
    write_ready(ready_fd, port, pid_file);

    return serve_until_signal(*server, signals, pid_file, "shutting down");
}

} // namespace

int main(int argc, char** argv)
{
    exit_with_parent(argc, argv);
    keep_heap_for_transfers();
    try {
        return run(argc, argv);
    } catch (const Fatal& f) {
        std::fprintf(stderr, "roar-proxy: %s\n",
                     roar::proxy::redact(f.message).c_str()); // an upstream URL may hold a password
        return 1;
    }
}
