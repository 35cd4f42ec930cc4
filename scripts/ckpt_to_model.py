#!/usr/bin/env python3
"""Turns a latent training checkpoint (model + Adam state) into a model file: drops the optim.*
tensors, keeps the metadata, records extra key=value pairs.
  python3 scripts/ckpt_to_model.py CKPT OUT [key=value ...]"""
import sys

from safetensors_io import read, write

src, dst, extra = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
meta, tensors = read(src)
meta.pop("adam_t", None)
epoch = meta.pop("checkpoint_epoch", None)
if epoch is not None:
    meta["train_epochs_done"] = epoch
meta.update(extra)
tensors = {k: v for k, v in tensors.items() if not k.startswith("optim.")}
off = write(dst, meta, tensors)
print(f"wrote {dst}: {len(tensors)} tensors, {off} bytes of data, epoch {epoch}")
