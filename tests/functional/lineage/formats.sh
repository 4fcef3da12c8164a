# roar dag --format dot|mermaid and --html: the graph sources name every
# step and mark stale ones; the HTML page is one file with nothing fetched
# from the network and the dag document embedded.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
for s in prep train; do write_copy_script $s.py; done
run prep.py input.csv features.csv
run train.py features.csv model.bin
printf 'id,value\n1,b\n' >input.csv
run prep.py input.csv features.csv

dot=$("$ROAR" dag --format dot)
assert_contains "$dot" "digraph roar {" "dot header"
assert_contains "$dot" 'n__1 -> n__2 [label="features.csv"];' "dot edge"
assert_contains "$dot" "@2 (stale)" "dot stale label"
if command -v dot >/dev/null; then dot -Tsvg <<<"$dot" >/dev/null || fail "dot rejects the output"; fi
dota=$("$ROAR" dag --format dot --show-artifacts)
assert_contains "$dota" "shape=note" "artifacts as nodes"
mm=$("$ROAR" dag --format mermaid)
assert_contains "$mm" "flowchart LR" "mermaid header"
assert_contains "$mm" 'n__1 -->|"features.csv"| n__2' "mermaid edge"
assert_contains "$mm" ":::stale" "mermaid stale class"

"$ROAR" dag --html dag.html 2>err.txt
assert_contains "$(cat err.txt)" "Wrote dag.html" "html message"
html=$(cat dag.html)
assert_contains "$html" '<script id="dag-data" type="application/json">' "embedded data"
# No external resources: the only URL is the SVG namespace.
urls=$(grep -oE "(https?:)?//[a-zA-Z0-9.-]+" dag.html | sort -u | tr '\n' ' ')
assert_eq "$urls" "http://www.w3.org " "urls in the page"
assert_not_contains "$html" "<link " "no stylesheets fetched"
assert_not_contains "$html" "<script src" "no scripts fetched"
# The embedded document equals dag --json --show-artifacts.
embedded=$(sed -n 's|.*<script id="dag-data" type="application/json">\(.*\)</script>.*|\1|p' dag.html)
assert_eq "$(jq -c '[.nodes[].id, .artifacts[].id]' <<<"$embedded")" \
  "$(dag_json --show-artifacts | jq -c '[.nodes[].id, .artifacts[].id]')" "embedded graph"
echo ok
