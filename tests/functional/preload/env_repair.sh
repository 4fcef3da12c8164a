# A scrubbed environment handed to exec/spawn/system (env -i, env={},
# execle with an empty envp, clearenv + system) still carries the shim and
# roar's variables into the child; other preloaded libraries are kept, and
# ROAR_KEEP_ENV variables are restored.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
EP=$TEST_TMP/entry_points
echo data >in.txt

# child_observed PROG: a PROC_START of PROG (argv[0] basename) that opened in.txt.
child_observed() {
  local pid
  pid=$(qr "[.[] | select(.op == \"proc_start\" and (.argv[0] // \"\" | endswith(\"$1\")) and .flags == 0)] | last | .pid // 0")
  [[ $pid -gt 0 ]] || fail "$2: $1 never started under the shim"
  assert_count ".op == \"open\" and .pid == $pid and .s1 == \"in.txt\"" 1 "$2: $1's open is observed"
}

trace env -i sh -c 'cat in.txt >/dev/null'
child_observed cat "env -i"
for e in execve execvpe execle posix_spawn posix_spawnp; do
  trace env EP_EMPTY_ENV=1 "$EP" $e /bin/cat in.txt
  assert_eq "$TRACE_RC" 0 "$e exit status"
  child_observed cat "$e with an empty envp"
done
trace env EP_EMPTY_ENV=1 "$EP" system 'cat in.txt >/dev/null'
child_observed cat "clearenv + system"
if command -v python3 >/dev/null; then
  trace python3 -c 'import subprocess; subprocess.run(["/bin/cat", "in.txt"], env={}, stdout=subprocess.DEVNULL, check=True)'
  child_observed cat "python env={}"
fi

# Another preloaded library survives, after the shim; ROAR_KEEP_ENV values come back.
cat >other.c <<'C'
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void other(void) { if (getenv("OTHER_MARK")) fputs("other-loaded\n", stderr); }
C
gcc -shared -fPIC -o "$TEST_TMP/libother.so" other.c
cat >show.sh <<'SH'
echo "LD_PRELOAD=$LD_PRELOAD"
echo "KEEP=${MY_ENDPOINT:-unset} JOB=${ROAR_JOB_ID:+set}"
SH
export MY_ENDPOINT=http://127.0.0.1:1 ROAR_KEEP_ENV=MY_ENDPOINT
# `env` replaces LD_PRELOAD with another library: the shim is put back first.
trace env LD_PRELOAD="$TEST_TMP/libother.so" OTHER_MARK=1 /bin/sh show.sh
out=$(cat "$TEST_TMP/stdout")
assert_contains "$out" "LD_PRELOAD=$(readlink -f "$SHIM"):$TEST_TMP/libother.so" "shim first, other library kept"
assert_contains "$(cat "$TEST_TMP/stderr")" "other-loaded" "the other library still loads"
trace env -i /bin/sh show.sh
out=$(cat "$TEST_TMP/stdout")
assert_contains "$out" "LD_PRELOAD=$(readlink -f "$SHIM")" "shim restored after env -i"
assert_contains "$out" "KEEP=http://127.0.0.1:1 JOB=set" "ROAR_KEEP_ENV variable restored"
unset MY_ENDPOINT ROAR_KEEP_ENV
echo ok
