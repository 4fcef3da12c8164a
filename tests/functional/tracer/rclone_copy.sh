# rclone (Debian's package, a Go program) copying a local directory tree:
# traced, every file it read is an input and every copy an output with
# b3sum's digest, and its process is recorded as traced.
. "$(dirname "$0")/tracer_lib.bash"
need rclone
new_project
mkdir -p src/sub
for i in 1 2 3; do head -c $((i * 70000)) /dev/urandom >"src/f$i.bin"; done
printf 'nested\n' >src/sub/n.txt

job rclone copy --config /dev/null src dst
check "rclone copy runs under the tracer"
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(jq -r '.processes[] | select(.argv[0] == "rclone") | .tracer' <<<"$JOB")" ptrace "tracer"
check "every source file is an input and every copy an output, with b3sum's digests"
for f in f1.bin f2.bin f3.bin sub/n.txt; do
  assert_input "$PROJECT/src/$f" "$(b3 "src/$f")"
  assert_output "$PROJECT/dst/$f"
  assert_eq "$(b3 "dst/$f")" "$(b3 "src/$f")" "the copy of $f"
done
check "rclone's partial-file names are not outputs"
assert_eq "$(io_paths "$JOB" outputs | grep -c partial || true)" 0 "partial outputs"
echo ok
