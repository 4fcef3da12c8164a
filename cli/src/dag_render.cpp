// The `roar dag` model and its JSON, text, dot and Mermaid renderings (see
// dag_render.hpp; the HTML page is in dag_html.cpp).
//
// Everything here is linear in what is in view (plus small sorts):
// artifacts are grouped path by path, sorting each path's few (content,
// direction, node) records instead of keeping a map of per-artifact
// objects, digests are fetched in batches for the artifacts actually
// shown, and the JSON goes out as it is produced.
#include "dag_render.hpp"

#include "job_queries.hpp"
#include "json_writer.hpp"
#include "text_style.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <sstream>

namespace roar::cli {

namespace {

// Text trees deeper than this continue as a new tree at the left margin,
// so a long chain of steps stays readable on a terminal.
constexpr int k_max_depth = 16;
// Names listed on the "Inputs from outside the pipeline" line.
constexpr size_t k_max_sources = 12;
// Reasons listed under a stale step with --stale-only.
constexpr size_t k_max_reasons = 5;

// Terminal columns taken by UTF-8 `text` (box-drawing characters are one
// column but three bytes).
size_t display_width(const std::string& text)
{
    return size_t(std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

const char* status_of(const Execution& e) { return e.exit_code == 0 ? "ok" : (e.killed ? "killed" : "failed"); }

// An execution's state; a step's (its current executions') when not expanded.
NodeState state_of(const Lineage& g, const Execution& e, bool expanded)
{
    if (!e.current) {
        return NodeState::superseded;
    }
    return (expanded ? e.stale : g.steps[size_t(e.step)].stale) ? NodeState::stale : NodeState::active;
}

int64_t step_number(const Lineage& g, int execution)
{
    return g.steps[size_t(g.executions[size_t(execution)].step)].number;
}

std::string node_id(const Lineage& g, int execution, bool expanded)
{
    return expanded ? g.executions[size_t(execution)].job_id : fmt::format("@{}", step_number(g, execution));
}

// On a shared store one path can be several machines' files (PathState::host):
// another machine's keeps its name in its id and its label, so the two
// stay apart; this machine's read as on a one-machine store.
std::string artifact_id(const Lineage& g, const DagArtifact& a)
{
    const PathState& p = g.paths[a.path];
    return p.host.empty() ? fmt::format("a{}:{}", a.artifact, p.path)
                          : fmt::format("a{}:[{}]{}", a.artifact, p.host, p.path);
}

// `path_index`'s path as shown, "[HOST] " first for another machine's.
std::string shown_entry(const Lineage& g, const Project& project, uint32_t path_index)
{
    const PathState& p = g.paths[path_index];
    return p.host.empty() ? project.shown_path(p.path)
                          : fmt::format("[{}] {}", printable(p.host), project.shown_path(p.path));
}

// What the text tree says of an output's file: nothing when it is as
// recorded or superseded, missing or modified on this disk, or, for
// another machine's file, that this disk was not asked.
std::string on_disk_note(const Lineage& g, const DagArtifact& a)
{
    const PathState& p = g.paths[a.path];
    if (!p.host.empty()) {
        return fmt::format(" (not checked here, recorded on {})", printable(p.host));
    }
    const std::string_view disk = a.on_disk;
    return std::string_view(a.state) != "superseded" && (disk == "missing" || disk == "modified")
               ? fmt::format(" ({} on disk)", disk)
               : "";
}

// The digests the artifacts in view need: their own and what superseded them.
void prefetch(ArtifactDigests& digests, const Dag& dag)
{
    std::vector<int64_t> wanted;
    wanted.reserve(dag.artifacts.size());
    for (const auto& a : dag.artifacts) {
        wanted.push_back(a.artifact);
        if (a.now > 0 && a.now != a.artifact) {
            wanted.push_back(a.now);
        }
    }
    digests.prefetch(std::move(wanted));
}

// {"id": ..., "step": N, "job_id": ...} naming execution `e` as a node.
void write_node_ref(JsonWriter& w, const Lineage& g, int e, bool expanded)
{
    w.begin_object()
        .field("id", node_id(g, e, expanded))
        .field("job_id", g.executions[size_t(e)].job_id)
        .field("step", step_number(g, e))
        .end_object();
}

} // namespace

Dag build_dag(const Lineage& g, const DagOptions& options)
{
    Dag dag;
    dag.options = options;

    // The executions in view: every one when expanded, else one node per
    // step for its current executions (standing as the latest of them); by
    // step number, a step's executions oldest first.
    std::vector<int> node_of(g.executions.size(), -1);
    for (const Step& step : g.steps) {
        for (int i : step.executions) {
            const Execution& e = g.executions[size_t(i)];
            const NodeState state = state_of(g, e, options.expanded);
            if (!options.expanded && i != step.current()) {
                continue;
            }
            if (!options.stale_only || state == NodeState::stale) {
                node_of[size_t(i)] = int(dag.nodes.size());
                DagNode node{i, state, {}, 0, {i}};
                if (!options.expanded) {
                    node.members = step.current_jobs;
                }
                dag.nodes.push_back(std::move(node));
            }
        }
    }
    if (!options.expanded) {
        for (const DagNode& n : dag.nodes) {
            for (int m : n.members) {
                node_of[size_t(m)] = node_of[size_t(n.execution)];
            }
        }
    }
    // The node standing for execution `e`: itself when expanded, else its step.
    auto node_for = [&](int e) {
        return options.expanded ? node_of[size_t(e)]
                                : node_of[size_t(g.steps[size_t(g.executions[size_t(e)].step)].current())];
    };

    // Dependencies: the steps whose outputs each execution read.
    for (DagNode& n : dag.nodes) {
        for (int m : n.members) {
            const Execution& e = g.executions[size_t(m)];
            for (uint32_t u : e.inputs) {
                const Use& use = g.uses[u];
                if (use.producer >= 0 && g.executions[size_t(use.producer)].step != e.step) {
                    n.dependencies.push_back(step_number(g, use.producer));
                    ++n.consumed;
                }
            }
        }
        std::sort(n.dependencies.begin(), n.dependencies.end());
        n.dependencies.erase(std::unique(n.dependencies.begin(), n.dependencies.end()), n.dependencies.end());
    }

    // Every (path, content) a node in view wrote or read, grouped: a
    // path's uses are already listed with it, so only each path's few
    // records are sorted, not every use of the session at once.
    struct Record {
        uint32_t path;
        int64_t artifact;
        bool input;
        int node;
        uint32_t use;
        bool operator<(const Record& o) const
        {
            return std::tie(artifact, input, node, use) < std::tie(o.artifact, o.input, o.node, o.use);
        }
    };
    std::vector<Record> records;
    struct EdgePath {
        int from, to;
        uint32_t path;
        bool operator<(const EdgePath& o) const { return std::tie(from, to) < std::tie(o.from, o.to); }
    };
    std::vector<EdgePath> edge_paths;
    // Datasets in the session (few): their files that no job in view
    // produced are listed as the one dataset entry, not each (edges keep
    // them).
    std::vector<std::string_view> datasets;
    for (const auto& p : g.paths) {
        if (p.path.ends_with('/') && p.path.rfind("s3://", 0) != 0) {
            datasets.push_back(p.path);
        }
    }
    auto in_dataset = [&datasets](std::string_view path) {
        return std::any_of(datasets.begin(), datasets.end(),
                           [&](std::string_view d) { return path.size() > d.size() && path.starts_with(d); });
    };
    std::vector<int> consumers;
    for (uint32_t p = 0; p < g.paths.size(); ++p) {
        records.clear();
        for (uint32_t u : g.paths[p].uses) {
            const Use& use = g.uses[u];
            if (const int ni = node_of[size_t(use.execution)]; ni >= 0) {
                records.push_back({p, use.artifact, !use.output, ni, u});
            }
        }
        std::sort(records.begin(), records.end());
        for (size_t begin = 0; begin < records.size();) {
            size_t end = begin;
            while (end < records.size() && records[end].path == records[begin].path
                   && records[end].artifact == records[begin].artifact) {
                ++end;
            }
            // The producer: the last execution in view that wrote it, else
            // whoever wrote what the first reader read (possibly out of view).
            int producer = -1;
            consumers.clear();
            for (size_t r = begin; r < end; ++r) {
                const int exec = g.uses[records[r].use].execution;
                if (!records[r].input) {
                    producer = exec;
                } else {
                    consumers.push_back(exec);
                    if (producer < 0) {
                        producer = g.uses[records[r].use].producer;
                    }
                }
            }
            const uint32_t path_index = records[begin].path;
            const int64_t artifact = records[begin].artifact;
            begin = end;

            const PathState& path = g.paths[path_index];
            const bool produced_in_view = producer >= 0 && node_of[size_t(producer)] >= 0;
            const int producer_node = producer >= 0 ? node_for(producer) : -1;
            if (producer_node >= 0) {
                for (int c : consumers) {
                    if (g.executions[size_t(c)].step != g.executions[size_t(producer)].step) {
                        edge_paths.push_back({producer_node, node_of[size_t(c)], path_index});
                    }
                }
            }
            DagArtifact a;
            a.path = path_index;
            a.artifact = artifact;
            a.producer = producer;
            a.producer_node = producer_node;
            const int64_t now = g.current_content(path_index);
            if (producer >= 0 && !g.executions[size_t(producer)].current) {
                a.state = "superseded";
            }
            if (now != 0 && now != artifact) {
                a.state = "superseded";
                a.now = now;
            }
            if (std::string_view(a.state) == "active" && producer >= 0 && g.executions[size_t(producer)].stale) {
                a.state = "stale";
            }
            if (options.stale_only && std::string_view(a.state) != "stale") {
                continue;
            }
            a.terminal = consumers.empty();
            if (!options.show_artifacts && !(a.terminal && produced_in_view)) {
                continue;
            }
            if (!produced_in_view && !datasets.empty() && in_dataset(path.path)) {
                continue;
            }
            a.consumers = consumers;
            a.on_disk = disk_state_name(path.disk);
            if (path.disk == DiskState::present || path.disk == DiskState::modified) {
                a.on_disk = path.on_disk == artifact ? "present" : "modified";
            }
            dag.stale_artifacts += std::string_view(a.state) == "stale";
            dag.superseded_artifacts += std::string_view(a.state) == "superseded";
            dag.artifacts.push_back(std::move(a));
        }
    }

    std::stable_sort(edge_paths.begin(), edge_paths.end());
    for (const auto& ep : edge_paths) {
        if (dag.edges.empty() || dag.edges.back().from != ep.from || dag.edges.back().to != ep.to) {
            dag.edges.push_back(DagEdge{ep.from, ep.to, {}});
        }
        dag.edges.back().paths.push_back(ep.path);
    }
    return dag;
}

std::string not_checked_here_line(int fd, const NotCheckedHere& elsewhere, const char* command)
{
    std::string what = fmt::format("{} file{}", elsewhere.files, elsewhere.files == 1 ? "" : "s");
    if (elsewhere.datasets > 0) {
        what += fmt::format(" and {} dataset{}", elsewhere.datasets, elsewhere.datasets == 1 ? "" : "s");
    }
    return fmt::format("{} {} recorded by jobs on {} ({}); run 'roar {}' there\n",
                       paint(fd, k_bold, "Not checked here:"), what,
                       elsewhere.hosts.size() == 1 ? "another host" : "other hosts",
                       printable(fmt::to_string(fmt::join(elsewhere.hosts, ", "))), command);
}

void write_not_checked_here(JsonWriter& w, const NotCheckedHere& elsewhere)
{
    if (elsewhere.empty()) {
        return;
    }
    w.key("not_checked_here")
        .begin_object()
        .field("datasets", elsewhere.datasets)
        .field("files", elsewhere.files)
        .key("hosts")
        .begin_array();
    for (const auto& host : elsewhere.hosts) {
        w.value(host);
    }
    w.end_array().end_object();
}

std::string describe_reason(const Lineage& g, const StaleReason& reason, const Project& project)
{
    const std::string path =
        reason.kind == StaleReason::Kind::upstream ? "" : project.display_path(g.paths[reason.path].path);
    switch (reason.kind) {
    case StaleReason::Kind::reproduced:
        return fmt::format("{} was re-produced by @{} with different content", path, reason.step);
    case StaleReason::Kind::modified: return fmt::format("{} changed on disk since it was read", path);
    case StaleReason::Kind::changed: return fmt::format("{} changed since it was read", path);
    case StaleReason::Kind::upstream: return fmt::format("upstream step @{} is stale", reason.step);
    }
    return "";
}

void write_dag_json(std::ostream& out, const Dag& dag, const Lineage& g, ArtifactDigests& digests,
                    const Project& project, int indent, bool escape_lt)
{
    prefetch(digests, dag);
    const bool expanded = dag.options.expanded;
    JsonWriter w(out, indent, escape_lt);
    w.begin_object()
        .field("session_id", g.session_id)
        .field("project", project.root().string())
        .field("is_expanded", expanded)
        .field("show_artifacts", dag.options.show_artifacts)
        .field("total_steps", uint64_t(g.steps.size()))
        .field("stale_count", uint64_t(g.stale_count()))
        .field("stale_artifact_count", uint64_t(dag.stale_artifacts))
        .field("superseded_artifact_count", uint64_t(dag.superseded_artifacts));
    if (dag.artifacts_omitted > 0) {
        w.field("artifacts_omitted", uint64_t(dag.artifacts_omitted));
    }
    write_not_checked_here(w, not_checked_here(g));

    w.key("nodes").begin_array();
    for (const DagNode& n : dag.nodes) {
        const Execution& e = g.executions[size_t(n.execution)];
        const Step& step = g.steps[size_t(e.step)];
        w.begin_object()
            .field("id", node_id(g, n.execution, expanded))
            .field("step", step.number)
            .field("step_number", step.number)
            .key("step_name");
        step.name.empty() ? w.null() : w.value(step.name);
        w.field("job_id", e.job_id);
        w.key("job_ids").begin_array();
        if (expanded) {
            w.value(e.job_id);
        } else {
            for (int x : step.executions) {
                w.value(g.executions[size_t(x)].job_id);
            }
        }
        w.end_array()
            .field("executions", uint64_t(step.executions.size()))
            .field("command", e.command)
            .field("cwd", e.cwd)
            .field("host", e.host)
            .field("state", state_name(n.state))
            .field("is_stale", n.state == NodeState::stale)
            .field("exit_code", e.exit_code)
            .field("status", status_of(e))
            .field("started_at", iso_time(e.started_at))
            .field("ended_at", iso_time(e.ended_at))
            .field("duration_s", std::round((e.ended_at - e.started_at) * 1000.0) / 1000.0);
        w.key("dependencies").begin_array();
        for (int64_t d : n.dependencies) {
            w.value(d);
        }
        w.end_array().key("dependents").begin_array();
        if (e.current) {
            for (int d : step.dependents) {
                w.value(g.steps[size_t(d)].number);
            }
        }
        w.end_array()
            .key("metrics")
            .begin_object()
            .field("inputs", uint64_t(e.inputs.size()))
            .field("outputs", uint64_t(e.outputs.size()))
            .field("consumed", n.consumed)
            .end_object();
        w.key("stale_reasons").begin_array();
        if (e.current) {
            for (const auto& r : expanded ? e.stale_reasons : step.stale_reasons) {
                w.value(describe_reason(g, r, project));
            }
        }
        w.end_array();
        // Each job the node stands for: a step's executions, or the one execution.
        w.key("jobs").begin_array();
        for (int x : expanded ? std::vector<int>{n.execution} : step.executions) {
            const Execution& j = g.executions[size_t(x)];
            w.begin_object()
                .field("job_uid", j.job_id)
                .field("command", j.command)
                .field("is_current", j.current)
                .field("is_stale", j.current && j.stale)
                .field("exit_code", j.exit_code)
                .end_object();
        }
        w.end_array().end_object();
    }
    w.end_array();

    w.key("edges").begin_array();
    for (const DagEdge& edge : dag.edges) {
        w.begin_object()
            .field("from", node_id(g, dag.nodes[size_t(edge.from)].execution, expanded))
            .field("to", node_id(g, dag.nodes[size_t(edge.to)].execution, expanded))
            .key("paths")
            .begin_array();
        for (uint32_t p : edge.paths) {
            w.value(project.display_path(g.paths[p].path));
        }
        w.end_array().end_object();
    }
    w.end_array();

    w.key("artifacts").begin_array();
    std::vector<int64_t> steps;
    for (const DagArtifact& a : dag.artifacts) {
        const PathState& path = g.paths[a.path];
        const auto& info = digests.get(a.artifact);
        w.begin_object()
            .field("id", artifact_id(g, a))
            .field("artifact_id", a.artifact)
            .field("path", path.path)
            .field("display_path", project.display_path(path.path));
        if (!path.host.empty()) { // another machine's file at this path (a shared store)
            w.field("host", path.host);
        }
        w.field("digest", info.digest)
            .field("hash", info.digest)
            .field("algorithm", info.algorithm)
            .field("size", info.size);
        w.key("job_uid");
        a.producer >= 0 ? w.value(g.executions[size_t(a.producer)].job_id) : w.null();
        w.field("is_stale", std::string_view(a.state) == "stale");
        w.key("producer");
        if (a.producer >= 0) {
            write_node_ref(w, g, a.producer, expanded);
            w.field("producer_step", step_number(g, a.producer));
        } else {
            w.null().key("producer_step").null();
        }
        w.key("consumers").begin_array();
        steps.clear();
        for (int c : a.consumers) {
            write_node_ref(w, g, c, expanded);
            steps.push_back(step_number(g, c));
        }
        std::sort(steps.begin(), steps.end());
        steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
        w.end_array().key("consumer_steps").begin_array();
        for (int64_t s : steps) {
            w.value(s);
        }
        w.end_array().field("is_terminal", a.terminal).field("state", a.state).key("superseded_by");
        if (a.now > 0) {
            w.value(digests.get(a.now).digest);
        } else if (a.now < 0 && !path.disk_digest.empty()) {
            w.value(path.disk_digest);
        } else {
            w.null();
        }
        w.field("on_disk", a.on_disk).end_object();
    }
    w.end_array().end_object();
    if (indent > 0) {
        w.flush();
        out << '\n';
    }
}

std::string render_dag_text(const Dag& dag, const Lineage& g, ArtifactDigests& digests, const Project& project, int fd)
{
    const DagOptions& options = dag.options;
    std::string out;
    const size_t total = g.steps.size();
    const size_t stale = g.stale_count();
    out += paint(fd, k_bold, fmt::format("Pipeline: {} step{}", total, total == 1 ? "" : "s"));
    out += stale ? paint(fd, k_yellow, fmt::format(" ({} stale)", stale)) : "";
    out += "\n";
    if (total == 0) {
        out += "No steps in this session yet (run one with 'roar run CMD ...').\n";
        return out;
    }
    if (dag.nodes.empty()) {
        out += options.stale_only ? "Nothing is stale.\n" : "";
        return out;
    }
    if (options.show_artifacts) {
        prefetch(digests, dag);
    }

    // One line per step, placed under its latest dependency in view; its
    // nodes (executions, when expanded) are consecutive, the current one last.
    struct StepView {
        int64_t number = 0;
        size_t first = 0, last = 0; // node range
        int parent = -1;
        std::vector<int> children;
        std::vector<const DagArtifact*> outputs;
    };
    std::vector<StepView> views;
    for (size_t i = 0; i < dag.nodes.size(); ++i) {
        const int64_t number = step_number(g, dag.nodes[i].execution);
        if (views.empty() || views.back().number != number) {
            views.push_back(StepView{number, i, i, -1, {}, {}});
        }
        views.back().last = i;
    }
    auto view_of = [&views](int64_t number) {
        auto it = std::lower_bound(views.begin(), views.end(), number,
                                   [](const StepView& v, int64_t n) { return v.number < n; });
        return it != views.end() && it->number == number ? int(it - views.begin()) : -1;
    };
    for (size_t v = 0; v < views.size(); ++v) {
        const auto& deps = dag.nodes[views[v].last].dependencies;
        for (auto d = deps.rbegin(); d != deps.rend(); ++d) {
            const int p = *d != views[v].number ? view_of(*d) : -1;
            if (p >= 0) {
                views[v].parent = p;
                views[size_t(p)].children.push_back(int(v));
                break;
            }
        }
    }
    std::vector<const DagArtifact*> sources;
    for (const auto& a : dag.artifacts) {
        if (a.producer < 0) {
            sources.push_back(&a);
        } else if (const int v = view_of(step_number(g, a.producer)); v >= 0) {
            views[size_t(v)].outputs.push_back(&a);
        }
    }

    struct Line {
        std::string left, right, detail;
    };
    std::vector<Line> lines;
    std::vector<char> printed(views.size(), 0);
    std::deque<int> continued; // subtrees cut at k_max_depth, drawn afterwards
    const size_t command_width = 60;
    auto emit = [&](auto&& self, int v, const std::string& prefix, const std::string& connector,
                    const std::string& child_prefix, int depth) -> void {
        if (printed[size_t(v)]) {
            return;
        }
        printed[size_t(v)] = 1;
        const StepView& view = views[size_t(v)];
        const DagNode& n = dag.nodes[view.last];
        const Execution& e = g.executions[size_t(n.execution)];
        const Step& step = g.steps[size_t(e.step)];
        std::string left =
            prefix + connector
            + fmt::format("{} {}{}", g.step_ref(e.step), g.several_hosts ? "[" + printable(e.host) + "] " : "",
                          elide_middle(display_command(e.command), command_width));
        std::string right = fmt::format("in:{} out:{}", e.inputs.size(), e.outputs.size());
        if (n.consumed > 0) {
            right += fmt::format(" consumed:{}", n.consumed);
        }
        if (step.executions.size() > 1 && !options.expanded) {
            right += fmt::format(" ×{}", step.executions.size());
        }
        if (step.current_jobs.size() > 1 && !options.expanded) {
            right += fmt::format(" ({} current)", step.current_jobs.size());
        }
        std::vector<std::string> also;
        const int64_t parent = view.parent >= 0 ? views[size_t(view.parent)].number : 0;
        for (int64_t d : n.dependencies) {
            if (view.parent >= 0 && d != parent) {
                also.push_back(fmt::format("@{}", d));
            }
        }
        if (!also.empty()) {
            right += fmt::format(" (also needs {})", fmt::join(also, ", "));
        }
        if (depth == 0 && view.parent >= 0) {
            right += fmt::format(" (under @{})", parent);
        }
        if (e.exit_code != 0) {
            right += ' ';
            right += paint(fd, k_red, "!");
        }
        if (n.state == NodeState::stale) {
            right += ' ';
            right += paint(fd, k_yellow, "*");
        }
        lines.push_back({left, right, ""});
        const std::string inner = child_prefix + (view.children.empty() ? "    " : "│   ");
        if (options.expanded) {
            for (size_t x = view.first; x <= view.last; ++x) {
                const Execution& ex = g.executions[size_t(dag.nodes[x].execution)];
                std::string started = iso_time(ex.started_at).substr(0, 19);
                started[10] = ' ';
                const std::string es = state_name(dag.nodes[x].state);
                lines.push_back({"", "",
                                 inner
                                     + fmt::format("  {}  {}  exit {:<3}  {}", ex.job_id, started, ex.exit_code,
                                                   es == "superseded" ? paint(fd, k_dim, es) : es)});
            }
        }
        if (options.show_artifacts) {
            for (const DagArtifact* a : view.outputs) {
                const auto& info = digests.get(a->artifact);
                const std::string st = a->state;
                const std::string disk = a->on_disk;
                lines.push_back({"", "",
                                 inner
                                     + fmt::format("  → {}  {}  {}{}{}", project.shown_path(g.paths[a->path].path),
                                                   human_size(info.size ? std::optional<uint64_t>(uint64_t(*info.size))
                                                                        : std::nullopt),
                                                   paint(fd, k_dim, short_digest(info.algorithm, info.digest)),
                                                   st == "active" ? "" : " [" + st + "]", on_disk_note(g, *a))});
            }
        }
        if (options.stale_only && e.current) {
            const auto& reasons = step.stale_reasons;
            for (size_t i = 0; i < reasons.size() && i < k_max_reasons; ++i) {
                lines.push_back(
                    {"", "", inner + "  " + paint(fd, k_dim, printable(describe_reason(g, reasons[i], project)))});
            }
            if (reasons.size() > k_max_reasons) {
                lines.push_back(
                    {"", "",
                     inner + "  "
                         + paint(fd, k_dim,
                                 fmt::format("... and {} more reasons (see --json)", reasons.size() - k_max_reasons))});
            }
        }
        const auto& kids = view.children;
        if (depth + 1 > k_max_depth) {
            continued.insert(continued.end(), kids.begin(), kids.end());
            return;
        }
        for (size_t k = 0; k < kids.size(); ++k) {
            const bool last = k + 1 == kids.size();
            self(self, kids[k], child_prefix, last ? "└──>" : "├──>", child_prefix + (last ? "    " : "│   "),
                 depth + 1);
        }
    };
    if (options.show_artifacts && !sources.empty()) {
        std::vector<std::string> names;
        for (size_t i = 0; i < sources.size() && i < k_max_sources; ++i) {
            names.push_back(shown_entry(g, project, sources[i]->path)
                            + (std::string_view(sources[i]->state) == "superseded" ? " [changed]" : ""));
        }
        out += fmt::format("Inputs from outside the pipeline: {}{}\n", fmt::join(names, ", "),
                           sources.size() > k_max_sources
                               ? fmt::format(" and {} more (see --json)", sources.size() - k_max_sources)
                               : "");
    }
    auto emit_tree = [&](int root) {
        emit(emit, root, "", "", "", 0);
        while (!continued.empty()) {
            const int v = continued.front();
            continued.pop_front();
            emit(emit, v, "", "", "", 0);
        }
    };
    for (size_t v = 0; v < views.size(); ++v) {
        if (views[v].parent < 0) {
            emit_tree(int(v));
        }
    }
    for (size_t v = 0; v < views.size(); ++v) { // cycles (a step consuming its consumer's output) have no root
        emit_tree(int(v));
    }
    size_t width = 0;
    for (const auto& l : lines) {
        if (l.detail.empty()) {
            width = std::max(width, std::min<size_t>(display_width(l.left), 78));
        }
    }
    for (const auto& l : lines) {
        if (!l.detail.empty()) {
            out += l.detail + "\n";
            continue;
        }
        const size_t w = display_width(l.left);
        out += l.left + std::string(w < width ? width - w : 0, ' ') + "  " + l.right + "\n";
    }
    if (const NotCheckedHere elsewhere = not_checked_here(g); !elsewhere.empty()) {
        out += not_checked_here_line(fd, elsewhere, "dag");
    }
    out += "\n";
    out +=
        paint(fd, k_dim, "* stale: an input changed since it ran (re-run it with 'roar run @N')   ! last run failed\n");
    out += paint(fd, k_dim, "×N: N runs of the step (see --expanded)   consumed: inputs produced by other steps\n");
    return out;
}

namespace {

std::string dot_quote(const std::string& s)
{
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

std::string mermaid_label(const std::string& s)
{
    std::string out;
    for (char c : s) {
        switch (c) {
        case '"': out += "#quot;"; break;
        case '<': out += "#lt;"; break;
        case '>': out += "#gt;"; break;
        case '|': out += "#124;"; break;
        default: out += c;
        }
    }
    return out;
}

// Identifiers safe for both dot and Mermaid.
std::string graph_id(const std::string& id)
{
    std::string out = "n_";
    for (char c : id) {
        out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    return out;
}

std::string node_label(const Lineage& g, const DagNode& n, bool expanded)
{
    const Execution& e = g.executions[size_t(n.execution)];
    std::string label = fmt::format("@{}", step_number(g, n.execution));
    if (expanded) {
        label += " " + e.job_id;
    }
    if (n.state != NodeState::active) {
        label += fmt::format(" ({})", state_name(n.state));
    }
    return label + "\n" + elide_middle(display_command(e.command), 50);
}

std::string node_graph_id(const Lineage& g, int execution, bool expanded)
{
    return graph_id(node_id(g, execution, expanded));
}

std::string edge_label(const Lineage& g, const Project& project, const DagEdge& edge, const char* separator)
{
    std::vector<std::string> paths;
    for (uint32_t p : edge.paths) {
        paths.push_back(shown_entry(g, project, p));
    }
    return fmt::format("{}", fmt::join(paths, separator));
}

} // namespace

std::string render_dag_dot(const Dag& dag, const Lineage& g, const Project& project)
{
    const bool expanded = dag.options.expanded;
    std::string out = "digraph roar {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
    for (const DagNode& n : dag.nodes) {
        const char* fill = n.state == NodeState::stale        ? "#fdecc8"
                           : n.state == NodeState::superseded ? "#eeeeee"
                                                              : "#dbe8fb";
        const char* color = n.state == NodeState::stale                        ? "#c77700"
                            : g.executions[size_t(n.execution)].exit_code != 0 ? "#c62828"
                                                                               : "#3367d6";
        out += fmt::format("  {} [shape=box, style=\"rounded,filled\", fillcolor=\"{}\", color=\"{}\", label={}];\n",
                           node_graph_id(g, n.execution, expanded), fill, color, dot_quote(node_label(g, n, expanded)));
    }
    if (!dag.options.show_artifacts) {
        for (const DagEdge& e : dag.edges) {
            out +=
                fmt::format("  {} -> {} [label={}];\n", node_graph_id(g, dag.nodes[size_t(e.from)].execution, expanded),
                            node_graph_id(g, dag.nodes[size_t(e.to)].execution, expanded),
                            dot_quote(edge_label(g, project, e, "\\n")));
        }
        return out + "}\n";
    }
    for (const DagArtifact& a : dag.artifacts) {
        const std::string state = a.state;
        const std::string id = graph_id(artifact_id(g, a));
        out += fmt::format("  {} [shape=note, style=filled, fillcolor=\"{}\", label={}];\n", id,
                           state == "stale"        ? "#fdecc8"
                           : state == "superseded" ? "#eeeeee"
                                                   : "#ffffff",
                           dot_quote(shown_entry(g, project, a.path) + (state == "active" ? "" : " (" + state + ")")));
        if (a.producer_node >= 0) {
            out += fmt::format("  {} -> {};\n",
                               node_graph_id(g, dag.nodes[size_t(a.producer_node)].execution, expanded), id);
        }
        for (int c : a.consumers) {
            out += fmt::format("  {} -> {};\n", id, node_graph_id(g, c, expanded));
        }
    }
    return out + "}\n";
}

std::string render_dag_mermaid(const Dag& dag, const Lineage& g, const Project& project)
{
    const bool expanded = dag.options.expanded;
    std::string out = "flowchart LR\n";
    for (const DagNode& n : dag.nodes) {
        std::string label = node_label(g, n, expanded);
        std::replace(label.begin(), label.end(), '\n', ' ');
        out += fmt::format("  {}[\"{}\"]", node_graph_id(g, n.execution, expanded), mermaid_label(label));
        if (n.state != NodeState::active) {
            out += fmt::format(":::{}", state_name(n.state));
        }
        out += "\n";
    }
    if (!dag.options.show_artifacts) {
        for (const DagEdge& e : dag.edges) {
            out += fmt::format("  {} -->|\"{}\"| {}\n", node_graph_id(g, dag.nodes[size_t(e.from)].execution, expanded),
                               mermaid_label(edge_label(g, project, e, ", ")),
                               node_graph_id(g, dag.nodes[size_t(e.to)].execution, expanded));
        }
    } else {
        for (const DagArtifact& a : dag.artifacts) {
            const std::string id = graph_id(artifact_id(g, a));
            out += fmt::format("  {}[/\"{}\"/]", id, mermaid_label(shown_entry(g, project, a.path)));
            if (std::string_view(a.state) != "active") {
                out += fmt::format(":::{}", a.state);
            }
            out += "\n";
            if (a.producer_node >= 0) {
                out += fmt::format("  {} --> {}\n",
                                   node_graph_id(g, dag.nodes[size_t(a.producer_node)].execution, expanded), id);
            }
            for (int c : a.consumers) {
                out += fmt::format("  {} --> {}\n", id, node_graph_id(g, c, expanded));
            }
        }
    }
    out += "  classDef stale fill:#fdecc8,stroke:#c77700\n";
    out += "  classDef superseded fill:#eeeeee,stroke:#999999,color:#777777\n";
    return out;
}

} // namespace roar::cli
