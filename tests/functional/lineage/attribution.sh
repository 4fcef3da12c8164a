# Every input, output and deleted path of a job names the process that
# touched it (issue 17, attribution): in a job of several processes,
# `roar show --json` gives the input the pid of the process that read it,
# the output the pid of the one that wrote it and the deleted file the pid
# of the one that removed it, each a pid of the job's process list running
# the matching program. The text view lists them per process ("By
# process", every program of an exec'd pid named), and roar run's report
# names the process next to each file of a job of several processes.
# On PostgreSQL (lineage-postgres/attribution) a schema of version 2 gains
# the column too, its older jobs' entries with a null pid.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/lib_lineage.bash"
new_project
echo data >in.txt
echo stale >old.txt
"$ROAR" run sh -c "cat in.txt >/dev/null; $PY -c 'open(\"out.txt\", \"w\").write(\"x\")'; rm old.txt; true" \
  2>report.txt
j=$(show_json @1)
# pid_of LIST NAME: the pid recorded for $PROJECT/NAME in the job's LIST.
pid_of() { jq -r --arg p "$PROJECT/$2" ".$1[] | select(.path == \$p) | .pid" <<<"$j"; }
# runs PID PROGRAM: whether a record of process PID ran PROGRAM (its exe's base name).
runs() {
  jq -e --argjson pid "$1" --arg prog "$2" \
    '[.processes[] | select(.pid == $pid and (.exe | split("/") | last | startswith($prog)))] | length > 0' \
    <<<"$j" >/dev/null
}
reader=$(pid_of inputs in.txt)
writer=$(pid_of outputs out.txt)
remover=$(pid_of deleted old.txt)

check "the input names the process that read it: cat"
[[ $reader =~ ^[0-9]+$ ]] || fail "in.txt's pid: '$reader' ($(jq -c .inputs <<<"$j"))"
runs "$reader" cat || fail "pid $reader is not a cat of the job: $(jq -c .processes <<<"$j")"

check "the output names the process that wrote it: python3"
[[ $writer =~ ^[0-9]+$ ]] || fail "out.txt's pid: '$writer' ($(jq -c .outputs <<<"$j"))"
runs "$writer" python3 || fail "pid $writer is not a python3 of the job: $(jq -c .processes <<<"$j")"
assert_ne "$writer" "$reader" "the writer's pid against the reader's"

check "the deleted file names the process that removed it: rm"
[[ $remover =~ ^[0-9]+$ ]] || fail "old.txt's pid: '$remover' ($(jq -c .deleted <<<"$j"))"
runs "$remover" rm || fail "pid $remover is not an rm of the job: $(jq -c .processes <<<"$j")"

check "every entry of the JSON has a pid member"
assert_eq "$(jq '[.inputs[], .outputs[], .deleted[] | has("pid")] | all' <<<"$j")" true "pid members"

check "the run report names the process next to each file"
assert_contains "$(grep -F ' in.txt' report.txt)" "pid $reader sh>cat" "in.txt's report line"
assert_contains "$(grep -F ' out.txt' report.txt)" "pid $writer sh>python3" "out.txt's report line"
assert_contains "$(grep -F ' old.txt' report.txt)" "pid $remover sh>rm" "old.txt's report line"

check "the text view lists what each process read, wrote and deleted"
text=$("$ROAR" show @1)
by=$(sed -n '/^By process/,/^Environment/p' <<<"$text")
assert_contains "$by" "By process (3 with inputs or outputs)"
assert_contains "$by" "  pid $reader sh>cat
    read    in.txt"
assert_contains "$by" "  pid $writer sh>python3
    wrote   out.txt"
assert_contains "$by" "  pid $remover sh>rm
    deleted old.txt"

check "a pid that ran exec is named by every program it ran, and long lists are cut"
mkdir -p many
"$ROAR" run -q sh -c 'for i in 1 2 3 4 5 6 7; do echo $i >many/f$i; done; exec cat many/f1'
text=$("$ROAR" show @2)
assert_contains "$text" "sh>cat"
assert_contains "$text" "    wrote   many/f5
    ... and 2 more ('--all' lists every one; '--json' has them all)"
assert_contains "$("$ROAR" show --all @2)" "    wrote   many/f7"

check "roar diff names a path whose process changed program between two jobs"
"$ROAR" run -q sh -c "$PY -c 'open(\"d.txt\", \"w\").write(\"1\")'"
"$ROAR" run -q sh -c 'echo 1 >d.txt'
changed=$("$ROAR" diff --json @3 @4 | jq -c '.outputs.process_changed')
assert_eq "$(jq -r '.[0].path' <<<"$changed")" d.txt "path whose process changed"
assert_contains "$(jq -r '.[0].a' <<<"$changed")" "python3" "the first job's writer"
assert_contains "$(jq -r '.[0].b' <<<"$changed")" "sh (pid " "the second job's writer"
assert_contains "$("$ROAR" diff @3 @4)" "    p d.txt  written by "
assert_eq "$("$ROAR" diff --json @1 @1 | jq -c '[.inputs.process_changed, .outputs.process_changed]')" "[[],[]]" \
  "a job against itself"

