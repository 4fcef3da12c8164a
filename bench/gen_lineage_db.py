#!/usr/bin/python3
"""Fills a fresh roar database (made by `roar init`) with a pipeline-shaped
lineage history, for timing `roar dag`, `roar show`, `roar status` and
`roar log` on large projects.

usage: gen_lineage_db.py --db PATH/.roar/roar.db [--jobs 10000] [--artifacts 1000000]

Shape: about JOBS/9.5 steps, run in ten rounds (ten or nine executions per
step, the latest current). Step k writes a fixed set of output paths (new
content every execution) and reads the current versions of outputs of
earlier steps (mostly step k-1, some older) plus its script; step 0 reads
raw sources. ARTIFACTS is the number of job_io rows (inputs + outputs).
The last round stops halfway, so the second half of the steps is stale,
the way a project looks after re-running its front half.

Rows go in through roar's own schema (schema v2 columns included); the
paths do not exist on disk, so disk checks see them as missing."""
import argparse
import json
import os
import random
import sqlite3
import sys
import time

ROUNDS = 10


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--jobs", type=int, default=10_000)
    ap.add_argument("--artifacts", type=int, default=1_000_000, help="job_io rows (inputs + outputs)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)

    steps = max(1, int(a.jobs / (ROUNDS - 0.5)))  # the last round runs about half of them
    per_job = max(2, a.artifacts // a.jobs)
    outs = max(1, per_job // 2)
    ins = max(1, per_job - outs - 1)  # plus the script
    cwd = "/data/proj"
    t = time.time() - a.jobs * 60.0

    con = sqlite3.connect(a.db, isolation_level=None)
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if version < 2:
        sys.exit(f"gen_lineage_db: {a.db} has schema {version}; run it against a database from this roar (v2+)")
    if con.execute("SELECT count(*) FROM jobs").fetchone()[0]:
        sys.exit("gen_lineage_db: the database already has jobs; start from a fresh `roar init`")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -400000")
    con.execute("BEGIN")
    con.execute("INSERT INTO sessions (id, created_at, active) VALUES (1, ?, 1)", (t,))

    # Each step's fixed paths.
    out_paths = [[f"{cwd}/stage{k:05d}/part-{i:03d}.bin" for i in range(outs)] for k in range(steps)]
    in_paths = []
    for k in range(steps):
        if k == 0:
            chosen = [f"{cwd}/raw/source-{i:03d}.csv" for i in range(ins)]
        else:
            near = [p for p in out_paths[k - 1]]
            older = [p for j in rng.sample(range(k), min(k, 3)) for p in out_paths[j]]
            pool = near + older
            chosen = sorted(set(rng.sample(pool, min(ins, len(pool)))))
        in_paths.append(chosen + [f"{cwd}/src/step{k:05d}.py"])

    for k in range(steps):
        argv = ["python3", f"src/step{k:05d}.py", "--round", "0"]
        shape = cwd + "".join("\x1f" + "".join("#" if c.isdigit() else c for c in x) for x in argv)
        norm = lambda p: "".join("#" if c.isdigit() else c for c in p)
        io = {"in": sorted(set(in_paths[k])), "out": sorted({norm(p) for p in out_paths[k]})}
        con.execute("INSERT INTO steps (id, session_id, number, signature, command, io_paths) VALUES (?, 1, ?, ?, ?, ?)",
                    (k + 1, k + 1, shape + "\x1e" + json.dumps(io), " ".join(argv), json.dumps(io)))

    artifact_id = 0
    current = {}  # path -> artifact id of its latest version
    artifacts, hashes, io_rows, jobs, procs = [], [], [], [], []

    def new_artifact(size):
        nonlocal artifact_id
        artifact_id += 1
        artifacts.append((artifact_id, "file", size, t))
        hashes.append((artifact_id, "blake3", "%064x" % rng.getrandbits(256)))
        return artifact_id

    job_id = 0
    total = min(a.jobs, steps * ROUNDS)
    last_round_steps = min(steps, max(0, total - steps * (ROUNDS - 1)))
    for r in range(ROUNDS):
        for k in range(steps if r < ROUNDS - 1 else max(0, last_round_steps)):
            if job_id >= total:
                break
            job_id += 1
            argv = ["python3", f"src/step{k:05d}.py", "--round", str(r)]
            started = t + job_id * 60.0
            jobs.append((job_id, "%08x%04x" % (job_id, rng.getrandbits(16)), 1, k + 1, " ".join(argv), json.dumps(argv),
                         cwd, started, started + 30.0, 0, "bench-host", "bench", "0" * 40, "main", "", 0, "[]", "{}",
                         0, "[]", "0.1.0"))
            procs.append((job_id, 0, 1000 + job_id, 1, None, "/usr/bin/python3", json.dumps(argv), cwd, started, 0, 1,
                          "[]"))
            for p in in_paths[k]:
                if p not in current:
                    current[p] = new_artifact(1000 + len(p))
                io_rows.append((job_id, "in", p, current[p], 1000 + len(p), "[]"))
            for p in out_paths[k]:
                current[p] = new_artifact(4096 + job_id % 1000)
                io_rows.append((job_id, "out", p, current[p], 4096 + job_id % 1000, "[]"))

    con.executemany("INSERT INTO jobs (id, uid, session_id, step_id, command, argv, cwd, started_at, ended_at, "
                    "exit_code, hostname, user, git_commit, git_branch, git_remote, git_dirty, git_dirty_files, env, "
                    "dropped_events, notes, roar_version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", jobs)
    con.executemany("INSERT INTO processes (job_id, seq, pid, ppid, parent_seq, exe, argv, cwd, started_at, "
                    "exit_code, observed, notes) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", procs)
    con.executemany("INSERT INTO artifacts (id, kind, size, first_seen) VALUES (?,?,?,?)", artifacts)
    con.executemany("INSERT INTO artifact_hashes (artifact_id, algorithm, digest) VALUES (?,?,?)", hashes)
    # Schema 7 interns paths: each distinct path once, the uses name it by id.
    path_ids = {}
    for row in io_rows:
        path_ids.setdefault(row[2], len(path_ids) + 1)
    con.executemany("INSERT INTO paths (id, path) VALUES (?,?)", ((i, p) for p, i in path_ids.items()))
    con.executemany("INSERT INTO job_io (job_id, direction, path_id, artifact_id, size, notes) VALUES (?,?,?,?,?,?)",
                    ((j, d, path_ids[p], a, s, n) for j, d, p, a, s, n in io_rows))
    # Written in schema 7's shape: roar's own migration adds the per-job use
    # lists (job_uses) the first time roar opens the file.
    con.execute("DROP TABLE job_uses")
    con.execute("PRAGMA user_version = 7")
    con.execute("COMMIT")
    con.execute("ANALYZE")
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("jobs", "steps", "artifacts", "job_io")}
    con.close()
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
