#!/usr/bin/env python3
"""Bundles a noise-map estimator with a noise-map conv-dae in one model file: the denoiser's
tensors and metadata, the estimator's tensors as estimator.*, metadata estimator=WIDTH,DEPTH
(estimator_features when its input is not raw pixels, and the estimator's training settings as
estimator_train_*). Either input may be a checkpoint
(optim.* tensors and the checkpoint keys are dropped), and ESTIMATOR may also be a model that
bundles one (the shipped photo-color: its estimator.* tensors and settings are taken), so that a
newly trained denoiser can be scored with the shipped estimator. Written atomically.
  python3 scripts/bundle_estimator.py DENOISER ESTIMATOR OUT [key=value ...]"""
import sys

import safetensors_io

den_path, est_path, out = sys.argv[1:4]
extra = dict(a.split("=", 1) for a in sys.argv[4:])
meta, tensors = safetensors_io.read_model(den_path)
emeta, etensors = safetensors_io.read_model(est_path)
if emeta.get("kind") != "noise-estimator" and "estimator" in emeta:
    # A bundle: its estimator as a noise-estimator file would have it.
    width, depth = emeta["estimator"].split(",")
    bundled = {"kind": "noise-estimator", "channels": emeta.get("channels"), "est_width": width, "est_depth": depth}
    if "estimator_features" in emeta:
        bundled["est_features"] = emeta["estimator_features"]
    if "noise_map_space" in emeta:
        bundled["noise_map_space"] = emeta["noise_map_space"]
    bundled.update({k[len("estimator_"):]: v for k, v in emeta.items() if k.startswith("estimator_train_")})
    emeta, etensors = bundled, {k[len("estimator."):]: v for k, v in etensors.items() if k.startswith("estimator.")}
assert meta.get("noise_input") == "map", "the denoiser is not a noise-map model"
assert emeta.get("kind") == "noise-estimator", "the second file is not a noise estimator"
assert emeta.get("channels") == meta.get("channels"), "channel counts differ"
# What the maps' planes measure (per channel, or opponent components): both must read the same.
space, espace = meta.get("noise_map_space", "rgb"), emeta.get("noise_map_space", "rgb")
assert space == espace, f"the denoiser's noise map is {space}, the estimator reads {espace}"
meta["estimator"] = f'{emeta["est_width"]},{emeta["est_depth"]}'
# Its input (raw pixels, or with fine-scale statistics and a log output): absent means raw.
meta.pop("estimator_features", None)
if "est_features" in emeta:
    meta["estimator_features"] = emeta["est_features"]
for k, v in emeta.items():
    if k.startswith("train_"):
        meta["estimator_" + k] = v
meta.update(extra)
for k, v in etensors.items():
    tensors["estimator." + k] = v
safetensors_io.write(out, meta, tensors)
print(f"wrote {out}: {len(tensors)} tensors, estimator {meta['estimator']}")
