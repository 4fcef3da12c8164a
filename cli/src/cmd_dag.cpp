// `roar dag`: the active session's pipeline as a tree (or JSON, Graphviz
// dot, Mermaid, or a self-contained HTML page).
#include "commands.hpp"

#include "dag_render.hpp"
#include "lineage.hpp"
#include "project.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iostream>

namespace roar::cli {

int cmd_dag(const DagCommandOptions& options)
{
    Project project = Project::find();
    collector::Database db = project.open_database();
    LineageOptions load_options;
    load_options.all_inputs = options.expanded;
    const Lineage lineage = Lineage::load(db, load_options);
    ArtifactDigests digests(db);
    DagOptions view{options.expanded, options.stale_only, options.show_artifacts};

    if (!options.html.empty()) {
        DagOptions everything = view;
        everything.show_artifacts = true; // the picture draws artifacts as nodes
        const nlohmann::json dag = dag_json(lineage, digests, project, everything);
        std::ofstream out(options.html, std::ios::binary | std::ios::trunc);
        out << render_dag_html(dag, project);
        out.close();
        if (!out) {
            throw FatalError(fmt::format("cannot write {} (check the directory exists and is writable)", options.html));
        }
        std::cerr << fmt::format("Wrote {}: {} steps, {} artifacts (open it in a browser)\n", options.html,
                                 dag["nodes"].size(), dag["artifacts"].size());
        if (!options.json && options.format.empty()) {
            return 0;
        }
    }
    if (options.json) {
        std::cout << dag_json(lineage, digests, project, view).dump(2) << std::endl;
    } else if (options.format == "dot") {
        std::cout << render_dag_dot(dag_json(lineage, digests, project, view), project);
    } else if (options.format == "mermaid") {
        std::cout << render_dag_mermaid(dag_json(lineage, digests, project, view), project);
    } else {
        std::cout << render_dag_text(dag_json(lineage, digests, project, view), project, view, 1);
    }
    return 0;
}

} // namespace roar::cli
