# Every entry point of the open family reports OPEN with the raw path, the
# dirfd, the flags the program asked for and the resulting fd.
. "$(dirname "$0")/preload_lib.bash"
build entry_points
EP=$TEST_TMP/entry_points
echo data >in.txt
mkdir dir
echo x >dir/f

# expect_open ENTRY "ARGS" PATH JQ-CONDITION-ON-THE-EVENT
expect_open() {
  local entry=$1 args=$2 path=$3 cond=$4
  # shellcheck disable=SC2086
  trace "$EP" "$entry" $args
  assert_eq "$TRACE_RC" 0 "$entry exit status"
  local root
  root=$(root_pid)
  if [[ $path == "@stdout" ]]; then
    path=$(head -1 "$TEST_TMP/stdout") # the name mkstemp* chose
  fi
  local n
  n=$(count ".op == \"open\" and .pid == $root and .s1 == \"$path\" and .result >= 0 and ($cond)")
  [[ $n -ge 1 ]] || fail "$entry: no OPEN of $path with $cond; got: $(q "[.[] | select(.op == \"open\" and .pid == $root) | {s1, fd, flags, mode, result}]")"
}

expect_open open "in.txt" in.txt '.flags == 0 and .fd == -100'
expect_open open64 "new64.txt" new64.txt '.flags == (1 + 64 + 512) and .mode == 384'
expect_open openat "dir f" f '.fd >= 3 and .flags == 0'
expect_open openat64 "in.txt" in.txt '.flags == 2 and .fd == -100'
expect_open __open_2 "in.txt" in.txt '.flags == 0'
expect_open __openat_2 "in.txt" in.txt '.flags == 0 and .fd == -100'
expect_open creat "c.txt" c.txt '.flags == (1 + 64 + 512) and .mode == 416'
expect_open creat64 "c64.txt" c64.txt '.flags == (1 + 64 + 512)'
expect_open fopen "in.txt r" in.txt '.flags == 0'
expect_open fopen "w.txt w" w.txt '.flags == (1 + 64 + 512)'
expect_open fopen "a.txt a" a.txt '.flags == (1 + 64 + 1024)'
expect_open fopen "in.txt r+" in.txt '.flags == 2'
expect_open fopen64 "in.txt" in.txt '.flags == 0'
expect_open freopen "in.txt re.txt" re.txt '.flags == (1 + 64 + 512)'
expect_open freopen64 "re64.txt" re64.txt '.flags == (1 + 64 + 1024)'
expect_open opendir "dir" dir '(.flags | bit(65536))'
expect_open fdopendir "dir" "" '(.flags | bit(65536)) and .fd >= 3'
for m in mkstemp mkostemp; do
  expect_open $m "tmpXXXXXX" @stdout '(.flags | bit(128)) and (.flags | bit(64)) and .mode == 384'
done
for m in mkstemps mkostemps; do
  expect_open $m "tmpXXXXXX.csv" @stdout '(.flags | bit(128))'
done
[[ $(head -1 "$TEST_TMP/stdout") == tmp*.csv ]] || fail "mkstemps output name"

# tmpfile: an anonymous file, reported without a path.
trace "$EP" tmpfile
assert_count '.op == "open" and (has("s1") | not) and .result >= 0' 1 "tmpfile OPEN without s1"

# freopen closes the stream's previous fd: the collector must hear of it.
trace "$EP" freopen in.txt re2.txt
root=$(root_pid)
first_fd=$(qr "[.[] | select(.op == \"open\" and .s1 == \"in.txt\" and .pid == $root)][0].result")
re_fd=$(qr "[.[] | select(.op == \"open\" and .s1 == \"re2.txt\")][0].result")
if [[ $first_fd != "$re_fd" ]]; then
  assert_count ".op == \"close\" and .fd == $first_fd and .pid == $root" 1 "CLOSE of the replaced stream"
fi

# A failed open reports -errno.
trace "$EP" open /nonexistent/file
assert_count '.op == "open" and .s1 == "/nonexistent/file" and .result == -2' 1 "ENOENT open"
echo ok
