# Opens that create or replace a whole file (a write access mode, O_CREAT,
# and O_TRUNC or O_EXCL) run without a ptrace stop: the tracer learns their
# fds from /proc at the process's next stop that needs them and publishes
# the OPEN then, marked learnt. Each hazard of that delay is checked here
# with the record: a rename, unlink or ftruncate before the close, a death
# by signal, a dup, an exec, a CLONE_FILES sibling, a file read before it
# is replaced (its digest taken when its read was learnt, unless it is over
# 1 MiB or its inode changed during the job), a file another process reads
# while the writer still has it open, and O_TMPFILE + linkat; plus the stop count of a create+write+close
# loop (one stop per iteration: the close).
. "$(dirname "$0")/tracer_lib.bash"
build_static write_modes
new_project
mkdir -p out

# writer_of PATH: the pid the record names as PATH's writer.
writer_of() { jq -r --arg p "$1" '.outputs[] | select(.path == $p) | .pid // empty' <<<"$JOB"; }
# input_notes PATH: the notes of input PATH, joined by '|'.
input_notes() { jq -r --arg p "$1" '[.inputs[] | select(.path == $p) | .notes[]?] | join("|")' <<<"$JOB"; }

job "$BIN/write_modes" rename out/tmp.part out/final.txt
check "a file written, then renamed before its close, is an output under its new name only"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(io_paths "$JOB" outputs)" "$PROJECT/out/final.txt" "outputs"
assert_output "$PROJECT/out/final.txt"
assert_eq "$(cat out/final.txt)" "written by write_modes
after the rename" "the file"

job "$BIN/write_modes" unlink out/scratch.txt
check "a file written and unlinked before its close is neither an output nor deleted"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(io_paths "$JOB" outputs)" "" "outputs"
assert_eq "$(jq -r '.deleted | length' <<<"$JOB")" 0 "deleted"

job "$BIN/write_modes" truncate out/cut.txt
check "a file written and cut by ftruncate before its close is an output with its final bytes"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(cat out/cut.txt)" "written" "the file"
assert_output "$PROJECT/out/cut.txt"

job "$BIN/write_modes" killed out/dying.txt
check "a file still open when a signal kills its writer is an output"
assert_eq "$JOB_RC" 143 "exit status (SIGTERM)"
assert_output "$PROJECT/out/dying.txt"

job "$BIN/write_modes" dup out/duped.txt
check "a file written through a dup2 copy is an output, once"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(io_paths "$JOB" outputs)" "$PROJECT/out/duped.txt" "outputs"
assert_output "$PROJECT/out/duped.txt"

job "$BIN/write_modes" exec out/cloexec.txt /bin/true
check "a file written through an O_CLOEXEC fd open at exec is an output of the image that wrote it"
assert_eq "$JOB_RC" 0 "exit status"
assert_output "$PROJECT/out/cloexec.txt"
first_pid=$(jq -r '[.processes[] | select(.argv | index("out/cloexec.txt"))] | first | .pid' <<<"$JOB")
assert_eq "$(writer_of "$PROJECT/out/cloexec.txt")" "$first_pid" "writer"

job "$BIN/write_modes" excl out/new.txt
check "a file made with O_CREAT|O_EXCL is an output"
assert_eq "$JOB_RC" 0 "exit status"
assert_output "$PROJECT/out/new.txt"

printf 'appended to\n' >shared.log
before_shared=$(b3 shared.log)
job "$BIN/write_modes" shared shared.log
check "an fd a CLONE_FILES sibling opened and the other closed unwritten is not taken for a new file"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(b3 shared.log)" "$before_shared" "the file (unchanged)"
assert_not_contains "$(io_paths "$JOB" outputs)" "$PROJECT/shared.log" "outputs"
events "$BIN/write_modes" shared "$PROJECT/shared.log"
assert_eq "$EVENTS_RC" 0 "exit status (roar-events)"
assert_eq "$(q '[.[] | select(.op == "open" and .s1 == "'"$PROJECT"'/shared.log")] | length')" 1 \
  "OPENs of shared.log (the parent's, never one learnt again in the child)"

job "$BIN/write_modes" tmpfile out named.txt
check "an O_TMPFILE written and linked in is an output under its name"
assert_eq "$JOB_RC" 0 "exit status"
assert_output "$PROJECT/out/named.txt"

