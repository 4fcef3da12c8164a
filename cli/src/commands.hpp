// The subcommands of `roar`, one function each. Each returns the process
// exit code; user errors are thrown as FatalError and printed by main().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roar::cli {

struct InitOptions {
    std::string store; // postgresql://USER@HOST:PORT/DB, or "" (ROAR_STORE_URL, else .roar/roar.db)
    std::string join;  // the shared project's name ("" : this directory's name, which must be new)
    // true (-y) adds .roar/ to the project's .gitignore, false (-n) leaves it
    // alone, unset: a hint is printed (no question is asked).
    std::optional<bool> gitignore;
};
int cmd_init(const InitOptions& options);

struct RunOptions {
    bool quiet = false;
    bool json = false;             // print the job record as JSON on stdout afterwards
    std::string step_name;         // -n NAME: the job's step is named NAME (joining the step of that name)
    std::vector<std::string> hash; // --hash ALG: digests besides BLAKE3 ("sha256"); empty: run.hash
    std::vector<std::string> command;
};
// What `roar run` ended with: the exit status to give (the job's, 128+N
// when signal N killed it) and that signal (0: none), which roar dies of in
// turn once the record is stored (die_like_job), so that its own parent
// sees what the job's parent would have.
struct RunResult {
    int exit_code = 0;
    int signal = 0;
};
RunResult cmd_run(const RunOptions& options);
// Ends roar with `signal`, without a core file; returns only if the signal
// did not end it.
void die_like_job(int signal);

// `all`: every input, output, path and job in the text view (lists are cut at 50 otherwise).
int cmd_show(const std::string& ref, bool json, bool lineage, bool all);
// `roar env REF [--json]`: the environment job REF (or the job that wrote artifact REF) ran in.
int cmd_env(const std::string& ref, bool json);
struct LogOptions {
    bool json = false;
    std::string session; // "", "current" or a session number
    std::string last;    // -n: the newest N jobs (checked by cmd_log)
    bool failed_only = false;
};
int cmd_log(const LogOptions& options);

struct DagCommandOptions {
    bool expanded = false;
    bool stale_only = false;
    bool show_artifacts = false;
    bool json = false;
    std::string format; // "", "dot" or "mermaid"
    std::string html;   // write the HTML page here
};
int cmd_dag(const DagCommandOptions& options);
// `roar status`; `remote` also HEADs each S3 object through the user's
// credentials (remote_check.hpp) instead of counting it as not checked;
// `all_hosts` lists, on a shared store, the files of other machines' jobs
// (never compared with this disk) as unknown instead of only counting them.
int cmd_status(bool json, bool remote, bool all_hosts);

struct ExportOptions {
    std::string format;        // "openlineage"
    std::string ref;           // a job, or an artifact (its upstream jobs); "" for all or --session
    std::string session;       // "", "current" or a session number
    std::string url;           // POST the events here instead of printing them
    std::string job_namespace; // the jobs' OpenLineage namespace ("" for roar/<project directory>)
};
int cmd_export(const ExportOptions& options);
int cmd_reset();
// `refs`: two jobs, or one step (@N, @NAME) whose last two runs are compared.
int cmd_diff(const std::vector<std::string>& refs, bool json);
// `yes`: remove without asking.
int cmd_pop(bool yes);
// Stores the job records saved in `files` when storing them failed.
int cmd_import(const std::vector<std::string>& files);
// `roar store sync`: stores every job record saved while the store was unreachable.
int cmd_store_sync();

struct ReproduceOptions {
    std::string ref;  // an artifact (path, digest prefix) or a job (@N, job id): its outputs
    bool run = false; // rebuild in a fresh checkout and compare digests (else print the plan)
    bool json = false;
    std::string dir;     // --run: build here (must not exist or be empty); "" for a new temporary directory
    bool remote = false; // the plan: HEAD each S3 external input (--run always does)
    bool allow_outside_writes = false; // --run: let jobs write their outputs outside the repository in place
};
// `roar reproduce`: exit 0 (plan printed, or reproduced), 1 (not
// reproduced), 2 (refused: an input is missing or the checkout impossible).
int cmd_reproduce(const ReproduceOptions& options);

int cmd_config_list(bool json);
int cmd_config_get(const std::string& key);
int cmd_config_set(const std::string& key, const std::string& value);

} // namespace roar::cli
