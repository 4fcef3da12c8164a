# roar run starts the command as a shell would: found on PATH, a script
# without a #! line run by /bin/sh, and one clear line when it cannot run.
. "$(dirname "$0")/../lib/common.sh"
new_project

check "a command is found on PATH and its output and status pass through"
mkdir bin
printf '#!/bin/sh\necho "from $0 with $1"\nexit 4\n' > bin/greet
chmod +x bin/greet
set +e
out=$(PATH="$PROJECT/bin:$PATH" "$ROAR" run -q greet you)
rc=$?
set -e
assert_eq "$out" "from $PROJECT/bin/greet with you" "output of a command found on PATH"
assert_eq "$rc" 4 "its exit status"

check "a script without a #! line is run by /bin/sh and recorded"
printf 'echo plain > plain.txt\nexit 5\n' > noshebang
chmod +x noshebang
set +e
"$ROAR" run -q ./noshebang
rc=$?
set -e
assert_eq "$rc" 5 "exit status of a script without #!"
assert_eq "$(cat plain.txt)" "plain" "what it wrote"
assert_eq "$(io_paths "$(show_json @2)" outputs)" "$PROJECT/plain.txt" "its recorded output"

check "a file that is not executable gets one line and a non-zero exit"
printf 'echo never\n' > notexec
expect_failure "$ROAR" run ./notexec
assert_contains "$ERR_OUT" "cannot run './notexec': Permission denied" "the error"
assert_eq "$(wc -l <<<"$ERR_OUT")" 1 "one line"

check "a missing command exits 127 as in a shell"
expect_failure "$ROAR" run no-such-command-anywhere
assert_contains "$ERR_OUT" "cannot run 'no-such-command-anywhere'" "the error"
assert_eq "$ERR_RC" 127 "exit code"
