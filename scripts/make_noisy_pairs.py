#!/usr/bin/env python3
"""Makes a folder of noisy/clean pairs with white Gaussian noise, for `latent eval --pairs`:
OUT/clean/NAME.png (the photo as 8-bit RGB) and OUT/noisy/NAME.png (round(clip(clean + σ·N(0,1))),
8-bit), one numpy generator seeded with SEED for the whole folder.
  python3 scripts/make_noisy_pairs.py CLEAN_DIR SIGMA OUT [SEED] [RHO]
RHO (default 0): the share of each channel's noise variance common to the three channels, a grey
component as demosaicing and colour matrices make (each channel still has σ; the channel sum's σ
is √(1 + 2ρ) times independent noise's). With RHO 0 the draws are the same as before RHO existed.
Session 13's folders: the 43 photos of `scripts/heldout_photos.py ../shared/data/denoise/cbsd432 11
heldout43/`, then σ 5, 15, 25, 50 with seeds 3, 1, 2, 4; session 21's h43c15: σ 15, seed 5, ρ 0.55
(scripts/eval_suite.sh makes them all; pip install numpy pillow)."""
import glob
import os
import sys

import numpy as np
from PIL import Image

src, sigma, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
rho = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
assert 0 <= rho <= 1, "RHO is a share, 0 to 1"
for d in ("clean", "noisy"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
for p in sorted(glob.glob(os.path.join(src, "*.png"))):
    name = os.path.basename(p)
    x = np.asarray(Image.open(p).convert("RGB")).astype(np.float64)
    n = rng.standard_normal(x.shape)
    if rho > 0:
        n = np.sqrt(rho) * rng.standard_normal(x.shape[:2])[..., None] + np.sqrt(1 - rho) * n
    y = np.clip(np.round(x + sigma * n), 0, 255).astype(np.uint8)
    Image.fromarray(x.astype(np.uint8)).save(os.path.join(out, "clean", name))
    Image.fromarray(y).save(os.path.join(out, "noisy", name))
