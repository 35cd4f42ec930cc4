#!/usr/bin/env python3
"""Noisy/clean pairs made the way real-noise pairs are (polyu-val, SIDD): each clean photo is
"shot" many times with camera-like noise and JPEG compression, the reference is the mean of those
shots and the noisy image one more shot. The noise: Gaussian, σ per channel, a share ρ of its
variance common to the three channels (demosaicing and colour matrices make real noise grey),
blurred over `blur` pixels and scaled back to σ; then 8 bits and JPEG at quality Q (4:2:0, Pillow's
libjpeg). A stand-in for the real pairs that uses none of them: on it the model shows the Sony
pairs' habit (it removes less of noise the channels share than told the noise's level allows).
  python3 scripts/make_jpeg_pairs.py SRC_DIR OUT_DIR [--quality 75] [--sigma 5] [--rho 0.5]
                                     [--blur 0.6] [--shots 16] [--limit 8]
then `latent eval --pairs OUT_DIR` (and `--oracle-noise`, `--noise-scale S`). Session 20 used the first 8
of scripts/heldout_photos.py's photos. Needs numpy, scipy, Pillow."""
import argparse, io, os

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

ap = argparse.ArgumentParser()
ap.add_argument("src"); ap.add_argument("out")
ap.add_argument("--quality", type=int, default=75); ap.add_argument("--sigma", type=float, default=5)
ap.add_argument("--rho", type=float, default=0.5); ap.add_argument("--blur", type=float, default=0.6)
ap.add_argument("--shots", type=int, default=16); ap.add_argument("--limit", type=int, default=8)
a = ap.parse_args()
rng = np.random.default_rng(a.quality)
for sub in ("noisy", "clean"):
    os.makedirs(os.path.join(a.out, sub), exist_ok=True)


def shot(clean):
    h, w = clean.shape[:2]
    common = rng.normal(size=(h, w))
    n = np.stack([np.sqrt(a.rho) * common + np.sqrt(1 - a.rho) * rng.normal(size=(h, w)) for _ in range(3)], 2)
    if a.blur > 0:
        n = np.stack([gaussian_filter(n[..., k], a.blur) for k in range(3)], 2)
    n /= n.std()
    x = np.clip(np.round(clean + a.sigma * n), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(x).save(buf, "JPEG", quality=a.quality, subsampling=2)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB")).astype(np.float64)


names = sorted(f for f in os.listdir(a.src) if f.endswith(".png"))[: a.limit or None]
for name in names:
    clean = np.asarray(Image.open(os.path.join(a.src, name)).convert("RGB")).astype(np.float64)
    clean = clean[: clean.shape[0] // 8 * 8, : clean.shape[1] // 8 * 8]   # whole JPEG blocks
    ref = np.mean([shot(clean) for _ in range(a.shots)], 0)
    Image.fromarray(np.clip(np.round(ref), 0, 255).astype(np.uint8)).save(os.path.join(a.out, "clean", name))
    Image.fromarray(shot(clean).astype(np.uint8)).save(os.path.join(a.out, "noisy", name))
print(f"{len(names)} pairs in {a.out}")
