# roar reset starts a new session: the pipeline is empty, the next job is
# @1 again, and the old jobs stay visible by job id and in the log.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'a\n' >in.txt
write_copy_script copy.py
run copy.py in.txt a.txt
run copy.py a.txt b.txt
old=$(show_json @2 | jq -r .job_id)
out=$("$ROAR" reset)
assert_contains "$out" "Started session 2" "reset message"
assert_contains "$out" "2 jobs stay" "reset counts the old jobs"
assert_contains "$("$ROAR" dag)" "Pipeline: 0 steps" "empty after reset"
expect_failure "$ROAR" show @2
run copy.py a.txt c.txt
j=$(show_json @1)
assert_eq "$(jq .session <<<"$j")" 2 "new job in session 2"
assert_eq "$(jq -r '.argv[-1]' <<<"$j")" c.txt "@1 is the new job"
assert_eq "$(show_json "$old" | jq .session)" 1 "old job still there"
assert_eq "$("$ROAR" log --json | jq length)" 3 "log keeps every job"
assert_eq "$(dag_json | jq .total_steps)" 1 "new session's pipeline"
echo ok
