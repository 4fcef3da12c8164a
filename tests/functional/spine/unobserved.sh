# Programs the shim cannot enter are recorded with a note, never silently,
# when the ptrace tracer is off.
. "$(dirname "$0")/../lib/common.sh"
need gcc python3
new_project
# With the ptrace tracer off, what the shim cannot enter is noted, never
# silent (tests/functional/tracer/ covers tracing it, the default).
"$ROAR" config set run.tracer off >/dev/null
cat >writer.c <<'C'
#include <stdio.h>
int main(int argc, char **argv) { FILE *f = fopen(argv[1], "w"); fputs("static\n", f); return fclose(f); }
C
gcc -static -O1 -o static-writer writer.c 2>/dev/null || skip "no static libc (libc6-dev)"

# As the root command.
"$ROAR" run -q ./static-writer out1.txt
j=$(show_json @1)
assert_eq "$(jq '[.processes[] | select(.observed == false)] | length' <<<"$j")" 1 "unobserved root"
assert_contains "$(jq -r '.processes[] | select(.observed == false) | .notes | join(";")' <<<"$j")" "statically linked" "note"
assert_contains "$(jq -r '.notes | join(";")' <<<"$j")" "not observed" "job note"

# As a child of an observed process.
"$ROAR" run -q sh -c './static-writer out2.txt; echo seen > seen.txt'
j=$(show_json @2)
assert_eq "$(io_paths "$j" outputs)" "$PROJECT/seen.txt" "the shell's own output is recorded"
assert_contains "$(jq -r '.processes[] | select(.observed == false) | .notes | join(";")' <<<"$j")" "statically linked" "child note"
text=$("$ROAR" show @2)
assert_contains "$text" "not observed" "show warns"

# A setuid binary owned by another user: the loader drops LD_PRELOAD.
if [[ $(id -u) -eq 0 ]] && id nobody >/dev/null 2>&1; then
  gcc -O1 -o setuid-writer writer.c
  chown nobody setuid-writer
  chmod 4755 setuid-writer
  chmod 777 .
  "$ROAR" run -q sh -c './setuid-writer out3.txt'
  j=$(show_json @3)
  assert_contains "$(jq -r '.processes[] | select(.observed == false) | .notes | join(";")' <<<"$j")" "setuid" "setuid note"
fi
echo ok
