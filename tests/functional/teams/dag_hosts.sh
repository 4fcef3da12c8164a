#!/usr/bin/env bash
# `roar dag` on a shared store judges only what this machine can judge, as
# `roar status` does: two checkouts stand in for two machines (ROAR_HOST
# alpha and beta) in one PostgreSQL project. A file a job on alpha wrote is
# on alpha's disk: beta's dag neither calls it missing nor marks alpha's
# steps stale from beta's disk, shows it as not checked here, and judges a
# path both hosts wrote against beta's own write. `roar run @N` on beta
# notes stale upstream steps by the same rule. A SQLite project (one
# disk) shows every job's files as before.
. "$(dirname "$0")/../lib/common.sh"

check "on SQLite, dag still checks files of a job recorded under another host name"
new_project sqlite
echo one >in.txt
ROAR_HOST=old-container "$ROAR" run -q cp in.txt out.txt
rm out.txt
assert_contains "$(ROAR_HOST=new-container "$ROAR" dag --show-artifacts)" "(missing on disk)" "dag text on SQLite"
json=$(ROAR_HOST=new-container "$ROAR" dag --json --show-artifacts)
assert_eq "$(jq -c '[has("not_checked_here"), ([.artifacts[] | has("host")] | any)]' <<<"$json")" '[false,false]' \
  "not_checked_here and artifact hosts on SQLite"

start_postgres
mkdir -p "$TEST_TMP/alpha" "$TEST_TMP/beta" "$TEST_TMP/nfs"
for h in alpha beta; do
  (cd "$TEST_TMP/$h" && "$ROAR" init --store "$PG_URL" --join shared >/dev/null)
done
shared=$TEST_TMP/nfs/churn.txt # a path both hosts write, each on its own disk
copy=$TEST_TMP/nfs/alpha-copy.txt
same=$TEST_TMP/nfs/same.txt # the same bytes written on both hosts

# beta writes the shared path and reads it; alpha writes its own output,
# then the shared path with other content, and copies that to a file beta
# later reads (the same bytes on a shared file system). alpha's own files
# and its content of the shared path are not on beta's disk.
# Both also write the same bytes at one path.
cd "$TEST_TMP/beta"
ROAR_HOST=beta "$ROAR" run -q sh -c "echo same > $same"
ROAR_HOST=beta "$ROAR" run -q sh -c "echo beta > $shared"
ROAR_HOST=beta "$ROAR" run -q sh -c "cat $shared > from-churn.txt"
cd "$TEST_TMP/alpha"
echo seed >seed.txt
ROAR_HOST=alpha "$ROAR" run -q sh -c 'cat seed.txt > made-on-alpha.txt'
ROAR_HOST=alpha "$ROAR" run -q sh -c "echo alpha > $shared"
ROAR_HOST=alpha "$ROAR" run -q sh -c "cat $shared > $copy"
ROAR_HOST=alpha "$ROAR" run -q sh -c "echo same > $same"
rm seed.txt made-on-alpha.txt
echo beta >"$shared"
cd "$TEST_TMP/beta"
ROAR_HOST=beta "$ROAR" run -q sh -c "cat $copy > model.txt"

text=$(ROAR_HOST=beta "$ROAR" dag --show-artifacts)
json=$(ROAR_HOST=beta "$ROAR" dag --json --show-artifacts)

check "alpha's outputs are not reported missing in beta's dag"
assert_not_contains "$text" "missing on disk" "dag text on beta"
assert_contains "$text" "made-on-alpha.txt" "dag text on beta"
assert_contains "$text" "(not checked here, recorded on alpha)" "dag text on beta"
assert_eq "$(jq -c '[.artifacts[] | select(.on_disk == "missing" or .on_disk == "modified") | .path]' <<<"$json")" \
  '[]' "artifacts missing or modified on beta"

check "no step is marked stale from beta's disk"
assert_contains "$text" "Pipeline: 8 steps"$'\n' "dag text on beta (no stale count)"
assert_eq "$(jq -c '[.stale_count, ([.nodes[] | select(.is_stale)] | length)]' <<<"$json")" '[0,0]' \
  "stale steps on beta"

check "the shared path is judged against beta's own write"
entry=$(jq -c --arg p "$shared" '[.artifacts[] | select(.path == $p and (has("host") | not))]' <<<"$json")
assert_eq "$(jq -c '[.[] | {state, on_disk, digest}]' <<<"$entry")" \
  "[{\"state\":\"active\",\"on_disk\":\"present\",\"digest\":\"$(b3 "$shared")\"}]" "beta's entry of the shared path"
assert_eq "$(jq -c --arg p "$shared" '[.artifacts[] | select(.path == $p and .host == "alpha") | .on_disk]' <<<"$json")" \
  '["unchecked"]' "alpha's entry of the shared path"

check "split entries have distinct ids, and only other machines' carry a host"
assert_eq "$(jq -c --arg p "$same" '[.artifacts[] | select(.path == $p) | .host]' <<<"$json")" '[null,"alpha"]' \
  "entries of the path both hosts wrote with the same bytes"
assert_eq "$(jq '[.artifacts[].id] | (length == (unique | length))' <<<"$json")" true "artifact ids unique"
assert_eq "$(jq -c '[.artifacts[] | select(has("host")) | .host] | unique' <<<"$json")" '["alpha"]' "artifact hosts"
assert_eq "$(jq -c '[.artifacts[] | select(has("host") | not) | .path | select(endswith("made-on-alpha.txt"))]' \
  <<<"$json")" '[]' "alpha's output without a host"
dot=$(ROAR_HOST=beta "$ROAR" dag --format dot --show-artifacts)
assert_contains "$dot" "[alpha] $shared" "dot label of alpha's entry"
assert_eq "$(grep 'shape=note.*nfs/same.txt' <<<"$dot" | awk '{print $1}' | sort -u | wc -l)" 2 \
  "dot nodes of the path both hosts wrote with the same bytes"

check "dag names what it did not check here"
assert_contains "$text" "Not checked here: 5 files recorded by jobs on another host (alpha); run 'roar dag' there" \
  "dag text on beta"
assert_eq "$(jq -c '.not_checked_here' <<<"$json")" '{"datasets":0,"files":5,"hosts":["alpha"]}' \
  "not_checked_here on beta"

check "roar run @N on beta notes no stale upstream step from beta's disk"
model=$(jq -r '.nodes[] | select(.command | contains("model.txt")) | .step' <<<"$json")
assert_eq "$(jq -c --argjson s "$model" '.nodes[] | select(.step == $s) | .dependencies | length' <<<"$json")" 1 \
  "beta's model step depends on alpha's copy step"
err=$(ROAR_HOST=beta "$ROAR" run "@$model" 2>&1 >/dev/null)
assert_contains "$err" "re-running @$model" "roar run @$model on beta"
assert_not_contains "$err" "depends on stale step" "roar run @$model on beta"

check "on alpha, alpha's missing output is reported missing and beta's files are not checked"
cd "$TEST_TMP/alpha"
text=$(ROAR_HOST=alpha "$ROAR" dag --show-artifacts)
assert_contains "$text" "(missing on disk)" "dag text on alpha"
assert_contains "$text" "Not checked here: " "dag text on alpha"
assert_contains "$text" "recorded by jobs on another host (beta)" "dag text on alpha"
