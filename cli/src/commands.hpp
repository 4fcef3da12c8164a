// The subcommands of `roar`, one function each. Each returns the process
// exit code; user errors are thrown as FatalError and printed by main().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace roar::cli {

int cmd_init(bool force_here);

struct RunOptions {
    bool quiet = false;
    bool json = false; // print the job record as JSON on stdout afterwards
    std::vector<std::string> command;
};
int cmd_run(const RunOptions& options);

// `all`: every input, output, path and job in the text view (lists are cut at 50 otherwise).
int cmd_show(const std::string& ref, bool json, bool lineage, bool all);
// `roar env REF [--json]`: the environment job REF (or the job that wrote artifact REF) ran in.
int cmd_env(const std::string& ref, bool json);
struct LogOptions {
    bool json = false;
    std::string session;         // "", "current" or a session number
    std::optional<int64_t> last; // -n: the newest N jobs
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
int cmd_status(bool json);
int cmd_reset();
// Stores the job records saved in `files` when storing them failed.
int cmd_import(const std::vector<std::string>& files);

int cmd_config_list(bool json);
int cmd_config_get(const std::string& key);
int cmd_config_set(const std::string& key, const std::string& value);

} // namespace roar::cli
