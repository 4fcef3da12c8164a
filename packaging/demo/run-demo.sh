#!/usr/bin/env bash
# The demo pipeline: three Python steps under `roar run`, then what roar
# can tell about the result. Usage: run-demo.sh PATH/TO/roar [WORKDIR]
set -euo pipefail
roar=$(realpath "${1:?usage: run-demo.sh PATH/TO/roar [WORKDIR]}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${2:-$(mktemp -d /tmp/roar-demo.XXXXXX)}
mkdir -p "$work"
cp "$here"/*.py "$work"/
cd "$work"
py=$(command -v python3)

show() { printf '\n$ %s\n' "$*"; "$@"; }

echo "Demo project: $work"
"$py" make_raw.py raw.csv
show "$roar" init
show "$roar" run "$py" prepare.py raw.csv features.csv
show "$roar" run "$py" train.py features.csv model.json --epochs 300
show "$roar" run "$py" evaluate.py model.json features.csv metrics.json
show "$roar" log
show "$roar" show model.json
show "$roar" show @2
echo
echo "Done. Explore further with: cd $work && $roar show --json @3"
