// `roar dag`: the active session's pipeline as a tree (or JSON, Graphviz
// dot, Mermaid, or a self-contained HTML page). On a store shared by
// several machines, another machine's files are shown as not checked here.
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
    collector::Store store = project.open_store(collector::Access::read);
    const auto snapshot = store.snapshot();
    // On a shared store, only this machine's jobs' files are compared with
    // this disk (disk_host()); other machines' are judged by their record.
    LineageOptions load_options;
    load_options.local_host = disk_host(project.store_location());
    const Lineage lineage = Lineage::load(store, load_options);
    ArtifactDigests digests(store);
    const DagOptions view{options.expanded, options.stale_only, options.show_artifacts};

    if (!options.html.empty()) {
        DagOptions everything = view;
        everything.show_artifacts = true; // the picture draws artifacts as nodes
        Dag dag = build_dag(lineage, everything);
        if (dag.artifacts.size() > k_html_max_artifacts) {
            const size_t total = dag.artifacts.size();
            DagOptions steps_only = view;
            steps_only.show_artifacts = false;
            dag = build_dag(lineage, steps_only);
            dag.artifacts.clear();
            dag.artifacts_omitted = total;
        }
        std::ofstream out(options.html, std::ios::binary | std::ios::trunc);
        write_dag_html(out, dag, lineage, digests, project);
        out.close();
        if (!out) {
            throw FatalError(fmt::format("cannot write {} (check the directory exists and is writable)", options.html));
        }
        if (dag.artifacts_omitted > 0) {
            std::cerr << fmt::format("Wrote {}: {} steps; {} artifacts are too many to draw, so the page shows the "
                                     "steps only ('roar dag --json --show-artifacts' lists them)\n",
                                     options.html, dag.nodes.size(), dag.artifacts_omitted);
        } else {
            std::cerr << fmt::format("Wrote {}: {} steps, {} artifacts (open it in a browser)\n", options.html,
                                     dag.nodes.size(), dag.artifacts.size());
        }
        if (!options.json && options.format.empty()) {
            return 0;
        }
    }
    const Dag dag = build_dag(lineage, view);
    if (options.json) {
        write_dag_json(std::cout, dag, lineage, digests, project);
    } else if (options.format == "dot") {
        std::cout << render_dag_dot(dag, lineage, project);
    } else if (options.format == "mermaid") {
        std::cout << render_dag_mermaid(dag, lineage, project);
    } else {
        std::cout << render_dag_text(dag, lineage, digests, project, 1);
    }
    std::cout.flush();
    if (!std::cout) {
        throw FatalError("cannot write the output");
    }
    return 0;
}

} // namespace roar::cli
