# A filter returning RET_TRACE makes syscalls fail with ENOSYS once no
# tracer answers. If roar run itself is killed (SIGKILL: no cleanup at
# all), its traced processes must not go on under such a filter: they are
# killed with it (PTRACE_O_EXITKILL), never left failing their opens.
. "$(dirname "$0")/tracer_lib.bash"
build_static enosys_watch
new_project
printf 'x\n' >watched.txt

"$ROAR" run -q -- "$BIN/enosys_watch" watched.txt >watch.out 2>&1 &
roar_pid=$!
# Wait for the traced program to run (its tracer is roar run's thread).
watch_pid=
for _ in $(seq 100); do
  watch_pid=$(pgrep -f "^$BIN/enosys_watch watched.txt" || true)
  if [[ -n $watch_pid ]] && grep -q "TracerPid:[[:space:]]*[1-9]" "/proc/$watch_pid/status" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
[[ -n $watch_pid ]] || fail "enosys_watch did not start"
on_exit "kill -9 $watch_pid 2>/dev/null"
check "the program runs traced"
grep -q "TracerPid:[[:space:]]*[1-9]" "/proc/$watch_pid/status" || fail "not traced: $(grep TracerPid "/proc/$watch_pid/status")"
sleep 0.3

kill -9 "$roar_pid"
wait "$roar_pid" 2>/dev/null || true
check "killing roar run kills its traced processes instead of leaving them under the filter"
for _ in $(seq 50); do
  kill -0 "$watch_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$watch_pid" 2>/dev/null; then
  fail "the traced program outlived roar run: $(grep -E 'State|TracerPid' "/proc/$watch_pid/status" | tr '\n' ' ')"
fi
check "it never saw a failing open (ENOSYS)"
assert_not_contains "$(cat watch.out)" "open failed" "the program's output"
echo ok
