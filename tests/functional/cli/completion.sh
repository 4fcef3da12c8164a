# The bash completion script (packaging/completion/roar.bash) loads in bash
# and completes subcommands, their flags, config keys and @N/@NAME step
# references, driven through its completion function as bash would.
. "$(dirname "$0")/../lib/common.sh"
script=$ROAR_SOURCE_DIR/packaging/completion/roar.bash
new_project
export ROAR
# complete WORD...: what _roar offers for the command line WORD... (the last
# word is the one being completed), one per line, sorted.
complete_line() {
  bash -c '
    roar() { "$ROAR" "$@"; }
    . "$1"; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    _roar
    printf "%s\n" "${COMPREPLY[@]}"' _ "$script" "$@" | sort
}

check "the script loads in bash and registers _roar for roar"
assert_contains "$(bash -c ". '$script'; complete -p roar")" "-F _roar" "complete -p"

check "subcommands complete"
assert_eq "$(complete_line roar ru)" "run" "ru"
assert_eq "$(complete_line roar d | tr '\n' ' ')" "dag diff " "d"
assert_eq "$(complete_line roar --no-color st | tr '\n' ' ')" "status store " "after a global flag"

check "every subcommand of roar --help completes"
for sub in $("$ROAR" --help | awk 'tolower($0) ~ /^subcommands:/ { on = 1; next } on && NF { print $1 }'); do
  assert_contains "$(complete_line roar "$sub")" "$sub" "$sub"
done

check "flags complete per subcommand"
assert_eq "$(complete_line roar dag --st)" "--stale-only" "dag --st"
assert_eq "$(complete_line roar run --ha)" "--hash" "run --ha"
assert_eq "$(complete_line roar run --hash s)" "sha256" "run --hash value"
assert_eq "$(complete_line roar dag --format m)" "mermaid" "dag --format value"

check "config keys complete for config get/set"
assert_contains "$(complete_line roar config get run.)" "run.tracer" "run.tracer"
assert_contains "$(complete_line roar config set run.)" "run.hash" "run.hash"
assert_eq "$(complete_line roar config l)" "list" "config actions"

check "@N and @NAME references complete from the project's steps"
"$ROAR" run -q true
"$ROAR" run -q -n train -- sh -c 'echo x > model.txt'
refs=$(complete_line roar show @)
assert_contains "$refs" "@1" "@1"
assert_contains "$refs" "@2" "@2"
assert_contains "$refs" "@train" "@train"
assert_eq "$(complete_line roar run @tr)" "@train" "roar run @NAME"

if command -v zsh >/dev/null 2>&1; then
  check "the zsh completion file parses"
  zsh -n "$ROAR_SOURCE_DIR/packaging/completion/_roar" || fail "zsh -n _roar"
fi
echo ok
