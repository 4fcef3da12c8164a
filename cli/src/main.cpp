// roar: the command-line entry point. Parses arguments with CLI11 and
// dispatches to one cmd_* function per subcommand; a FatalError anywhere
// becomes one "roar: ..." line on stderr and a non-zero exit.
#include "cmd_proxy.hpp"
#include "commands.hpp"
#include "text_style.hpp"

#include "roar/collector/result.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>

using namespace roar;
using namespace roar::cli;

int main(int argc, char** argv)
{
    CLI::App app{"roar: records which data and code produced each file (Run Observation & Artifact Registration)",
                 "roar"};
    app.require_subcommand(1);
    app.set_version_flag("--version", ROAR_VERSION_STRING);
    bool no_color = false;
    app.add_flag("--no-color", no_color, "never colour the output (NO_COLOR is honoured too)");

    auto* init = app.add_subcommand("init", "make the current directory a roar project (.roar/, roar.toml)");

    RunOptions run_options;
    auto* run = app.add_subcommand("run", "run a command and record the files it reads and writes");
    run->add_flag("-q,--quiet", run_options.quiet, "no report on stderr after the job");
    run->add_flag("--json", run_options.json, "print the job record as JSON on stdout afterwards");
    run->footer("Usage: roar run [-q] [--json] [--] COMMAND [ARGS...]");

    std::string show_ref;
    bool show_json = false;
    auto* show = app.add_subcommand("show", "show a job (@N, job id) or an artifact (path, digest prefix)");
    show->add_option("ref", show_ref, "@N, a job id or prefix, a path, or a digest prefix")->required();
    show->add_flag("--json", show_json, "machine-readable output");
    bool show_lineage = false;
    show->add_flag("--lineage", show_lineage, "for an artifact: every job and source upstream of it, to the roots");
    bool show_all = false;
    show->add_flag("--all", show_all, "list every input, output, path and job (long lists are cut at 50)");

    std::string env_ref;
    bool env_json = false;
    auto* env = app.add_subcommand("env", "the environment a job ran in: machine, Python and its packages, Debian "
                                          "packages");
    env->add_option("ref", env_ref, "@N, a job id or prefix, or an artifact (the job that wrote it)")->required();
    env->add_flag("--json", env_json, "the record as JSON (machine, python, system_packages, ...)");

    LogOptions log_options;
    auto* log = app.add_subcommand("log", "one line per recorded job, oldest first");
    log->add_flag("--json", log_options.json, "machine-readable output");
    log->add_option("--session", log_options.session, "only session N, or 'current' (the active one)");
    log->add_option("-n,--last", log_options.last, "only the newest N jobs");
    log->add_flag("--failed", log_options.failed_only, "only jobs that failed or were killed");

    DagCommandOptions dag_options;
    auto* dag = app.add_subcommand("dag", "the session's pipeline: steps, what they consumed, what is stale");
    dag->add_flag("--expanded", dag_options.expanded, "every execution of each step, superseded ones included");
    dag->add_flag("--stale-only", dag_options.stale_only, "only stale steps (with the reason) and stale artifacts");
    dag->add_flag("--show-artifacts", dag_options.show_artifacts, "every artifact, not only final outputs");
    dag->add_flag("--json", dag_options.json, "machine-readable output");
    dag->add_option("--format", dag_options.format, "graph source instead of the tree: dot (Graphviz) or mermaid")
        ->check(CLI::IsMember({"dot", "mermaid"}));
    dag->add_option("--html", dag_options.html, "write a self-contained HTML picture of the pipeline to FILE");

    bool status_json = false;
    auto* status = app.add_subcommand("status", "tracked files present/modified/missing on disk, and stale steps");
    status->add_flag("--json", status_json, "machine-readable output");

    auto* reset = app.add_subcommand("reset", "start a new session: the next job is step @1 (history is kept)");

    std::vector<std::string> import_files;
    auto* import = app.add_subcommand("import", "store job records saved to recovery files when storing failed");
    import->add_option("files", import_files, "recovery files (.roar/recovery/<job>.json, or where roar said)")
        ->required();

    auto* config = app.add_subcommand("config", "read or change roar.toml");
    config->require_subcommand(1);
    bool config_json = false;
    auto* config_list = config->add_subcommand("list", "every key with its value and meaning");
    config_list->add_flag("--json", config_json, "machine-readable output");
    std::string config_key, config_value;
    auto* config_get_cmd = config->add_subcommand("get", "print one key's value");
    config_get_cmd->add_option("key", config_key, "e.g. proxy.enabled")->required();
    auto* config_set_cmd = config->add_subcommand("set", "set one key's value");
    config_set_cmd->add_option("key", config_key, "e.g. proxy.enabled")->required();
    config_set_cmd->add_option("value", config_value, "a TOML value, e.g. true, 9090, \"text\"")->required();

    ProxyCommand proxy_cmd;
    auto* proxy = add_proxy_subcommand(app, proxy_cmd);

    // `roar run` takes the rest of the line verbatim after its own options
    // (and an optional "--"), so split it off before CLI11 sees it.
    std::vector<std::string> args(argv + 1, argv + argc);
    std::vector<std::string> command;
    if (auto run_at = std::find(args.begin(), args.end(), "run"); run_at != args.end()) {
        const bool before_is_options =
            std::all_of(args.begin(), run_at, [](const std::string& a) { return !a.empty() && a.front() == '-'; });
        if (before_is_options) {
            auto it = run_at + 1;
            while (it != args.end()
                   && (*it == "-q" || *it == "--quiet" || *it == "--json" || *it == "-h" || *it == "--help")) {
                ++it;
            }
            auto cmd_start = it;
            if (it != args.end() && *it == "--") {
                cmd_start = it + 1;
            }
            command.assign(cmd_start, args.end());
            args.erase(it, args.end());
        }
    }
    std::reverse(args.begin(), args.end()); // CLI11 takes a reversed vector

    try {
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() != 0) {
            std::cerr << "roar: " << e.what() << " (see 'roar --help')\n";
            return 2;
        }
        return app.exit(e);
    }
    if (no_color) {
        set_color_enabled(false);
    }

    try {
        if (init->parsed()) {
            return cmd_init(false);
        }
        if (run->parsed()) {
            run_options.command = command;
            return cmd_run(run_options);
        }
        if (show->parsed()) {
            return cmd_show(show_ref, show_json, show_lineage, show_all);
        }
        if (env->parsed()) {
            return cmd_env(env_ref, env_json);
        }
        if (log->parsed()) {
            return cmd_log(log_options);
        }
        if (dag->parsed()) {
            return cmd_dag(dag_options);
        }
        if (status->parsed()) {
            return cmd_status(status_json);
        }
        if (reset->parsed()) {
            return cmd_reset();
        }
        if (import->parsed()) {
            return cmd_import(import_files);
        }
        if (proxy->parsed()) {
            return cmd_proxy(proxy_cmd);
        }
        if (config_list->parsed()) {
            return cmd_config_list(config_json);
        }
        if (config_get_cmd->parsed()) {
            return cmd_config_get(config_key);
        }
        if (config_set_cmd->parsed()) {
            return cmd_config_set(config_key, config_value);
        }
    } catch (const FatalError& e) {
        std::cerr << "roar: " << e.what() << "\n";
        return e.exit_code();
    } catch (const std::exception& e) {
        std::cerr << "roar: internal error: " << e.what() << "\n";
        return 70;
    }
    return 2;
}
