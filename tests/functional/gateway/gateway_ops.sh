# The operator commands of the binary against two moto backends on
# loopback (A checks SigV4, B does not): `roar-proxy --gateway FILE sync`
# imports objects already in a backend bucket (a dry run changes nothing,
# a second run skips what is known, quota is counted, a key known with other
# content is a conflict: exit 3), and `roar-proxy --gateway FILE rebalance`
# moves objects off a backend above its high water mark, verifies each
# copy and deletes the source (a dry run only plans); the imported and
# moved objects read back through the gateway byte for byte; errors are one
# line with exit 1.
source "$(dirname "$0")/lib_gateway.sh"
need curl jq
start_backend_a
start_backend_b

new_gateway_url
# b holds 930 000 of its 1 000 000 bytes after the import: above 90 %.
cat >"$TEST_TMP/gw.toml" <<EOF
$(gateway_toml_head "$GW_PORT" "sqlite://$TEST_TMP/gw.db")
$(backends_toml 1048576 1000000 "")
$(data_bucket_toml)

[rebalance]
high_water = 0.9
low_water = 0.8
EOF
gw() { "$PROXY" --gateway "$TEST_TMP/gw.toml" "$@"; }
# used NAME: backend NAME's used_bytes from the admin API of the running gateway.
used() { "$PROXY" admin backends status | jq -r --arg n "$1" '.backends[] | select(.name == $n) | .used_bytes'; }

# Objects written to b before the gateway knew it: three under the
# bucket's prefix, one outside every bucket.
for i in 1 2 3; do head -c 310000 /dev/urandom >"$TEST_TMP/obj$i.bin"; done
static "$TEST_TMP" <<PY
$PYHEAD
for i in (1, 2, 3):
    b.put_object(Bucket="store-b", Key="data/old/obj%d.bin" % i, Body=open("%s/obj%d.bin" % (sys.argv[1], i), "rb").read())
b.put_object(Bucket="store-b", Key="elsewhere/x.bin", Body=b"not a gateway object")
PY

check "sync --dry-run classifies the backend's objects and changes nothing"
gw sync --backend b --dry-run >"$TEST_TMP/dry.txt" 2>"$TEST_TMP/dry.err"
assert_contains "$(cat "$TEST_TMP/dry.txt")" "sync of backend b (dry run: nothing changed): 4 objects listed"
assert_contains "$(cat "$TEST_TMP/dry.txt")" "would import 3 new objects and 0 copies of known objects (930000 bytes)"
assert_contains "$(cat "$TEST_TMP/dry.txt")" "0 already known, 0 conflicts left alone, 1 outside every bucket"
assert_contains "$(cat "$TEST_TMP/dry.err")" "sync: 4 listed, 3 imported" "progress on stderr"

check "sync imports them with their quota, and reports progress and a JSON summary"
gw sync --backend b --json >"$TEST_TMP/sync.json" 2>"$TEST_TMP/sync.err"
assert_eq "$(jq -c '[.imported, .known, .unmapped, .bytes_imported, .dry_run]' "$TEST_TMP/sync.json")" \
  '[3,0,1,930000,false]' "the import (the dry run imported nothing)"
assert_eq "$(wc -l <"$TEST_TMP/sync.json")" 1 "one JSON object on stdout"
assert_contains "$(cat "$TEST_TMP/sync.err")" "sync: 4 listed" "progress on stderr"

check "a second sync skips the known objects"
assert_eq "$(gw sync --backend b --json 2>/dev/null | jq -c '[.imported, .known]')" '[0,3]' "second run"

check "the imported objects read back through the gateway and count against b's quota"
start_gateway gateway "$TEST_TMP/gw.toml"
assert_eq "$(used b)" 930000 "b's used bytes"
static "$TEST_TMP" <<PY
$PYHEAD
listed = [o["Key"] for o in gw.list_objects_v2(Bucket="data").get("Contents", [])]
assert listed == ["old/obj1.bin", "old/obj2.bin", "old/obj3.bin"], listed
for i in (1, 2, 3):
    body = gw.get_object(Bucket="data", Key="old/obj%d.bin" % i)["Body"].read()
    assert body == open("%s/obj%d.bin" % (sys.argv[1], i), "rb").read(), i
