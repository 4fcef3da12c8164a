"""Writes the demo's raw data: a small synthetic regression data set."""
import csv
import random
import sys

random.seed(7)
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["x1", "x2", "y"])
    for _ in range(2000):
        x1, x2 = random.uniform(0, 10), random.uniform(-5, 5)
        w.writerow([f"{x1:.4f}", f"{x2:.4f}", f"{3.0 * x1 - 2.0 * x2 + 1.0 + random.gauss(0, 0.5):.4f}"])
