# Habits from the original roar: an unknown subcommand is named with the
# closest match, global flags work after the subcommand, `roar init -y`
# lists .roar/ in .gitignore and `-n` leaves it alone.
. "$(dirname "$0")/../lib/common.sh"

check "an unknown subcommand says so, with the closest match"
expect_failure "$ROAR" stauts
assert_eq "$ERR_RC" 2 "exit status"
assert_contains "$ERR_OUT" "roar: unknown command 'stauts' (did you mean 'status'?)" "message"
expect_failure "$ROAR" zzzzzzzz
assert_contains "$ERR_OUT" "roar: unknown command 'zzzzzzzz'" "message without a match"
assert_not_contains "$ERR_OUT" "did you mean" "no far-fetched match"

check "roar init -y adds .roar/ to .gitignore, once"
mkdir -p "$TEST_TMP/yes" && cd "$TEST_TMP/yes"
printf 'build/' >.gitignore
"$ROAR" init -y >/dev/null
assert_eq "$(cat .gitignore)" "$(printf 'build/\n.roar/')" ".gitignore"
rm -rf .roar && "$ROAR" init -y >/dev/null
assert_eq "$(grep -c '^.roar/$' .gitignore)" 1 "listed once"

check "roar init -n leaves .gitignore alone"
mkdir -p "$TEST_TMP/no" && cd "$TEST_TMP/no"
"$ROAR" init -n >/dev/null
[[ -d .roar && ! -e .gitignore ]] || fail "init -n"

check "global flags are accepted after the subcommand"
"$ROAR" run -q true
"$ROAR" dag --no-color >/dev/null
"$ROAR" status --no-color >/dev/null
echo ok
