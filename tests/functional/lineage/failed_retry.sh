# A run that fails after reading its input and its successful retry are
# one step with two executions; --expanded shows both, the failed one
# superseded with its exit code.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'id,value\n1,a\n' >input.csv
cat >might_fail.py <<'PY'
import os, sys
data = open("input.csv").read()
if os.environ.get("SHOULD_FAIL") == "true":
    sys.exit("simulated failure")
open(sys.argv[1], "w").write(data.upper())
PY
set +e
SHOULD_FAIL=true "$ROAR" run -q "$PY" might_fail.py output.json 2>/dev/null
rc=$?
set -e
assert_eq "$rc" 1 "failed run's exit status"
[[ ! -e output.json ]] || fail "the failed run wrote output.json"
d=$(dag_json)
assert_eq "$(dag_node "$d" .exit_code might_fail)" 1 "failed current execution"
assert_contains "$("$ROAR" dag)" "!" "failure mark"
run might_fail.py output.json
d=$(dag_json)
assert_eq "$(jq .total_steps <<<"$d")" 1 "failure and retry are one step"
assert_eq "$(dag_node "$d" .executions might_fail)" 2 "two executions"
assert_eq "$(dag_node "$d" .exit_code might_fail)" 0 "current execution succeeded"
ex=$(dag_json --expanded)
assert_eq "$(jq .is_expanded <<<"$ex")" true "is_expanded"
assert_eq "$(jq -c '[.nodes[] | [.state, .exit_code]]' <<<"$ex")" '[["superseded",1],["active",0]]' "expanded executions"
text=$("$ROAR" dag --expanded)
assert_contains "$text" "$(jq -r '.nodes[0].job_id' <<<"$ex")" "failed job listed"
assert_contains "$text" "exit 1" "failed exit shown"
assert_contains "$text" "superseded" "superseded shown"
echo ok
