"""Step 3: scores the model (model.json + features.csv -> metrics.json)."""
import csv
import json
import math
import sys

model_path, features_path, out = sys.argv[1:4]
with open(model_path) as f:
    m = json.load(f)
with open(features_path, newline="") as f:
    rows = [tuple(map(float, r)) for r in list(csv.reader(f))[1:]]
mse = sum((m["w1"] * z1 + m["w2"] * z2 + m["b"] - y) ** 2 for z1, z2, y in rows) / len(rows)
with open(out, "w") as f:
    json.dump({"rmse": math.sqrt(mse), "n": len(rows)}, f, indent=2)
print(f"rmse={math.sqrt(mse):.3f}")
