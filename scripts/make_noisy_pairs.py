#!/usr/bin/env python3
"""Makes a folder of noisy/clean pairs with white Gaussian noise, for `latent eval --pairs`:
OUT/clean/NAME.png (the photo as 8-bit RGB) and OUT/noisy/NAME.png (round(clip(clean + σ·N(0,1))),
8-bit), one numpy generator seeded with SEED for the whole folder.
  python3 scripts/make_noisy_pairs.py CLEAN_DIR SIGMA OUT [SEED]
Session 13's folders: the 43 photos of `scripts/heldout_photos.py ../shared/data/denoise/cbsd432 11
heldout43/`, then σ 5, 15, 25, 50 with seeds 3, 1, 2, 4 (pip install numpy pillow)."""
import glob
import os
import sys

import numpy as np
from PIL import Image

src, sigma, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(int(sys.argv[4]) if len(sys.argv) > 4 else 0)
for d in ("clean", "noisy"):
    os.makedirs(os.path.join(out, d), exist_ok=True)
for p in sorted(glob.glob(os.path.join(src, "*.png"))):
    name = os.path.basename(p)
    x = np.asarray(Image.open(p).convert("RGB")).astype(np.float64)
    y = np.clip(np.round(x + sigma * rng.standard_normal(x.shape)), 0, 255).astype(np.uint8)
    Image.fromarray(x.astype(np.uint8)).save(os.path.join(out, "clean", name))
    Image.fromarray(y).save(os.path.join(out, "noisy", name))
