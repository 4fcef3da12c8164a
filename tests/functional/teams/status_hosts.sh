#!/usr/bin/env bash
# `roar status` on a shared store judges only what this machine can judge:
# two checkouts stand in for two machines (ROAR_HOST alpha and beta) in one
# PostgreSQL project. A file a job on alpha wrote is on alpha's disk, not
# beta's: beta neither calls it missing nor checks it, and says so; a path
# both hosts write is judged against this host's own latest write. A
# SQLite project (one checkout, one disk) checks every job's files even
# after the host name changed.
. "$(dirname "$0")/../lib/common.sh"

check "on SQLite, files of a job recorded under another host name are still checked"
new_project sqlite
echo one >in.txt
ROAR_HOST=old-container "$ROAR" run -q cp in.txt out.txt
rm out.txt
text=$(ROAR_HOST=new-container "$ROAR" status)
assert_contains "$text" "0 modified, 1 missing" "status after a host name change"
assert_not_contains "$text" "Not checked here" "status on SQLite"
assert_eq "$(ROAR_HOST=new-container "$ROAR" status --json | jq -c 'has("not_checked_here")')" false \
  "not_checked_here on SQLite"

start_postgres
mkdir -p "$TEST_TMP/alpha" "$TEST_TMP/beta" "$TEST_TMP/nfs"
for h in alpha beta; do
  (cd "$TEST_TMP/$h" && "$ROAR" init --store "$PG_URL" --join shared >/dev/null)
done
shared=$TEST_TMP/nfs/churn.txt # a path every host uses, each on its own disk

# beta writes the shared path and reads it back; alpha writes its own
# output and, later, the shared path with other content, and reads it. alpha's writes
# land on alpha's disk: here they are undone, as beta's disk never saw them.
cd "$TEST_TMP/beta"
ROAR_HOST=beta "$ROAR" run -q sh -c "echo beta > $shared"
ROAR_HOST=beta "$ROAR" run -q sh -c "cat $shared > from-churn.txt"
cd "$TEST_TMP/alpha"
echo seed >seed.txt
ROAR_HOST=alpha "$ROAR" run -q sh -c 'cat seed.txt > made-on-alpha.txt'
ROAR_HOST=alpha "$ROAR" run -q sh -c "echo alpha > $shared"
ROAR_HOST=alpha "$ROAR" run -q sh -c "cat $shared > alpha-copy.txt"
rm seed.txt made-on-alpha.txt alpha-copy.txt
echo beta >"$shared"

cd "$TEST_TMP/beta"
text=$(ROAR_HOST=beta "$ROAR" status)
json=$(ROAR_HOST=beta "$ROAR" status --json)

check "another host's outputs are not reported missing here"
assert_not_contains "$text" "missing   " "status text on beta"
assert_eq "$(jq -c '.counts | {missing, modified}' <<<"$json")" '{"missing":0,"modified":0}' "counts on beta"
assert_eq "$(jq -c '[.files[].path | select(endswith("made-on-alpha.txt") or endswith("seed.txt"))]' <<<"$json")" \
  '[]' "alpha's files among beta's checked files"

check "a path both hosts wrote is judged against this host's own latest write"
entry=$(jq -c --arg p "$shared" '.files[] | select(.path == $p)' <<<"$json")
assert_eq "$(jq -r .state <<<"$entry")" present "state of the shared path on beta"
assert_eq "$(jq -r .recorded_digest <<<"$entry")" "$(b3 "$shared")" "recorded digest of the shared path on beta"

check "no step is stale from the other host's write or from this disk's copy of alpha's path"
assert_contains "$text" "Stale steps: none" "status text on beta"
assert_eq "$(jq -c '.stale_steps' <<<"$json")" '[]' "stale steps on beta"

check "status names what it did not check here"
assert_contains "$text" "Not checked here: 4 files recorded by jobs on another host (alpha); run 'roar status' there" \
  "status text on beta"
assert_eq "$(jq -c '.not_checked_here' <<<"$json")" '{"datasets":0,"files":4,"hosts":["alpha"]}' \
  "not_checked_here on beta"

check "--all-hosts lists the other hosts' files as unknown"
all=$(ROAR_HOST=beta "$ROAR" status --all-hosts --json)
assert_eq "$(jq -c '[.files[] | select(.state == "unknown") | .host] | unique' <<<"$all")" '["alpha"]' \
  "hosts of the unknown files"
assert_eq "$(jq '[.files[] | select(.state == "unknown")] | length' <<<"$all")" 4 "unknown files"
assert_eq "$(jq -c '.counts' <<<"$all")" "$(jq -c '.counts' <<<"$json")" "counts with --all-hosts"
assert_contains "$(ROAR_HOST=beta "$ROAR" status --all-hosts)" "unknown   $TEST_TMP/alpha/made-on-alpha.txt  (recorded on alpha)" \
  "status --all-hosts text"

check "on alpha, alpha's files are checked against its disk"
cd "$TEST_TMP/alpha"
text=$(ROAR_HOST=alpha "$ROAR" status)
assert_contains "$text" "missing   made-on-alpha.txt" "status text on alpha"
assert_contains "$text" "Not checked here: 2 files recorded by jobs on another host (beta)" "status text on alpha"
assert_eq "$(ROAR_HOST=alpha "$ROAR" status --json | jq -r --arg p "$shared" '.files[] | select(.path == $p) | .state')" \
  modified "the shared path on alpha (holds beta's content)"

check "a step here that read what a job on another host wrote at the same path is stale when that job is"
# On a shared file system: alpha makes features from raw data, beta
# trains on them; then alpha re-produces the raw data with other content.
# alpha's step is stale by alpha's record, and so is beta's, downstream.
echo r1 >"$TEST_TMP/nfs/raw.txt"
cd "$TEST_TMP/alpha"
ROAR_HOST=alpha "$ROAR" run -q sh -c "cat $TEST_TMP/nfs/raw.txt > $TEST_TMP/nfs/features.txt"
cd "$TEST_TMP/beta"
ROAR_HOST=beta "$ROAR" run -q sh -c "cat $TEST_TMP/nfs/features.txt > model.txt"
cd "$TEST_TMP/alpha"
ROAR_HOST=alpha "$ROAR" run -q sh -c "echo r2 > $TEST_TMP/nfs/raw.txt"
cd "$TEST_TMP/beta"
json=$(ROAR_HOST=beta "$ROAR" status --json)
train=$(jq -c '.stale_steps[] | select(.command | contains("model.txt"))' <<<"$json")
[[ -n $train ]] || fail "beta's step is not stale: $(jq -c .stale_steps <<<"$json")"
assert_contains "$(jq -r '.reasons[0]' <<<"$train")" "upstream step" "why beta's step is stale"
assert_eq "$(jq -r '.host' <<<"$train")" beta "where beta's stale step ran, in --json"
assert_eq "$(jq -r --arg c "cat $TEST_TMP/nfs/raw.txt" '.stale_steps[] | select(.command | contains($c)) | .host' \
  <<<"$json")" alpha "where alpha's stale step ran, in --json"
assert_eq "$(jq -r --arg p "$TEST_TMP/nfs/features.txt" '.files[] | select(.path == $p) | .state' <<<"$json")" \
  present "the shared features on beta's disk"
assert_contains "$(ROAR_HOST=beta "$ROAR" status)" "[alpha] sh -c 'cat $TEST_TMP/nfs/raw.txt" \
  "the other host's stale step in the text, with its host"
