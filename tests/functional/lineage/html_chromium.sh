# The dag HTML page in headless Chromium: renders, one drawn node per node
# of the JSON, clicking shows details, no network; the screenshot is kept
# in the build tree (Testing/lineage-dag.png). A project with thousands of
# artifacts gets a steps-only page (Testing/lineage-dag-steps-only.png).
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
need node
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x "$CHROMIUM" ]] || skip "chromium is not installed (packaging/install-deps.sh --test)"
NODE_DIR=$ROAR_SOURCE_DIR/tests/functional/node
[[ -d "$NODE_DIR/node_modules/playwright-core" ]] || skip "playwright-core is not installed (tests/functional/node/install.sh)"
new_project
printf 'id,value\n1,a\n' >input.csv
for s in extract_features_a extract_features_b combine train evaluate; do write_copy_script $s.py; done
run extract_features_a.py input.csv features_a.csv
run extract_features_b.py input.csv features_b.csv
run combine.py features_a.csv features_b.csv combined.json
run train.py combined.json model.pkl
run evaluate.py model.pkl metrics.json
printf 'id,value\n1,b\n' >input.csv
run extract_features_a.py input.csv features_a.csv
"$ROAR" dag --html "$PROJECT/dag.html" 2>/dev/null
dag_json --show-artifacts >"$PROJECT/dag.json"
assert_eq "$(jq .stale_count "$PROJECT/dag.json")" 4 "stale steps to draw (b read the old input)"
mkdir -p "$ROAR_BUILD_DIR/Testing"
shot=$ROAR_BUILD_DIR/Testing/lineage-dag.png
cp "$ROAR_SOURCE_DIR/tests/functional/lineage/html_chromium.mjs" "$NODE_DIR/.html_chromium.$$.mjs"
on_exit rm -f "$NODE_DIR/.html_chromium.$$.mjs"
CHROMIUM=$CHROMIUM node "$NODE_DIR/.html_chromium.$$.mjs" "$PROJECT/dag.html" "$PROJECT/dag.json" "$shot" "$TEST_TMP/profile"
[[ -s "$shot" ]] || fail "no screenshot at $shot"

# A project with more artifacts than a page can draw: steps only, and the
# page and the command both say so.
big=$TEST_TMP/big
mkdir -p "$big" && cd "$big" && "$ROAR" init >/dev/null
"$PY" "$ROAR_SOURCE_DIR/bench/gen_lineage_db.py" --db .roar/roar.db --jobs 400 --artifacts 36000 >/dev/null
"$ROAR" dag --html big.html 2>err.txt
assert_contains "$(cat err.txt)" "too many to draw, so the page shows the steps only" "steps-only message"
sed -n 's|.*<script id="dag-data" type="application/json">\(.*\)</script>.*|\1|p' big.html >big.json
[[ $(jq .artifacts_omitted big.json) -gt 2000 ]] || fail "artifacts_omitted: $(jq .artifacts_omitted big.json)"
assert_eq "$(jq '.artifacts | length' big.json)" 0 "no artifacts drawn"
assert_eq "$(jq '.nodes | length' big.json)" "$(dag_json | jq '.nodes | length')" "every step drawn"
CHROMIUM=$CHROMIUM node "$NODE_DIR/.html_chromium.$$.mjs" "$big/big.html" "$big/big.json" \
  "$ROAR_BUILD_DIR/Testing/lineage-dag-steps-only.png" "$TEST_TMP/profile2"
echo ok
