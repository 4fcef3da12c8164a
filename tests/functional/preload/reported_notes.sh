# Two blind spots of the shim that it reports as process notes: a shared
# read-only file mapping made writable with mprotect (writes through the
# mapping are not observed; the note names the file), and a child started
# with clone(CLONE_VM) (until it execs it runs on its parent's memory, so
# what it does is recorded as the parent's). A JIT's mprotect of anonymous
# memory, and a process without a shared read-only file mapping, get no
# note.
. "$(dirname "$0")/preload_lib.bash"
build mprotect_shared
build clone_vm
note_count() { count ".op == \"note\" and (.s1 | contains(\"$1\"))"; }

printf 'abc\n' >mapped.txt
trace "$TEST_TMP/mprotect_shared" mapped.txt
check "mprotect making a shared file mapping writable is a note naming the file"
assert_eq "$TRACE_RC" 0 "exit status"
assert_eq "$(cat mapped.txt)" Xbc "mapped.txt"
assert_eq "$(note_count "a shared mapping of $WORK/mapped.txt was made writable with mprotect")" 1 "notes"
check "the anonymous mapping it then makes writable gets no note"
assert_eq "$(note_count "made writable with mprotect")" 1 "notes"

trace "$TEST_TMP/clone_vm" child.txt
check "a clone(CLONE_VM) child is a note on its parent"
assert_eq "$TRACE_RC" 0 "exit status"
assert_eq "$(cat child.txt)" child "child.txt"
assert_eq "$(note_count "clone(CLONE_VM)")" 1 "notes"

new_project
printf 'abc\n' >mapped.txt
job "$TEST_TMP/mprotect_shared" mapped.txt
check "roar show lists the mprotect note"
assert_eq "$JOB_RC" 0 "exit status"
assert_contains "$("$ROAR" show "$(jq -r '.job_id' <<<"$JOB")")" "mapped.txt was made writable with mprotect"
echo ok
