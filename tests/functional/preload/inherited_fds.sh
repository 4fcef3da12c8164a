# Each new image reports the path fds it inherited (FD_INHERITED with
# F_GETFL flags), so writes through a redirection or a handed-over fd are
# attributable: `sh -c 'cat a > b'` and `tar czf` (gzip writes the archive
# through an inherited fd).
. "$(dirname "$0")/preload_lib.bash"
echo hello >a
trace sh -c 'cat a > b; sort < a >> c'
cat_pid=$(qr '[.[] | select(.op == "proc_start" and .argv == ["cat", "a"])][0].pid')
assert_count ".op == \"fd_inherited\" and .pid == $cat_pid and .fd == 1 and .s1 == \"$WORK/b\" and (.flags % 4) == 1" 1 "cat's stdout is b"
assert_count ".op == \"transfer\" and .pid == $cat_pid and .fd2 == 1" 2 "cat copies into fd 1"
sort_pid=$(qr '[.[] | select(.op == "proc_start" and .argv == ["sort"])][0].pid')
assert_count ".op == \"fd_inherited\" and .pid == $sort_pid and .fd == 0 and .s1 == \"$WORK/a\"" 1 "sort's stdin is a"
assert_count ".op == \"fd_inherited\" and .pid == $sort_pid and .fd == 1 and .s1 == \"$WORK/c\" and (.flags | bit(1024))" 1 "sort's stdout is c, O_APPEND"
# Pipes and sockets are not paths: not reported.
trace sh -c 'echo x | cat >/dev/null'
assert_count '.op == "fd_inherited" and (.s1 | startswith("pipe:"))' 0 "pipes skipped"

need tar gzip
mkdir src
echo one >src/one
trace tar czf out.tgz src
gz=$(qr '[.[] | select(.op == "proc_start" and ((.argv[0] // "") | endswith("gzip")))][0].pid // 0')
[[ $gz -gt 0 ]] || fail "gzip not started under the shim"
assert_count ".op == \"fd_inherited\" and .pid == $gz and .fd == 1 and .s1 == \"$WORK/out.tgz\"" 1 "gzip writes the archive through fd 1"
assert_count ".op == \"write_fd\" and .pid == $gz and .fd == 1" 1 "gzip's write through it"
echo ok