job "$BIN/write_modes" handoff out/handed.txt
check "a file another process reads while its writer still has it open is an output, not an input"
assert_eq "$JOB_RC" 0 "exit status"
assert_output "$PROJECT/out/handed.txt"
assert_not_contains "$(io_paths "$JOB" inputs)" "$PROJECT/out/handed.txt" "inputs"

printf 'the settings before\n' >settings.txt
settings_b3=$(b3 settings.txt)
sleep 0.1 # made well before the job (file birth times are coarse)
job "$BIN/write_modes" reread settings.txt
check "a file read, then replaced by an unstopped open, is an input with the digest of the bytes read, and an output"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(cat settings.txt)" "replaced" "the file"
assert_output "$PROJECT/settings.txt"
assert_input "$PROJECT/settings.txt" "$settings_b3"
assert_eq "$(input_notes "$PROJECT/settings.txt")" "" "input notes"

head -c $((2 * 1024 * 1024)) /dev/urandom >big.bin
sleep 0.1
job "$BIN/write_modes" reread big.bin
check "a file over 1 MiB read, then replaced by an unstopped open, is an input with no digest and a note"
assert_eq "$JOB_RC" 0 "exit status"
assert_output "$PROJECT/big.bin"
io_paths "$JOB" inputs | grep -qxF "$PROJECT/big.bin" || fail "big.bin is not an input"
assert_eq "$(io_digest "$JOB" inputs "$PROJECT/big.bin")" "" "input digest (not hashed while its reader stopped)"
assert_contains "$(input_notes "$PROJECT/big.bin")" "replaced by an open the tracer learnt only later" "input note"

printf 'the mode changes\n' >chmodded.txt
sleep 0.1
job "$BIN/write_modes" chmod chmodded.txt
check "a file whose inode changed during the job, read and then replaced, is an input with no digest and a note"
assert_eq "$JOB_RC" 0 "exit status"
io_paths "$JOB" inputs | grep -qxF "$PROJECT/chmodded.txt" || fail "chmodded.txt is not an input"
assert_eq "$(io_digest "$JOB" inputs "$PROJECT/chmodded.txt")" "" "input digest (the bytes read cannot be told apart)"
assert_contains "$(input_notes "$PROJECT/chmodded.txt")" "replaced by an open the tracer learnt only later" \
  "input note"

printf 'from before the job\n' >old.txt
sleep 0.1
job "$BIN/write_modes" replace old.txt
check "a file from before the job, replaced and then unlinked, is deleted"
assert_eq "$JOB_RC" 0 "exit status"
assert_deleted "$PROJECT/old.txt"

check "a create+write+close loop costs one stop per iteration"
mkdir -p loop
events "$BIN/write_modes" loop loop 2000
assert_eq "$EVENTS_RC" 0 "exit status"
stops=$(sed -n 's/^roar-events: tracer: .*, \([0-9]*\) stops, .*/\1/p' "$TEST_TMP/events.err")
[[ -n $stops ]] || fail "no tracer stop count in: $(cat "$TEST_TMP/events.err")"
((stops >= 2000 && stops < 2200)) || fail "$stops ptrace stops for 2,000 iterations (want about one per iteration)"
assert_eq "$(q '[.[] | select(.op == "open" and .s1 != null and (.s1 | contains("/loop/f")))] | length')" 2000 "OPENs"

check "threads creating, writing and closing files at once: every file is an output, whatever order their stops reach the tracer"
# One thread's close and another's exit reach the tracer in either order,
# and a closed fd's number goes to the next thread's file at once; once in
# about three runs the old code lost a file. Ten runs.
gcc -static -O1 -pthread -o "$BIN/thread_files" "$PROGS/thread_files.c" 2>"$TEST_TMP/cc.err" \
  || skip "no static glibc with threads: $(cat "$TEST_TMP/cc.err")"
for run in $(seq 10); do
  rm -rf threads && mkdir threads
  job "$BIN/thread_files" 8 "$PROJECT/threads"
  assert_eq "$JOB_RC" 0 "exit status of run $run"
  for i in $(seq 0 7); do
    assert_output "$PROJECT/threads/t$i.txt"
  done
done
echo ok
