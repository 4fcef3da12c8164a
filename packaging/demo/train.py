"""Step 2: fits a linear model by gradient descent (features.csv -> model.json)."""
import argparse
import csv
import json

p = argparse.ArgumentParser()
p.add_argument("features")
p.add_argument("model")
p.add_argument("--epochs", type=int, default=200)
p.add_argument("--lr", type=float, default=0.05)
a = p.parse_args()

with open(a.features, newline="") as f:
    rows = [tuple(map(float, r)) for r in list(csv.reader(f))[1:]]
w1 = w2 = b = 0.0
n = len(rows)
for _ in range(a.epochs):
    g1 = g2 = gb = 0.0
    for z1, z2, y in rows:
        err = w1 * z1 + w2 * z2 + b - y
        g1, g2, gb = g1 + err * z1, g2 + err * z2, gb + err
    w1, w2, b = w1 - a.lr * g1 / n, w2 - a.lr * g2 / n, b - a.lr * gb / n
# Atomic save: write a temp file, then rename it over the target.
tmp = a.model + ".tmp"
with open(tmp, "w") as f:
    json.dump({"w1": w1, "w2": w2, "b": b, "epochs": a.epochs}, f, indent=2)
import os
os.replace(tmp, a.model)
