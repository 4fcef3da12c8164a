# run.tracer = "complete": dynamically linked programs run under the filter
# too, so their raw syscall(SYS_openat) calls are recorded by the tracer; by
# default the shim's syscall(2) hook records them (preload/raw_syscalls).
# Ordinary libc calls are still recorded once.
. "$(dirname "$0")/tracer_lib.bash"
build_dynamic raw_openat
new_project
printf 'raw bytes\n' >raw_in.txt

job "$BIN/raw_openat" raw_in.txt raw_out.txt
check "by default a raw syscall(SYS_openat) of a dynamic program is recorded by the shim"
assert_eq "$JOB_RC" 0 "exit status"
assert_input "$PROJECT/raw_in.txt" "$(b3 raw_in.txt)"
assert_output "$PROJECT/raw_out.txt"
assert_eq "$(tracer_of raw_in.txt)" shim "tracer"

"$ROAR" config set run.tracer complete >/dev/null
job "$BIN/raw_openat" raw_in.txt raw_out2.txt
check "under run.tracer = complete it is an input and an output with b3sum's digests"
assert_eq "$JOB_RC" 0 "exit status"
assert_input "$PROJECT/raw_in.txt" "$(b3 raw_in.txt)"
assert_output "$PROJECT/raw_out2.txt"
assert_eq "$(tracer_of raw_in.txt)" "shim+ptrace" "tracer"
check "roar's own files (the shim the loader maps, the probes) are not recorded"
assert_eq "$(io_paths "$JOB" inputs)" "$PROJECT/raw_in.txt" "inputs"

check "complete mode records a shell pipeline once, with the right digests"
printf 'b\na\n' >unsorted.txt
job sh -c 'sort unsorted.txt > sorted.txt && cp sorted.txt copy.txt'
assert_eq "$JOB_RC" 0 "exit status"
assert_input "$PROJECT/unsorted.txt" "$(b3 unsorted.txt)"
assert_output "$PROJECT/sorted.txt"
assert_output "$PROJECT/copy.txt"
events --tracer complete sh -c 'sort unsorted.txt > sorted2.txt'
# (An OPEN learnt at a later stop, for a read-only open or the shell's
# O_CREAT|O_TRUNC redirection, names the path /proc gives then: absolute.)
assert_eq "$(q '[.[] | select(.op == "open" and (.s1 == "sorted2.txt" or .s1 == "'"$PROJECT"'/sorted2.txt"))] | length')" 1 "OPENs of sorted2.txt"
assert_eq "$(q '[.[] | select(.op == "open" and (.s1 == "unsorted.txt" or .s1 == "'"$PROJECT"'/unsorted.txt"))] | length')" 1 "OPENs of unsorted.txt"
echo ok
