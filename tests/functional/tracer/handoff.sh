# Processes reach the tracer from the shim: a dynamically linked shell that
# runs a static program hands it over before execve (the EXEC's trace
# request), and a traced static program's dynamically linked child gets the
# shim again, which leaves the file syscalls to the tracer: nothing is
# recorded twice and nothing is missed.
. "$(dirname "$0")/tracer_lib.bash"
build_static file_ops
build_static spawn
new_project
d=$PROJECT/data
seed "$d"

job sh -c "'$BIN/file_ops' '$d' && cat '$d/out.txt' > '$d/shell.txt'"
check "a static program started by a shim process is traced"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(tracer_of "$d")" ptrace "tracer of file_ops"
assert_eq "$(jq -r '[.processes[] | select(.argv[0] == "sh")] | first | .tracer' <<<"$JOB")" shim "tracer of the shell"
for f in out.txt renamed.txt child.txt shell.txt; do
  assert_output "$d/$f"
done
assert_deleted "$d/gone.txt"
assert_eq "$(jq '[.processes[] | select(.observed == false)] | length' <<<"$JOB")" 0 "unobserved processes"

check "the hand-off is one EXEC with the trace request, then the tracer's PROC_START"
seed "$TEST_TMP/ev"
events sh -c "'$BIN/file_ops' '$TEST_TMP/ev'"
traced=$(pid_of "$TEST_TMP/ev")
assert_eq "$(q "[.[] | select(.op == \"exec\" and .pid == $traced) | .flags % 128 >= 64] | any")" true "EXEC with ROAR_EXEC_TRACE_REQUEST"
assert_eq "$(q "[.[] | select(.op == \"proc_start\" and .pid == $traced)] | last | .flags % 16 >= 8")" true "PROC_START from the tracer"

check "a dynamic child of a traced static program has the shim again, and each file event is published once"
printf 'for cat\n' >"$d/cat_in.txt"
events "$BIN/spawn" sh -c "cat '$d/cat_in.txt' > '$d/cat_out.txt'"
assert_eq "$EVENTS_RC" 0 "roar-events exit"
sh_pid=$(q '[.[] | select(.op == "proc_start" and .s1 == "/usr/bin/dash")] | last | .pid')
cat_pid=$(q '[.[] | select(.op == "proc_start" and ((.s1 // "") | test("/cat$")))] | last | .pid')
assert_eq "$(q "[.[] | select(.op == \"proc_start\" and .pid == $cat_pid)] | last | .flags % 32 >= 16")" true \
  "cat's PROC_START says ROAR_START_FS_TRACED"
assert_eq "$(q "[.[] | select(.op == \"open\" and ((.s1 // \"\") | test(\"cat_in.txt\")))] | length")" 1 "OPENs of cat_in.txt"
assert_eq "$(q "[.[] | select(.op == \"open\" and ((.s1 // \"\") | test(\"cat_out.txt\")))] | length")" 1 "OPENs of cat_out.txt"
assert_eq "$(q "[.[] | select(.op == \"open\" and ((.s1 // \"\") | test(\"cat_out.txt\")))][0].pid")" "$sh_pid" "the shell opens the redirection"
job "$BIN/spawn" sh -c "cat '$d/cat_in.txt' > '$d/cat_out2.txt'"
assert_input "$d/cat_in.txt" "$(b3 "$d/cat_in.txt")"
assert_output "$d/cat_out2.txt"
assert_eq "$(jq -r '[.processes[] | select(.argv[0] == "cat")] | last | .tracer' <<<"$JOB")" "shim+ptrace" "tracer of cat"
assert_eq "$(jq -r '[.processes[] | select(.argv[0] == "'"$BIN/spawn"'")] | last | .tracer' <<<"$JOB")" ptrace "tracer of spawn"
check "a thread other than the main one asks for the tracer and execs (it takes over the process id)"
if [[ -x /usr/bin/python3 ]]; then
  seed "$PROJECT/thread"
  job /usr/bin/python3 -c "
import os, sys, threading, time
threading.Thread(target=lambda: os.execv(sys.argv[1], [sys.argv[1], sys.argv[2]])).start()
time.sleep(30)
" "$BIN/file_ops" "$PROJECT/thread"
  assert_eq "$JOB_RC" 0 "exit status"
  assert_output "$PROJECT/thread/out.txt"
  assert_output "$PROJECT/thread/child.txt"
  assert_eq "$(tracer_of "$PROJECT/thread")" ptrace "tracer of file_ops"
fi
echo ok
