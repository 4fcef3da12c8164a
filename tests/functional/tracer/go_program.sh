# A Go program (raw syscalls, several threads, os/exec's clone+execve) that
# reads, writes, renames, truncates, deletes, rewrites what it read and runs
# a child of itself: observed by the tracer, with b3sum's digests; with
# cgo (the shim loads into it but sees almost nothing) the tracer owns it
# and the shim stays out, so nothing is recorded twice.
. "$(dirname "$0")/tracer_lib.bash"
build_go go_io
new_project

d=$PROJECT/data
seed "$d"
in_b3=$(b3 "$d/in.txt")
rmw_b3=$(b3 "$d/rmw.txt")
job "$BIN/go_io" "$d"

check "the Go program runs to completion under the tracer"
assert_eq "$JOB_RC" 0 "exit status"
check "what it read is an input with the digest of the bytes it read"
assert_input "$d/in.txt" "$in_b3"
check "a file it read with os.ReadFile and then replaced with os.WriteFile (an open the filter does not stop) is an input with the digest of the bytes it read"
assert_input "$d/rmw.txt" "$rmw_b3"
assert_eq "$(jq -r --arg p "$d/rmw.txt" '[.inputs[] | select(.path == $p) | .notes[]?] | join("|")' <<<"$JOB")" "" \
  "notes of rmw.txt"
check "what it wrote, renamed and truncated, and what its child wrote, is an output with b3sum's digest"
for f in out.txt renamed.txt trunc.txt rmw.txt child.txt; do
  assert_output "$d/$f"
done
check "the file it deleted is deleted"
assert_deleted "$d/gone.txt"
check "the Go program and the child it started are observed by the tracer"
assert_eq "$(jq '[.processes[] | select(.observed == false)] | length' <<<"$JOB")" 0 "unobserved processes"
assert_eq "$(tracer_of "$d")" ptrace "tracer of the parent"
assert_eq "$(tracer_of child)" ptrace "tracer of the child"
assert_eq "$(jq -r '[.processes[] | .notes[]] | map(select(test("Go"))) | length' <<<"$JOB")" 0 "no 'Go binary' note"

check "threads: events of every thread carry the process's pid"
seed "$TEST_TMP/ev"
events "$BIN/go_io" "$TEST_TMP/ev"
assert_eq "$EVENTS_RC" 0 "roar-events exit"
parent=$(pid_of "$TEST_TMP/ev")
# (os.WriteFile's O_CREAT|O_TRUNC open runs unstopped: its OPEN names the
# absolute path /proc gives.)
assert_eq "$(q "[.[] | select(.op == \"open\" and (.s1 | endswith(\"/ev/out.txt\"))) | .pid] | unique | join(\",\")")" "$parent" "pid of out.txt's open"

# With cgo the binary is dynamically linked: the shim loads, finds itself
# traced and stays out; the tracer reports the process once.
build_go go_io go_io_cgo 1
seed "$PROJECT/cgo"
job "$BIN/go_io_cgo" "$PROJECT/cgo"
check "cgo: observed by the tracer alone, one process record per image"
assert_eq "$JOB_RC" 0 "exit status"
assert_output "$PROJECT/cgo/out.txt"
assert_output "$PROJECT/cgo/child.txt"
assert_eq "$(jq '[.processes[] | select(.tracer != "ptrace")] | length' <<<"$JOB")" 0 "records not from the tracer"
assert_eq "$(jq '[.processes[] | select(.notes | index("replaced by exec") | not)] | length' <<<"$JOB")" 2 "final images (parent and child)"
seed "$TEST_TMP/cgo-ev"
events "$BIN/go_io_cgo" "$TEST_TMP/cgo-ev"
assert_eq "$(q '[.[] | select(.op == "open" and (.s1 | endswith("/cgo-ev/out.txt")))] | length')" 1 "OPEN events of out.txt"
echo ok
