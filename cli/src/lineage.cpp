// The session's pipeline graph and its staleness (see lineage.hpp).
//
// Everything comes from a few of the store's session reads (steps, jobs,
// each job's use lists, and one digest lookup per checked path), so the
// cost grows with the number of rows read, never with round trips per job.
#include "lineage.hpp"

#include "job_queries.hpp"
#include "project.hpp"

#include "roar/collector/dataset.hpp"
#include "roar/collector/hash_pool.hpp"
#include "roar/collector/huge_pages.hpp"
#include "roar/collector/job_session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <iterator>
#include <limits>
#include <thread>
#include <span>
#include <string_view>
#include <system_error>
#include <sys/stat.h>

namespace roar::cli {

namespace {

void add_unique(std::vector<int>& list, int value)
{
    if (std::find(list.begin(), list.end(), value) == list.end()) {
        list.push_back(value);
    }
}

// Follows `edges` (dependencies or dependents) from `start`, returning
// the stale steps reached, ascending.
std::vector<int> reach_stale(const Lineage& g, int start, bool downstream)
{
    std::vector<char> seen(g.steps.size(), 0);
    std::vector<int> todo{start}, found;
    seen[size_t(start)] = 1;
    while (!todo.empty()) {
        const int at = todo.back();
        todo.pop_back();
        const auto& next = downstream ? g.steps[size_t(at)].dependents : g.steps[size_t(at)].dependencies;
        for (int n : next) {
            if (!seen[size_t(n)]) {
                seen[size_t(n)] = 1;
                todo.push_back(n);
                if (g.steps[size_t(n)].stale) {
                    found.push_back(n);
                }
            }
        }
    }
    std::sort(found.begin(), found.end());
    return found;
}

} // namespace

const char* state_name(NodeState state)
{
    switch (state) {
    case NodeState::active: return "active";
    case NodeState::stale: return "stale";
    case NodeState::superseded: return "superseded";
    }
    return "?";
}

const char* disk_state_name(DiskState state)
{
    switch (state) {
    case DiskState::unchecked: return "unchecked";
    case DiskState::present: return "present";
    case DiskState::modified: return "modified";
    case DiskState::missing: return "missing";
    case DiskState::remote: return "remote";
    }
    return "?";
}

std::optional<int> Lineage::step_index(int64_t number) const
{
    auto it =
        std::lower_bound(steps.begin(), steps.end(), number, [](const Step& s, int64_t n) { return s.number < n; });
    if (it == steps.end() || it->number != number) {
        return std::nullopt;
    }
    return int(it - steps.begin());
}

std::vector<int> Lineage::stale_downstream(int index) const { return reach_stale(*this, index, true); }
std::vector<int> Lineage::stale_upstream(int index) const { return reach_stale(*this, index, false); }

size_t Lineage::stale_count() const
{
    return size_t(std::count_if(steps.begin(), steps.end(), [](const Step& s) { return s.stale; }));
}

int64_t Lineage::current_content(uint32_t path_index) const
{
    const PathState& p = paths[path_index];
    if (p.disk == DiskState::present || p.disk == DiskState::modified) {
        return p.on_disk;
    }
    return p.latest;
}

namespace {

// A job's uses of one direction arrive in path-id order. Ids follow the
// paths' byte order within a job's first recording (and after the schema
// 7 migration), the order uses were always read in; a job mixing paths
// first recorded at different times is put back in byte order here, and
// g.paths renumbered by first use, so the graph and everything printed
// from it do not depend on when a path was first recorded.
void in_path_order(Lineage& g)
{
    auto by_path = [&g](const Use& a, const Use& b) { return g.paths[a.path].path < g.paths[b.path].path; };
    bool reordered = false;
    std::vector<Use> run;
    for (auto& e : g.executions) {
        for (const auto* list : {&e.outputs, &e.inputs}) {
            bool sorted = true;
            for (size_t i = 1; i < list->size() && sorted; ++i) {
                sorted = !by_path(g.uses[(*list)[i]], g.uses[(*list)[i - 1]]);
            }
            if (sorted) {
                continue;
            }
            run.clear();
            for (uint32_t u : *list) {
                run.push_back(g.uses[u]);
            }
            std::stable_sort(run.begin(), run.end(), by_path);
            for (size_t i = 0; i < run.size(); ++i) {
                g.uses[(*list)[i]] = run[i];
            }
            reordered = true;
        }
    }
    if (!reordered) {
        return;
    }
    constexpr uint32_t k_unseen = std::numeric_limits<uint32_t>::max();
    std::vector<uint32_t> renumbered(g.paths.size(), k_unseen);
    std::vector<PathState> paths;
    paths.reserve(g.paths.size());
    for (auto& use : g.uses) {
        if (renumbered[use.path] == k_unseen) {
            renumbered[use.path] = uint32_t(paths.size());
            paths.push_back(std::move(g.paths[use.path]));
        }
        use.path = renumbered[use.path];
    }
    g.paths = std::move(paths);
}

// Splits each local path used by jobs of several machines into one
// PathState per machine (a file on /work on one node is not the file on
// /work on another), this machine's (`local_host`) keeping the original;
// a copy for another machine, or a path only other machines used, gets
// that machine's name in `host`. S3 objects are the same everywhere and
// stay whole. Runs once uses are listed per path, before histories are
// walked, so every later step (latest version, writers, producers,
// staleness) sees one machine's history per path.
// Returns the paths split in more than one, each as its PathStates' indexes.
std::vector<std::vector<uint32_t>> split_by_host(Lineage& g, const std::string& local_host)
{
    std::vector<std::vector<uint32_t>> split;
    // Each execution's machine as a number: 0 for this one, then others
    // in order of first appearance (few), so uses compare integers.
    std::vector<std::string_view> hosts{local_host};
    std::vector<uint32_t> machine(g.executions.size(), 0);
    for (size_t x = 0; x < g.executions.size(); ++x) {
        const std::string_view host = g.executions[x].host;
        auto at = std::find(hosts.begin(), hosts.end(), host);
        if (at == hosts.end()) {
            at = hosts.insert(hosts.end(), host);
        }
        machine[x] = uint32_t(at - hosts.begin());
    }
    if (hosts.size() == 1) {
        return split; // the common case: every job ran here
    }
    // A job that recorded no name (a record saved without one) ran on a
    // machine nobody can name: its files are not this disk's either, and
    // an empty `host` would say they were.
    std::vector<std::string_view> names(hosts.begin(), hosts.end());
    for (auto& name : names) {
        name = name.empty() ? std::string_view("(no host recorded)") : name;
    }
    constexpr uint32_t k_none = std::numeric_limits<uint32_t>::max();
    std::vector<uint32_t> copy_of(hosts.size(), k_none); // machine -> its PathState, for one path
    std::vector<uint32_t> kept;
    const size_t known = g.paths.size();
    for (size_t i = 0; i < known; ++i) {
        if (g.paths[i].path.starts_with("s3://") || g.paths[i].uses.empty()) {
            continue;
        }
        // Taken out: new PathStates may move g.paths.
        const std::vector<uint32_t> uses = std::move(g.paths[i].uses);
        auto machine_of = [&](uint32_t u) { return machine[size_t(g.uses[u].execution)]; };
        // This machine's uses stay at i; so do the first other machine's
        // when this one never used the path.
        std::fill(copy_of.begin(), copy_of.end(), k_none);
        copy_of[0] = uint32_t(i);
        if (std::none_of(uses.begin(), uses.end(), [&](uint32_t u) { return machine_of(u) == 0; })) {
            const uint32_t first = machine_of(uses.front());
            copy_of[first] = uint32_t(i);
            g.paths[i].host = names[first];
        }
        std::vector<uint32_t> group{uint32_t(i)};
        kept.clear();
        for (uint32_t u : uses) {
            const uint32_t m = machine_of(u);
            if (copy_of[m] == k_none) {
                copy_of[m] = uint32_t(g.paths.size());
                group.push_back(copy_of[m]);
                std::string path = g.paths[i].path;
                PathState& other = g.paths.emplace_back();
                other.path = std::move(path);
                other.host = names[m];
            }
            if (copy_of[m] == i) {
                kept.push_back(u);
            } else {
                g.uses[u].path = copy_of[m];
                g.paths[copy_of[m]].uses.push_back(u);
            }
        }
        g.paths[i].uses = kept;
        if (group.size() > 1) {
            split.push_back(std::move(group));
        }
    }
    return split;
}

// A file a job on one machine wrote and a job on another read at the same
// path (a shared file system, or the same bytes copied there): the read
// came from the latest such write before it, when the bytes are the ones
// written and the reader's machine recorded no producer of its own. The
// reader then depends on the writer, stale when the writer is (as far as
// the writer's machine's record tells). `split`: split_by_host's groups.
void link_across_hosts(Lineage& g, const std::vector<std::vector<uint32_t>>& split)
{
    for (const auto& group : split) {
        for (uint32_t c : group) {
            for (uint32_t u : g.paths[c].uses) {
                Use& read = g.uses[u];
                if (read.output || read.producer >= 0 || read.artifact == 0) {
                    continue;
                }
                for (uint32_t d : group) {
                    if (d == c) {
                        continue;
                    }
                    for (uint32_t w : g.paths[d].uses) {
                        const Use& write = g.uses[w];
                        if (write.execution >= read.execution) {
                            break; // chronological
                        }
                        if (write.output && write.artifact == read.artifact && write.execution > read.producer) {
                            read.producer = write.execution;
                        }
                    }
                }
            }
        }
    }
}

// What stat says of a path compared with the disk: a regular file (to be
// digested), nothing there, or anything else (a directory, a device, a
// path stat cannot reach), which stays unchecked.
// What stat found at a tracked path: a regular file, nothing, something
// else where a file was recorded (a directory, FIFO, socket or device), or
// no answer (EACCES on the way: left unchecked).
enum class Found : char { regular, missing, directory, fifo, socket, device, unknown };

const char* found_kind_name(Found f)
{
    switch (f) {
    case Found::directory: return "directory";
    case Found::fifo: return "FIFO";
    case Found::socket: return "socket";
    case Found::device: return "device";
    default: return "";
    }
}

Found found_of(const struct stat& st)
{
    if (S_ISREG(st.st_mode)) {
        return Found::regular;
    }
    if (S_ISDIR(st.st_mode)) {
        return Found::directory;
    }
    if (S_ISFIFO(st.st_mode)) {
        return Found::fifo;
    }
    return S_ISSOCK(st.st_mode) ? Found::socket : Found::device;
}

// stat of each of `which` (indexes into g.paths), in order. A long session
// checks about one path per input it recorded (100,000 stat calls on the
// benchmark's history, 0.15 s on one core): a long list is spread over the
// machine's cores.
std::vector<Found> stat_all(const Lineage& g, const std::vector<uint32_t>& which)
{
    std::vector<Found> found(which.size(), Found::unknown);
    auto run = [&g, &which, &found](size_t begin, size_t end) {
        for (size_t k = begin; k < end; ++k) {
            struct stat st;
            if (stat(g.paths[which[k]].path.c_str(), &st) != 0) {
                found[k] = (errno == ENOENT || errno == ENOTDIR) ? Found::missing : Found::unknown;
            } else {
                found[k] = found_of(st);
            }
        }
    };
    constexpr size_t k_per_thread = 8192; // below this a thread costs more than it saves
    const size_t parts = std::clamp<size_t>(which.size() / k_per_thread, 1, collector::HashPool::default_threads() + 1);
    const size_t share = (which.size() + parts - 1) / parts;
    std::vector<std::thread> helpers;
    size_t inline_from = which.size(); // parts no thread could be started for run here
    for (size_t t = 1; t < parts; ++t) {
        try {
            helpers.emplace_back(run, t * share, std::min(which.size(), (t + 1) * share));
        } catch (const std::system_error&) {
            inline_from = t * share;
            break;
        }
    }
    run(0, std::min(share, which.size()));
    if (inline_from < which.size()) {
        run(inline_from, which.size());
    }
    for (auto& helper : helpers) {
        helper.join();
    }
    return found;
}

// Datasets on disk: the files under each of `datasets` (indexes into
// g.paths) found again by the rule's walk, hashed through the hash cache,
// and the dataset digest of what is there compared with the recorded one.
void check_datasets(collector::Store& store, Lineage& g, const std::vector<uint32_t>& datasets)
{
    if (datasets.empty()) {
        return;
    }
    collector::HashPool pool(collector::HashPool::default_threads());
    for (uint32_t i : datasets) {
        PathState& p = g.paths[i];
        auto files = collector::walk_dataset(p.path);
        if (!files) {
            struct stat st;
            if (stat(p.path.c_str(), &st) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
                p.disk = DiskState::missing;
            }
            continue;
        }
        const auto digests = store.digest_files(*files, pool);
        std::vector<collector::DatasetMember> members;
        for (size_t k = 0; k < files->size(); ++k) {
            if (digests[k]) { // unreadable now: left out, so the digest differs
                members.push_back({(*files)[k].substr(p.path.size()), digests[k]->identity.size, digests[k]->blake3});
            }
        }
        p.disk_digest = collector::dataset_digest(std::move(members));
        p.on_disk = store.artifacts_by_blake3({p.disk_digest}).front().value_or(-1);
        p.disk = (p.latest == 0 || p.on_disk == p.latest) ? DiskState::present : DiskState::modified;
        p.dataset_files = std::move(*files);
    }
}

} // namespace

Lineage Lineage::load(collector::Store& store, const LineageOptions& options)
{
    Lineage g;
    if (const auto session = store.active_session()) {
        g.session_id = *session;
    } else {
        return g;
    }

    std::unordered_map<int64_t, int> step_of_row;
    for (auto& row : store.session_steps(g.session_id)) {
        Step step;
        step.row = row.row;
        step.number = row.number;
        step.command = std::move(row.command);
        step.name = std::move(row.name);
        step_of_row.emplace(step.row, int(g.steps.size()));
        g.steps.push_back(std::move(step));
    }

    int64_t max_job_row = 0;
    const std::vector<collector::SessionJob> jobs = store.session_jobs(g.session_id);
    {
        for (const auto& job : jobs) {
            auto step = step_of_row.find(job.step_row);
            if (step == step_of_row.end()) {
                continue; // a job without a step of this session: not part of the pipeline
            }
            Execution e;
            e.job_row = job.row;
            e.job_id = job.uid;
            e.step = step->second;
            e.command = job.command;
            e.cwd = job.cwd;
            e.host = job.host;
            g.several_hosts = g.several_hosts || (!g.executions.empty() && e.host != g.executions.front().host);
            e.started_at = job.started_at;
            e.ended_at = job.ended_at;
            e.exit_code = job.exit_code;
            e.killed = job.killed;
            const int index = int(g.executions.size());
            max_job_row = std::max(max_job_row, e.job_row);
            g.steps[size_t(e.step)].executions.push_back(index);
            g.executions.push_back(std::move(e));
        }
    }
    // Steps with no job (possible only after manual edits) would have no current execution.
    for (size_t i = 0; i < g.steps.size(); ++i) {
        if (g.steps[i].executions.empty()) {
            g.steps.erase(g.steps.begin() + long(i));
            for (auto& e : g.executions) {
                e.step -= e.step > int(i) ? 1 : 0;
            }
            --i;
        }
    }
    // Every output and every input of the session: a job's staleness can
    // depend on what a job it read from read, current or not.
    {
        std::vector<int> execution_of(size_t(max_job_row + 1), -1);
        for (size_t i = 0; i < g.executions.size(); ++i) {
            execution_of[size_t(g.executions[i].job_row)] = int(i);
        }
        // The store names each path by id; g.paths is indexed in order of
        // first use, and each path's text is read once after the scan.
        std::vector<uint32_t> local_of; // store path id -> index in g.paths + 1 (0: not yet)
        std::vector<int64_t> store_ids;
        // A job's rows of one direction, all at once.
        auto add = [&](int64_t job_row, std::span<const collector::ScannedUse> rows, bool output) {
            const int exec = job_row >= 0 && job_row <= max_job_row ? execution_of[size_t(job_row)] : -1;
            if (exec < 0) {
                return;
            }
            Execution& e = g.executions[size_t(exec)];
            std::vector<uint32_t>& list = output ? e.outputs : e.inputs;
            list.reserve(list.size() + rows.size());
            for (const auto& row : rows) {
                if (row.path_id < 0) {
                    continue;
                }
                if (size_t(row.path_id) >= local_of.size()) {
                    local_of.resize(std::max(size_t(row.path_id) + 1, local_of.size() * 2), 0);
                }
                uint32_t& local = local_of[size_t(row.path_id)];
                if (local == 0) {
                    store_ids.push_back(row.path_id);
                    local = uint32_t(store_ids.size());
                }
                list.push_back(uint32_t(g.uses.size()));
                g.uses.push_back(Use{local - 1, row.artifact, exec, output, -1});
            }
        };
        // The session's outputs, then its inputs (a row per job: its use
        // lists, streamed from a server).
        store.scan_session_uses(
            g.session_id, jobs, [&](int64_t job_row, auto rows) { add(job_row, rows, true); },
            [&](int64_t job_row, auto rows) { add(job_row, rows, false); },
            [&](size_t rows) { // room made once: 2M uses are 48 MB, in huge pages where offered
                g.uses.reserve(rows);
                collector::prefer_huge_pages_for(g.uses);
            });
        // The paths' states are made once all are known: growing the
        // vector while scanning moved every one made so far, twice over.
        auto names = store.path_names(store_ids);
        g.paths.reserve(store_ids.size());
        collector::prefer_huge_pages_for(g.paths);
        g.paths.resize(store_ids.size());
        for (size_t i = 0; i < g.paths.size(); ++i) {
            g.paths[i].path = std::move(names[i]);
        }
        in_path_order(g);
        std::vector<uint32_t> counts(g.paths.size(), 0);
        for (const auto& use : g.uses) {
            ++counts[use.path];
        }
        for (size_t i = 0; i < g.paths.size(); ++i) {
            g.paths[i].uses.reserve(counts[i]);
        }
        for (uint32_t u = 0; u < g.uses.size(); ++u) {
            g.paths[g.uses[u].path].uses.push_back(u);
        }
    }
    std::vector<std::vector<uint32_t>> split; // local paths used on several machines
    if (options.local_host) {
        split = split_by_host(g, *options.local_host);
    }

    // Each path's history in order; the latest version; its latest writer;
    // who produced what each input read: the latest write by an earlier
    // execution (a job's input sorts before its output) when it wrote the
    // content read, else nothing recorded (the file was changed outside
    // roar in between). One walk along each history.
    auto key = [&g](uint32_t u) { return std::pair(g.uses[u].execution, g.uses[u].output); };
    for (auto& p : g.paths) {
        std::sort(p.uses.begin(), p.uses.end(), [&](uint32_t a, uint32_t b) { return key(a) < key(b); });
        p.latest = g.uses[p.uses.back()].artifact;
        const Use* last_write = nullptr;
        for (uint32_t u : p.uses) {
            Use& use = g.uses[u];
            if (use.output) {
                last_write = &use;
                p.writer = use.execution;
            } else if (last_write != nullptr && use.artifact != 0 && last_write->artifact == use.artifact) {
                use.producer = last_write->execution;
            }
        }
    }
    link_across_hosts(g, split);
    // Current executions: the latest writers, and each step's latest
    // execution when no job of the step is the latest writer of anything.
    for (const auto& p : g.paths) {
        if (p.writer >= 0) {
            g.executions[size_t(p.writer)].current = true;
        }
    }
    for (auto& step : g.steps) {
        for (int x : step.executions) {
            if (g.executions[size_t(x)].current) {
                step.current_jobs.push_back(x);
            }
        }
        if (step.current_jobs.empty()) {
            // Nothing it wrote is still its: either it writes nothing (it
            // stays current), or other steps re-wrote all of it (superseded).
            step.current_jobs.push_back(step.executions.back());
            const bool wrote = std::any_of(step.executions.begin(), step.executions.end(),
                                           [&g](int x) { return !g.executions[size_t(x)].outputs.empty(); });
            g.executions[size_t(step.executions.back())].current = !wrote;
        }
        step.command = g.executions[size_t(step.current())].command;
    }
    // The disk: what is at each path now, through the hash cache.
    // Every path an input of some execution or an output of a current one
    // (a superseded execution's outputs matter to status only).
    std::vector<char> check(g.paths.size(), options.check_all_paths ? 1 : 0);
    if (!options.check_all_paths) {
        for (const auto& use : g.uses) {
            if (!use.output || g.executions[size_t(use.execution)].current) {
                check[use.path] = 1;
            }
        }
    }
    // Missing files are told apart by stat; the regular ones are digested
    // in one batch (cache lookups together, changed files hashed in parallel).
    std::vector<uint32_t> regular;
    std::vector<std::string> regular_paths;
    std::vector<uint32_t> datasets;
    std::vector<uint32_t> files; // the rest: local files, told apart by stat
    for (size_t i = 0; i < g.paths.size(); ++i) {
        if (!g.paths[i].host.empty()) {
            check[i] = 0; // on another machine's disk: never compared with this one
        }
    }
    if (options.progress) {
        options.progress->set_total(uint64_t(std::count(check.begin(), check.end(), 1)));
    }
    for (size_t i = 0; i < g.paths.size(); ++i) {
        if (!check[i]) {
            continue;
        }
        PathState& p = g.paths[i];
        if (p.path.rfind("s3://", 0) == 0) {
            p.disk = DiskState::remote;
        } else if (p.path.ends_with('/')) {
            datasets.push_back(uint32_t(i));
        } else {
            files.push_back(uint32_t(i));
            continue;
        }
        if (options.progress) {
            options.progress->add(1);
        }
    }
    const std::vector<Found> found = stat_all(g, files);
    for (size_t k = 0; k < files.size(); ++k) {
        PathState& p = g.paths[files[k]];
        if (found[k] == Found::regular) {
            regular.push_back(files[k]);
            regular_paths.push_back(p.path);
            continue; // counted when digested
        }
        if (found[k] == Found::missing) {
            p.disk = DiskState::missing;
        } else if (found[k] != Found::unknown && p.latest != 0) {
            // A file was recorded here and something else stands there now:
            // its content is not the recorded one, and never recorded.
            p.disk = DiskState::modified;
            p.on_disk = -1;
            p.disk_kind = found_kind_name(found[k]);
        }
        if (options.progress) {
            options.progress->add(1);
        }
    }
    if (!regular.empty()) {
        // In batches, so a progress line moves while a large tree is hashed.
        constexpr size_t k_digest_batch = 1000;
        collector::HashPool pool(collector::HashPool::default_threads());
        std::vector<std::string> batch;
        std::vector<size_t> readable;
        std::vector<std::string> blake3;
        for (size_t first = 0; first < regular.size(); first += k_digest_batch) {
            const size_t count = std::min(k_digest_batch, regular.size() - first);
            batch.assign(std::make_move_iterator(regular_paths.begin() + std::ptrdiff_t(first)),
                         std::make_move_iterator(regular_paths.begin() + std::ptrdiff_t(first + count)));
            const auto digests = store.digest_files(batch, pool);
            uint64_t bytes = 0;
            readable.clear();
            blake3.clear();
            for (size_t k = 0; k < count; ++k) {
                if (digests[k]) { // unreadable now: left unchecked
                    readable.push_back(first + k);
                    blake3.push_back(digests[k]->blake3);
                    bytes += digests[k]->identity.size;
                }
            }
            const auto artifacts = store.artifacts_by_blake3(blake3);
            for (size_t i = 0; i < readable.size(); ++i) {
                PathState& p = g.paths[regular[readable[i]]];
                p.disk_digest = std::move(blake3[i]);
                p.on_disk = artifacts[i].value_or(-1);
                p.disk = (p.latest == 0 || p.on_disk == p.latest) ? DiskState::present : DiskState::modified;
            }
            if (options.progress) {
                options.progress->add(count, bytes);
            }
        }
    }

    check_datasets(store, g, datasets);

    // Staleness of every execution, oldest first: an input whose content
    // now differs from what was read, or that came from a stale job. The
    // job an input came from is the path's latest writer when that wrote
    // the same content (a re-run that reproduced it), else the job that
    // wrote it before the read; the former can be later, hence the memo.
    std::vector<char> visit(g.executions.size(), 0); // 0: not yet, 1: under way (a cycle), 2: done
    // Per path, the last execution whose outputs were marked (an input the
    // execution also wrote is its own business): one pass over its outputs
    // instead of a search of them for every input.
    std::vector<int> written_by(g.paths.size(), -1);
    auto step_number_of = [&g](int exec) { return g.steps[size_t(g.executions[size_t(exec)].step)].number; };
    // Per path, the latest execution that wrote `now` (its current
    // content) there, -1 when none did; found once, on first asking.
    constexpr int k_unknown = -2;
    std::vector<int> rewriter(g.paths.size(), k_unknown);
    auto rewriter_of = [&](uint32_t path, int64_t now) {
        int& by = rewriter[path];
        if (by == k_unknown) {
            by = -1;
            const auto& history = g.paths[path].uses;
            for (auto it = history.rbegin(); it != history.rend(); ++it) {
                if (g.uses[*it].output && g.uses[*it].artifact == now) {
                    by = g.uses[*it].execution;
                    break;
                }
            }
        }
        return by;
    };
    auto evaluate = [&](auto& self, int x) -> bool {
        if (visit[size_t(x)] != 0) {
            return visit[size_t(x)] == 2 && g.executions[size_t(x)].stale;
        }
        visit[size_t(x)] = 1;
        Execution& e = g.executions[size_t(x)];
        std::vector<StaleReason> reasons;
        auto mark_outputs = [&] {
            for (uint32_t o : e.outputs) {
                written_by[g.uses[o].path] = x;
            }
        };
        mark_outputs();
        for (uint32_t u : e.inputs) {
            const Use& use = g.uses[u];
            const bool rewrote = written_by[use.path] == x;
            if (rewrote || use.artifact == 0) {
                continue;
            }
            const PathState& path = g.paths[use.path];
            const int64_t now = g.current_content(use.path);
            if (now != 0 && now != use.artifact) {
                StaleReason reason{StaleReason::Kind::changed, use.path, 0};
                if (const int by = rewriter_of(use.path, now); by > x) {
                    reason = {StaleReason::Kind::reproduced, use.path, step_number_of(by)};
                }
                if (reason.kind == StaleReason::Kind::changed && path.disk == DiskState::modified) {
                    reason.kind = StaleReason::Kind::modified;
                }
                reasons.push_back(reason);
                continue;
            }
            int from = use.producer;
            if (path.writer >= 0 && path.writer != x && path.latest == use.artifact) {
                from = path.writer;
            }
            if (from < 0 || from == x) {
                continue;
            }
            const bool first_visit = visit[size_t(from)] == 0;
            const bool upstream_stale = self(self, from);
            if (first_visit) {
                mark_outputs(); // evaluating `from` (and what it read from) marked their outputs
            }
            if (!upstream_stale) {
                continue;
            }
            const StaleReason reason{StaleReason::Kind::upstream, use.path, step_number_of(from)};
            if (std::none_of(reasons.begin(), reasons.end(), [&](const StaleReason& r) {
                    return r.kind == StaleReason::Kind::upstream && r.step == reason.step;
                })) {
                reasons.push_back(reason);
            }
        }
        e.stale = !reasons.empty();
        e.stale_reasons = std::move(reasons);
        visit[size_t(x)] = 2;
        return e.stale;
    };
    for (size_t x = 0; x < g.executions.size(); ++x) {
        evaluate(evaluate, int(x));
    }
    for (auto& p : g.paths) {
        p.stale = p.writer >= 0 && g.executions[size_t(p.writer)].stale;
    }

    // Steps: dependencies through their current executions' inputs, and
    // staleness from those executions.
    for (size_t si = 0; si < g.steps.size(); ++si) {
        Step& step = g.steps[si];
        for (int x : step.current_jobs) {
            const Execution& e = g.executions[size_t(x)];
            for (uint32_t u : e.inputs) {
                const Use& use = g.uses[u];
                if (use.producer >= 0) {
                    const int from = g.executions[size_t(use.producer)].step;
                    if (from != int(si)) {
                        add_unique(step.dependencies, from);
                        add_unique(g.steps[size_t(from)].dependents, int(si));
                        ++step.consumed;
                    }
                }
            }
            if (!e.stale || !e.current) {
                continue;
            }
            step.stale = true;
            for (const auto& r : e.stale_reasons) {
                const bool listed =
                    std::any_of(step.stale_reasons.begin(), step.stale_reasons.end(), [&](const auto& o) {
                        return o.kind == r.kind && o.step == r.step
                               && (r.kind == StaleReason::Kind::upstream || o.path == r.path);
                    });
                if (!listed) {
                    step.stale_reasons.push_back(r);
                }
            }
        }
    }
    for (auto& step : g.steps) {
        std::sort(step.dependencies.begin(), step.dependencies.end());
        std::sort(step.dependents.begin(), step.dependents.end());
    }
    return g;
}

size_t Lineage::stale_job_count() const
{
    return size_t(
        std::count_if(executions.begin(), executions.end(), [](const Execution& e) { return e.current && e.stale; }));
}

std::vector<int> Lineage::plan() const
{
    // Stale steps, ordered so that a step comes after every step whose
    // jobs wrote (or last wrote) what its current executions read; ties
    // (and cycles, which only odd histories have) by step number.
    std::vector<char> wanted(steps.size(), 0);
    for (size_t i = 0; i < steps.size(); ++i) {
        wanted[i] = steps[i].stale ? 1 : 0;
    }
    std::vector<std::vector<int>> after(steps.size());
    std::vector<int> waiting(steps.size(), 0);
    for (size_t t = 0; t < steps.size(); ++t) {
        if (!wanted[t]) {
            continue;
        }
        std::vector<int> sources;
        for (int x : steps[t].current_jobs) {
            for (uint32_t u : executions[size_t(x)].inputs) {
                for (int from : {uses[u].producer, paths[uses[u].path].writer}) {
                    if (from >= 0) {
                        const int s = executions[size_t(from)].step;
                        if (s != int(t) && wanted[size_t(s)]) {
                            add_unique(sources, s);
                        }
                    }
                }
            }
        }
        for (int s : sources) {
            after[size_t(s)].push_back(int(t));
            ++waiting[t];
        }
    }
    std::vector<int> order;
    std::vector<char> done(steps.size(), 0);
    for (;;) {
        int next = -1;
        for (size_t i = 0; i < steps.size() && next < 0; ++i) {
            if (wanted[i] && !done[i] && waiting[i] == 0) {
                next = int(i);
            }
        }
        if (next < 0) { // a cycle: take the lowest-numbered step left
            for (size_t i = 0; i < steps.size() && next < 0; ++i) {
                if (wanted[i] && !done[i]) {
                    next = int(i);
                }
            }
        }
        if (next < 0) {
            break;
        }
        done[size_t(next)] = 1;
        order.push_back(next);
        for (int t : after[size_t(next)]) {
            --waiting[size_t(t)];
        }
    }
    return order;
}

std::string Lineage::step_ref(int index) const
{
    const Step& step = steps[size_t(index)];
    return step.name.empty() ? fmt::format("@{}", step.number) : "@" + step.name;
}

std::optional<int> Lineage::step_named(std::string_view name) const
{
    for (size_t i = 0; i < steps.size(); ++i) {
        if (!steps[i].name.empty() && steps[i].name == name) {
            return int(i);
        }
    }
    return std::nullopt;
}

std::optional<std::string> disk_host(const collector::StoreLocation& where)
{
    // Each machine has its own disk: on a shared store a job of another
    // machine wrote or read its files there, and comparing them with this
    // disk would call them missing or modified. Jobs are told apart by the
    // name they record (ROAR_HOST, else the host name). A SQLite store is
    // one checkout's, on this disk, so all its jobs' files are checked
    // whatever name they were recorded under: a container's host name
    // changes from one start to the next, and a job row holds no more
    // stable machine id.
    if (!where.shared()) {
        return std::nullopt;
    }
    return collector::host_name();
}

NotCheckedHere not_checked_here(const Lineage& g)
{
    NotCheckedHere out;
    for (const auto& p : g.paths) {
        if (!p.host.empty()) {
            out.paths.push_back(&p);
            ++(p.path.ends_with('/') ? out.datasets : out.files);
            out.hosts.insert(p.host);
        }
    }
    return out;
}

bool valid_step_name(std::string_view name)
{
    auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    return !name.empty() && name.size() <= 64 && letter(name[0]) && std::all_of(name.begin(), name.end(), [&](char c) {
        return letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
    });
}

void ArtifactDigests::prefetch(std::vector<int64_t> ids)
{
    std::erase_if(ids, [this](int64_t id) { return id <= 0 || m_known.count(id); });
    if (ids.empty()) {
        return;
    }
    for (auto& [id, info] : m_store.artifact_digests(std::move(ids))) {
        m_known.emplace(id, std::move(info));
    }
}

const ArtifactDigests::Info& ArtifactDigests::get(int64_t artifact)
{
    auto it = m_known.find(artifact);
    if (it != m_known.end()) {
        return it->second;
    }
    auto found = m_store.artifact_digests({artifact});
    auto at = found.find(artifact);
    return m_known[artifact] = at == found.end() ? Info{} : std::move(at->second);
}

} // namespace roar::cli
