#!/bin/sh
# make_man.sh ROAR OUTDIR VERSION: writes OUTDIR/roar.1 and one
# OUTDIR/roar-SUB.1 per subcommand with help2man, from `roar --help` and
# `roar SUB --help` themselves (the subcommands are read from the
# Subcommands list of `roar --help`), so the man pages say what --help says.
set -eu
roar=$1 out=$2 version=$3
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
subcommands=$("$roar" --help | awk 'tolower($0) ~ /^subcommands:/ { on = 1; next } on && NF { print $1 }')
"$roar" --help >/dev/null
help2man --no-info --no-discard-stderr --version-string="$version" \
  --name="records which data and code produced each file" \
  --output="$out/roar.1" "$roar"
for sub in $subcommands; do
  # help2man runs PROGRAM --help: a wrapper named roar-SUB runs `roar SUB`.
  printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$roar" "$sub" >"$work/roar-$sub"
  chmod +x "$work/roar-$sub"
  summary=$("$roar" --help | awk -v s="$sub" 'tolower($0) ~ /^subcommands:/ { on = 1; next } on && $1 == s { $1 = ""; sub(/^ +/, ""); print; exit }')
  help2man --no-info --no-discard-stderr --version-string="$version" --name="$summary" \
    --output="$out/roar-$sub.1" "$work/roar-$sub"
done
