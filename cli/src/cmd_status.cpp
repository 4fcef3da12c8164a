// `roar status`: for the active session, whether each tracked file is
// still on disk as last recorded (present, modified, missing), and which
// steps are stale and why; with --remote, whether each S3 object is still
// in its bucket as recorded (remote_check.hpp). On a store shared by
// several machines, only this machine's jobs' files are compared with
// this disk; the others' are counted as not checked here.
#include "commands.hpp"

#include "dag_render.hpp"
#include "json_writer.hpp"
#include "lineage.hpp"
#include "list_summary.hpp"
#include "project.hpp"
#include "remote_check.hpp"
#include "text_style.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <unordered_map>

namespace roar::cli {

namespace {

// The step that last wrote `path`, or 0.
int64_t last_writer(const Lineage& g, const PathState& path)
{
    for (auto it = path.uses.rbegin(); it != path.uses.rend(); ++it) {
        if (g.uses[*it].output) {
            return g.steps[size_t(g.executions[size_t(g.uses[*it].execution)].step)].number;
        }
    }
    return 0;
}

// HEADs every S3 object among `files` (their latest recorded version, from
// `store`) with the user's credentials; results by path. An S3 dataset
// is not checked, with the reason.
std::unordered_map<const PathState*, RemoteResult> check_s3_objects(const std::vector<const PathState*>& files,
                                                                    collector::Store& store, const Project& project)
{
    std::vector<const PathState*> s3;
    std::vector<RemoteObject> objects;
    std::unordered_map<const PathState*, RemoteResult> by_path;
    for (const PathState* p : files) {
        if (p->disk != DiskState::remote) {
            continue;
        }
        if (p->path.ends_with('/')) {
            // An S3 dataset: HEADs cannot see a listing that changed.
            by_path.emplace(p, RemoteResult{RemoteState::not_checked,
                                            "an S3 dataset: HEAD requests cannot see a changed listing; its objects "
                                            "are checked one by one",
                                            {},
                                            std::nullopt});
            continue;
        }
        RemoteObject o{p->path, {}, std::nullopt};
        if (p->latest != 0) {
            if (auto a = store.artifact(p->latest)) {
                if (auto etag = a->hashes.find("etag"); etag != a->hashes.end()) {
                    o.etag = etag->second;
                }
                o.size = a->size;
            }
        }
        s3.push_back(p);
        objects.push_back(std::move(o));
    }
    if (objects.empty()) {
        return by_path;
    }
    const auto env = proxy::process_env();
    RemoteCheckOptions options{remote_endpoint(env, project.config().proxy_upstream), proxy::resolve_credentials(env)};
    auto results = check_remote(objects, options);
    for (size_t i = 0; i < s3.size(); ++i) {
        by_path.emplace(s3[i], std::move(results[i]));
    }
    return by_path;
}

// The "remote" object of one S3 file in `roar status --json`.
void write_remote(JsonWriter& w, const RemoteResult& r)
{
    w.key("remote").begin_object().key("etag");
    r.etag.empty() ? w.null() : w.value(r.etag);
    w.key("reason");
    r.reason.empty() ? w.null() : w.value(r.reason);
    w.key("size");
    r.size ? w.value(*r.size) : w.null();
    w.field("state", r.state == RemoteState::not_checked ? "not_checked" : remote_state_name(r.state)).end_object();
}

// The text line of an S3 object that is not present as recorded.
std::string remote_line(int fd, const std::string& uri, const RemoteResult& r)
{
    switch (r.state) {
    case RemoteState::modified:
        return fmt::format("  {}  {}  ({})\n", paint(fd, k_yellow, "modified"), printable(uri), printable(r.reason));
    case RemoteState::missing: return fmt::format("  {}  {}\n", paint(fd, k_red, "missing "), printable(uri));
    default:
        return fmt::format("  {}  {}  ({})\n", paint(fd, k_dim, "not checked"), printable(uri), printable(r.reason));
    }
}

// What differs in dataset `p` from what the job that last read it read:
// its files changed, added and removed (absolute paths, in byte order).
struct DatasetChanges {
    std::vector<std::string> changed, added, removed;
};

DatasetChanges dataset_changes(const Lineage& g, const PathState& p)
{
    DatasetChanges out;
    if (p.uses.empty()) {
        return out;
    }
    const Execution& reader = g.executions[size_t(g.uses[p.uses.back()].execution)];
    std::vector<std::string_view> recorded;
    for (uint32_t u : reader.inputs) {
        const Use& use = g.uses[u];
        const PathState& f = g.paths[use.path];
        if (f.path.ends_with('/') || !f.path.starts_with(p.path)) {
            continue;
        }
        recorded.push_back(f.path);
        if (f.disk == DiskState::missing) {
            out.removed.push_back(f.path);
        } else if ((f.disk == DiskState::present || f.disk == DiskState::modified) && f.on_disk != use.artifact) {
            out.changed.push_back(f.path);
        }
    }
    std::sort(recorded.begin(), recorded.end());
    for (const auto& now : p.dataset_files) {
        if (!std::binary_search(recorded.begin(), recorded.end(), std::string_view(now))) {
            out.added.push_back(now);
        }
    }
    std::sort(out.changed.begin(), out.changed.end());
    std::sort(out.removed.begin(), out.removed.end());
    return out;
}

// "changed: a, b, c and 4 more", the paths as shown; empty when none.
std::string changes_text(const Project& project, const char* what, const std::vector<std::string>& paths)
{
    constexpr size_t k_named = 3;
    if (paths.empty()) {
        return "";
    }
    std::string out = fmt::format("{} {}: ", paths.size(), what);
    for (size_t i = 0; i < paths.size() && i < k_named; ++i) {
        out += (i ? ", " : "") + project.shown_path(paths[i]);
    }
    if (paths.size() > k_named) {
        out += fmt::format(" and {} more", paths.size() - k_named);
    }
    return out;
}

} // namespace

int cmd_status(bool json, bool remote, bool all_hosts)
{
    Project project = Project::find();
    collector::Store store = project.open_store(collector::Access::read);
    const auto snapshot = store.snapshot();
    LineageOptions load_options;
    load_options.check_all_paths = true;
    load_options.local_host = disk_host(project.store_location());
    ArtifactDigests digests(store);
    const Lineage g = [&] {
        // On a terminal (stderr), a long check shows how far it got; the
        // line is erased before anything is printed, and --json never has it.
        collector::ProgressLine progress(!json && collector::stderr_shows_progress(), "roar: checking");
        load_options.progress = &progress;
        Lineage loaded = Lineage::load(store, load_options);
        std::vector<int64_t> recorded;
        recorded.reserve(loaded.paths.size());
        for (const auto& p : loaded.paths) {
            recorded.push_back(p.latest);
        }
        digests.prefetch(std::move(recorded));
        return loaded;
    }();

    // Every checked path; the JSON is streamed (a long history tracks
    // hundreds of thousands of paths), in the key order nlohmann would use.
    std::vector<const PathState*> files;
    std::map<std::string, int> counts{{"present", 0}, {"modified", 0}, {"missing", 0}, {"remote", 0}};
    std::map<std::string, int> dataset_counts{{"present", 0}, {"modified", 0}, {"missing", 0}, {"remote", 0}};
    for (const auto& p : g.paths) {
        if (p.disk == DiskState::unchecked) {
            continue; // paths stat cannot reach, unreadable files
        }
        // A dataset is counted apart: its files are tracked files already.
        ++(p.path.ends_with('/') ? dataset_counts : counts)[disk_state_name(p.disk)];
        files.push_back(&p);
    }
    const NotCheckedHere other_hosts = not_checked_here(g);
    const size_t checked_files = files.size();
    if (all_hosts) {
        files.insert(files.end(), other_hosts.paths.begin(), other_hosts.paths.end());
    }
    const auto remote_results =
        remote ? check_s3_objects(files, store, project) : std::unordered_map<const PathState*, RemoteResult>{};
    std::map<std::string, int> remote_counts{{"missing", 0}, {"modified", 0}, {"not_checked", 0}, {"present", 0}};
    for (const auto& [path, result] : remote_results) {
        if (path->path.ends_with('/')) {
            continue; // an S3 dataset: its objects are counted
        }
        ++remote_counts[result.state == RemoteState::not_checked ? "not_checked" : remote_state_name(result.state)];
    }
    nlohmann::json stale = nlohmann::json::array();
    std::vector<std::string> stale_refs;
    for (size_t i = 0; i < g.steps.size(); ++i) {
        const Step& s = g.steps[i];
        if (!s.stale) {
            continue;
        }
        // Once the session spans machines, each line names where the step
        // ran (as `roar dag` does): its plan entry is to be run there.
        stale_refs.push_back(g.several_hosts ? fmt::format("{} [{}]", g.step_ref(int(i)),
                                                           printable(g.executions[size_t(s.current())].host))
                                             : g.step_ref(int(i)));
        nlohmann::json reasons = nlohmann::json::array();
        for (const auto& r : s.stale_reasons) {
            reasons.push_back(describe_reason(g, r, project));
        }
        stale.push_back({{"step", s.number}, {"command", s.command}, {"reasons", reasons}});
        if (g.several_hosts) { // the text's "[host]"; absent on a one-machine session, as before
            stale.back()["host"] = g.executions[size_t(s.current())].host;
        }
    }
    // What to run, in order, for nothing to be stale.
    std::vector<std::string> plan;
    for (int s : g.plan()) {
        plan.push_back("roar run " + g.step_ref(s));
    }
    if (json) {
        JsonWriter w(std::cout);
        w.begin_object().key("counts").begin_object();
        for (const auto& [state, n] : counts) {
            w.field(state, n);
        }
        w.end_object().key("dataset_counts").begin_object();
        for (const auto& [state, n] : dataset_counts) {
            w.field(state, n);
        }
        w.end_object().key("files").begin_array();
        for (const PathState* p : files) {
            const int64_t writer = last_writer(g, *p);
            w.begin_object();
            if (p->path.ends_with('/') && p->disk != DiskState::remote) {
                // A dataset: which of its files differ ("added" and
                // "removed" against the listing the job read). An S3
                // dataset is not listed again.
                const DatasetChanges changes = dataset_changes(g, *p);
                w.key("dataset").begin_object();
                for (const auto& [name, list] :
                     {std::pair{"added", &changes.added}, std::pair{"changed", &changes.changed},
                      std::pair{"removed", &changes.removed}}) {
                    w.key(name).begin_array();
                    for (const auto& path : *list) {
                        w.value(path);
                    }
                    w.end_array();
                }
                w.field("files", uint64_t(p->dataset_files.size())).end_object();
            }
            w.key("disk_digest");
            p->disk_digest.empty() ? w.null() : w.value(p->disk_digest);
            if (!p->disk_kind.empty()) {
                w.field("disk_kind", p->disk_kind);
            }
            if (!p->host.empty()) {
                w.field("host", p->host);
            }
            w.field("path", p->path)
                .field("is_stale", p->stale)
                .field("recorded_digest", digests.get(p->latest).digest);
            if (auto r = remote_results.find(p); r != remote_results.end()) {
                write_remote(w, r->second);
            }
            w.field("state", p->host.empty() ? disk_state_name(p->disk) : "unknown").key("written_by_step");
            writer ? w.value(writer) : w.null();
            w.end_object();
        }
        w.end_array().field("jobs", uint64_t(g.executions.size()));
        write_not_checked_here(w, other_hosts);
        w.key("plan").begin_array();
        for (const auto& line : plan) {
            w.value(line);
        }
        w.end_array();
        if (remote) {
            w.key("remote_counts").begin_object();
            for (const auto& [state, n] : remote_counts) {
                w.field(state, n);
            }
            w.end_object();
        }
        w.field("session_id", g.session_id).key("stale_artifacts").begin_array();
        for (size_t i = 0; i < checked_files; ++i) {
            if (const PathState* p = files[i]; p->stale) {
                w.value(p->path);
            }
        }
        w.end_array().key("stale_jobs").begin_array();
        for (const auto& e : g.executions) {
            if (!e.current || !e.stale) {
                continue;
            }
            w.begin_object().field("command", e.command).field("job_uid", e.job_id).key("reasons").begin_array();
            for (const auto& r : e.stale_reasons) {
                w.value(describe_reason(g, r, project));
            }
            w.end_array().field("step", g.steps[size_t(e.step)].number).end_object();
        }
        w.end_array().key("stale_steps").begin_array();
        for (const auto& st : stale) {
            w.begin_object().field("command", st["command"].get<std::string>());
            if (st.contains("host")) {
                w.field("host", st["host"].get<std::string>());
            }
            w.key("reasons").begin_array();
            for (const auto& r : st["reasons"]) {
                w.value(r.get<std::string>());
            }
            w.end_array().field("step", st["step"].get<int64_t>()).end_object();
        }
        w.end_array().field("steps", uint64_t(g.steps.size())).end_object();
        w.flush();
        std::cout << std::endl;
        return 0;
    }

    const int fd = 1;
    std::string out;
    if (g.session_id == 0 || g.steps.empty()) {
        std::cout << "No jobs in this session yet (run one with 'roar run CMD ...').\n";
        return 0;
    }
    out += fmt::format("{} {}: {} step{}, {} job{}\n", paint(fd, k_bold, "Session"), g.session_id, g.steps.size(),
                       g.steps.size() == 1 ? "" : "s", g.executions.size(), g.executions.size() == 1 ? "" : "s");
    std::string s3_summary;
    if (remote && counts["remote"]) {
        s3_summary =
            fmt::format("; S3 objects: {} present, {} modified, {} missing, {} not checked", remote_counts["present"],
                        remote_counts["modified"], remote_counts["missing"], remote_counts["not_checked"]);
    } else if (counts["remote"]) {
        s3_summary = fmt::format(", {} remote (not checked)", counts["remote"]);
    }
    out += fmt::format("{} {} present, {} modified, {} missing{}\n", paint(fd, k_bold, "Tracked files:"),
                       counts["present"], counts["modified"], counts["missing"], s3_summary);
    if (dataset_counts["present"] + dataset_counts["modified"] + dataset_counts["missing"] + dataset_counts["remote"]
        > 0) {
        out += fmt::format("{} {} present, {} modified, {} missing{}\n", paint(fd, k_bold, "Datasets:"),
                           dataset_counts["present"], dataset_counts["modified"], dataset_counts["missing"],
                           dataset_counts["remote"] ? fmt::format(", {} remote (not checked)", dataset_counts["remote"])
                                                    : std::string());
    }
    if (!other_hosts.paths.empty()) {
        out += not_checked_here_line(fd, other_hosts, "status");
    }
    // A long list of changed files is cut: --json has every one.
    constexpr int k_listed = 20;
    constexpr size_t k_reasons_listed = 5;
    int listed = 0;
    for (const PathState* f : files) {
        const auto r = remote_results.find(f);
        if (r != remote_results.end() && r->second.state != RemoteState::present) {
            if (++listed <= k_listed) {
                out += remote_line(fd, f->path, r->second);
            }
            continue;
        }
        if (f->host.empty() && f->disk != DiskState::modified && f->disk != DiskState::missing) {
            continue;
        }
        if (++listed > k_listed) {
            continue;
        }
        if (!f->host.empty()) { // --all-hosts
            out += fmt::format("  {}  {}  (recorded on {})\n", paint(fd, k_dim, "unknown "),
                               project.shown_path(f->path), printable(f->host));
            continue;
        }
        const std::string path = project.shown_path(f->path);
        const int64_t writer = last_writer(g, *f);
        if (f->disk == DiskState::modified && f->path.ends_with('/')) {
            const DatasetChanges changes = dataset_changes(g, *f);
            std::vector<std::string> parts;
            for (const auto& part :
                 {changes_text(project, "changed", changes.changed), changes_text(project, "added", changes.added),
                  changes_text(project, "removed", changes.removed)}) {
                if (!part.empty()) {
                    parts.push_back(part);
                }
            }
            out += fmt::format("  {}  {}  (dataset, {} files now; {})\n", paint(fd, k_yellow, "modified"), path,
                               human_count(f->dataset_files.size()), fmt::join(parts, "; "));
        } else if (f->disk == DiskState::modified && !f->disk_kind.empty()) {
            out += fmt::format("  {}  {}  (recorded {}, now a {})\n", paint(fd, k_yellow, "modified"), path,
                               digests.get(f->latest).digest.substr(0, 12), f->disk_kind);
        } else if (f->disk == DiskState::modified) {
            out += fmt::format("  {}  {}  (recorded {}, now {})\n", paint(fd, k_yellow, "modified"), path,
                               digests.get(f->latest).digest.substr(0, 12), f->disk_digest.substr(0, 12));
        } else if (writer) {
            out +=
                fmt::format("  {}  {}  ('roar run @{}' re-creates it)\n", paint(fd, k_red, "missing "), path, writer);
        } else {
            out += fmt::format("  {}  {}\n", paint(fd, k_red, "missing "), path);
        }
    }
    if (listed > k_listed) {
        out += fmt::format("  ... and {} more ('roar status --json' lists every file)\n", listed - k_listed);
    }
    if (stale.empty()) {
        out += fmt::format("{} none: every step ran on the current versions of its inputs\n",
                           paint(fd, k_bold, "Stale steps:"));
    } else {
        out += fmt::format("{} {}\n", paint(fd, k_bold, "Stale steps:"), stale.size());
        for (size_t k = 0; k < stale.size(); ++k) {
            const auto& s = stale[k];
            out += fmt::format("  {} {}\n", paint(fd, k_yellow, stale_refs[k]),
                               display_command(s["command"].get<std::string>()));
            const auto& reasons = s["reasons"];
            for (size_t i = 0; i < reasons.size() && i < k_reasons_listed; ++i) {
                out += fmt::format("      {}\n", paint(fd, k_dim, printable(reasons[i].get<std::string>())));
            }
            if (reasons.size() > k_reasons_listed) {
                out += fmt::format(
                    "      {}\n",
                    paint(fd, k_dim, fmt::format("... and {} more reasons", reasons.size() - k_reasons_listed)));
            }
        }
        out += fmt::format("To bring them up to date, in order: {}\n", fmt::join(plan, "; "));
    }
    std::cout << out;
    return 0;
}

} // namespace roar::cli
