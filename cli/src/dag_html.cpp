// `roar dag --html FILE`: one self-contained page (inline CSS, JS, SVG; no
// network) that lays the pipeline out in layers, steps and artifacts as
// nodes, stale ones marked, and shows a node's details when clicked.
// The dag document is embedded as JSON; the script does the layout.
#include "dag_render.hpp"

#include <fmt/format.h>

namespace roar::cli {

namespace {

const char* const k_page_head = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>roar pipeline</title>
<style>
  body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; background: #f6f8fa; display: flex; flex-direction: column; height: 100vh; }
  header { padding: 10px 16px; background: #fff; border-bottom: 1px solid #d0d7de; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 16px; margin: 0; }
  .legend span { margin-right: 14px; white-space: nowrap; }
  .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -2px; margin-right: 4px; border: 1.5px solid; }
  main { flex: 1; display: flex; min-height: 0; }
  #canvas { flex: 1; overflow: auto; }
  #details { width: 360px; background: #fff; border-left: 1px solid #d0d7de; padding: 12px 16px; overflow: auto; }
  #details h2 { font-size: 14px; margin: 0 0 8px; word-break: break-all; }
  #details table { border-collapse: collapse; width: 100%; }
  #details td { vertical-align: top; padding: 3px 4px; border-bottom: 1px solid #eaeef2; word-break: break-all; }
  #details td:first-child { color: #59636e; white-space: nowrap; width: 1%; }
  code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  .node { cursor: pointer; }
  .node text { font: 12px system-ui, sans-serif; pointer-events: none; }
  .node .sub { fill: #59636e; font-size: 11px; }
  .step rect { fill: #dbe8fb; stroke: #3367d6; stroke-width: 1.5; }
  .artifact rect { fill: #ffffff; stroke: #8c959f; stroke-width: 1.2; }
  .stale rect { fill: #fdecc8; stroke: #c77700; stroke-width: 2.5; stroke-dasharray: 6 3; }
  .superseded rect { fill: #eeeeee; stroke: #999; }
  .superseded text { fill: #777; }
  .failed rect { stroke: #c62828; }
  .selected rect { stroke: #111; stroke-width: 3; }
  .edge { fill: none; stroke: #8c959f; stroke-width: 1.3; }
  .edge.stale { stroke: #c77700; }
  .badge { font-weight: 600; fill: #c77700; }
</style>
</head>
<body>
<header>
  <h1 id="title">roar pipeline</h1>
  <div class="legend">
    <span><i class="swatch" style="background:#dbe8fb;border-color:#3367d6"></i>step</span>
    <span><i class="swatch" style="background:#fff;border-color:#8c959f"></i>artifact</span>
    <span><i class="swatch" style="background:#fdecc8;border-color:#c77700"></i>stale (an input changed; re-run it)</span>
    <span><i class="swatch" style="background:#eee;border-color:#999"></i>superseded</span>
    <span>click a node for details</span>
  </div>
</header>
<main>
  <div id="canvas"></div>
  <aside id="details"><h2>Details</h2><p>Click a step or an artifact.</p></aside>
</main>
<script id="dag-data" type="application/json">)html";

const char* const k_page_tail = R"html(</script>
<script>
(function () {
  "use strict";
  var dag = JSON.parse(document.getElementById("dag-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var W = 230, H = 46, GAP_X = 70, GAP_Y = 18, PAD = 20;

  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function human(n) {
    if (n === null || n === undefined) return "-";
    var u = ["B", "KiB", "MiB", "GiB", "TiB"], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (i ? n.toFixed(1) : n) + " " + u[i];
  }
  // What a step runs, in a word: the script after an interpreter, else the program.
  function program(command) {
    var words = command.split(" ").map(function (w) { return w.split("/").pop(); });
    var interp = /^(python[0-9.]*|bash|sh|node|Rscript|ruby|perl|julia|env)$/;
    var i = 0;
    while (i < words.length - 1 && (interp.test(words[i]) || words[i].charAt(0) === "-")) i++;
    return words[i] || command;
  }
  function cut(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }

  var stale = dag.stale_count;
  document.getElementById("title").textContent =
    "Pipeline: " + dag.total_steps + " step" + (dag.total_steps === 1 ? "" : "s") + (stale ? " (" + stale + " stale)" : "") +
    (dag.artifacts_omitted ? " \u2014 steps only: " + dag.artifacts_omitted + " artifacts are too many to draw" +
      " ('roar dag --json --show-artifacts' lists them)" : "");

  // Graph: steps and artifacts as nodes; producer -> artifact -> consumer.
  var nodes = [], byId = {};
  dag.nodes.forEach(function (n) {
    var v = { id: n.id, kind: "step", data: n, preds: [], succs: [] };
    nodes.push(v); byId[v.id] = v;
  });
  dag.artifacts.forEach(function (a) {
    var v = { id: a.id, kind: "artifact", data: a, preds: [], succs: [] };
    nodes.push(v); byId[v.id] = v;
  });
  var edges = [];
  function link(from, to) {
    if (!byId[from] || !byId[to]) return;
    edges.push({ from: byId[from], to: byId[to] });
    byId[from].succs.push(byId[to]); byId[to].preds.push(byId[from]);
  }
  if (dag.show_artifacts) {
    dag.artifacts.forEach(function (a) {
      if (a.producer) link(a.producer.id, a.id);
      a.consumers.forEach(function (c) { link(a.id, c.id); });
    });
  } else {
    dag.edges.forEach(function (e) { link(e.from, e.to); });
  }

  // Layers: longest path from the sources (cycles are cut where met).
  var layer = {}, visiting = {};
  function depth(v) {
    if (layer[v.id] !== undefined) return layer[v.id];
    if (visiting[v.id]) return 0;
    visiting[v.id] = true;
    var d = 0;
    v.preds.forEach(function (p) { d = Math.max(d, depth(p) + 1); });
    visiting[v.id] = false;
    return (layer[v.id] = d);
  }
  nodes.forEach(depth);
  // Artifacts nobody produced (source data) sit just left of their first consumer.
  nodes.forEach(function (v) {
    if (v.kind === "artifact" && !v.preds.length && v.succs.length) {
      var m = Infinity;
      v.succs.forEach(function (s) { m = Math.min(m, layer[s.id]); });
      layer[v.id] = Math.max(0, m - 1);
    }
  });
  var columns = [];
  nodes.forEach(function (v) { (columns[layer[v.id]] = columns[layer[v.id]] || []).push(v); });
  // Order within a column by the mean row of the predecessors (one sweep).
  var row = {};
  columns.forEach(function (col, ci) {
    col.forEach(function (v, i) {
      var ps = v.preds.filter(function (p) { return row[p.id] !== undefined; });
      v.key = ps.length ? ps.reduce(function (s, p) { return s + row[p.id]; }, 0) / ps.length : i;
    });
    col.sort(function (a, b) { return a.key - b.key || (a.id < b.id ? -1 : 1); });
    col.forEach(function (v, i) { row[v.id] = i; });
  });
  var maxRows = 0;
  columns.forEach(function (col) { maxRows = Math.max(maxRows, col ? col.length : 0); });
  columns.forEach(function (col, ci) {
    if (!col) return;
    var offset = (maxRows - col.length) * (H + GAP_Y) / 2;
    col.forEach(function (v, i) {
      v.x = PAD + ci * (W + GAP_X);
      v.y = PAD + offset + i * (H + GAP_Y);
    });
  });

  var svg = document.createElementNS(NS, "svg");
  svg.setAttribute("width", PAD * 2 + columns.length * (W + GAP_X));
  svg.setAttribute("height", PAD * 2 + Math.max(1, maxRows) * (H + GAP_Y));
  svg.setAttribute("id", "dag");
  svg.innerHTML = '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#8c959f"/></marker></defs>';
  edges.forEach(function (e) {
    var p = document.createElementNS(NS, "path");
    var x1 = e.from.x + W, y1 = e.from.y + H / 2, x2 = e.to.x, y2 = e.to.y + H / 2, mx = (x1 + x2) / 2;
    p.setAttribute("d", "M" + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + x2 + "," + y2);
    p.setAttribute("class", "edge" + (e.to.data.state === "stale" ? " stale" : ""));
    p.setAttribute("marker-end", "url(#arrow)");
    svg.appendChild(p);
  });
  nodes.forEach(function (v) {
    var d = v.data, g = document.createElementNS(NS, "g");
    var cls = "node " + v.kind + " " + d.state;
    if (v.kind === "step" && d.exit_code !== 0) cls += " failed";
    g.setAttribute("class", cls);
    g.setAttribute("data-node-id", v.id);
    g.setAttribute("transform", "translate(" + v.x + "," + v.y + ")");
    var title, sub;
    if (v.kind === "step") {
      title = "@" + d.step + (d.id !== "@" + d.step ? " " + d.job_id : "") + "  " + cut(program(d.command), 20);
      sub = cut(d.command, 36);
    } else {
      title = cut((d.host ? "[" + d.host + "] " : "") + d.display_path, 32);
      sub = human(d.size) + "  " + (d.digest ? d.algorithm + ":" + d.digest.slice(0, 10) : "");
    }
    g.innerHTML = '<rect width="' + W + '" height="' + H + '" rx="' + (v.kind === "step" ? 6 : 16) + '"></rect>' +
      '<text x="10" y="19">' + esc(title) + '</text><text class="sub" x="10" y="36">' + esc(sub) + '</text>' +
      (d.state === "stale" ? '<text class="badge" x="' + (W - 40) + '" y="19">stale</text>' : "") +
      '<title>' + esc(v.kind === "step" ? d.command : d.path) + '</title>';
    g.addEventListener("click", function () { show(v, g); });
    svg.appendChild(g);
  });
  document.getElementById("canvas").appendChild(svg);

  function rows(pairs) {
    return "<table>" + pairs.filter(function (p) { return p[1] !== undefined && p[1] !== null && p[1] !== ""; })
      .map(function (p) { return "<tr><td>" + esc(p[0]) + "</td><td>" + p[1] + "</td></tr>"; }).join("") + "</table>";
  }
  function refs(list) {
    return list.map(function (r) { return "@" + r.step + " <code>" + esc(r.job_id) + "</code>"; }).join("<br>");
  }
  function show(v, g) {
    var d = v.data, html;
    Array.prototype.forEach.call(document.querySelectorAll(".node.selected"), function (x) { x.classList.remove("selected"); });
    g.classList.add("selected");
    if (v.kind === "step") {
      var ins = v.preds.map(function (p) { return esc(p.kind === "artifact" ? p.data.display_path : p.id); });
      var outs = v.succs.map(function (s) { return esc(s.kind === "artifact" ? s.data.display_path : s.id); });
      html = "<h2>Step @" + d.step + "</h2>" + rows([
        ["command", "<code>" + esc(d.command) + "</code>"],
        ["state", esc(d.state)],
        ["status", esc(d.status) + " (exit " + d.exit_code + ")"],
        ["job", "<code>" + esc(d.job_id) + "</code>"],
        ["runs", d.executions > 1 ? esc(d.job_ids.join(", ")) : null],
        ["started", esc(d.started_at)],
        ["ended", esc(d.ended_at)],
        ["duration", d.duration_s + " s"],
        ["cwd", "<code>" + esc(d.cwd) + "</code>"],
        ["inputs", d.metrics.inputs + (d.metrics.consumed ? " (" + d.metrics.consumed + " from other steps)" : "")],
        ["outputs", String(d.metrics.outputs)],
        ["depends on", d.dependencies.map(function (x) { return "@" + x; }).join(", ")],
        ["reads", ins.join("<br>")],
        ["writes", outs.join("<br>")],
        ["why stale", d.stale_reasons.map(esc).join("<br>")]
      ]);
    } else {
      html = "<h2>" + esc(d.display_path) + "</h2>" + rows([
        ["path", "<code>" + esc(d.path) + "</code>"],
        ["digest", d.digest ? "<code>" + esc(d.algorithm + ":" + d.digest) + "</code>" : "-"],
        ["size", esc(human(d.size)) + (d.size !== null ? " (" + d.size + " bytes)" : "")],
        ["state", esc(d.state)],
        ["on disk", d.host ? "not checked here (recorded on " + esc(d.host) + ")" : esc(d.on_disk)],
        ["superseded by", d.superseded_by ? "<code>" + esc(d.superseded_by) + "</code>" : null],
        ["produced by", d.producer ? refs([d.producer]) : "outside the pipeline"],
        ["consumed by", refs(d.consumers)]
      ]);
    }
    document.getElementById("details").innerHTML = html;
  }
})();
</script>
</body>
</html>
)html";

} // namespace

void write_dag_html(std::ostream& out, const Dag& dag, const Lineage& g, ArtifactDigests& digests,
                    const Project& project)
{
    // The document goes in compact, with '<' written as \u003c (the same
    // JSON text) so nothing in it can close the script element.
    out << k_page_head;
    write_dag_json(out, dag, g, digests, project, 0, true);
    out << k_page_tail;
}

} // namespace roar::cli
