# A dynamically linked program's file and process calls made through
# syscall(2) rather than libc's wrappers (and openat2, which glibc reaches
# only that way) are reported by the shim's syscall hook as the libc hooks
# report them, in the default mode: opens, writes, a rename, a fork and the
# child's creat. syscall()'s results and errno are the kernel's, and the
# numbers the shim does not observe (getpid, futex) pass straight through.
. "$(dirname "$0")/preload_lib.bash"
build raw_syscalls
RS=$TEST_TMP/raw_syscalls
echo hello >in.txt

trace "$RS" in.txt tmp.txt final.txt child.txt
root=$(root_pid)
check "the program runs as without the shim"
assert_eq "$TRACE_RC" 0 "exit status"
assert_eq "$(cat final.txt)" hello "final.txt"
assert_eq "$(cat child.txt)" child "child.txt"
check "syscall() keeps the kernel's result and errno, and passes other numbers through"
assert_eq "$(cat "$TEST_TMP/stdout")" "missing -1 2
close -1 9
getpid 1
futex 0" "what syscall() returned"
check "a raw openat is an OPEN with its fd, and its close a CLOSE"
fd=$(qr "[.[] | select(.op == \"open\" and .s1 == \"in.txt\" and .pid == $root)][0].result")
assert_count ".op == \"open\" and .s1 == \"in.txt\" and .fd == -100 and .flags == 0 and .result >= 0" 1 "OPEN of in.txt"
assert_count ".op == \"close\" and .pid == $root and .fd == $fd" 2 "CLOSEs of its fd (in.txt, then tmp.txt)"
check "openat2 is an OPEN with the flags and mode of its open_how"
assert_count '.op == "open" and .s1 == "tmp.txt" and .flags == 577 and .mode == 420 and .result >= 0' 1 "OPEN of tmp.txt"
check "a raw write is a WRITE_FD of that fd"
assert_count ".op == \"write_fd\" and .pid == $root and .fd == $fd" 1 "WRITE_FD"
check "a raw rename is a RENAME"
assert_count '.op == "rename" and .s1 == "tmp.txt" and .s2 == "final.txt" and .result == 0' 1 "RENAME"
check "a failed raw open is an OPEN with -errno"
assert_count '.op == "open" and .s1 == "missing.txt" and .result == -2' 1 "OPEN of missing.txt"
check "a raw fork is a FORK, and the child starts as a forked process that creates its file"
assert_count ".op == \"fork\" and .pid == $root" 1 "FORK"
child=$(qr "[.[] | select(.op == \"proc_start\" and .fd == $root)][0].pid // 0")
[[ $child -gt 0 ]] || fail "no PROC_START naming $root as parent"
assert_count ".op == \"proc_start\" and .pid == $child and (.flags | bit(4))" 1 "the child's PROC_START is FORKED"
assert_count ".op == \"open\" and .pid == $child and .s1 == \"child.txt\" and .flags == 577" 1 "the child's creat"
assert_count ".op == \"proc_exit\" and .pid == $child and .result == 0" 1 "its exit_group"
assert_clean_ring

new_project
echo hello >in.txt
job "$RS" in.txt tmp.txt final.txt child.txt
check "roar run records them in the default mode with b3sum's digests"
assert_eq "$JOB_RC" 0 "exit status"
assert_io inputs in.txt
assert_input_digest in.txt "$(b3 in.txt)"
assert_io outputs final.txt
assert_io outputs child.txt
assert_not_io outputs tmp.txt
echo ok
