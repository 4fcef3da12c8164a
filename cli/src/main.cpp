// roar: the command-line entry point. Parses arguments with CLI11 and
// dispatches to one cmd_* function per subcommand; a FatalError anywhere
// becomes one "roar: ..." line on stderr and a non-zero exit.
#include "cmd_proxy.hpp"
#include "commands.hpp"
#include "text_style.hpp"

#include "roar/collector/huge_pages.hpp"
#include "roar/collector/result.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>

using namespace roar;
using namespace roar::cli;

namespace {

// The edit distance between `a` and `b` (insertions, deletions, substitutions).
size_t edit_distance(const std::string& a, const std::string& b)
{
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

// The name of `names` closest to `word` (a prefix of it counts as close),
// or "" when none is within a couple of edits.
std::string closest_name(const std::string& word, const std::vector<std::string>& names)
{
    std::string best;
    size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
    for (const auto& name : names) {
        const size_t d = name.rfind(word, 0) == 0 ? 1 : edit_distance(word, name);
        if (d < best_distance) {
            best = name;
            best_distance = d;
        }
    }
    return best;
}

// The read commands (show, log, dag, status, diff, export) turn a long
// history into large short-lived buffers: a table read, then the graph
// made from it, in many small blocks. Their heap is one room of 1 GiB of
// address space, kept as blocks are freed and backed with huge pages
// (collector/huge_pages.hpp), so fresh memory costs a page fault per 2 MiB
// instead of per 4 KiB: `roar dag --json` on the benchmark's
// 2,000,000-use history took 20,000 faults before, 8,000 after, and 13-26%
// less time (docs/benchmarks.md, session 21). A small command touches no
// more memory than before. Not for `roar run`, whose peak is its record.
void prepare_heap_for_reading() { collector::prefer_huge_pages_for_heap(); }

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"roar: records which data and code produced each file (Run Observation & Artifact Registration)",
                 "roar"};
    app.require_subcommand(1);
    app.fallthrough(); // global flags (--no-color) are accepted after the subcommand too
    app.set_version_flag("--version", ROAR_VERSION_STRING);
    bool no_color = false;
    app.add_flag("--no-color", no_color, "never colour the output (NO_COLOR is honoured too)");

    auto* init = app.add_subcommand("init", "make the current directory a roar project (.roar/, roar.toml)");
    bool init_yes = false, init_no = false;
    auto* init_yes_flag = init->add_flag("-y,--yes", init_yes, "add .roar/ to the project's .gitignore");
    init->add_flag("-n,--no", init_no, "leave .gitignore alone")->excludes(init_yes_flag);
    InitOptions init_options;
    init->add_option("--store", init_options.store,
                     "keep the lineage in a shared PostgreSQL store: postgresql://USER@HOST:PORT/DB "
                     "(default: ROAR_STORE_URL, else .roar/roar.db)");
    init->add_option("--join", init_options.join,
                     "the shared project's name: attaches this checkout to it (the first init creates it)");

    RunOptions run_options;
    auto* run = app.add_subcommand("run", "run a command and record the files it reads and writes");
    run->add_flag("-q,--quiet", run_options.quiet, "no report on stderr after the job");
    run->add_flag("--json", run_options.json, "print the job record as JSON on stdout afterwards");
    run->add_option("-n,--name", run_options.step_name, "name the job's step (then @NAME refers to it)");
    run->add_option("--hash", run_options.hash,
                    "also record this digest of the job's files besides BLAKE3: sha256 (default: run.hash)");
    run->footer("Usage: roar run [-q] [--json] [-n NAME] [--hash sha256] [--] COMMAND [ARGS...]");

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

    ReproduceOptions reproduce_options;
    auto* reproduce = app.add_subcommand("reproduce", "the plan to rebuild an artifact from its lineage, or (--run) "
                                                      "rebuild it in a fresh checkout and compare digests");
    reproduce->add_option("ref", reproduce_options.ref, "an artifact (path, digest prefix) or a job (@N, job id)")
        ->required();
    reproduce->add_flag("--run", reproduce_options.run,
                        "check out the recorded commit, run the jobs under 'roar run', compare every output");
    reproduce->add_option("--dir", reproduce_options.dir,
                          "with --run: build in DIR (new or empty; default: a new directory under TMPDIR)");
    reproduce->add_flag("--remote", reproduce_options.remote,
                        "HEAD each S3 external input with your credentials and show whether it is there as recorded "
                        "(--run always does, and refuses when one is missing or modified)");
    reproduce->add_flag("--allow-outside-writes", reproduce_options.allow_outside_writes,
                        "with --run: let jobs write outputs outside the repository in place (over the files there "
                        "now) and compare them too; without it --run refuses such a plan");
    reproduce->add_flag("--json", reproduce_options.json,
                        "machine-readable output (with --run: {reproduced, differences: [{path, recorded, "
                        "rebuilt, job}]})");

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
    bool status_remote = false;
    status->add_flag("--remote", status_remote,
                     "check S3 objects with a HEAD through your AWS credentials (ETag and size)");
    bool status_all_hosts = false;
    status->add_flag("--all-hosts", status_all_hosts,
                     "on a shared store, also list the files of other hosts' jobs (not checked here) as unknown");

