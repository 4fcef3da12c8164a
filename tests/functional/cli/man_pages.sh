# The build makes man pages from --help (packaging/man/make_man.sh, help2man):
# roar(1) and one roar-SUB(1) per subcommand, each saying what --help says.
. "$(dirname "$0")/../lib/common.sh"
man_dir=$ROAR_BUILD_DIR/packaging/man
[[ -f $man_dir/roar.1 ]] || fail "no $man_dir/roar.1: the 'man' target did not run"

check "roar(1) lists every subcommand of roar --help"
subs=$("$ROAR" --help | awk 'tolower($0) ~ /^subcommands:/ { on = 1; next } on && NF { print $1 }')
[[ -n $subs ]] || fail "no subcommands in roar --help"
for sub in $subs; do
  assert_contains "$(cat "$man_dir/roar.1")" "$sub" "$sub in roar.1"
  [[ -f $man_dir/roar-$sub.1 ]] || fail "no roar-$sub.1"
done

check "roar-run(1) is roar run --help: its flags and its summary"
page=$(cat "$man_dir/roar-run.1")
assert_contains "$page" 'hash' "--hash"
assert_contains "$page" 'sha256' "--hash's value"
assert_contains "$page" "run a command and record the files it reads and writes" "NAME line"
assert_contains "$page" ".TH ROAR-RUN" "a man page header"

if command -v man >/dev/null 2>&1; then
  check "man renders it"
  assert_contains "$(MANWIDTH=200 man -l "$man_dir/roar-run.1" 2>/dev/null)" "roar-run" "rendered"
fi
echo ok
