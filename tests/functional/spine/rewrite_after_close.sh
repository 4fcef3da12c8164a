# A file the job closes (so roar may hash it while the job runs) and then
# changes again without changing its size or mtime: through write() with
# the mtime put back, and through a shared mapping made before the close.
# The recorded output digest must be of the final bytes either way.
. "$(dirname "$0")/../lib/common.sh"
need python3 b3sum
new_project
cat >rewrite.py <<'PY'
import mmap, os, sys, time
path, how = sys.argv[1], sys.argv[2]
size = 1 << 20
if how == "write":
    with open(path, "wb") as f:
        f.write(b"a" * size)
    time.sleep(0.5)                      # long enough for an early hash
    st = os.stat(path)
    fd = os.open(path, os.O_WRONLY)      # not read-write: no mapping possible
    os.pwrite(fd, b"b" * 16, 0)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
else:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC)
    os.ftruncate(fd, size)
    m = mmap.mmap(fd, size)
    m[0:size] = b"a" * size
    os.close(fd)
    time.sleep(0.5)
    m[0:16] = b"b" * 16                  # pages already writable: no fault, mtime unchanged
    m.flush()
# Exit with the last fd still open: no close tells roar to hash it again.
os._exit(0)
PY
"$ROAR" run -q "$PYTHON" rewrite.py written.bin write
assert_eq "$(io_digest "$(show_json @1)" outputs "$PROJECT/written.bin")" "$(b3 written.bin)" \
    "rewritten with write(), same size and mtime: digest of the final bytes"
"$ROAR" run -q "$PYTHON" rewrite.py mapped.bin mmap
assert_eq "$(io_digest "$(show_json @2)" outputs "$PROJECT/mapped.bin")" "$(b3 mapped.bin)" \
    "rewritten through a shared mapping: digest of the final bytes"
echo ok
