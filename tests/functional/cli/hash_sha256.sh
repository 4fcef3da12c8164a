# roar run --hash sha256 (or run.hash = ["sha256"] in roar.toml) records
# each file's SHA-256 beside its BLAKE3, shown by roar show --json; a file
# the job rewrote after reading it gets a note, not a wrong digest; unknown
# algorithms are refused before the job runs.
. "$(dirname "$0")/../lib/common.sh"
need jq sha256sum
new_project
echo "input data" >in.txt
sha() { sha256sum "$1" | cut -d' ' -f1; }

check "--hash sha256 records SHA-256 of inputs and outputs"
"$ROAR" run -q --hash sha256 sh -c 'cat in.txt > out.txt'
job=$(last_job)
assert_eq "$(jq -r '.inputs[] | select(.path | endswith("/in.txt")) | .hashes.sha256' <<<"$job")" "$(sha in.txt)" "input sha256"
assert_eq "$(jq -r '.outputs[] | select(.path | endswith("/out.txt")) | .hashes.sha256' <<<"$job")" "$(sha out.txt)" "output sha256"
assert_eq "$(jq -r '.outputs[0].hashes.blake3 | length' <<<"$job")" 64 "BLAKE3 is still recorded"

check "without --hash only BLAKE3 is recorded (for content not seen with --hash before)"
"$ROAR" run -q sh -c 'echo other content > out2.txt'
assert_eq "$(last_job | jq -r '.outputs[0].hashes | keys | join(",")')" "blake3" "blake3 only"

check "the --hash=sha256 form and run.hash in roar.toml work too"
"$ROAR" run -q --hash=sha256 sh -c 'cat in.txt > out3.txt'
assert_eq "$(last_job | jq -r '.outputs[0].hashes.sha256')" "$(sha out3.txt)" "--hash=sha256"
"$ROAR" config set run.hash '["sha256"]' >/dev/null
"$ROAR" run -q sh -c 'cat in.txt > out4.txt'
assert_eq "$(last_job | jq -r '.outputs[0].hashes.sha256')" "$(sha out4.txt)" "run.hash"

check "roar show of the artifact lists both digests"
text=$("$ROAR" --no-color show out4.txt)
assert_contains "$text" "sha256   $(sha out4.txt)" "sha256 line"
assert_contains "$text" "blake3" "blake3 line"

check "an input the job rewrote after reading it gets a note, not a digest of other bytes"
echo "before" >rw.txt
"$ROAR" run -q --hash sha256 sh -c 'tr a-z A-Z < rw.txt > copy.txt; echo after > rw.txt'
job=$(last_job)
rw_in=$(jq -c '.inputs[] | select(.path | endswith("/rw.txt"))' <<<"$job")
[[ -n $rw_in ]] || fail "rw.txt is not an input"
assert_eq "$(jq -r '.hashes.sha256 // "none"' <<<"$rw_in")" "none" "no sha256 for the rewritten input"
assert_contains "$(jq -r '.notes | join(";")' <<<"$rw_in")" "sha256 not recorded: the file changed after roar hashed it" "note"
assert_eq "$(jq -r '.outputs[] | select(.path | endswith("/rw.txt")) | .hashes.sha256' <<<"$job")" "$(sha rw.txt)" "the rewritten file as output has its sha256"

check "an unknown algorithm is refused before the job runs"
"$ROAR" config set run.hash '[]' >/dev/null
expect_failure "$ROAR" run --hash md5 sh -c 'echo ran > ran.txt'
assert_contains "$ERR_OUT" "unknown digest 'md5'" "error names it"
[[ ! -e ran.txt ]] || fail "the job ran"
echo ok
