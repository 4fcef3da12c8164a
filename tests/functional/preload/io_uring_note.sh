# A process holding an io_uring fd at exit gets a NOTE: its file I/O
# through the ring is not observed. Skipped where io_uring is disabled.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
"$TEST_TMP/entry_points" io_uring || skip "io_uring_setup is not available here"
trace "$TEST_TMP/entry_points" io_uring
assert_count '.op == "note" and (.s1 | contains("io_uring"))' 1 "io_uring note"
note=$(qr '[.[] | select(.op == "note")][0].index')
exit_idx=$(qr '[.[] | select(.op == "proc_exit")][0].index')
[[ $note -lt $exit_idx ]] || fail "note after PROC_EXIT"
# A process without one gets none.
trace "$TEST_TMP/entry_points" return 0
assert_count '.op == "note"' 0 "no note"
echo ok