if [[ ${ROAR_TEST_STORE:-sqlite} == postgres ]]; then
  check "a PostgreSQL schema of version 2 gains job_io.pid (older jobs' entries null) and use lists"
  schema=roar_p$_roar_pg_projects
  # Back to version 2: uses carry their paths again (4 -> 5 undone), without pids (2 -> 3 undone).
  paths_before=$(show_json @1 | jq -c '[.inputs[], .outputs[] | .path]')
  pg_sql -c "DROP TABLE $schema.job_uses; ALTER TABLE $schema.job_io ADD COLUMN path TEXT COLLATE \"C\";
    UPDATE $schema.job_io io SET path = p.path FROM $schema.paths p WHERE p.id = io.path_id;
    ALTER TABLE $schema.job_io DROP COLUMN path_id; DROP TABLE $schema.paths;
    ALTER TABLE $schema.job_io ALTER COLUMN path SET NOT NULL, ADD PRIMARY KEY (job_id, direction, path);
    CREATE INDEX job_io_by_path ON $schema.job_io(path);
    ALTER TABLE $schema.job_io DROP COLUMN pid; UPDATE $schema.roar_meta SET version = 2"
  "$ROAR" run -q "$PY" -c 'open("again.txt", "w").write(open("in.txt").read())'
  assert_eq "$(pg_sql -c "SELECT max(version) FROM $schema.roar_meta")" 6 "schema version"
  # Each list decoded here on its own (items split, path ids summed) must
  # name exactly its job's job_io rows: the upgrade's lists for the jobs
  # recorded before, the writer's for the one after.
  assert_eq "$(pg_sql -c "SELECT count(*) FROM $schema.jobs WHERE id NOT IN (SELECT job_id FROM $schema.job_uses)")" \
    0 "jobs without use lists"
  assert_eq "$(pg_sql -c "WITH items AS (
      SELECT u.job_id, l.dir, t.item, t.n FROM $schema.job_uses u
      CROSS JOIN LATERAL (VALUES ('out', u.outputs), ('in', u.inputs)) AS l(dir, list)
      CROSS JOIN LATERAL regexp_split_to_table(l.list, ',') WITH ORDINALITY AS t(item, n) WHERE l.list <> ''),
    listed AS (
      SELECT job_id, dir, sum(split_part(item, ':', 1)::bigint) OVER (PARTITION BY job_id, dir ORDER BY n) AS path_id,
             split_part(item, ':', 2)::bigint AS artifact FROM items),
    rows AS (SELECT job_id, direction AS dir, path_id, coalesce(artifact_id, 0) AS artifact FROM $schema.job_io
             WHERE direction IN ('in', 'out'))
    SELECT (SELECT count(*) FROM listed) - (SELECT count(*) FROM rows)
      + (SELECT count(*) FROM (SELECT * FROM listed EXCEPT SELECT * FROM rows) x)
      + (SELECT count(*) FROM (SELECT * FROM rows EXCEPT SELECT * FROM listed) y)")" 0 \
    "uses the lists and job_io disagree on"
  assert_eq "$(show_json @1 | jq -c '[.inputs[], .outputs[] | .path]')" "$paths_before" "paths of the job recorded before"
  assert_eq "$(pg_sql -c "SELECT count(*) FROM $schema.paths")" \
    "$(pg_sql -c "SELECT count(DISTINCT path_id) FROM $schema.job_io")" "each path once"
  assert_eq "$(show_json @1 | jq '[.inputs[], .outputs[] | .pid] | unique')" "[
  null
]" "pids of the job recorded before"
  [[ $(show_json @5 | jq --arg p "$PROJECT/again.txt" '.outputs[] | select(.path == $p) | .pid') =~ ^[0-9]+$ ]] ||
    fail "the job recorded after the upgrade has no pid"

  check "a PostgreSQL schema of version 4 checks no foreign key per use and keys digests by digest"
  assert_eq "$(pg_sql -c "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN
    ('$schema.job_io'::regclass, '$schema.artifact_hashes'::regclass)")" 0 "foreign keys on job_io and artifact_hashes"
  assert_eq "$(pg_sql -c "SELECT string_agg(a.attname, ',' ORDER BY k.n) FROM pg_index i
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = '$schema.artifact_hashes'::regclass AND i.indisprimary")" "digest,algorithm" \
    "artifact_hashes's key"
  digest=$(show_json @5 | jq -r --arg p "$PROJECT/again.txt" '.outputs[] | select(.path == $p) | .hashes.blake3')
  assert_eq "$(show_json "${digest:0:12}" | jq --arg p "$PROJECT/again.txt" '.paths | index($p) != null')" true \
    "an artifact found by digest prefix"
fi
echo ok
