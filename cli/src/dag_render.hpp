// `roar dag`'s model and its renderings. build_dag() decides, from a
// Lineage, what is in view (nodes, edges, artifacts with their states);
// the writers turn that into the JSON document, the text tree, Graphviz
// dot, Mermaid or a self-contained HTML page. The model holds indexes into
// the Lineage, not copies, and the JSON is streamed, so a 10,000-job
// project renders without building a document tree in memory.
#pragma once

#include "lineage.hpp"
#include "project.hpp"

#include <ostream>
#include <string>
#include <vector>

namespace roar::cli {

struct DagOptions {
    bool expanded = false;       // one node per execution, superseded ones included
    bool stale_only = false;     // only stale steps and stale artifacts
    bool show_artifacts = false; // every artifact, not only terminal outputs
};

// One step (or, expanded, one execution) in view.
struct DagNode {
    int execution = 0; // index into Lineage::executions
    NodeState state = NodeState::active;
    std::vector<int64_t> dependencies; // step numbers whose outputs it read, ascending
    int consumed = 0;                  // inputs produced by other steps
    std::vector<int> members;          // the executions it stands for (a step's current ones)
};

// Content `artifact` at path `path`, as the executions in view wrote or read it.
struct DagArtifact {
    uint32_t path = 0;            // index into Lineage::paths
    int64_t artifact = 0;         // artifacts.id (0: not hashed)
    int producer = -1;            // execution index, possibly out of view; -1: from outside the pipeline
    int producer_node = -1;       // the node in view standing for the producer, if any
    std::vector<int> consumers;   // execution indexes in view, in view order
    const char* state = "active"; // active | stale | superseded
    int64_t now = 0;              // superseded: the content now current (-1: unrecorded content on disk)
    bool terminal = false;        // nothing in view read it
    const char* on_disk = "unchecked";
};

// Steps (or executions) `from` -> `to` (indexes into Dag::nodes) through `paths`.
struct DagEdge {
    int from = 0, to = 0;
    std::vector<uint32_t> paths; // indexes into Lineage::paths
};

struct Dag {
    DagOptions options;
    std::vector<DagNode> nodes;         // by step number, a step's executions oldest first
    std::vector<DagEdge> edges;         // by (from, to)
    std::vector<DagArtifact> artifacts; // by path, then content
    size_t stale_artifacts = 0, superseded_artifacts = 0;
    size_t artifacts_omitted = 0; // artifacts left out of a picture that could not draw them all
};

// What `options` shows of `g`.
Dag build_dag(const Lineage& g, const DagOptions& options);

// "features.csv was re-produced by @1", with `project`-relative paths.
std::string describe_reason(const Lineage& g, const StaleReason& reason, const Project& project);

// Writes the `roar dag --json` document for `dag` to `out` (`indent` 0:
// compact; `escape_lt`: '<' escaped so it can be embedded in HTML).
void write_dag_json(std::ostream& out, const Dag& dag, const Lineage& g, ArtifactDigests& digests,
                    const Project& project, int indent = 2, bool escape_lt = false);

// The tree for people; colours follow color_enabled(fd).
std::string render_dag_text(const Dag& dag, const Lineage& g, ArtifactDigests& digests, const Project& project, int fd);

// Graphviz and Mermaid sources of `dag` (artifacts drawn as nodes with show_artifacts).
std::string render_dag_dot(const Dag& dag, const Lineage& g, const Project& project);
std::string render_dag_mermaid(const Dag& dag, const Lineage& g, const Project& project);

// "Not checked here: 3 files recorded by jobs on another host (gpu-07);
// run 'roar COMMAND' there", for status and dag on a shared store.
std::string not_checked_here_line(int fd, const NotCheckedHere& elsewhere, const char* command);

class JsonWriter;
// The same in --json: member "not_checked_here" {datasets, files, hosts},
// written only when something was not checked (never on a one-machine
// store, whose documents stay as they were).
void write_not_checked_here(JsonWriter& w, const NotCheckedHere& elsewhere);

// Artifacts a picture draws at most; beyond that a page would take minutes
// to lay out in a browser, so --html draws the steps only.
inline constexpr size_t k_html_max_artifacts = 2000;

// One HTML file with inline CSS, JS and SVG that draws `dag` (which should
// show every artifact) and shows a node's details on click. Needs no network.
void write_dag_html(std::ostream& out, const Dag& dag, const Lineage& g, ArtifactDigests& digests,
                    const Project& project);

} // namespace roar::cli
