# A traced (static) program's fds received over a Unix socket (SCM_RIGHTS)
# are learnt from /proc at their close, like the fds of unstopped opens:
# a write-capable one counts as written when the file's inode changed
# while the job ran, so the child that appended through it is the
# output's writer, and one received and closed unused while the file did
# not change is no output (docs/coverage.md). The shim's side is
# preload/scm_rights.
. "$(dirname "$0")/tracer_lib.bash"
gcc -static -O1 -o "$BIN/scm_rights" "$ROAR_SOURCE_DIR/tests/functional/preload/progs/scm_rights.c" \
  2>"$TEST_TMP/cc.err" || skip "no static glibc: $(cat "$TEST_TMP/cc.err")"
new_project
echo hello >in.txt
echo first >app.txt
echo first >idle.txt
sleep 1.1 # the files' ctime must predate the job's start

job "$BIN/scm_rights" in.txt app.txt msg
check "the received append fd makes the file an output written by the child"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(tracer_of msg)" ptrace "tracer"
assert_output "$PROJECT/app.txt"
root=$(jq -r '.processes[0].pid' <<<"$JOB")
writer=$(jq -r --arg p "$PROJECT/app.txt" '.outputs[] | select(.path == $p) | .pid' <<<"$JOB")
[[ $writer != "$root" ]] || fail "app.txt attributed to the parent"
assert_eq "$(io_paths "$JOB" inputs)" "$PROJECT/in.txt" "inputs"

job "$BIN/scm_rights" in.txt idle.txt idle
check "a received write fd closed unused, the file unchanged, is no output"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(io_paths "$JOB" outputs)" "" "outputs"
echo ok