    ExportOptions export_options;
    auto* export_cmd =
        app.add_subcommand("export", "write recorded jobs as OpenLineage events (one JSON per line) or POST them");
    export_cmd->add_option("--format", export_options.format, "the event format: openlineage")
        ->required()
        ->check(CLI::IsMember({"openlineage"}));
    export_cmd->add_option("ref", export_options.ref,
                           "a job (@N, job id), or an artifact (path, digest): the jobs upstream of it");
    export_cmd->add_option("--session", export_options.session, "only session N, or 'current' (default: every job)");
    export_cmd->add_option("--url", export_options.url,
                           "POST each event to this OpenLineage endpoint (URL/api/v1/lineage when URL has no path)");
    export_cmd->add_option("--namespace", export_options.job_namespace,
                           "the jobs' OpenLineage namespace (default: roar/<project directory name>)");
    export_cmd->footer("Usage: roar export --format openlineage [REF | --session N] [--url URL] [--namespace NS]\n"
                       "OPENLINEAGE_API_KEY, when set, is sent as a bearer token with --url.");
    std::vector<std::string> diff_refs;
    bool diff_json = false;
    auto* diff = app.add_subcommand("diff", "compare two jobs (REF REF), or a step's last two runs (@N)");
    diff->add_option("refs", diff_refs, "two jobs (@N, job id), or one step")->required()->expected(1, 2);
    diff->add_flag("--json", diff_json, "machine-readable output");

    bool pop_yes = false;
    auto* pop = app.add_subcommand("pop", "remove the session's newest job from the record (files are left alone)");
    pop->add_flag("-y,--yes", pop_yes, "do not ask first");

    auto* reset = app.add_subcommand("reset", "start a new session: the next job is step @1 (history is kept)");

    std::vector<std::string> import_files;
    auto* import = app.add_subcommand("import", "store job records saved to recovery files when storing failed");
    import->add_option("files", import_files, "recovery files (.roar/recovery/<job>.json, or where roar said)")
        ->required();

    auto* store_cmd = app.add_subcommand("store", "the lineage store itself");
    store_cmd->require_subcommand(1);
    auto* store_sync = store_cmd->add_subcommand(
        "sync", "store the job records saved locally while the store was unreachable (server down, disk full)");

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
            while (it != args.end()) {
                if (*it == "-q" || *it == "--quiet" || *it == "--json" || *it == "-h" || *it == "--help"
                    || it->rfind("--name=", 0) == 0 || (it->rfind("-n", 0) == 0 && it->size() > 2)
                    || it->rfind("--hash=", 0) == 0) {
                    ++it;
                } else if (*it == "-n" || *it == "--name" || *it == "--hash") {
                    it += it + 1 != args.end() ? 2 : 1; // given no value, it stays an option CLI11 reports
                } else {
                    break;
                }
            }
            auto cmd_start = it;
            if (it != args.end() && *it == "--") {
                cmd_start = it + 1;
            }
            command.assign(cmd_start, args.end());
            args.erase(it, args.end());
        }
    }
    // An unknown subcommand: say so, with the closest name.
    if (auto first =
            std::find_if(args.begin(), args.end(), [](const std::string& a) { return a.empty() || a[0] != '-'; });
        first != args.end()) {
        std::vector<std::string> names;
        for (const auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
            names.push_back(sub->get_name());
        }
        if (std::find(names.begin(), names.end(), *first) == names.end()) {
            std::cerr << "roar: unknown command '" << *first << "'";
            if (const std::string near = closest_name(*first, names); !near.empty()) {
                std::cerr << " (did you mean '" << near << "'?)";
            }
            std::cerr << "; 'roar --help' lists the commands\n";
            return 2;
        }
    }
    std::reverse(args.begin(), args.end()); // CLI11 takes a reversed vector

    try {
        app.parse(args);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() != 0) {
            std::cerr << "roar: " << printable(e.what()) << " (see 'roar --help')\n";
            return 2;
        }
        return app.exit(e);
    }
    if (no_color) {
        set_color_enabled(false);
    }

    try {
        if (init->parsed()) {
            if (init_yes || init_no) {
                init_options.gitignore = init_yes;
            }
            return cmd_init(init_options);
        }
        if (store_sync->parsed()) {
            return cmd_store_sync();
        }
        if (run->parsed()) {
            run_options.command = command;
            const RunResult ran = cmd_run(run_options);
            if (ran.signal != 0) {
                die_like_job(ran.signal);
            }
            return ran.exit_code;
        }
        if (show->parsed()) {
            prepare_heap_for_reading();
            return cmd_show(show_ref, show_json, show_lineage, show_all);
        }
        if (env->parsed()) {
            return cmd_env(env_ref, env_json);
        }
        if (reproduce->parsed()) {
            if (!reproduce_options.dir.empty() && !reproduce_options.run) {
                throw FatalError("--dir is for --run: 'roar reproduce --run --dir DIR REF'", 2);
            }
            if (reproduce_options.allow_outside_writes && !reproduce_options.run) {
                throw FatalError("--allow-outside-writes is for --run: 'roar reproduce --run --allow-outside-writes "
                                 "REF'",
                                 2);
            }
            return cmd_reproduce(reproduce_options);
        }
        if (log->parsed()) {
            prepare_heap_for_reading();
            return cmd_log(log_options);
        }
        if (dag->parsed()) {
            prepare_heap_for_reading();
            return cmd_dag(dag_options);
        }
        if (status->parsed()) {
            prepare_heap_for_reading();
            return cmd_status(status_json, status_remote, status_all_hosts);
        }
        if (export_cmd->parsed()) {
            prepare_heap_for_reading();
            return cmd_export(export_options);
        }
        if (diff->parsed()) {
            prepare_heap_for_reading();
            return cmd_diff(diff_refs, diff_json);
        }
        if (pop->parsed()) {
            return cmd_pop(pop_yes);
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
        std::cerr << "roar: " << printable(e.what()) << "\n"; // messages quote paths and commands
        return e.exit_code();
    } catch (const std::exception& e) {
        std::cerr << "roar: internal error: " << printable(e.what()) << "\n";
        return 70;
    }
    return 2;
}
