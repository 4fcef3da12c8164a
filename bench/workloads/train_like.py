"""A training-like job for bench row 2: many small reads, a little compute,
and a few hundred MiB of checkpoints written the way trainers do it (write a
temp file, then rename it over the target).

usage: train_like.py DATA_DIR CKPT_DIR EPOCHS CKPT_MIB
DATA_DIR holds the sample files (shard_*/sample_*.bin); every epoch reads
all of them and writes one checkpoint of CKPT_MIB MiB to CKPT_DIR."""
import os
import sys
import zlib

data_dir, ckpt_dir, epochs, ckpt_mib = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
samples = sorted(
    os.path.join(root, name) for root, _, names in os.walk(data_dir) for name in names
)
os.makedirs(ckpt_dir, exist_ok=True)
state = 0
block = bytes(range(256)) * 4096  # 1 MiB of "weights"
for epoch in range(epochs):
    for path in samples:
        with open(path, "rb") as f:
            state = zlib.crc32(f.read(), state)
    tmp = os.path.join(ckpt_dir, "ckpt.tmp")
    with open(tmp, "wb") as f:
        for i in range(ckpt_mib):
            f.write(block[:-8] + (state + epoch * 1000003 + i).to_bytes(8, "little"))
    os.replace(tmp, os.path.join(ckpt_dir, "epoch_%d.pt" % epoch))
with open(os.path.join(ckpt_dir, "metrics.json"), "w") as f:
    f.write('{"samples": %d, "epochs": %d, "state": %d}\n' % (len(samples), epochs, state))
