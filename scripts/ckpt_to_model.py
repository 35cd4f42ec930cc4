#!/usr/bin/env python3
"""Turns a latent training checkpoint (model + Adam state) into a model file: drops the optim.*
tensors, keeps the metadata, records extra key=value pairs. Uses the safetensors package.
  python3 scripts/ckpt_to_model.py CKPT OUT [key=value ...]"""
import json, struct, sys

src, dst, extra = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
with open(src, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
meta = header.pop("__metadata__", {})
meta.pop("adam_t", None)
epoch = meta.pop("checkpoint_epoch", None)
if epoch is not None:
    meta["train_epochs_done"] = epoch
meta.update(extra)
names = sorted(k for k in header if not k.startswith("optim."))
out_header, blobs, off = {"__metadata__": meta}, [], 0
for k in names:
    a, b = header[k]["data_offsets"]
    blob = data[a:b]
    out_header[k] = {"dtype": header[k]["dtype"], "shape": header[k]["shape"], "data_offsets": [off, off + len(blob)]}
    blobs.append(blob)
    off += len(blob)
h = json.dumps(out_header, separators=(",", ":")).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(dst + ".tmp", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
import os
os.replace(dst + ".tmp", dst)
print(f"wrote {dst}: {len(names)} tensors, {off} bytes of data, epoch {epoch}")
