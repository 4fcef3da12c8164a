// The `roar dag` document and its text, dot and Mermaid renderings (see
// dag_render.hpp; the HTML page is in dag_html.cpp).
#include "dag_render.hpp"

#include "job_queries.hpp"
#include "text_style.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace roar::cli {

namespace {

using json = nlohmann::json;

// Terminal columns taken by UTF-8 `text` (box-drawing characters are one
// column but three bytes).
size_t display_width(const std::string& text)
{
    return size_t(std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

const char* status_of(const Execution& e) { return e.exit_code == 0 ? "ok" : (e.killed ? "killed" : "failed"); }

NodeState state_of(const Lineage& g, const Execution& e)
{
    if (!e.current) {
        return NodeState::superseded;
    }
    return g.steps[size_t(e.step)].stale ? NodeState::stale : NodeState::active;
}

std::string node_id(const Lineage& g, const Execution& e, bool expanded)
{
    return expanded ? e.job_id : fmt::format("@{}", g.steps[size_t(e.step)].number);
}

// Command lines are shown on one line; long ones end in "...".
std::string shorten(const std::string& text, size_t width)
{
    if (text.size() <= width) {
        return text;
    }
    return text.substr(0, width - 3) + "...";
}

} // namespace

std::string describe_reason(const Lineage& g, const StaleReason& reason, const Project& project)
{
    const std::string path = reason.kind == StaleReason::Kind::upstream
                                 ? ""
                                 : project.display_path(g.paths[reason.path].path);
    switch (reason.kind) {
    case StaleReason::Kind::reproduced:
        return fmt::format("{} was re-produced by @{} with different content", path, reason.step);
    case StaleReason::Kind::modified:
        return fmt::format("{} changed on disk since it was read", path);
    case StaleReason::Kind::changed:
        return fmt::format("{} changed since it was read", path);
    case StaleReason::Kind::upstream:
        return fmt::format("upstream step @{} is stale", reason.step);
    }
    return "";
}

json dag_json(const Lineage& g, ArtifactDigests& digests, const Project& project, const DagOptions& options)
{
    json doc;
    doc["session_id"] = g.session_id;
    doc["is_expanded"] = options.expanded;
    doc["show_artifacts"] = options.show_artifacts;
    doc["total_steps"] = g.steps.size();
    doc["stale_count"] = g.stale_count();
    doc["project"] = project.root().string();

    // The executions in view: every one when expanded, else each step's current one.
    // Ordered by step number, a step's executions oldest first.
    std::vector<int> shown;
    for (const Step& step : g.steps) {
        for (int i : step.executions) {
            const Execution& e = g.executions[size_t(i)];
            if ((options.expanded || e.current) && (!options.stale_only || state_of(g, e) == NodeState::stale)) {
                shown.push_back(i);
            }
        }
    }
    std::vector<char> in_view(g.executions.size(), 0);
    for (int i : shown) {
        in_view[size_t(i)] = 1;
    }

    json nodes = json::array();
    for (int i : shown) {
        const Execution& e = g.executions[size_t(i)];
        const Step& step = g.steps[size_t(e.step)];
        json n;
        n["id"] = node_id(g, e, options.expanded);
        n["step"] = step.number;
        n["step_number"] = step.number;
        n["step_name"] = nullptr;
        n["job_id"] = e.job_id;
        json job_ids = json::array();
        for (int x : step.executions) {
            job_ids.push_back(g.executions[size_t(x)].job_id);
        }
        n["job_ids"] = options.expanded ? json::array({e.job_id}) : job_ids;
        n["executions"] = step.executions.size();
        n["command"] = e.command;
        n["cwd"] = e.cwd;
        n["state"] = state_name(state_of(g, e));
        n["exit_code"] = e.exit_code;
        n["status"] = status_of(e);
        n["started_at"] = iso_time(e.started_at);
        n["ended_at"] = iso_time(e.ended_at);
        n["duration_s"] = std::round((e.ended_at - e.started_at) * 1000.0) / 1000.0;
        // Dependencies of this execution: the steps whose outputs it read.
        std::set<int64_t> deps;
        int consumed = 0;
        for (uint32_t u : e.inputs) {
            const Use& use = g.uses[u];
            if (use.producer >= 0 && g.executions[size_t(use.producer)].step != e.step) {
                deps.insert(g.steps[size_t(g.executions[size_t(use.producer)].step)].number);
                ++consumed;
            }
        }
        n["dependencies"] = deps;
        json dependents = json::array();
        for (int d : step.dependents) {
            dependents.push_back(g.steps[size_t(d)].number);
        }
        n["dependents"] = e.current ? dependents : json::array();
        n["metrics"] = {{"inputs", e.inputs.size()}, {"outputs", e.outputs.size()}, {"consumed", consumed}};
        json reasons = json::array();
        if (e.current) {
            for (const auto& r : step.stale_reasons) {
                reasons.push_back(describe_reason(g, r, project));
            }
        }
        n["stale_reasons"] = reasons;
        nodes.push_back(std::move(n));
    }

    // Artifacts: every (path, content) an execution in view wrote or read.
    struct Entry {
        uint32_t path;
        int64_t artifact;
        int producer = -1;
        std::vector<int> consumers;
    };
    std::map<std::pair<uint32_t, int64_t>, Entry> entries;
    for (int i : shown) {
        const Execution& e = g.executions[size_t(i)];
        for (uint32_t u : e.outputs) {
            const Use& use = g.uses[u];
            auto& entry = entries.try_emplace({use.path, use.artifact}, Entry{use.path, use.artifact}).first->second;
            entry.producer = i;
        }
        for (uint32_t u : e.inputs) {
            const Use& use = g.uses[u];
            auto& entry = entries.try_emplace({use.path, use.artifact}, Entry{use.path, use.artifact}).first->second;
            entry.consumers.push_back(i);
            if (entry.producer < 0) {
                entry.producer = use.producer;
            }
        }
    }
    {
        std::vector<int64_t> wanted;
        for (const auto& [key, entry] : entries) {
            wanted.push_back(entry.artifact);
            wanted.push_back(g.current_content(entry.path));
        }
        digests.prefetch(std::move(wanted));
    }
    // A producer outside the view (an older execution) is still named.
    json artifacts = json::array();
    json edges = json::array();
    std::map<std::pair<std::string, std::string>, json> edge_paths;
    size_t stale_artifacts = 0, superseded_artifacts = 0;
    for (auto& [key, entry] : entries) {
        const PathState& path = g.paths[entry.path];
        const bool consumed_in_view = !entry.consumers.empty();
        const bool produced_in_view = entry.producer >= 0 && in_view[size_t(entry.producer)];
        // Steps are nodes unless expanded, so an older execution's output still links its step.
        const bool producer_shown = entry.producer >= 0
                                    && (produced_in_view
                                        || (!options.expanded
                                            && in_view[size_t(g.steps[size_t(g.executions[size_t(entry.producer)].step)].current())]));
        if (producer_shown) {
            for (int c : entry.consumers) {
                if (g.executions[size_t(c)].step == g.executions[size_t(entry.producer)].step) {
                    continue;
                }
                auto& paths = edge_paths[{node_id(g, g.executions[size_t(entry.producer)], options.expanded),
                                          node_id(g, g.executions[size_t(c)], options.expanded)}];
                paths.push_back(project.display_path(path.path));
            }
        }
        const int64_t now = g.current_content(entry.path);
        std::string state = "active";
        json superseded_by = nullptr;
        if (entry.producer >= 0 && !g.executions[size_t(entry.producer)].current) {
            state = "superseded";
        }
        if (now != 0 && now != entry.artifact) {
            state = "superseded";
            if (now > 0) {
                superseded_by = digests.get(now).digest;
            } else if (!path.disk_digest.empty()) {
                superseded_by = path.disk_digest;
            }
        }
        if (state == "active" && entry.producer >= 0 && g.steps[size_t(g.executions[size_t(entry.producer)].step)].stale) {
            state = "stale";
        }
        if (options.stale_only && state != "stale") {
            continue;
        }
        const bool terminal = !consumed_in_view;
        if (!options.show_artifacts && !(terminal && produced_in_view)) {
            continue;
        }
        const auto& info = digests.get(entry.artifact);
        json a;
        a["artifact_id"] = entry.artifact;
        a["id"] = fmt::format("a{}:{}", entry.artifact, path.path);
        a["path"] = path.path;
        a["display_path"] = project.display_path(path.path);
        a["digest"] = info.digest;
        a["algorithm"] = info.algorithm;
        a["size"] = info.size ? json(*info.size) : json(nullptr);
        if (entry.producer >= 0) {
            const Execution& p = g.executions[size_t(entry.producer)];
            a["producer"] = {{"id", node_id(g, p, options.expanded)},
                             {"step", g.steps[size_t(p.step)].number},
                             {"job_id", p.job_id}};
            a["producer_step"] = g.steps[size_t(p.step)].number;
        } else {
            a["producer"] = nullptr;
            a["producer_step"] = nullptr;
        }
        json consumers = json::array();
        std::set<int64_t> consumer_steps;
        for (int c : entry.consumers) {
            const Execution& e = g.executions[size_t(c)];
            consumers.push_back({{"id", node_id(g, e, options.expanded)},
                                 {"step", g.steps[size_t(e.step)].number},
                                 {"job_id", e.job_id}});
            consumer_steps.insert(g.steps[size_t(e.step)].number);
        }
        a["consumers"] = consumers;
        a["consumer_steps"] = consumer_steps;
        a["is_terminal"] = terminal;
        a["state"] = state;
        a["superseded_by"] = superseded_by;
        std::string disk = disk_state_name(path.disk);
        if (path.disk == DiskState::present || path.disk == DiskState::modified) {
            disk = path.on_disk == entry.artifact ? "present" : "modified";
        }
        a["on_disk"] = disk;
        stale_artifacts += state == "stale";
        superseded_artifacts += state == "superseded";
        artifacts.push_back(std::move(a));
    }
    for (auto& [ends, paths] : edge_paths) {
        edges.push_back({{"from", ends.first}, {"to", ends.second}, {"paths", paths}});
    }
    doc["nodes"] = std::move(nodes);
    doc["edges"] = std::move(edges);
    doc["artifacts"] = std::move(artifacts);
    doc["stale_artifact_count"] = stale_artifacts;
    doc["superseded_artifact_count"] = superseded_artifacts;
    return doc;
}

std::string render_dag_text(const json& dag, const Project& project, const DagOptions& options, int fd)
{
    std::string out;
    const size_t total = dag["total_steps"].get<size_t>();
    const size_t stale = dag["stale_count"].get<size_t>();
    out += paint(fd, k_bold, fmt::format("Pipeline: {} step{}", total, total == 1 ? "" : "s"));
    out += stale ? paint(fd, k_yellow, fmt::format(" ({} stale)", stale)) : "";
    out += "\n";
    if (total == 0) {
        out += "No steps in this session yet (run one with 'roar run CMD ...').\n";
        return out;
    }
    const json& nodes = dag["nodes"];
    if (nodes.empty()) {
        out += options.stale_only ? "Nothing is stale.\n" : "";
        return out;
    }

    // One line per step (or execution), placed under its latest dependency.
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < nodes.size(); ++i) {
        index[nodes[i]["id"].get<std::string>()] = i;
    }
    std::map<int64_t, std::vector<size_t>> by_step; // expanded: a step's executions
    for (size_t i = 0; i < nodes.size(); ++i) {
        by_step[nodes[i]["step"].get<int64_t>()].push_back(i);
    }
    std::vector<int64_t> steps;
    for (auto& [n, list] : by_step) {
        steps.push_back(n);
    }
    auto representative = [&](int64_t step) { return by_step[step].back(); }; // current execution last
    std::map<int64_t, int64_t> parent;
    std::map<int64_t, std::vector<int64_t>> children;
    for (int64_t s : steps) {
        const json& deps = nodes[representative(s)]["dependencies"];
        int64_t best = 0;
        for (const auto& d : deps) {
            const int64_t dn = d.get<int64_t>();
            if (by_step.count(dn) && dn != s && dn > best) {
                best = dn;
            }
        }
        if (best) {
            parent[s] = best;
            children[best].push_back(s);
        }
    }
    std::map<int64_t, std::vector<const json*>> outputs_of; // --show-artifacts
    std::vector<const json*> sources;
    for (const auto& a : dag["artifacts"]) {
        if (a["producer"].is_null()) {
            sources.push_back(&a);
        } else if (by_step.count(a["producer"]["step"].get<int64_t>())) {
            outputs_of[a["producer"]["step"].get<int64_t>()].push_back(&a);
        }
    }

    struct Line {
        std::string left, right, detail;
    };
    std::vector<Line> lines;
    std::set<int64_t> printed;
    const size_t command_width = 60;
    auto emit = [&](auto&& self, int64_t s, const std::string& prefix, const std::string& connector,
                    const std::string& child_prefix) -> void {
        if (!printed.insert(s).second) {
            return;
        }
        const json& n = nodes[representative(s)];
        const std::string state = n["state"].get<std::string>();
        std::string left = prefix + connector + fmt::format("@{} {}", s, shorten(display_command(n["command"]), command_width));
        const auto& m = n["metrics"];
        std::string right = fmt::format("in:{} out:{}", m["inputs"].get<int>(), m["outputs"].get<int>());
        if (m["consumed"].get<int>() > 0) {
            right += fmt::format(" consumed:{}", m["consumed"].get<int>());
        }
        if (n["executions"].get<int>() > 1 && !options.expanded) {
            right += fmt::format(" ×{}", n["executions"].get<int>());
        }
        std::vector<std::string> also;
        for (const auto& d : n["dependencies"]) {
            if (parent.count(s) && d.get<int64_t>() != parent[s]) {
                also.push_back(fmt::format("@{}", d.get<int64_t>()));
            }
        }
        if (!also.empty()) {
            right += fmt::format(" (also needs {})", fmt::join(also, ", "));
        }
        if (n["exit_code"].get<int>() != 0) {
            right += " " + paint(fd, k_red, "!");
        }
        if (state == "stale") {
            right += " " + paint(fd, k_yellow, "*");
        }
        lines.push_back({left, right, ""});
        const std::string inner = child_prefix + (children.count(s) ? "│   " : "    ");
        if (options.expanded) {
            for (size_t x : by_step[s]) {
                const json& e = nodes[x];
                std::string started = e["started_at"].get<std::string>().substr(0, 19);
                started[10] = ' ';
                const std::string es = e["state"].get<std::string>();
                lines.push_back({"", "",
                                 inner + fmt::format("  {}  {}  exit {:<3}  {}", e["job_id"].get<std::string>(), started,
                                                     e["exit_code"].get<int>(),
                                                     es == "superseded" ? paint(fd, k_dim, es) : es)});
            }
        }
        if (options.show_artifacts) {
            for (const json* a : outputs_of[s]) {
                const std::string st = (*a)["state"].get<std::string>();
                lines.push_back({"", "",
                                 inner + fmt::format("  → {}  {}  {}{}{}", (*a)["display_path"].get<std::string>(),
                                                     human_size((*a)["size"].is_number()
                                                                    ? std::optional<uint64_t>((*a)["size"].get<uint64_t>())
                                                                    : std::nullopt),
                                                     paint(fd, k_dim, short_digest((*a)["algorithm"], (*a)["digest"])),
                                                     st == "active" ? "" : " [" + st + "]",
                                                     st != "superseded"
                                                             && ((*a)["on_disk"] == "missing" || (*a)["on_disk"] == "modified")
                                                         ? " (" + (*a)["on_disk"].get<std::string>() + " on disk)"
                                                         : "")});
            }
        }
        if (options.stale_only) {
            for (const auto& r : n["stale_reasons"]) {
                lines.push_back({"", "", inner + "  " + paint(fd, k_dim, r.get<std::string>())});
            }
        }
        const auto& kids = children[s];
        for (size_t k = 0; k < kids.size(); ++k) {
            const bool last = k + 1 == kids.size();
            self(self, kids[k], child_prefix, last ? "└──>" : "├──>", child_prefix + (last ? "    " : "│   "));
        }
    };
    if (options.show_artifacts && !sources.empty()) {
        std::vector<std::string> names;
        for (const json* a : sources) {
            names.push_back((*a)["display_path"].get<std::string>() + ((*a)["state"] == "superseded" ? " [changed]" : ""));
        }
        out += fmt::format("Inputs from outside the pipeline: {}\n", fmt::join(names, ", "));
    }
    for (int64_t s : steps) {
        if (!parent.count(s)) {
            emit(emit, s, "", "", "");
        }
    }
    for (int64_t s : steps) { // cycles (a step consuming its consumer's output) have no root
        emit(emit, s, "", "", "");
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
    out += "\n";
    out += paint(fd, k_dim, "* stale: an input changed since it ran (re-run it with 'roar run @N')   ! last run failed\n");
    out += paint(fd, k_dim, "×N: N runs of the step (see --expanded)   consumed: inputs produced by other steps\n");
    (void)project;
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
        case '"':
            out += "#quot;";
            break;
        case '<':
            out += "#lt;";
            break;
        case '>':
            out += "#gt;";
            break;
        case '|':
            out += "#124;";
            break;
        default:
            out += c;
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

std::string node_label(const json& n)
{
    std::string label = fmt::format("@{}", n["step"].get<int64_t>());
    if (n["id"] != label) {
        label += " " + n["job_id"].get<std::string>();
    }
    if (n["state"] != "active") {
        label += " (" + n["state"].get<std::string>() + ")";
    }
    return label + "\n" + shorten(display_command(n["command"]), 50);
}

} // namespace

std::string render_dag_dot(const json& dag, const Project& project)
{
    (void)project;
    std::string out = "digraph roar {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=10];\n";
    for (const auto& n : dag["nodes"]) {
        const std::string state = n["state"];
        const char* fill = state == "stale" ? "#fdecc8" : state == "superseded" ? "#eeeeee" : "#dbe8fb";
        const char* color = state == "stale" ? "#c77700" : n["exit_code"] != 0 ? "#c62828" : "#3367d6";
        out += fmt::format("  {} [shape=box, style=\"rounded,filled\", fillcolor=\"{}\", color=\"{}\", label={}];\n",
                           graph_id(n["id"]), fill, color, dot_quote(node_label(n)));
    }
    if (!dag["show_artifacts"].get<bool>()) {
        for (const auto& e : dag["edges"]) {
            std::vector<std::string> paths = e["paths"];
            out += fmt::format("  {} -> {} [label={}];\n", graph_id(e["from"]), graph_id(e["to"]),
                               dot_quote(fmt::format("{}", fmt::join(paths, "\\n"))));
        }
    } else {
        for (const auto& a : dag["artifacts"]) {
            const std::string state = a["state"];
            out += fmt::format("  {} [shape=note, style=filled, fillcolor=\"{}\", label={}];\n", graph_id(a["id"]),
                               state == "stale" ? "#fdecc8" : state == "superseded" ? "#eeeeee" : "#ffffff",
                               dot_quote(a["display_path"].get<std::string>()
                                         + (state == "active" ? "" : " (" + state + ")")));
            if (!a["producer"].is_null()) {
                out += fmt::format("  {} -> {};\n", graph_id(a["producer"]["id"]), graph_id(a["id"]));
            }
            for (const auto& c : a["consumers"]) {
                out += fmt::format("  {} -> {};\n", graph_id(a["id"]), graph_id(c["id"]));
            }
        }
    }
    return out + "}\n";
}

std::string render_dag_mermaid(const json& dag, const Project& project)
{
    (void)project;
    std::string out = "flowchart LR\n";
    for (const auto& n : dag["nodes"]) {
        std::string label = node_label(n);
        std::replace(label.begin(), label.end(), '\n', ' ');
        out += fmt::format("  {}[\"{}\"]", graph_id(n["id"]), mermaid_label(label));
        if (n["state"] != "active") {
            out += ":::" + n["state"].get<std::string>();
        }
        out += "\n";
    }
    if (!dag["show_artifacts"].get<bool>()) {
        for (const auto& e : dag["edges"]) {
            std::vector<std::string> paths = e["paths"];
            out += fmt::format("  {} -->|\"{}\"| {}\n", graph_id(e["from"]),
                               mermaid_label(fmt::format("{}", fmt::join(paths, ", "))), graph_id(e["to"]));
        }
    } else {
        for (const auto& a : dag["artifacts"]) {
            out += fmt::format("  {}[/\"{}\"/]", graph_id(a["id"]), mermaid_label(a["display_path"]));
            if (a["state"] != "active") {
                out += ":::" + a["state"].get<std::string>();
            }
            out += "\n";
            if (!a["producer"].is_null()) {
                out += fmt::format("  {} --> {}\n", graph_id(a["producer"]["id"]), graph_id(a["id"]));
            }
            for (const auto& c : a["consumers"]) {
                out += fmt::format("  {} --> {}\n", graph_id(a["id"]), graph_id(c["id"]));
            }
        }
    }
    out += "  classDef stale fill:#fdecc8,stroke:#c77700\n";
    out += "  classDef superseded fill:#eeeeee,stroke:#999999,color:#777777\n";
    return out;
}

} // namespace roar::cli
