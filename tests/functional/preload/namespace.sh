# rename*, link*, symlink*, unlink*, remove, mkdir*, rmdir, truncate and
# ftruncate report their op with raw paths and the result; the ones that
# destroy existing bytes are preceded by PRE_MODIFY.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
EP=$TEST_TMP/entry_points

# op_ok ENTRY ARGS...: traces one call and requires it to succeed.
op_ok() {
  trace "$EP" "$@"
  assert_eq "$TRACE_RC" 0 "$1 exit status"
}
pre_before() { # PATH OP: PRE_MODIFY of PATH precedes the OP event
  local pre op
  pre=$(qr "[.[] | select(.op == \"pre_modify\" and .s1 == \"$1\")][0].index // -1")
  op=$(qr "[.[] | select(.op == \"$2\")][0].index // -1")
  [[ $pre -ge 0 && $op -gt $pre ]] || fail "PRE_MODIFY of $1 not before $2 (pre=$pre op=$op)"
}

echo a >a; echo b >b
op_ok rename a b
assert_count '.op == "rename" and .s1 == "a" and .s2 == "b" and .fd == -100 and .fd2 == -100 and .result == 0' 1 "rename"
pre_before b rename
echo a >a
op_ok renameat a c
assert_count '.op == "rename" and .s1 == "a" and .s2 == "c" and .result == 0' 1 "renameat"
assert_count '.op == "pre_modify"' 0 "no PRE_MODIFY for a fresh target"
echo a >a
trace "$EP" renameat2 a c # RENAME_NOREPLACE onto an existing file: EEXIST
assert_count '.op == "rename" and .flags == 1 and .result == -17' 1 "renameat2 NOREPLACE fails with -EEXIST"
assert_count '.op == "pre_modify"' 0 "no PRE_MODIFY under NOREPLACE"
op_ok link c l1
assert_count '.op == "link" and .s1 == "c" and .s2 == "l1" and .result == 0' 1 "link"
op_ok linkat c l2
assert_count '.op == "link" and .s1 == "c" and .s2 == "l2" and .fd2 == -100' 1 "linkat"
op_ok symlink ../target s1
assert_count '.op == "symlink" and .s1 == "../target" and .s2 == "s1"' 1 "symlink"
op_ok symlinkat target s2
assert_count '.op == "symlink" and .s1 == "target" and .s2 == "s2" and .fd2 == -100' 1 "symlinkat"
op_ok unlink l1
assert_count '.op == "unlink" and .s1 == "l1" and .flags == 0 and .result == 0' 1 "unlink"
pre_before l1 unlink
op_ok unlinkat l2
assert_count '.op == "unlink" and .s1 == "l2" and .result == 0' 1 "unlinkat"
op_ok remove s1
assert_count '.op == "unlink" and .s1 == "s1" and .result == 0' 1 "remove"
assert_count '.op == "unlink"' 1 "remove() is one UNLINK (libc's inner unlink is not double counted)"
op_ok mkdir d1
assert_count '.op == "mkdir" and .s1 == "d1" and .mode == 488 and .result == 0' 1 "mkdir"
op_ok mkdirat d2
assert_count '.op == "mkdir" and .s1 == "d2" and .fd == -100' 1 "mkdirat"
op_ok rmdir d1
assert_count '.op == "unlink" and .s1 == "d1" and .flags == 512' 1 "rmdir = UNLINK with AT_REMOVEDIR"
assert_count '.op == "pre_modify"' 0 "no PRE_MODIFY for a directory"
echo hello >t
op_ok truncate t
assert_count '.op == "truncate" and .s1 == "t" and .fd == -100 and .result == 0' 1 "truncate"
pre_before t truncate
echo hello >t
op_ok ftruncate t
root=$(root_pid)
fd=$(qr "[.[] | select(.op == \"open\" and .s1 == \"t\" and .pid == $root)][0].result")
assert_count ".op == \"truncate\" and .fd == $fd and (has(\"s1\") | not) and .result == 0" 1 "ftruncate by fd"
echo ok
