#!/usr/bin/env python3
"""Statistics of the real noise (noisy - clean) of a folder of pairs (noisy/ and clean/ PNGs of
the same names, as polyu-val): sigma per channel, horizontal autocorrelation at lags 1-8 and
cross-channel correlation, averaged over the pairs. Set it beside `latent-bench noise-stats`
(the synthetic camera noise) to see what the training noise does not cover. Needs numpy, Pillow.
  python3 scripts/noise_stats.py ../shared/data/denoise/polyu-val"""
import os, sys
import numpy as np
from PIL import Image

d = sys.argv[1]
lags = [1, 2, 3, 4, 6, 8]
sig, ac, cross = [], [], []
for n in sorted(os.listdir(os.path.join(d, "noisy"))):
    a = np.asarray(Image.open(os.path.join(d, "noisy", n)).convert("RGB"), dtype=np.float64)
    b = np.asarray(Image.open(os.path.join(d, "clean", n)).convert("RGB"), dtype=np.float64)
    e = a - b
    e -= e.mean(axis=(0, 1))
    v = np.maximum(1e-9, (e ** 2).mean(axis=(0, 1)))
    sig.append(np.sqrt(v))
    ac.append([((e[:, l:] * e[:, :-l]).mean(axis=(0, 1)) / v).mean() for l in lags])
    c = np.corrcoef(e.reshape(-1, 3).T)
    cross.append([c[0, 1], c[0, 2], c[1, 2]])
print(f"real noise, {len(sig)} pairs: sigma per channel " + " ".join(f"{x:.2f}" for x in np.mean(sig, axis=0)))
print(f"horizontal autocorrelation at lags {','.join(map(str, lags))}: " + " ".join(f"{x:.3f}" for x in np.mean(ac, axis=0)))
print("cross-channel correlation RG RB GB: " + " ".join(f"{x:.3f}" for x in np.mean(cross, axis=0)))