PY

check "a key known with other content is a conflict, left alone, exit 3"
static <<PY
$PYHEAD
a.put_object(Bucket="store-a", Key="data/old/obj1.bin", Body=b"other content")
PY
set +e
gw sync --backend a >"$TEST_TMP/conflict.txt" 2>/dev/null
rc=$?
set -e
assert_eq "$rc" 3 "exit code with a conflict"
assert_contains "$(cat "$TEST_TMP/conflict.txt")" "0 already known, 1 conflicts left alone"
static <<PY
$PYHEAD
a.delete_object(Bucket="store-a", Key="data/old/obj1.bin")
PY
# The commands below run with the gateway stopped, so its worker does not
# take the rebalance's deletions.
kill -TERM "$GW_PID"
wait "$GW_PID" || fail "the gateway exited with $?"

check "rebalance --dry-run plans a move off b and changes nothing"
gw rebalance --dry-run >"$TEST_TMP/plan.txt"
assert_contains "$(cat "$TEST_TMP/plan.txt")" \
  "rebalance (high water 90%, low water 80%), dry run: nothing changed: 1 moves planned (310000 bytes)"
assert_contains "$(cat "$TEST_TMP/plan.txt")" "planned default/data/old/obj" "the planned move"
assert_contains "$(cat "$TEST_TMP/plan.txt")" "(310000 bytes) b -> a"
assert_eq "$(gw rebalance --dry-run --high-water 0.95 --json | jq .planned)" 0 "nothing above a 95 % mark"

check "rebalance moves one object to a, verifies it and deletes the source"
gw rebalance --json >"$TEST_TMP/rebalance.json" 2>"$TEST_TMP/rebalance.err"
assert_eq "$(jq -c '[.moved, .skipped, .bytes_moved, .copies_removed]' "$TEST_TMP/rebalance.json")" \
  '[1,0,310000,1]' "the move"
moved_key=$(jq -r '.moves[0].key' "$TEST_TMP/rebalance.json")
assert_contains "$(cat "$TEST_TMP/rebalance.err")" "rebalance: moved default/data/$moved_key b -> a" "progress on stderr"
static "$moved_key" <<PY
$PYHEAD
key = sys.argv[1]
on_a = keys(a, "store-a", "data/" + key)
on_b = keys(b, "store-b", "data/" + key)
assert len(on_a) == 1 and on_b == [], (on_a, on_b)
PY
start_gateway gateway2 "$TEST_TMP/gw.toml"
assert_eq "$(used b)" 620000 "b's used bytes after the move"
assert_eq "$(used a)" 310000 "a's used bytes after the move"
static "$TEST_TMP" "$moved_key" <<PY
$PYHEAD
n = sys.argv[2][len("old/obj")]
body = gw.get_object(Bucket="data", Key=sys.argv[2])["Body"].read()
assert body == open("%s/obj%s.bin" % (sys.argv[1], n), "rb").read(), "moved object differs"
PY

check "a second rebalance finds nothing to do"
assert_eq "$(gw rebalance --json | jq -c '[.planned, .moved]')" '[0,0]' "nothing left above the mark"

check "errors are one line with exit 1"
for args in "sync --backend zzz" "rebalance --high-water 0.5 --low-water 0.6"; do
  set +e
  # shellcheck disable=SC2086
  err=$(gw $args 2>&1 >/dev/null)
  rc=$?
  set -e
  assert_eq "$rc" 1 "exit code of $args"
  assert_eq "$(wc -l <<<"$err")" 1 "one line from $args"
done
assert_contains "$(gw sync --backend zzz 2>&1 || true)" 'roar-proxy: sync: no [[backend]] is named "zzz" (backends: a, b)'
set +e
err=$("$PROXY" sync --backend b 2>&1)
rc=$?
set -e
assert_eq "$rc" 1 "sync without --gateway"
assert_eq "$err" "roar-proxy: sync: name the gateway's configuration with --gateway FILE before 'sync'" "its message"
echo "gateway operations ok"
