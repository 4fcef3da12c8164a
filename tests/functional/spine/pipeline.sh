# Two chained jobs: inputs/outputs with b3sum-equal digests, the artifact's
# producer and consumer, and the JSON shapes of show and log.
. "$(dirname "$0")/../lib/common.sh"
need python3 b3sum
new_project
printf 'a,b\n1,2\n3,4\n' >data.csv
cat >preprocess.py <<'PY'
import sys
rows = open(sys.argv[1]).read().splitlines()
with open(sys.argv[2], "w") as f:
    f.write("\n".join(r.upper() for r in rows) + "\n")
PY
cat >train.py <<'PY'
import sys, hashlib
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(hashlib.sha256(data).digest() * 1000)
PY

"$ROAR" run -q "$PYTHON" preprocess.py data.csv features.csv
"$ROAR" run -q "$PYTHON" train.py features.csv model.bin

j1=$(show_json @1)
j2=$(show_json @2)
assert_eq "$(io_paths "$j1" inputs | tr '\n' ' ')" "$PROJECT/data.csv $PROJECT/preprocess.py " "inputs of @1"
assert_eq "$(io_paths "$j1" outputs)" "$PROJECT/features.csv" "outputs of @1"
assert_eq "$(io_digest "$j1" inputs "$PROJECT/data.csv")" "$(b3 data.csv)" "blake3 of data.csv"
assert_outputs_match_b3sum "$j1"
assert_outputs_match_b3sum "$j2"
assert_eq "$(io_digest "$j2" inputs "$PROJECT/features.csv")" "$(b3 features.csv)" "@2 reads what @1 wrote"
assert_eq "$(jq -r '.outputs[0].size' <<<"$j2")" "$(stat -c %s model.bin)" "size of model.bin"

# The job record's fields.
for key in job_id step command argv cwd exit_code started_at duration_s inputs outputs processes; do
  jq -e "has(\"$key\")" <<<"$j2" >/dev/null || fail "show --json lacks $key"
done
assert_eq "$(jq -r .step <<<"$j2")" 2 "step"
assert_eq "$(jq -r '.argv | join(" ")' <<<"$j2")" "$PYTHON train.py features.csv model.bin" "argv"
assert_eq "$(jq -r .cwd <<<"$j2")" "$PROJECT" "cwd"
assert_eq "$(jq -r .exit_code <<<"$j2")" 0 "exit code"
jq -e '.processes[0] | has("pid") and has("ppid") and has("argv") and has("exit_code") and has("notes")' \
  <<<"$j2" >/dev/null || fail "process fields"
assert_eq "$(jq -r '.processes[0].argv[0]' <<<"$j2")" "$PYTHON" "root process argv"

# An artifact by path: produced by @2's job, digest equals b3sum.
art=$(show_json model.bin)
assert_eq "$(jq -r '.produced_by[0].job_id' <<<"$art")" "$(jq -r .job_id <<<"$j2")" "producer of model.bin"
assert_eq "$(jq -r .hashes.blake3 <<<"$art")" "$(b3 model.bin)" "artifact digest"
feat=$(show_json features.csv)
assert_eq "$(jq -r '.consumed_by[0].job_id' <<<"$feat")" "$(jq -r .job_id <<<"$j2")" "consumer of features.csv"
# ... and by digest prefix, and by job-id prefix.
digest=$(b3 model.bin)
assert_eq "$(show_json "${digest:0:10}" | jq -r .hashes.blake3)" "$digest" "artifact by digest prefix"
jid=$(jq -r .job_id <<<"$j1")
assert_eq "$(show_json "${jid:0:8}" | jq -r .job_id)" "$jid" "job by id prefix"

# log --json: oldest first, with the summary fields.
log=$("$ROAR" log --json)
assert_eq "$(jq length <<<"$log")" 2 "jobs in log"
assert_eq "$(jq -r '.[0].job_id' <<<"$log")" "$jid" "oldest first"
jq -e '.[1] | has("job_id") and has("step") and has("command") and has("exit_code") and has("started_at")' \
  <<<"$log" >/dev/null || fail "log fields"

# The human forms mention the essentials.
text=$("$ROAR" show @2)
assert_contains "$text" "model.bin" "show text"
assert_contains "$text" "${digest:0:12}" "show text digest"
assert_contains "$("$ROAR" log)" "train.py features.csv model.bin" "log text"
echo "ok"
