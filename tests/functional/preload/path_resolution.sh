# The paths a job's files are recorded under are the files the kernel
# opened: ".." after a symbolic link to a directory goes up from the link's
# target (not by text), and a directory renamed while a process holds it
# (its working directory, an open directory fd) takes the job's later paths
# in it along. What roar cannot follow (a rename by a process outside the
# job) is named in a note, never silently lost. Through the shim (a
# dynamic binary, Python) and the ptrace tracer (a static one).
. "$(dirname "$0")/preload_lib.bash"
need b3sum
build dotdot_io
build dir_rename
STATIC=
if gcc -static -O1 -o "$TEST_TMP/dotdot_io_static" "$PROGS/dotdot_io.c" 2>/dev/null \
  && gcc -static -O1 -o "$TEST_TMP/dir_rename_static" "$PROGS/dir_rename.c" 2>/dev/null; then
  STATIC=1
fi

# linked_tree: real/sub/ and alias -> real/sub; real/x.txt is what the
# kernel reads for alias/../x.txt, x.txt what a lexical reading would name;
# stale outputs lie at the lexical names.
linked_tree() {
  new_project "$1"
  mkdir -p real/sub
  ln -s real/sub alias
  echo REAL >real/x.txt
  echo TOP >x.txt
  echo OLD >out.txt
  echo old >app.txt
}
# assert_dotdot_input: the job read real/x.txt, not x.txt.
assert_dotdot_input() {
  assert_io inputs real/x.txt
  assert_input_digest real/x.txt "$(b3 real/x.txt)"
  assert_not_io inputs x.txt
}
# assert_dotdot_outputs: the job wrote real/out.txt and appended to
# real/app.txt, and nothing at the lexical names.
assert_dotdot_outputs() {
  assert_io outputs real/out.txt
  assert_io outputs real/app.txt
  assert_not_io outputs out.txt
  assert_not_io outputs app.txt
}

check "an input read as alias/../x.txt is real/x.txt, with its digest (shim)"
linked_tree shim
job "$TEST_TMP/dotdot_io" alias/../x.txt alias/../out.txt alias/../app.txt
assert_eq "$JOB_RC" 0 "exit status"
assert_eq "$(cat real/out.txt)" REAL "the kernel read real/x.txt"
assert_dotdot_input
check "outputs written and appended as alias/../NAME are real/NAME, old files at ./NAME are not (shim)"
assert_dotdot_outputs
check "roar show alias/../x.txt is the file the job read there, real/x.txt, as the kernel resolves it"
shown=$("$ROAR" show --json alias/../x.txt)
assert_eq "$(jq -r '.hashes.blake3' <<<"$shown")" "$(b3 real/x.txt)" "roar show's artifact"
assert_contains "$(jq -r '.paths[]' <<<"$shown")" "$PROJECT/real/x.txt" "its recorded paths"

check "after chdir into a symbolic link, ../x.txt is the link target's sibling (shim, Python)"
linked_tree python_cwd
job "$PYTHON" -c "import os; os.chdir('alias'); open('../out.txt', 'w').write(open('../x.txt').read()); open('../app.txt', 'a').write('x')"
assert_eq "$JOB_RC" 0 "exit status"
assert_dotdot_input
assert_dotdot_outputs

check "a shell's cat alias/../x.txt is an input of real/x.txt (shim)"
linked_tree shell
job sh -c 'cat alias/../x.txt >copy.txt'
assert_io inputs real/x.txt
assert_not_io inputs x.txt

if [[ -n $STATIC ]]; then
  check "an input read as alias/../x.txt is real/x.txt (tracer: a learnt read)"
  linked_tree tracer
  job "$TEST_TMP/dotdot_io_static" alias/../x.txt alias/../out.txt alias/../app.txt
  assert_eq "$JOB_RC" 0 "exit status"
  assert_dotdot_input
  check "outputs as alias/../NAME are real/NAME (tracer: a stopped O_APPEND|O_CREAT open among them)"
  assert_dotdot_outputs
fi

# renamed_tree: work/in.txt and an empty cwd/ for dir_rename.
renamed_tree() {
  new_project "$1"
  mkdir work cwd
  echo in >work/in.txt
}
assert_renamed_job() {
  assert_io inputs done/in.txt
  assert_io outputs done/out.txt
  assert_io outputs cwd2/here.txt
  assert_eq "$(jq -r '.notes | length' <<<"$JOB")" 0 "no notes: nothing was lost"
}

check "a directory fd and a working directory renamed by the job keep their files (shim)"
renamed_tree renamed_shim
job "$TEST_TMP/dir_rename"
assert_eq "$JOB_RC" 0 "exit status"
assert_renamed_job

check "the same in Python: os.open(dir_fd=...) and open() after renames through '..' (shim)"
renamed_tree renamed_python
job "$PYTHON" -c "
import os
d = os.open('work', os.O_RDONLY | os.O_DIRECTORY)
os.chdir('cwd')
os.rename('../work', '../done')
os.rename('../cwd', '../cwd2')
os.close(os.open('in.txt', os.O_RDONLY, dir_fd=d))
fd = os.open('out.txt', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=d); os.write(fd, b'result'); os.close(fd)
open('here.txt', 'w').write('here')
"
assert_eq "$JOB_RC" 0 "exit status"
assert_renamed_job

if [[ -n $STATIC ]]; then
  check "a directory fd and a working directory renamed by the job keep their files (tracer)"
  renamed_tree renamed_tracer
  job "$TEST_TMP/dir_rename_static"
  assert_eq "$JOB_RC" 0 "exit status"
  assert_renamed_job
fi

check "a directory renamed by the job takes its files along when a sibling's name extends its own (work.log)"
new_project sibling
job "$PYTHON" -c "
import os
os.mkdir('work')
open('work.log', 'w').write('log')
open('work/out.txt', 'w').write('out')
os.rename('work', 'done')
"
assert_eq "$JOB_RC" 0 "exit status"
assert_io outputs done/out.txt
assert_io outputs work.log
assert_eq "$(jq -r '.notes | length' <<<"$JOB")" 0 "no notes: nothing was lost"

check "a file lost with a directory renamed outside the job is named in a note"
renamed_tree renamed_outside
"$ROAR" run -q -- "$TEST_TMP/dir_rename" wait &
run=$!
sleep 0.5
mv work done
touch moved
wait "$run"
JOB=$(last_job)
assert_eq "$(cat done/out.txt)" result "the job wrote done/out.txt"
assert_not_io outputs work/out.txt
assert_contains "$(jq -r '.notes[]' <<<"$JOB")" "its directory no longer exists (renamed or removed where roar could not see it): $PROJECT/work/out.txt" "the note names the lost file"
echo ok
