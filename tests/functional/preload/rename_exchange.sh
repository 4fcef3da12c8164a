# renameat2(RENAME_EXCHANGE) swaps two names' contents and both names stay:
# the job's record says so (both names are outputs, each with the bytes it
# holds now; a name read before the exchange keeps the digest of the bytes
# it read), where a plain rename would leave the source forgotten.
# RENAME_NOREPLACE stays a plain rename. Through the shim (a dynamic
# binary) and the ptrace tracer (a static one).
. "$(dirname "$0")/preload_lib.bash"
need b3sum
build rename_exchange
STATIC=
if gcc -static -O1 -o "$TEST_TMP/rename_exchange_static" "$PROGS/rename_exchange.c" 2>/dev/null; then
  STATIC=1
fi

# swap_tree NAME: a project with model.bin holding "old".
swap_tree() {
  new_project "$1"
  echo old >model.bin
  OLD_B3=$(b3 model.bin)
}
# assert_swapped BY: the job wrote new.tmp and exchanged it with model.bin.
assert_swapped() {
  assert_eq "$JOB_RC" 0 "exit status"
  assert_eq "$(cat model.bin)" new "model.bin holds the new bytes"
  assert_io outputs model.bin
  check "new.tmp, holding the old bytes after the exchange, is an output too ($1)"
  assert_io outputs new.tmp
  assert_eq "$(io_digest "$JOB" outputs "$PROJECT/new.tmp")" "$OLD_B3" "new.tmp's output digest is the old model.bin's"
  assert_eq "$(jq -r '.deleted | length' <<<"$JOB")" 0 "nothing deleted"
  assert_eq "$(jq -r '.notes | length' <<<"$JOB")" 0 "no notes"
}

check "write new.tmp, exchange it with model.bin: model.bin is an output with the new bytes (shim)"
swap_tree write_shim
job "$TEST_TMP/rename_exchange" write new.tmp model.bin
assert_swapped shim

if [[ -n $STATIC ]]; then
  check "write new.tmp, exchange it with model.bin: model.bin is an output with the new bytes (tracer)"
  swap_tree write_tracer
  job "$TEST_TMP/rename_exchange_static" write new.tmp model.bin
  assert_swapped tracer
fi

# read_tree NAME: a.txt and b.txt from before the job.
read_tree() {
  new_project "$1"
  echo A >a.txt
  echo B >b.txt
  A_B3=$(b3 a.txt)
}
# assert_read_exchanged BY: the job read a.txt, then exchanged it with b.txt.
assert_read_exchanged() {
  assert_eq "$JOB_RC" 0 "exit status"
  assert_eq "$(cat a.txt)" B "a.txt holds b's bytes"
  assert_io inputs a.txt
  assert_input_digest a.txt "$A_B3"
  assert_not_io inputs b.txt
  check "both names of an exchange are outputs with the bytes they hold now ($1)"
  assert_io outputs a.txt
  assert_io outputs b.txt
  assert_eq "$(jq -r '.deleted | length' <<<"$JOB")" 0 "nothing deleted"
}

check "a file read, then exchanged, is an input with the bytes read (shim)"
read_tree read_shim
job "$TEST_TMP/rename_exchange" read a.txt b.txt
assert_read_exchanged shim

if [[ -n $STATIC ]]; then
  check "a file read, then exchanged, is an input with the bytes read (tracer)"
  read_tree read_tracer
  job "$TEST_TMP/rename_exchange_static" read a.txt b.txt
  assert_read_exchanged tracer
fi

check "renameat2(RENAME_NOREPLACE) is a plain rename: the source name is no output (shim)"
new_project noreplace_shim
job "$TEST_TMP/rename_exchange" noreplace new.tmp model.bin
assert_eq "$JOB_RC" 0 "exit status"
assert_io outputs model.bin
assert_not_io outputs new.tmp
echo ok
