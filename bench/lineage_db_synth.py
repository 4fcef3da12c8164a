#!/usr/bin/env python3
"""Fills a fresh roar database (made by `roar init`) with a synthetic
lineage graph for bench row 7: JOBS jobs in ten repeating steps, each
writing ARTIFACTS/JOBS new artifacts and reading half as many outputs of
earlier jobs (mostly the previous job's, some far older), so the graph is a
long chain with cross links, like a project that has run for months.

usage: lineage_db_synth.py --db PATH/.roar/roar.db --jobs 10000 --artifacts 1000000

Rows are inserted with SQL into the schema roar itself created; columns the
generator does not know and that need a value get a neutral one, so a newer
schema still loads. Deterministic (fixed seed)."""
import argparse
import hashlib
import json
import random
import sqlite3
import sys
import time

STEPS = ["prepare.py", "tokenize.py", "split.py", "train.py", "evaluate.py",
         "export.py", "report.py", "sweep.py", "distill.py", "package.py"]


def columns(con, table):
    """name -> (type, notnull, has_default, is_pk) for `table`."""
    return {r[1]: (r[2].upper(), bool(r[3]), r[4] is not None, bool(r[5]))
            for r in con.execute(f"PRAGMA table_info({table})")}


def inserter(con, table, known):
    """An INSERT for `table` taking the `known` column names in order, plus
    neutral values for unknown NOT NULL columns without defaults."""
    cols = columns(con, table)
    if not cols:
        sys.exit(f"lineage_db_synth: table {table} is missing: is this a roar database?")
    names = [c for c in known if c in cols]
    extra = {}
    for name, (ctype, notnull, has_default, pk) in cols.items():
        if name in known or not notnull or has_default or pk:
            continue
        extra[name] = 0 if ("INT" in ctype or "REAL" in ctype) else ("[]" if "json" in name else "")
    keep = [known.index(n) for n in names]
    sql = (f"INSERT INTO {table} ({', '.join(names + list(extra))}) "
           f"VALUES ({', '.join('?' * (len(names) + len(extra)))})")
    tail = tuple(extra.values())

    def rows(values):
        for v in values:
            yield tuple(v[i] for i in keep) + tail
    return lambda values: con.executemany(sql, rows(values))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--artifacts", type=int, default=1_000_000)
    a = ap.parse_args()
    rng = random.Random(20240607)
    per_job = max(1, a.artifacts // a.jobs)
    reads = max(1, per_job // 2)
    t0 = time.time() - a.jobs * 60.0  # one job a minute, ending now

    con = sqlite3.connect(a.db)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("BEGIN")
    if con.execute("SELECT count(*) FROM jobs").fetchone()[0]:
        sys.exit("lineage_db_synth: the database already has jobs; start from a fresh `roar init`")
    con.execute("INSERT INTO sessions (id, created_at, active) VALUES (1, ?, 1)", (t0,))
    add_step = inserter(con, "steps", ["id", "session_id", "number", "signature", "command"])
    add_step([(i + 1, 1, i + 1, f"python3 {s} #", f"python3 {s}") for i, s in enumerate(STEPS)])

    add_job = inserter(con, "jobs", ["id", "uid", "session_id", "step_id", "command", "argv", "cwd", "started_at",
                                     "ended_at", "exit_code", "hostname", "user", "git_commit", "git_branch",
                                     "git_dirty", "env", "dropped_events", "notes", "roar_version"])
    add_proc = inserter(con, "processes", ["job_id", "seq", "pid", "ppid", "parent_seq", "exe", "argv", "cwd",
                                           "started_at", "exit_code", "observed", "notes"])
    add_art = inserter(con, "artifacts", ["id", "kind", "size", "first_seen"])
    add_hash = inserter(con, "artifact_hashes", ["artifact_id", "algorithm", "digest"])
    add_io = inserter(con, "job_io", ["job_id", "direction", "path", "artifact_id", "size", "notes"])

    def job_rows():
        for j in range(a.jobs):
            step = j % len(STEPS)
            argv = ["python3", STEPS[step], "--run", str(j // len(STEPS))]
            start = t0 + j * 60.0
            yield (j + 1, f"{j:08x}{rng.getrandbits(16):04x}", 1, step + 1, " ".join(argv), json.dumps(argv),
                   "/data/proj", start, start + 30.0, 0, "bench-host", "bench", "0" * 40, "main", 0, "{}", 0, "[]",
                   "0.1.0")
    add_job(job_rows())
    add_proc((j + 1, 0, 1000 + j, 1, None, "/usr/bin/python3", "[]", "/data/proj", t0 + j * 60.0, 0, 1, "[]")
             for j in range(a.jobs))

    def path(art):
        j, k = divmod(art - 1, per_job)
        return f"/data/proj/run{j // len(STEPS):05d}/{STEPS[j % len(STEPS)][:-3]}/part-{k:04d}.bin"
    n_art = per_job * a.jobs
    add_art(((i, "file", 4096 + i % 65536, t0 + ((i - 1) // per_job) * 60.0) for i in range(1, n_art + 1)))
    add_hash(((i, "blake3", hashlib.blake2s(i.to_bytes(8, "little"), digest_size=32).hexdigest())
              for i in range(1, n_art + 1)))

    def io_rows():
        for j in range(a.jobs):
            first = j * per_job + 1
            for art in range(first, first + per_job):
                yield (j + 1, "out", path(art), art, 4096 + art % 65536, "[]")
            if j == 0:
                continue
            chosen = set()
            prev = (j - 1) * per_job + 1
            for k in range(reads):
                if k < reads * 4 // 5:
                    art = prev + k
                else:
                    art = rng.randrange(1, first)
                if art in chosen:
                    continue
                chosen.add(art)
                yield (j + 1, "in", path(art), art, 4096 + art % 65536, "[]")
    add_io(io_rows())
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("ANALYZE")
    con.close()
    print(json.dumps({"jobs": a.jobs, "artifacts": n_art, "outputs_per_job": per_job, "inputs_per_job": reads}))


if __name__ == "__main__":
    main()
