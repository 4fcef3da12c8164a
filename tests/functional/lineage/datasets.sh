# Datasets (issue 13): a directory a job lists and reads as a whole is
# also one dataset input; the run report, show, dag and status treat it as
# one entry, and status says which of its files changed, appeared or went.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
mkdir -p data/train/sub
for i in $(seq -w 1 190); do printf 'row %s\n' "$i" >data/train/f$i.txt; done
for i in $(seq 191 200); do printf 'row %s\n' "$i" >data/train/sub/f$i.txt; done
cat >train.py <<'PY'
import os, sys
total = 0
for d, dirs, files in os.walk(sys.argv[1]):
    for f in sorted(files):
        with open(os.path.join(d, f), "rb") as fh:
            total += len(fh.read())
with open(sys.argv[2], "w") as out:
    out.write(str(total))
PY
cat >partial.py <<'PY'
import os, sys
names = sorted(os.listdir(sys.argv[1]))[:5]
print(sum(len(open(os.path.join(sys.argv[1], n)).read()) for n in names))
PY
root=$PWD
bytes=$(cat data/train/f*.txt data/train/sub/*.txt | wc -c)

check "a job that walks and reads a whole directory records it as one dataset input"
report=$("$ROAR" run "$PY" train.py data/train model.txt 2>&1 >/dev/null)
job=$(last_job)
assert_eq "$(jq '[.inputs[] | select(.kind == "dataset")] | length' <<<"$job")" 1 "datasets"
ds=$(jq -c '.inputs[] | select(.kind == "dataset")' <<<"$job")
assert_eq "$(jq -r .path <<<"$ds")" "$root/data/train/" "dataset path"
assert_eq "$(jq .files <<<"$ds")" 200 "dataset files"
assert_eq "$(jq .size <<<"$ds")" "$bytes" "dataset bytes"
assert_eq "$(jq '[.inputs[] | select(.dataset == "'"$root"'/data/train/")] | length' <<<"$job")" 200 \
  "the files stay inputs, each naming its dataset"

check "the run report shows the dataset as one entry"
assert_contains "$report" "data/train/  (dataset, 200 files" "report line"
assert_not_contains "$report" "f001.txt" "no member lines"

check "show's text view shows the dataset as one entry"
text=$("$ROAR" show "$(jq -r .job_id <<<"$job")")
assert_contains "$text" "Inputs (2, with 200 files in datasets)" "inputs title"
assert_contains "$text" "data/train/  (dataset, 200 files" "dataset line"
assert_not_contains "$text" "f001.txt" "no member lines"

check "roar show of the directory answers like a file, with or without the slash"
for ref in data/train data/train/; do
  a=$(show_json "$ref")
  assert_eq "$(jq -r .kind <<<"$a")" dataset "kind of $ref"
  assert_eq "$(jq -r '.consumed_by[0].job_id' <<<"$a")" "$(jq -r .job_id <<<"$job")" "reader of $ref"
  assert_eq "$(jq -r .hashes.blake3 <<<"$a")" "$(jq -r .hashes.blake3 <<<"$ds")" "digest of $ref"
done

check "dag --show-artifacts lists the dataset once and not its files"
all=$(dag_json --show-artifacts)
assert_eq "$(jq '[.artifacts[] | select(.display_path == "data/train/")] | length' <<<"$all")" 1 "dataset artifact"
assert_eq "$(jq '[.artifacts[] | select(.display_path | startswith("data/train/f"))] | length' <<<"$all")" 0 \
  "member artifacts"

dataset_status() { "$ROAR" status --json | jq -c '.files[] | select(.path | endswith("/data/train/"))'; }

check "an unchanged dataset is present"
assert_eq "$(dataset_status | jq -r .state)" present "state"

check "a dataset one of whose files changed is modified, and status names the file"
printf 'changed\n' >data/train/f050.txt
st=$(dataset_status)
assert_eq "$(jq -r .state <<<"$st")" modified "state"
assert_eq "$(jq -c .dataset.changed <<<"$st")" "[\"$root/data/train/f050.txt\"]" "changed"
assert_eq "$(jq -c '[.dataset.added, .dataset.removed]' <<<"$st")" "[[],[]]" "nothing added or removed"
assert_contains "$("$ROAR" status)" "modified  data/train/  (dataset, 200 files now; 1 changed: data/train/f050.txt)" \
  "status text"
assert_contains "$("$ROAR" status)" "train.py" "the reading step is stale"
assert_contains "$("$ROAR" status)" "Datasets: 0 present, 1 modified, 0 missing" "datasets counted apart"
assert_eq "$("$ROAR" status --json | jq -c '[.counts.modified, .dataset_counts.modified]')" "[1,1]" "JSON counts"
printf 'row 050\n' >data/train/f050.txt
assert_eq "$(dataset_status | jq -r .state)" present "restored: present again"

check "a file added to a dataset makes it modified, named as added"
printf 'new\n' >data/train/sub/new.txt
st=$(dataset_status)
assert_eq "$(jq -r .state <<<"$st")" modified "state"
assert_eq "$(jq -c .dataset.added <<<"$st")" "[\"$root/data/train/sub/new.txt\"]" "added"
assert_contains "$("$ROAR" status)" "1 added: data/train/sub/new.txt" "status text"
rm data/train/sub/new.txt

check "a file removed from a dataset makes it modified, named as removed"
rm data/train/f007.txt
st=$(dataset_status)
assert_eq "$(jq -r .state <<<"$st")" modified "state"
assert_eq "$(jq -c .dataset.removed <<<"$st")" "[\"$root/data/train/f007.txt\"]" "removed"
assert_contains "$("$ROAR" status)" "(dataset, 199 files now; 1 removed: data/train/f007.txt)" "status text"
printf 'row 007\n' >data/train/f007.txt

check "show of a dataset names the jobs that produced its files"
cat >gen.py <<'PY'
import os, sys
os.makedirs(sys.argv[1], exist_ok=True)
for i in range(3):
    with open(os.path.join(sys.argv[1], f"part{i}.txt"), "w") as f:
        f.write(f"part {i}\n")
PY
"$ROAR" run -q "$PY" gen.py data/gen
gen_job=$(last_job | jq -r .job_id)
"$ROAR" run -q "$PY" train.py data/gen model2.txt
a=$(show_json data/gen)
assert_eq "$(jq -c '[.files_produced_by[] | [.job_id, .files]]' <<<"$a")" "[[\"$gen_job\",3]]" "producers"
assert_contains "$("$ROAR" show data/gen)" "Its files produced by (1)" "show text"

check "a job that lists a directory but reads only some of its files records no dataset"
"$ROAR" run -q "$PY" partial.py data/train >/dev/null
job=$(last_job)
assert_eq "$(jq '[.inputs[] | select(.kind == "dataset")] | length' <<<"$job")" 0 "datasets"
assert_eq "$(jq '[.inputs[] | select(.path | startswith("'"$root"'/data/train/f"))] | length' <<<"$job")" 5 \
  "the files it read are inputs"
echo ok
