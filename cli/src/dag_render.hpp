// `roar dag`'s model and its renderings: the JSON document (nodes, edges,
// artifacts with states) built from a Lineage, and from that document the
// text tree, Graphviz dot, Mermaid and a self-contained HTML page.
#pragma once

#include "lineage.hpp"
#include "project.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace roar::cli {

struct DagOptions {
    bool expanded = false;       // one node per execution, superseded ones included
    bool stale_only = false;     // only stale steps and stale artifacts
    bool show_artifacts = false; // every artifact, not only terminal outputs
};

// "features.csv was re-produced by @1", with `project`-relative paths.
std::string describe_reason(const Lineage& g, const StaleReason& reason, const Project& project);

// The `roar dag --json` document for `g` under `options`.
nlohmann::json dag_json(const Lineage& g, ArtifactDigests& digests, const Project& project, const DagOptions& options);

// The tree for people; colours follow color_enabled(fd).
std::string render_dag_text(const nlohmann::json& dag, const Project& project, const DagOptions& options, int fd);

// Graphviz and Mermaid sources of `dag` (artifacts drawn as nodes when it lists them).
std::string render_dag_dot(const nlohmann::json& dag, const Project& project);
std::string render_dag_mermaid(const nlohmann::json& dag, const Project& project);

// One HTML file with inline CSS, JS and SVG that draws `dag` (which should
// list every artifact) and shows a node's details on click. Needs no network.
std::string render_dag_html(const nlohmann::json& dag, const Project& project);

} // namespace roar::cli
