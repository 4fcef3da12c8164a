# Storing fails because the disk is full (a 1 MiB tmpfs holding the
# project, inside `unshare -m`): the job's exit status is kept, one line
# says the record could not be stored and where it was saved (somewhere
# writable: the project's disk is full), the next writing run stores it
# and says so, and `roar import FILE` stores one by hand. Skips only when
# no tmpfs can be mounted.
if [[ -z ${ROAR_IN_MOUNT_NS:-} ]]; then
  if [[ $(id -u) -ne 0 ]] || ! unshare -m --propagation private true 2>/dev/null; then
    echo "SKIP: disk_full: needs root and a mount namespace for a small tmpfs" >&2
    exit 77
  fi
  ROAR_IN_MOUNT_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/../lib/common.sh"
mkdir "$TEST_TMP/small"
mount -t tmpfs -o size=1m tmpfs "$TEST_TMP/small" || skip "cannot mount a tmpfs"
on_exit "umount -l '$TEST_TMP/small'"
export XDG_STATE_HOME=$TEST_TMP/state # where a record goes when the project's disk is full
new_project small/project
"$ROAR" run -q sh -c 'echo first >first.txt'

fill() { head -c 2M /dev/zero >"$PROJECT/fill" 2>/dev/null || true; }

check "a job whose record cannot be stored keeps its exit status and says where the record is"
set +e
"$ROAR" run sh -c 'head -c 2M /dev/zero >fill 2>/dev/null; echo out >out.txt; exit 3' 2>"$TEST_TMP/err.txt"
rc=$?
set -e
assert_eq "$rc" 3 "roar's exit status is the job's"
lines=$(grep -c '^roar: ' "$TEST_TMP/err.txt" || true)
assert_eq "$lines" 1 "one line from roar: $(cat "$TEST_TMP/err.txt")"
assert_contains "$(cat "$TEST_TMP/err.txt")" "could not store job" "the line"
saved=$(sed -n "s/.*its record is saved in \([^ ]*\) .*/\1/p" "$TEST_TMP/err.txt")
[[ -n $saved && -f $saved ]] || fail "no saved record named in: $(cat "$TEST_TMP/err.txt")"
assert_contains "$saved" "$TEST_TMP/state/roar/recovery/" "saved outside the full disk"
uid=$(jq -r .job.uid "$saved")
assert_eq "$(jq -r .job.exit_code "$saved")" 3 "saved exit code"

check "readers still work on the full disk and do not import"
assert_eq "$("$ROAR" log --json | jq length)" 1 "jobs before the import"
[[ -f $saved ]] || fail "a reader imported (or removed) the saved record"

check "the next writing run stores the saved record and says so"
rm -f fill
"$ROAR" run -q true 2>"$TEST_TMP/err.txt"
assert_contains "$(cat "$TEST_TMP/err.txt")" "stored job $uid from $saved" "the import line"
[[ ! -e $saved ]] || fail "the imported record was not removed"
log=$("$ROAR" log --json)
assert_eq "$(jq length <<<"$log")" 3 "jobs after the import"
j=$(show_json "$uid")
assert_eq "$(jq -r .exit_code <<<"$j")" 3 "imported exit code"
assert_eq "$(io_paths "$j" outputs | grep -c out.txt)" 1 "imported output"

check "roar import FILE stores a saved record by hand"
set +e
"$ROAR" run -q sh -c 'head -c 2M /dev/zero >fill 2>/dev/null; exit 0' 2>"$TEST_TMP/err.txt"
rc=$?
set -e
assert_eq "$rc" 0 "exit status of the second unstored job"
saved=$(sed -n "s/.*its record is saved in \([^ ]*\) .*/\1/p" "$TEST_TMP/err.txt")
[[ -f $saved ]] || fail "no saved record named in: $(cat "$TEST_TMP/err.txt")"
rm -f fill
uid=$(jq -r .job.uid "$saved")
out=$("$ROAR" import "$saved")
assert_eq "$out" "Stored job $uid from $saved." "import output"
[[ ! -e $saved ]] || fail "the imported record was not removed"
assert_eq "$("$ROAR" log --json | jq length)" 4 "jobs after roar import"
expect_failure "$ROAR" import "$saved"
assert_contains "$ERR_OUT" "cannot read" "importing a file that is gone"
echo ok
