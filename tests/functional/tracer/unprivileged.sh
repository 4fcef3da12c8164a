# roar run as an ordinary user (the usual case): ptrace of its own
# descendants is allowed, and the seccomp filter needs no_new_privs, which
# the installer sets when it lacks CAP_SYS_ADMIN. Run as root, the test
# drops to `nobody` with setpriv; otherwise it runs as the current user.
. "$(dirname "$0")/tracer_lib.bash"
build_static file_ops
as_user=()
if [[ $(id -u) -eq 0 ]]; then
  need setpriv
  id nobody >/dev/null 2>&1 || skip "no user nobody"
  as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --reset-env)
  chmod 755 "$TEST_TMP" "$BIN"
fi
work=$TEST_TMP/user
mkdir -p "$work"
seed "$work/d"
[[ $(id -u) -eq 0 ]] && chown -R nobody:nogroup "$work"
cd "$work"
run_as() { env -C "$work" "${as_user[@]}" env PATH=/usr/bin:/bin HOME="$work" NO_COLOR=1 "$@"; }
run_as "$ROAR" init >/dev/null
set +e
run_as "$ROAR" run -q -- "$BIN/file_ops" "$work/d"
rc=$?
set -e
JOB=$(run_as "$ROAR" show --json "$(run_as "$ROAR" log --json | jq -r '.[-1].job_id')")

check "unprivileged: the static program runs traced, its files recorded with b3sum's digests"
assert_eq "$rc" 0 "exit status"
assert_eq "$(tracer_of "$work/d")" ptrace "tracer"
assert_output "$work/d/out.txt"
assert_output "$work/d/child.txt"
assert_input "$work/d/in.txt" "$(b3 "$work/d/in.txt")"
assert_eq "$(jq -r '.notes | join(";")' <<<"$JOB")" "" "job notes"
echo ok
