# dup/dup2/dup3/fcntl(F_DUPFD*) report DUP (old fd -> result); close,
# close_range and closefrom report CLOSE for the fds the shim knows.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
echo data >in.txt
trace "$TEST_TMP/entry_points" dup in.txt
assert_eq "$TRACE_RC" 0 "exit status"
root=$(root_pid)
fd=$(qr "[.[] | select(.op == \"open\" and .s1 == \"in.txt\" and .pid == $root)][0].result")
[[ $fd -ge 3 ]] || fail "open of in.txt not seen"
dups=$(qr "[.[] | select(.op == \"dup\" and .pid == $root and .fd == $fd) | .result] | sort | map(tostring) | join(\" \")")
read -r -a d <<<"$dups"
assert_eq "${#d[@]}" 5 "five DUP events ($dups)"
assert_count ".op == \"dup\" and .fd == $fd and .result == 20" 1 "dup2 -> 20"
assert_count ".op == \"dup\" and .fd == $fd and .result == 21 and .flags == 524288" 1 "dup3 -> 21 with O_CLOEXEC"
assert_count ".op == \"dup\" and .fd == $fd and .result >= 30 and .result < 40" 1 "F_DUPFD -> >= 30"
assert_count ".op == \"dup\" and .fd == $fd and .result >= 40 and .flags == 524288" 1 "F_DUPFD_CLOEXEC -> >= 40"
assert_count ".op == \"close\" and .fd == 20 and .fd2 == 21 and .result == 0" 1 "close_range(20, 21)"
assert_count ".op == \"close\" and .fd == 30 and .fd2 == 2147483647" 1 "closefrom(30)"
echo ok
