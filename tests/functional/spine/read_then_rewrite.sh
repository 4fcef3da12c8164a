# A file the job reads and then rewrites: the input digest is of the bytes
# before the first write, the output digest of the final bytes.
. "$(dirname "$0")/../lib/common.sh"
need python3 b3sum
new_project
head -c 300000 /dev/urandom >state.bin
before=$(b3 state.bin)
cat >bump.py <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[1], "wb") as f:      # truncate and rewrite in place
    f.write(data[::-1] + b"more")
PY
"$ROAR" run -q "$PYTHON" bump.py state.bin
after=$(b3 state.bin)
assert_ne "$before" "$after" "file changed"
j=$(show_json @1)
assert_eq "$(io_digest "$j" inputs "$PROJECT/state.bin")" "$before" "input digest = bytes before the write"
assert_eq "$(io_digest "$j" outputs "$PROJECT/state.bin")" "$after" "output digest = final bytes"

# The same through a shell: read with cat, rewrite with a redirection.
printf 'version 1\n' >notes.txt
v1=$(b3 notes.txt)
"$ROAR" run -q sh -c 'cat notes.txt >/dev/null; echo "version 2" > notes.txt'
j=$(show_json @2)
assert_eq "$(io_digest "$j" inputs "$PROJECT/notes.txt")" "$v1" "shell: input digest before rewrite"
assert_eq "$(io_digest "$j" outputs "$PROJECT/notes.txt")" "$(b3 notes.txt)" "shell: output digest"
echo ok
