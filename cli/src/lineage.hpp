// The active session as a pipeline: its steps, their executions (jobs),
// which step consumed what another produced, the state of every path on
// disk, and which steps are stale. Built from a handful of the store's
// session reads (no per-job queries) so `roar dag` stays fast on large
// projects; read by dag, status, `roar run`'s stale report and `roar run @N`.
#pragma once

#include "roar/collector/progress.hpp"
#include "roar/collector/store/store.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace roar::cli {

enum class NodeState { active, stale, superseded };
const char* state_name(NodeState state);

// What is at a tracked path now, compared with the latest recorded version.
enum class DiskState { unchecked, present, modified, missing, remote };
const char* disk_state_name(DiskState state);

// One input or output of one execution.
struct Use {
    uint32_t path = 0;    // index into Lineage::paths
    int64_t artifact = 0; // artifacts.id, 0 when unknown (not hashed)
    int execution = 0;    // index into Lineage::executions
    bool output = false;
    int producer = -1; // inputs: the execution that wrote this content here, if recorded
};

// Why a job (or step) is stale: one of its inputs changed, or a step it consumed from is stale.
struct StaleReason {
    enum class Kind { reproduced, modified, changed, upstream } kind;
    uint32_t path = 0; // the input (not for upstream)
    int64_t step = 0;  // reproduced: the step that wrote the new content; upstream: the stale step
};

// One job of the session, oldest first.
struct Execution {
    int64_t job_row = 0;
    std::string job_id;
    int step = 0; // index into Lineage::steps
    std::string command, cwd;
    std::string host; // where it ran
    double started_at = 0, ended_at = 0;
    int exit_code = 0;
    bool killed = false;
    std::vector<uint32_t> inputs, outputs; // indexes into Lineage::uses
    // Still the latest writer of one of its outputs (or, for a step none of
    // whose jobs is, the step's latest execution).
    bool current = false;
    // An input's content now differs from what it read, or what it read
    // came from a stale job (see Lineage::load).
    bool stale = false;
    std::vector<StaleReason> stale_reasons;
};

struct Step {
    int64_t row = 0;
    int64_t number = 0;          // the N of @N
    std::string name;            // given with `roar run -n NAME`; empty when unnamed
    std::string command;         // of the latest current execution
    std::vector<int> executions; // oldest first
    // Its current executions, oldest first; when none is current (other
    // steps re-wrote all it wrote), its latest execution, superseded.
    std::vector<int> current_jobs;
    std::vector<int> dependencies, dependents; // step indexes, ascending
    int consumed = 0;                          // inputs of the current executions produced by other steps
    bool stale = false;                        // one of its current executions is stale
    std::vector<StaleReason> stale_reasons;    // theirs, without repeats
    int current() const { return current_jobs.back(); }
};

struct PathState {
    std::string path;
    std::vector<uint32_t> uses; // chronological; a job's input before its output
    int64_t latest = 0;         // artifact of the latest recorded version (0: unknown)
    DiskState disk = DiskState::unchecked;
    int64_t on_disk = 0;     // artifact now on disk when present; -1: content never recorded
    std::string disk_digest; // blake3 of what is on disk, when checked and present
    // What stands at the path instead of a file ("directory", "FIFO",
    // "socket", "device"; modified), or "" (a regular file, or nothing).
    std::string disk_kind;
    int writer = -1;    // the execution that wrote it last, if any
    bool stale = false; // its latest writer is stale
    // A dataset (a path ending in '/', dataset.hpp): the files under it
    // now, absolute, in byte order, when checked and present.
    std::vector<std::string> dataset_files;
    // With LineageOptions::local_host: the other machine whose jobs' uses
    // of this local path these are (never checked against this disk);
    // empty for this machine's, and for S3 objects.
    std::string host;
};

struct LineageOptions {
    // Which paths to compare with the disk: those the current executions
    // used (enough for staleness), or every path of the session (status).
    bool check_all_paths = false;
    // Counts the checked paths as they are compared (total, then each one),
    // for `roar status`'s progress line; none when null.
    collector::ProgressLine* progress = nullptr;
    // This machine's name as jobs record it (collector::host_name()), for a
    // store shared by several machines: a local path is then one PathState
    // per machine whose jobs used it, since each machine has its own disk.
    // Only this machine's are compared with the disk; another machine's
    // keep its `host` and are judged from that machine's record alone (its
    // latest recorded version, re-produced there with other content).
    // Unset: every job's files are this disk's (a SQLite store).
    std::optional<std::string> local_host;
};

class Lineage {
public:
    // The active session of `store`; empty (session_id 0) when nothing ran yet.
    static Lineage load(collector::Store& store, const LineageOptions& options = {});

    int64_t session_id = 0;
    std::vector<Step> steps;           // by number
    std::vector<Execution> executions; // chronological
    std::vector<Use> uses;
    std::vector<PathState> paths;
    bool several_hosts = false; // the session's jobs ran on more than one machine

    // Index of step `number`, if the session has it.
    std::optional<int> step_index(int64_t number) const;
    // Stale steps reachable downstream from step `index` (not itself), ascending.
    std::vector<int> stale_downstream(int index) const;
    // Stale steps upstream of step `index` (not itself), ascending.
    std::vector<int> stale_upstream(int index) const;
    // The number of stale steps.
    size_t stale_count() const;
    // The number of stale executions still current (the latest writer of something).
    size_t stale_job_count() const;
    // The steps to re-run, in dependency order, so that nothing is stale:
    // every step with a stale current execution (`roar run @N` re-runs all
    // of a step's current executions). Step indexes.
    std::vector<int> plan() const;
    // "@N", or "@NAME" for a named step.
    std::string step_ref(int index) const;
    // Index of the step named `name`, if the session has it.
    std::optional<int> step_named(std::string_view name) const;
    // The content now current at `path_index`: what is on disk when checked
    // and present, else the latest recorded version.
    int64_t current_content(uint32_t path_index) const;
};

// The machine whose jobs' files are on this disk, for
// LineageOptions::local_host: this one's name as jobs record it
// (collector::host_name()) when `where` is a shared store; none for a
// SQLite store, whose jobs' files are all this disk's.
std::optional<std::string> disk_host(const collector::StoreLocation& where);

// The local files and datasets that other machines' jobs used (PathStates
// with a `host`), which this disk cannot tell about, and those machines'
// names; empty unless `g` was loaded with LineageOptions::local_host.
struct NotCheckedHere {
    std::vector<const PathState*> paths;
    int files = 0, datasets = 0;
    std::set<std::string> hosts;
    bool empty() const { return paths.empty(); }
};
NotCheckedHere not_checked_here(const Lineage& g);

// Whether `name` can name a step (`roar run -n NAME`, `@NAME`): a letter
// or '_' first, then letters, digits, '_', '-' and '.'.
bool valid_step_name(std::string_view name);

// Digests of artifacts, looked up on demand and remembered: rendering
// needs few of the many artifacts a session has.
class ArtifactDigests {
public:
    explicit ArtifactDigests(collector::Store& store) : m_store(store) { }
    using Info = collector::ArtifactDigest; // blake3 preferred, else etag; empty when unknown
    const Info& get(int64_t artifact);
    // Looks up all of `ids` at once (in batches), for get() to answer from memory.
    void prefetch(std::vector<int64_t> ids);

private:
    collector::Store& m_store;
    std::unordered_map<int64_t, Info> m_known;
};

} // namespace roar::cli
