#!/usr/bin/env python3
"""Bundles a noise-map estimator with a noise-map conv-dae in one model file: the denoiser's
tensors and metadata, the estimator's tensors as estimator.*, metadata estimator=WIDTH,DEPTH
(and the estimator's training settings as estimator_train_*). Either input may be a checkpoint
(optim.* tensors and the checkpoint keys are dropped). Written atomically.
  python3 scripts/bundle_estimator.py DENOISER ESTIMATOR OUT [key=value ...]"""
import json, os, struct, sys


def read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    for k in ("adam_t", "checkpoint_epoch"):
        meta.pop(k, None)
    tensors = {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]])
               for k, v in header.items() if not k.startswith("optim.")}
    return meta, tensors


den_path, est_path, out = sys.argv[1:4]
extra = dict(a.split("=", 1) for a in sys.argv[4:])
meta, tensors = read(den_path)
emeta, etensors = read(est_path)
assert meta.get("noise_input") == "map", "the denoiser is not a noise-map model"
assert emeta.get("kind") == "noise-estimator", "the second file is not a noise estimator"
assert emeta.get("channels") == meta.get("channels"), "channel counts differ"
meta["estimator"] = f'{emeta["est_width"]},{emeta["est_depth"]}'
for k, v in emeta.items():
    if k.startswith("train_"):
        meta["estimator_" + k] = v
meta.update(extra)
for k, v in etensors.items():
    tensors["estimator." + k] = v
header, blobs, off = {"__metadata__": meta}, [], 0
for k in sorted(tensors):
    dtype, shape, blob = tensors[k]
    header[k] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(blob)]}
    blobs.append(blob)
    off += len(blob)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(out + ".tmp", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
os.replace(out + ".tmp", out)
print(f"wrote {out}: {len(tensors)} tensors, estimator {meta['estimator']}")
