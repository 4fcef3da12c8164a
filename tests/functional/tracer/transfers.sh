# copy_file_range, sendfile and splice do not stop a traced program: the
# file they read from is an input through its open (learnt at its close),
# and the file they write to is an output through its open (one that
# creates or replaces it) or through the change the tracer finds at its
# close (size, mtime or a write-only fd's offset), as for write(2). Each is
# checked with the record, a loop of copies costs no stop per call, and
# under run.tracer = complete a dynamic program's raw copy is still seen.
. "$(dirname "$0")/tracer_lib.bash"
build_static transfers
new_project

head -c 5000 /dev/urandom >in.bin
in_b3=$(b3 in.bin)
sleep 0.05 # file times are coarse: in.bin predates the job

# copied PROG MODE OUT: `PROG MODE in.bin OUT` ran, in.bin is an input with
# its digest and OUT an output with b3sum's.
copied() {
  job "$1" "$2" in.bin "$3"
  assert_eq "$JOB_RC" 0 "exit status"
  assert_input "$PROJECT/in.bin" "$in_b3"
  assert_output "$PROJECT/$3"
}

check "copy_file_range into a file it creates: the source is an input and the copy an output"
copied "$BIN/transfers" cfr-new new.bin
cmp -s in.bin new.bin || fail "new.bin differs from in.bin"

check "sendfile over an existing file of the same size through a write-only fd: an output"
head -c 5000 /dev/zero >over.bin
copied "$BIN/transfers" sendfile-over over.bin
cmp -s in.bin over.bin || fail "over.bin differs from in.bin"

check "splice through a pipe onto the end of an existing file: an output"
printf 'head\n' >log.bin
copied "$BIN/transfers" splice-append log.bin
assert_eq "$(stat -c %s log.bin)" 5005 "size of log.bin"

check "copy_file_range at an offset into a file read through O_RDWR: an input with the bytes read, and an output"
printf 'table\n' >table.bin
table_b3=$(b3 table.bin)
copied "$BIN/transfers" cfr-rdwr table.bin
assert_eq "$(stat -c %s table.bin)" 5006 "size of table.bin"
assert_input "$PROJECT/table.bin" "$table_b3"

check "2,000 copy_file_range calls cost no stop each"
events "$BIN/transfers" loop "$PROJECT/in.bin" "$TEST_TMP/loop.bin" 2000
assert_eq "$EVENTS_RC" 0 "exit status"
stops=$(sed -n 's/^roar-events: tracer: .*, \([0-9]*\) stops, .*/\1/p' "$TEST_TMP/events.err")
[[ -n $stops ]] || fail "no tracer stop count in: $(cat "$TEST_TMP/events.err")"
((stops < 100)) || fail "$stops ptrace stops for 2,000 copies"
assert_eq "$(q '[.[] | select(.op == "open" and .s1 == "'"$TEST_TMP"'/loop.bin")] | length')" 1 "OPENs of loop.bin"

# A dynamically linked program under run.tracer = complete: its libc calls
# are the shim's hooks; a raw copy_file_range is seen through the tracer's
# check of the write-only fd it stopped on.
gcc -O1 -o "$BIN/transfers-dyn" "$PROGS/transfers.c"
"$ROAR" config set run.tracer complete >/dev/null
check "complete mode: a raw copy_file_range over an existing file is an output"
head -c 5000 /dev/zero >raw.bin
copied "$BIN/transfers-dyn" raw-over raw.bin
cmp -s in.bin raw.bin || fail "raw.bin differs from in.bin"
assert_eq "$(tracer_of raw-over)" "shim+ptrace" "tracer"

check "complete mode: libc's copy_file_range into a new file is recorded once"
copied "$BIN/transfers-dyn" cfr-new dyn.bin
assert_eq "$(io_paths "$JOB" outputs)" "$PROJECT/dyn.bin" "outputs"
echo ok
