#!/usr/bin/env bash
# The "Downstream steps are stale" line after `roar run` on a shared store
# judges as `roar status` does: a step on another machine that read that
# machine's own copy of a path is not made stale by a job here writing the
# same path on this disk. One checkout at one path stands in for a
# checkout at the same path on every node of a cluster (ROAR_HOST alpha
# and beta), in one PostgreSQL project.
. "$(dirname "$0")/../lib/common.sh"
start_postgres
mkdir -p "$TEST_TMP/work"
cd "$TEST_TMP/work"
"$ROAR" init --store "$PG_URL" --join shared >/dev/null
# One step on every machine: the same command, writing churn.txt from src.txt.
make_churn() { # host content
  echo "$2" >src.txt
  ROAR_HOST=$1 "$ROAR" run sh -c "cat src.txt > churn.txt" 2>&1 # not -q: that hides the report
}
make_churn alpha a1 >/dev/null
ROAR_HOST=alpha "$ROAR" run -q sh -c "cat churn.txt > report.txt"

check "a job here re-writing a path another machine's step read from its own disk reports no stale step"
err=$(make_churn beta b1)
assert_eq "$("$ROAR" log --json | jq -c '[.[].host]')" '["alpha","alpha","beta"]' "hosts of the jobs"
assert_eq "$("$ROAR" dag --json | jq '.nodes | length')" 2 "steps (make_churn is one on both machines)"
assert_not_contains "$err" "Downstream steps are stale" "roar run's report on beta"

check "the same re-write on the machine whose step read the path reports that step stale"
err=$(make_churn alpha a2)
assert_contains "$err" "Downstream steps are stale: @2" "roar run's report on alpha"
