// The plan `roar reproduce` follows to rebuild an artifact from its
// lineage: the jobs upstream of it in dependency order with their exact
// commands and directories, the git commit (and recorded diff) they ran
// at, the inputs no recorded job produced (split into files the checkout
// provides and external inputs that must be found by digest), and how the
// recorded environment differs from this machine's.
#pragma once

#include "project.hpp"

#include "roar/collector/store/records.hpp"
#include "roar/collector/store/store.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace roar::cli {

// One job of the plan.
struct PlanJob {
    int64_t row = 0;
    std::string uid;
    std::optional<int64_t> step;
    std::vector<std::string> argv;
    std::string command, cwd;
    double started_at = 0;
    int64_t exit_code = 0;
    std::vector<collector::UseDetail> outputs;
    std::optional<collector::GitDetail> git;
    nlohmann::json git_record; // the "git" part of its environment record (root, diff); null when none
    nlohmann::json environment;
};

// A file (or S3 object) the plan's jobs read that none of them produced.
struct PlanInput {
    std::string path;   // as recorded
    std::string digest; // blake3 (or the ETag of an S3 object); "" when not hashed
    int64_t artifact = 0;
    // Tracked at the recorded commit (or changed by its diff): the checkout
    // provides it. Otherwise it is an external input.
    bool in_checkout = false;
    std::vector<std::string> seen_at; // every path its content was recorded at
    std::vector<std::string> read_by; // uids of the plan's jobs that read it
    // An S3 object's recorded ETag (quotes included; "" when unknown) and
    // size: what --run's HEAD compares with.
    std::string etag;
    std::optional<int64_t> size;
    // Where --run copies a local external input from: the first recorded
    // location (seen_at) holding the recorded content now. "" for an input
    // of the checkout, an S3 object, or when no location holds it (then the
    // plan has a problem naming it).
    std::string source;
};

// A file (or S3 object) a plan's job wrote outside the recorded work tree:
// --run would write it in place, over what is there now.
struct PlanOutsideOutput {
    std::string path;
    std::string job; // uid of the (last) plan job that wrote it
};

struct ReproducePlan {
    std::string target;        // what the user named
    std::vector<PlanJob> jobs; // dependency order
    std::vector<PlanInput> inputs;
    std::string root;   // the recorded work tree's top directory ("" when unknown)
    std::string commit; // "" when the jobs ran outside git
    std::string branch, remote;
    bool dirty = false;
    std::vector<std::string> dirty_files;
    nlohmann::json diff; // the recorded diff record ({"base", "bytes", "patch"|"too_large"|"failed"}); null when clean
    // The jobs' outputs outside `root`, S3 objects included.
    std::vector<PlanOutsideOutput> outside_outputs;
    // Why the plan cannot be run here as recorded (mixed commits, no
    // commit, an unrecorded diff, a redacted secret, a job that ran outside
    // the repository, an external input not available): --run refuses.
    std::vector<std::string> problems;
};

// The plan for `text` (an artifact: a path or digest prefix; or a job,
// whose outputs are rebuilt) in `store`. Throws FatalError for an unknown
// reference or an artifact no recorded job produced.
ReproducePlan make_reproduce_plan(collector::Store& store, const Project& project, const std::string& text);

// The order to run jobs in: by start time, which is a dependency order
// because the store names as an input's producer the latest job that wrote
// it before its reader started. `started_at` and `rows` (ties) are
// parallel; returns indexes into them.
std::vector<size_t> dependency_order(const std::vector<double>& started_at, const std::vector<int64_t>& rows);

// An installed Debian package.
struct DebianPackage {
    std::string name, version, architecture;
};

// A Debian package a job's environment record names (it owned system files
// the job used) that this machine lacks or has at another version.
struct DebianDifference {
    std::string name, architecture;
    std::string recorded;
    std::string here; // "" when it is not installed here
};

// The Debian packages recorded for `jobs` (their environment records'
// system_packages) compared with `installed` (this machine's, nullopt when
// it has no dpkg database: then every recorded package is missing), by
// name and architecture; one entry per recorded (package, version), in
// name order.
std::vector<DebianDifference> debian_package_differences(const std::vector<PlanJob>& jobs,
                                                         const std::optional<std::vector<DebianPackage>>& installed);

// The one-line form of `difference`, as the plan prints it.
std::string describe_debian_difference(const DebianDifference& difference);

struct EnvironmentDifferences {
    std::vector<std::string> lines;       // one per difference, Debian packages included
    std::vector<DebianDifference> debian; // the Debian part, for the JSON plan
};

// How the environment `jobs` were recorded in differs from this machine:
// OS, architecture, GPUs, each Python interpreter (missing, another
// version), each imported distribution (missing, another version) and each
// Debian package (read from dpkg's database by the recorder's DpkgOwners);
// empty when nothing differs.
EnvironmentDifferences environment_differences(const std::vector<PlanJob>& jobs);

// `path` relative to `root` when it lies inside it ("" for root itself),
// nullopt otherwise.
std::optional<std::string> relative_to(const std::string& path, const std::string& root);

// Finds each local external input of `plan` by content: sets its `source`
// to the first of its recorded locations whose BLAKE3 (`blake3_now` of a
// path: "" when it cannot be read) is the recorded one, and adds a problem
// naming the input when it was not hashed or no location has it now.
void locate_external_inputs(ReproducePlan& plan, const std::function<std::string(const std::string&)>& blake3_now);

// Command argument `arg` with the recorded work tree `root` moved to `dir`
// wherever `arg` names a path in it: the whole argument, after an option's
// '=', or inside a shell string; an occurrence counts when nothing that
// can continue a path comes before it or right after it (a '/' may
// follow), so /repo.bak and /other/repo stay as they are.
std::string moved_argument(const std::string& arg, const std::string& root, const std::string& dir);

} // namespace roar::cli
