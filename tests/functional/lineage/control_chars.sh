# Recorded text is printed with its control characters escaped (issue 10
# item 14): a file name or command holding ESC, a newline or a C1 CSI
# can neither colour nor rewrite the terminal, nor forge a line, in any
# text view (show, log, status, dag, the run report, error messages);
# --json keeps the exact bytes.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
printf 'a\n' >in.txt
evil=$'evil\e[31mred\nFAKE line\xc2\x9b2J.txt'
esc=$'\e'
csi=$'\xc2\x9b'
escaped='evil\x1b[31mred\nFAKE line\u009b2J.txt'

no_raw_controls() { # text what [escaped form]
  [[ "$1" != *"$esc"* ]] || fail "$2: a raw ESC reached the output"
  [[ "$1" != *"$csi"* ]] || fail "$2: a raw C1 CSI reached the output"
  if grep -q '^FAKE line' <<<"$1"; then fail "$2: a newline in a file name started a line of its own"; fi
  assert_contains "$1" "${3:-$escaped}" "$2: the escaped name"
}

check "the run report escapes the output's name"
report=$("$ROAR" run cp in.txt "$evil" 2>&1 >/dev/null)
no_raw_controls "$report" "roar run report"

check "show (job and artifact), log, dag escape it"
no_raw_controls "$("$ROAR" show @1)" "roar show @1"
no_raw_controls "$("$ROAR" show "$evil")" "roar show PATH"
no_raw_controls "$("$ROAR" log)" "roar log"
no_raw_controls "$("$ROAR" dag --show-artifacts)" "roar dag"
# Graphviz source quotes the escapes' backslashes once more.
no_raw_controls "$("$ROAR" dag --format dot)" "roar dag --format dot" 'evil\\x1b[31mred\\nFAKE line\\u009b2J.txt'
no_raw_controls "$("$ROAR" dag --format mermaid)" "roar dag --format mermaid"

check "status escapes a missing file's name"
rm -- "$evil"
no_raw_controls "$("$ROAR" status)" "roar status"

check "error messages escape what they quote"
expect_failure "$ROAR" show "$evil-nope"
no_raw_controls "$ERR_OUT" "roar show error"

check "--json keeps the exact name"
assert_eq "$("$ROAR" show @1 --json | jq -r '.outputs[0].path')" "$PROJECT/$evil" "show --json"
echo ok
