#!/usr/bin/env python3
"""Fills a fresh roar database (made by `roar init`) with a synthetic
lineage graph for bench row 7: JOBS jobs in ten repeating steps, each
writing ARTIFACTS/JOBS new artifacts and reading half as many outputs of
earlier jobs (four fifths from the previous job, the rest from any older
job), so the graph is a long chain with cross links, like a project that
has run for months.

usage: lineage_db_synth.py --db PATH/.roar/roar.db --jobs 10000 --artifacts 1000000

The rows are generated inside SQLite (recursive CTEs) into the schema roar
itself created; columns the generator does not know and that need a value
get a neutral one, so a newer schema still loads. Secondary indexes are
dropped during the load and recreated from their own SQL afterwards."""
import argparse
import json
import sqlite3
import sys
import time

STEPS = ["prepare", "tokenize", "split", "train", "evaluate", "export", "report", "sweep", "distill", "package"]


def insert_select(con, table, exprs, source):
    """INSERT OR IGNORE INTO table (known columns...) SELECT exprs FROM source,
    adding neutral values for unknown NOT NULL columns without defaults."""
    cols = {r[1]: (r[2].upper(), bool(r[3]), r[4] is not None, bool(r[5]))
            for r in con.execute(f"PRAGMA table_info({table})")}
    if not cols:
        sys.exit(f"lineage_db_synth: table {table} is missing: is this a roar database?")
    names = [c for c in exprs if c in cols]
    values = [exprs[c] for c in names]
    for name, (ctype, notnull, has_default, pk) in cols.items():
        if name in exprs or not notnull or has_default or pk:
            continue
        names.append(name)
        values.append("0" if ("INT" in ctype or "REAL" in ctype) else "''")
    con.execute(f"INSERT OR IGNORE INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {source}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--artifacts", type=int, default=1_000_000)
    a = ap.parse_args()
    jobs = a.jobs
    per_job = max(1, a.artifacts // jobs)
    reads = max(1, per_job // 2)
    n_art = per_job * jobs
    t0 = time.time() - jobs * 60.0  # one job a minute, ending now
    ns = len(STEPS)

    con = sqlite3.connect(a.db, isolation_level=None)
    # Written once, then only read: no journal while loading, WAL (roar's
    # mode) again at the end.
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -400000")
    con.execute("PRAGMA temp_store = MEMORY")
    if con.execute("SELECT count(*) FROM jobs").fetchone()[0]:
        sys.exit("lineage_db_synth: the database already has jobs; start from a fresh `roar init`")
    con.execute("BEGIN")
    tables = ("jobs", "processes", "artifacts", "artifact_hashes", "job_io", "steps", "paths")
    indexes = con.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                          f"AND tbl_name IN ({','.join('?' * len(tables))})", tables).fetchall()
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    con.execute("CREATE TEMP TABLE step_names (i INTEGER PRIMARY KEY, name TEXT)")
    con.executemany("INSERT INTO step_names VALUES (?, ?)", list(enumerate(STEPS)))
    con.execute("INSERT INTO sessions (id, created_at, active) VALUES (1, ?, 1)", (t0,))
    insert_select(con, "steps", {"id": "i + 1", "session_id": "1", "number": "i + 1",
                                 "signature": "'python3 ' || name || '.py --run #'",
                                 "command": "'python3 ' || name || '.py'"}, "step_names")

    def seq(n):
        return f"(WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x + 1 < {n}) SELECT x FROM s)"
    step = f"(SELECT name FROM step_names WHERE i = {{j}} % {ns})"
    cmd = f"'python3 ' || {step} || '.py --run ' || ({{j}} / {ns})"
    jcmd = cmd.format(j="x")
    insert_select(con, "jobs", {
        "id": "x + 1", "uid": "printf('%08x%04x', x, abs(random()) % 65536)", "session_id": "1",
        "step_id": f"x % {ns} + 1", "command": jcmd,
        "argv": f"json_array('python3', {step.format(j='x')} || '.py', '--run', x / {ns})",
        "cwd": "'/data/proj'", "started_at": f"{t0} + x * 60.0", "ended_at": f"{t0} + x * 60.0 + 30.0",
        "exit_code": "0", "hostname": "'bench-host'", "user": "'bench'", "git_commit": f"'{'0' * 40}'",
        "git_branch": "'main'", "git_dirty": "0", "env": "'{}'", "dropped_events": "0", "notes": "'[]'",
        "roar_version": "'0.1.0'"}, seq(jobs))
    insert_select(con, "processes", {
        "job_id": "x + 1", "seq": "0", "pid": "1000 + x", "ppid": "1", "exe": "'/usr/bin/python3'",
        "argv": "'[]'", "cwd": "'/data/proj'", "started_at": f"{t0} + x * 60.0", "exit_code": "0",
        "observed": "1", "notes": "'[]'"}, seq(jobs))
    # Artifact i (1-based) is output number (i-1) % per_job of job (i-1) / per_job.
    path = (f"printf('/data/proj/run%05d/%s/part-%04d.bin', ({{a}} - 1) / {per_job} / {ns}, "
            f"(SELECT name FROM step_names WHERE i = ({{a}} - 1) / {per_job} % {ns}), ({{a}} - 1) % {per_job})")
    insert_select(con, "artifacts", {"id": "x + 1", "kind": "'file'", "size": "4096 + (x + 1) % 65536",
                                     "first_seen": f"{t0} + (x / {per_job}) * 60.0"}, seq(n_art))
    insert_select(con, "artifact_hashes", {"artifact_id": "x + 1", "algorithm": "'blake3'",
                                           "digest": "lower(hex(randomblob(32)))"}, seq(n_art))
    # Artifact i's path is path i (schema 7 interns paths).
    insert_select(con, "paths", {"id": "x + 1", "path": path.format(a="(x + 1)")}, seq(n_art))
    insert_select(con, "job_io", {"job_id": f"x / {per_job} + 1", "direction": "'out'",
                                  "path_id": "x + 1", "artifact_id": "x + 1",
                                  "size": "4096 + (x + 1) % 65536", "notes": "'[]'"}, seq(n_art))
    # Inputs of job j >= 1 (0-based): k-th read, k < reads.
    near = reads * 4 // 5
    art = (f"(CASE WHEN x % {reads} < {near} THEN (x / {reads}) * {per_job} + 1 + x % {reads} "
           f"ELSE 1 + abs(random()) % ((x / {reads} + 1) * {per_job}) END)")
    con.execute(f"CREATE TEMP TABLE inputs AS SELECT x / {reads} + 2 AS job, {art} AS art "
                f"FROM {seq((jobs - 1) * reads)}")
    insert_select(con, "job_io", {"job_id": "job", "direction": "'in'", "path_id": "art",
                                  "artifact_id": "art", "size": "4096 + art % 65536", "notes": "'[]'"},
                  "temp.inputs")
    for _, sql in indexes:
        con.execute(sql)
    # Written in schema 7's shape: roar's own migration adds the per-job use
    # lists (job_uses) the first time roar opens the file.
    con.execute("DROP TABLE job_uses")
    con.execute("PRAGMA user_version = 7")
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode = WAL")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("jobs", "artifacts", "job_io")}
    con.close()
    print(json.dumps({"jobs": counts["jobs"], "artifacts": counts["artifacts"], "job_io": counts["job_io"],
                      "outputs_per_job": per_job, "inputs_per_job": reads}))


if __name__ == "__main__":
    main()
