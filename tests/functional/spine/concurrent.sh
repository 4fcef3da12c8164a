# Two roar runs at the same time in one project both land completely.
. "$(dirname "$0")/../lib/common.sh"
need python3
new_project
cat >slow.py <<'PY'
import sys, time
for i in range(20):
    with open(f"{sys.argv[1]}-{i}.txt", "w") as f:
        f.write(f"{sys.argv[1]} {i}\n")
    time.sleep(0.02)
PY
"$ROAR" run -q "$PYTHON" slow.py left &
p1=$!
"$ROAR" run -q "$PYTHON" slow.py right &
p2=$!
wait $p1
wait $p2
log=$("$ROAR" log --json)
assert_eq "$(jq length <<<"$log")" 2 "both jobs stored"
for side in left right; do
  id=$(jq -r --arg s "$side" '.[] | select(.command | endswith($s)) | .job_id' <<<"$log")
  j=$(show_json "$id")
  assert_eq "$(jq '.outputs | length' <<<"$j")" 20 "$side outputs"
  assert_eq "$(jq --arg s "$side" '[.outputs[].path | select(contains($s))] | length' <<<"$j")" 20 "$side's own files"
done
echo ok
