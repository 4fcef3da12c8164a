# Everyday tools under roar run: cp, tar, gzip, sh redirections.
. "$(dirname "$0")/../lib/common.sh"
need tar gzip b3sum
new_project
mkdir -p src/sub
for i in 1 2 3; do head -c $((i * 10000)) /dev/urandom >"src/f$i.bin"; done
echo nested >src/sub/n.txt

"$ROAR" run -q cp src/f1.bin copy.bin
j=$(show_json @1)
assert_eq "$(io_digest "$j" inputs "$PROJECT/src/f1.bin")" "$(b3 src/f1.bin)" "cp input"
assert_eq "$(io_digest "$j" outputs "$PROJECT/copy.bin")" "$(b3 copy.bin)" "cp output"

"$ROAR" run -q tar czf src.tgz src
j=$(show_json @2)
assert_eq "$(jq '[.inputs[] | select(.kind == "file")] | length' <<<"$j")" 4 "tar read every file"
assert_eq "$(jq -r '[.inputs[] | select(.kind == "dataset")] | map(.path) | join(",")' <<<"$j")" "$PROJECT/src/" \
  "tar read src/ as a whole: one dataset"
assert_eq "$(io_digest "$j" outputs "$PROJECT/src.tgz")" "$(b3 src.tgz)" "tar+gzip output through an inherited fd"

"$ROAR" run -q gzip -k src/f2.bin
j=$(show_json @3)
assert_eq "$(io_digest "$j" inputs "$PROJECT/src/f2.bin")" "$(b3 src/f2.bin)" "gzip input"
assert_eq "$(io_digest "$j" outputs "$PROJECT/src/f2.bin.gz")" "$(b3 src/f2.bin.gz)" "gzip output"

"$ROAR" run -q sh -c 'cat src/sub/n.txt src/f3.bin | gzip > piped.gz'
j=$(show_json @4)
assert_eq "$(io_paths "$j" inputs | tr '\n' ' ')" "$PROJECT/src/f3.bin $PROJECT/src/sub/n.txt " "pipeline inputs"
assert_eq "$(io_digest "$j" outputs "$PROJECT/piped.gz")" "$(b3 piped.gz)" "pipeline output"
echo ok
