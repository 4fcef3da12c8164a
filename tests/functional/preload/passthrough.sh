# Without a usable ring the shim is a pure pass-through, and with one it
# never changes what a program does: same output, same exit status, errno
# untouched by successful calls.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
EP=$TEST_TMP/entry_points
echo data >in.txt
for ring in "" /roar-does-not-exist "bad/name"; do
  out=$(env LD_PRELOAD="$SHIM" ROAR_RING="$ring" sh -c 'cat in.txt; ls in.txt; exit 3' 2>&1) && rc=0 || rc=$?
  assert_eq "$rc" 3 "exit status with ROAR_RING='$ring'"
  assert_eq "$out" $'data\nin.txt' "output with ROAR_RING='$ring'"
  env LD_PRELOAD="$SHIM" ROAR_RING="$ring" "$EP" errno in.txt out.txt || fail "errno changed with ROAR_RING='$ring'"
done
# A ring that is not a ring (wrong magic) is refused.
head -c 8192 /dev/zero >"/dev/shm/roar-notaring-$$"
on_exit rm -f "/dev/shm/roar-notaring-$$"
env LD_PRELOAD="$SHIM" ROAR_RING="/roar-notaring-$$" "$EP" errno in.txt out.txt || fail "errno with a bad ring"
assert_eq "$(od -An -tx1 -N16 "/dev/shm/roar-notaring-$$" | tr -d ' \n')" 00000000000000000000000000000000 "bad ring untouched"
# Traced, the same.
trace "$EP" errno in.txt out.txt
assert_eq "$TRACE_RC" 0 "errno preserved under tracing"
trace python3 -c 'import sys, os; print(open("in.txt").read().strip()); sys.exit(5)'
assert_eq "$TRACE_RC" 5 "python exit status under tracing"
assert_eq "$(cat "$TEST_TMP/stdout")" "data" "python output under tracing"
echo ok
