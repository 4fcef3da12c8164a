// `roar proxy`: status (enabled in roar.toml? binary found? daemon running,
// pid and port?), enable/disable (proxy.enabled) and the standalone daemon
// started on proxy.port with proxy.upstream_endpoint (the environment's
// ROAR_UPSTREAM_S3_ENDPOINT wins, as for the job-scoped proxy).
#include "cmd_proxy.hpp"

#include "project.hpp"

#include "roar/collector/install_layout.hpp"
#include "roar/collector/proxy_control.hpp"
#include "roar/collector/result.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

namespace roar::cli {

namespace proxy_control = collector::proxy_control;

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
        proxy_control::StartOptions opts;
        opts.binary = binary->string();
        opts.port = static_cast<std::uint16_t>(project.config().proxy_port);
        const char* env_upstream = std::getenv("ROAR_UPSTREAM_S3_ENDPOINT");
        if (env_upstream == nullptr || *env_upstream == '\0') {
            opts.upstream = project.config().proxy_upstream;
        }
        opts.forward_checksums = project.config().proxy_forward_checksums;
        auto started = proxy_control::start_daemon(roar_dir, opts);
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
            throw FatalError(err);
        }
        std::cout << fmt::format("Proxy daemon stopped (pid={}).\n", st.pid);
        if (!err.empty()) {
            std::cerr << "roar: " << err << "\n";
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
    std::cout << fmt::format("upstream: {}\n", upstream);
    if (st.running) {
        std::cout << fmt::format("daemon:   running (pid={}, port={})\n", st.pid, st.port);
    } else {
        std::cout << fmt::format("daemon:   not running ('roar proxy start' listens on port {})\n",
                                 project.config().proxy_port);
    }
    return 0;
}

} // namespace roar::cli
