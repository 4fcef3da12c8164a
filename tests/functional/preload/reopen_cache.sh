# The reopen cache: a file the process already opened read-only, with
# nothing changed in the job since, is not reported again; any change in
# the job (by any process) makes the next open reported; an fd whose OPEN
# was kept back is announced (FD_INHERITED) before a record uses it, so
# paths relative to it still resolve. The job record is the same as
# without the cache.
. "$(dirname "$0")/preload_lib.bash"
build reopen
RO=$TEST_TMP/reopen

echo data >in.txt
trace "$RO" loop 100 "$WORK/in.txt"
check "a file reopened 100 times is reported once: one OPEN, one CLOSE"
assert_eq "$TRACE_RC" 0 "exit status"
root=$(root_pid)
assert_count ".op == \"open\" and .pid == $root and .s1 == \"$WORK/in.txt\"" 1 "OPENs of in.txt"
fd=$(qr "[.[] | select(.op == \"open\" and .s1 == \"$WORK/in.txt\")][0].result")
assert_count ".op == \"close\" and .pid == $root and .fd == $fd" 1 "CLOSEs of its fd"
assert_clean_ring

trace "$RO" change "$WORK/in.txt"
check "after a child appended to the file, the parent's next open is reported again"
assert_eq "$TRACE_RC" 0 "exit status"
root=$(root_pid)
assert_count ".op == \"open\" and .pid == $root and .s1 == \"$WORK/in.txt\"" 2 "the parent's OPENs of in.txt"

mkdir -p d
echo inner >d/f.txt
trace "$RO" dirfd "$WORK/d" f.txt
check "a directory reopened and used as a dirfd is announced first, by its path"
assert_eq "$TRACE_RC" 0 "exit status"
root=$(root_pid)
assert_count ".op == \"open\" and .pid == $root and .s1 == \"$WORK/d\"" 1 "OPENs of d"
# The first record naming the kept-back fd: FD_INHERITED of d, then the openat.
first=$(q "[.[] | select(.pid == $root and ((.op == \"fd_inherited\" and .s1 == \"$WORK/d\") or (.op == \"open\" and .s1 == \"f.txt\")))][0]")
assert_eq "$(jq -r .op <<<"$first")" fd_inherited "what comes first"
assert_eq "$(jq -r .s1 <<<"$first")" "$WORK/d" "the announced path"
dfd=$(jq -r .fd <<<"$first")
assert_count ".op == \"open\" and .pid == $root and .fd == $dfd and .s1 == \"f.txt\"" 1 "openat(d, f.txt)"
assert_count ".op == \"chdir\" and .pid == $root and .fd == $dfd" 1 "fchdir to it"

new_project
mkdir -p d
echo inner >d/f.txt
echo data >in.txt
job "$RO" dirfd "$PROJECT/d" f.txt
check "roar run: the file read through the kept-back dirfd is an input by its full path"
assert_eq "$JOB_RC" 0 "exit status"
assert_io inputs d/f.txt
job "$RO" change "$PROJECT/in.txt"
check "roar run: a file read, appended to by a child, then read again is an input (as first read) and an output"
assert_eq "$JOB_RC" 0 "exit status"
assert_input_digest in.txt "$(printf 'data\n' | b3sum --no-names)"
assert_io outputs in.txt
echo ok
