// `roar proxy`: status (enabled in roar.toml? binary found? daemon running,
// pid and port?), enable/disable (proxy.enabled) and the standalone daemon
// started on proxy.port with proxy.upstream_endpoint (the environment's
// ROAR_UPSTREAM_S3_ENDPOINT wins, as for the job-scoped proxy), which
// records its clients' S3 calls into this project as jobs of their own.
#include "cmd_proxy.hpp"

#include "project.hpp"
#include "text_style.hpp"

#include "roar/collector/install_layout.hpp"
#include "roar/collector/job_session.hpp"
#include "roar/collector/proxy_control.hpp"
#include "roar/collector/proxy_daemon.hpp"
#include "roar/collector/result.hpp"
#include "roar/collector/store/postgres_engine.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <iostream>

namespace roar::cli {

namespace proxy_control = collector::proxy_control;

namespace {

// How the daemon stores a client's job in `project`: redacted, into the
// project's store, else into a recovery file (which the next writer
// imports); false only when neither took it.
collector::StoreClientJob client_job_storer(const Project& project)
{
    return [&project](const collector::JobRecord& job) {
        collector::JobRecord redacted = job;
        project.redactor().apply(redacted);
        try {
            collector::Store store = project.open_store(collector::Access::write, false);
            const auto stored = collector::JobSession::store(store, redacted, std::nullopt, project.recovery_places());
            for (const auto& note : stored.notes) {
                std::cerr << "roar: " << printable(note) << "\n";
            }
            return true;
        } catch (const FatalError& e) {
            auto saved = collector::write_recovery_file(project.recovery_places(), redacted, std::nullopt, e.what());
            std::cerr << "roar: could not store job " << redacted.uid << ": " << e.what()
                      << (saved ? "; saved in " + saved->string() : std::string()) << "\n";
            return saved.has_value();
        }
    };
}

// Stores the jobs a killed daemon left (proxy_daemon.hpp), saying so.
void store_left_jobs(const Project& project)
{
    const std::size_t left =
        collector::store_left_client_jobs(project.roar_dir() / "proxy-daemon", client_job_storer(project));
    if (left > 0) {
        std::cout << fmt::format("Stored {} job{} the proxy daemon had open when it was killed.\n", left,
                                 left == 1 ? "" : "s");
    }
}

} // namespace

CLI::App* add_proxy_subcommand(CLI::App& app, ProxyCommand& cmd)
{
    auto* proxy = app.add_subcommand("proxy", "S3 lineage through roar-proxy: status, enable|disable, start|stop");
    proxy->add_option("action", cmd.action, "enable, disable, start or stop (none: show the status)")
        ->check(CLI::IsMember({"enable", "disable", "start", "stop"}));
    return proxy;
}

int cmd_proxy(const ProxyCommand& cmd)
{
    const Project project = Project::find();
    const std::string roar_dir = project.roar_dir().string();

    if (cmd.action == "enable" || cmd.action == "disable") {
        const bool on = cmd.action == "enable";
        if (auto r = config_set(project.config_path(), "proxy.enabled", on ? "true" : "false"); !r) {
            throw FatalError(r.error().message);
        }
        std::cout << (on ? "Proxy enabled: 'roar run' records the job's S3 reads and writes.\n" : "Proxy disabled.\n");
        return 0;
    }
    if (cmd.action == "start") {
        auto binary = collector::find_proxy_binary();
        if (!binary) {
            throw FatalError(binary.error().message);
        }
        if (!proxy_control::daemon_status(roar_dir).running) {
            store_left_jobs(project);
        }
        collector::ProxyDaemonOptions opts;
        opts.proxy.binary = binary->string();
        opts.proxy.port = static_cast<std::uint16_t>(project.config().proxy_port);
        const char* env_upstream = std::getenv("ROAR_UPSTREAM_S3_ENDPOINT");
        if (env_upstream == nullptr || *env_upstream == '\0') {
            opts.proxy.upstream = project.config().proxy_upstream;
        }
        opts.proxy.forward_checksums = project.config().proxy_forward_checksums;
        opts.proxy.log_file = roar_dir + "/proxy.log";
        opts.jobs.journal_dir = project.roar_dir() / "proxy-daemon";
        opts.jobs.idle = std::chrono::seconds(project.config().proxy_daemon_idle_seconds);
        opts.jobs.exit_check = std::chrono::milliseconds(project.config().proxy_daemon_exit_check_ms);
        auto started = collector::start_proxy_daemon(roar_dir, opts, client_job_storer(project));
        if (auto* err = std::get_if<std::string>(&started)) {
            throw FatalError(*err);
        }
        const auto& p = std::get<proxy_control::ProxyProcess>(started);
        std::cout << fmt::format("Proxy daemon started (pid={}, port={}).\n", p.pid, p.port);
        return 0;
    }
    if (cmd.action == "stop") {
        const auto st = proxy_control::daemon_status(roar_dir);
        const std::string err = proxy_control::stop_daemon(roar_dir);
        if (!st.running) {
            // A killed daemon's open jobs are still in its journals.
            const std::size_t left =
                collector::store_left_client_jobs(project.roar_dir() / "proxy-daemon", client_job_storer(project));
            if (left == 0) {
                throw FatalError(err);
            }
            std::cout << fmt::format("No proxy daemon was running; stored the {} job{} it had open when it was "
                                     "killed.\n",
                                     left, left == 1 ? "" : "s");
            return 0;
        }
        std::cout << fmt::format("Proxy daemon stopped (pid={}).\n", st.pid);
        if (!err.empty()) {
            std::cerr << "roar: " << err << "\n";
            store_left_jobs(project);
        }
        return 0;
    }

    // Status.
    const auto binary = collector::find_proxy_binary();
    const auto st = proxy_control::daemon_status(roar_dir);
    std::cout << fmt::format("enabled:  {} (proxy.enabled in {})\n", project.config().proxy_enabled ? "yes" : "no",
                             project.config_path().string());
    std::cout << fmt::format("binary:   {}\n",
                             binary ? binary->string() : "not found (" + binary.error().message + ")");
    const char* env_upstream = std::getenv("ROAR_UPSTREAM_S3_ENDPOINT");
    const std::string upstream = env_upstream != nullptr && *env_upstream != '\0' ? std::string(env_upstream)
                                 : !project.config().proxy_upstream.empty()
                                     ? project.config().proxy_upstream
                                     : std::string("https://s3.<region>.amazonaws.com");
    std::cout << fmt::format("upstream: {}\n", printable(collector::redact_store_url(upstream))); // no password shown
    if (st.running) {
        std::cout << fmt::format("daemon:   running (pid={}, port={})\n", st.pid, st.port);
    } else {
        std::cout << fmt::format("daemon:   not running ('roar proxy start' listens on port {})\n",
                                 project.config().proxy_port);
    }
    return 0;
}

} // namespace roar::cli
