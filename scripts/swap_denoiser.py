#!/usr/bin/env python3
"""The shipped photo-color bundle with its denoiser's tensors replaced by those of a training
checkpoint or model file (the same shapes; the bundled estimator and the metadata kept), so that a
fine-tuned denoiser is evaluated blind with the shipped estimator (scripts/eval_suite.sh OUT).
Written atomically.
  python3 scripts/swap_denoiser.py CHECKPOINT OUT"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0] if "/" in __file__ else ".")
import safetensors_io

ckpt, out = sys.argv[1:3]
meta, tensors = safetensors_io.read("Sources/Models/Builtin/photo-color.safetensors")
_, den = safetensors_io.read_model(ckpt)
for k, v in den.items():
    if k not in tensors or tensors[k][:2] != v[:2]:
        sys.exit(f"swap_denoiser.py: {ckpt}: tensor {k} is not one of the shipped denoiser's (name, dtype and shape)")
    tensors[k] = v
safetensors_io.write(out, meta, tensors)
print(f"wrote {out}: {len(den)} denoiser tensors from {ckpt}")
