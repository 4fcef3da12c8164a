"""Step 1: standardises the raw features (reads raw.csv, writes features.csv)."""
import csv
import statistics
import sys

src, dst = sys.argv[1], sys.argv[2]
with open(src, newline="") as f:
    rows = [tuple(map(float, r)) for r in list(csv.reader(f))[1:]]
cols = list(zip(*rows))
stats = [(statistics.fmean(c), statistics.pstdev(c) or 1.0) for c in cols[:2]]
with open(dst, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["z1", "z2", "y"])
    for r in rows:
        w.writerow([f"{(r[i] - stats[i][0]) / stats[i][1]:.6f}" for i in range(2)] + [r[2]])
