// `roar proxy [enable|disable|start|stop]`: the proxy's status, the
// proxy.enabled switch in roar.toml, and the standalone daemon.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace roar::cli {

struct ProxyCommand {
    std::string action; // "", "enable", "disable", "start", "stop"
};

// Adds the `proxy` subcommand to `app`, filling `cmd` when it is parsed.
CLI::App* add_proxy_subcommand(CLI::App& app, ProxyCommand& cmd);

// Runs `roar proxy` with `cmd`; returns the exit code.
int cmd_proxy(const ProxyCommand& cmd);

} // namespace roar::cli
