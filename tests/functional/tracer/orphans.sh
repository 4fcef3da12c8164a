# The tracer's thread and roar run's reaping share one wait queue (ptrace
# stops are reported to any thread of the tracer's process): while the
# tracer runs it is the only waiter and hands exits to the launcher. A
# traced program that leaves an orphan behind, many short-lived traced
# processes, and an untraced shell around them: every exit is seen, roar
# waits for the orphan, and nothing is lost or stuck.
. "$(dirname "$0")/tracer_lib.bash"
build_static orphan
build_static spawn
new_project
mkdir -p out

job "$BIN/orphan" "$PROJECT/out"
check "roar run waits for an orphan of a traced program and records what it wrote"
assert_eq "$JOB_RC" 0 "exit status of the root"
assert_output "$PROJECT/out/orphan.txt"
assert_eq "$(jq '[.processes[] | select(.exit_code == 7)] | length' <<<"$JOB")" 1 "the orphan's exit status"

rm -f out/orphan.txt
job sh -c "'$BIN/orphan' '$PROJECT/out'; for i in 1 2 3 4 5 6 7 8; do '$BIN/spawn' sh -c \"echo \$i > '$PROJECT/out/f\$i.txt'\" & done; wait"
check "an untraced shell with traced children and their children: every output, every exit"
assert_eq "$JOB_RC" 0 "exit status"
assert_output "$PROJECT/out/orphan.txt"
for i in 1 2 3 4 5 6 7 8; do
  assert_output "$PROJECT/out/f$i.txt"
done
assert_eq "$(jq '[.processes[] | select((.notes | index("replaced by exec") | not) and .exit_code == null)] | length' <<<"$JOB")" 0 \
  "processes without an exit status"
echo ok
