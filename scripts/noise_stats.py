#!/usr/bin/env python3
"""Statistics of the real noise (noisy - clean) of a folder of pairs (noisy/ and clean/ PNGs of
the same names, as polyu-val): sigma per channel, horizontal autocorrelation at lags 1-8 and
cross-channel correlation, and luma and chroma apart (chroma's variance relative to luma's,
autocorrelations), averaged over the pairs. Set it beside `latent-bench noise-stats`
(the synthetic camera noise) to see what the training noise does not cover. Needs numpy, Pillow.
  python3 scripts/noise_stats.py ../shared/data/denoise/polyu-val
With --denoised OUT (a folder of the denoised noisy images, same names, e.g. from
`latent denoise DIR/noisy -o OUT`): where the error lies by scale, as mean squared error in
three bands (coarser than 8 pixels, 2-8 pixels, finer than 2: differences of Gaussian blurs),
for the noise (noisy - clean) and for what is left (denoised - clean), and the mean brightness
offset between noisy and clean (no denoiser can remove it). Needs scipy too.
  python3 scripts/noise_stats.py DIR --denoised OUT"""
import os, sys
import numpy as np
from PIL import Image

d = sys.argv[1]
denoised = sys.argv[sys.argv.index("--denoised") + 1] if "--denoised" in sys.argv else None
lags = [1, 2, 3, 4, 6, 8]
sig, ac, cross, share, oac = [], [], [], [], []
# Luma and the two chroma components: (R+G+B)/3, (R-B)/2, (R+B)/4 - G/2.
OPPONENT = np.array([[1 / 3, 1 / 3, 1 / 3], [0.5, 0, -0.5], [0.25, -0.5, 0.25]])
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
    o = e @ OPPONENT.T
    ov = np.maximum(1e-9, (o ** 2).mean(axis=(0, 1)))
    share.append(ov[1:] / ov[0])
    oac.append([[(o[:, l:, k] * o[:, :-l, k]).mean() / ov[k] for l in lags] for k in range(3)])
print(f"real noise, {len(sig)} pairs: sigma per channel " + " ".join(f"{x:.2f}" for x in np.mean(sig, axis=0)))
print(f"horizontal autocorrelation at lags {','.join(map(str, lags))}: " + " ".join(f"{x:.3f}" for x in np.mean(ac, axis=0)))
print("cross-channel correlation RG RB GB: " + " ".join(f"{x:.3f}" for x in np.mean(cross, axis=0)))
print("chroma variance / luma variance (mean per pair): " + " ".join(f"{x:.3f}" for x in np.mean(share, axis=0)))
for k, name in enumerate(["luma", "chroma 1", "chroma 2"]):
    print(f"{name} autocorrelation at lags {','.join(map(str, lags))}: " + " ".join(f"{x:.3f}" for x in np.mean(oac, axis=0)[k]))

if denoised:
    from scipy.ndimage import gaussian_filter

    def bands(a):
        lp = lambda s: np.stack([gaussian_filter(a[..., k], s) for k in range(3)], -1)
        a8, a2 = lp(8), lp(2)
        return [np.mean(a8 ** 2), np.mean((a2 - a8) ** 2), np.mean((a - a2) ** 2)]
    rows = []
    for n in sorted(os.listdir(os.path.join(d, "noisy"))):
        if not os.path.exists(os.path.join(denoised, n)):
            continue
        c = np.asarray(Image.open(os.path.join(d, "clean", n)).convert("RGB"), dtype=np.float64)
        x = np.asarray(Image.open(os.path.join(d, "noisy", n)).convert("RGB"), dtype=np.float64)
        y = np.asarray(Image.open(os.path.join(denoised, n)).convert("RGB"), dtype=np.float64)
        rows.append(bands(x - c) + bands(y - c) + [abs(np.mean(x - c))])
    m = np.mean(rows, axis=0)
    print(f"{len(rows)} denoised: MSE by scale (>8 px, 2-8 px, <2 px): noise {m[0]:.2f} {m[1]:.2f} {m[2]:.2f}, "
          f"left after denoising {m[3]:.2f} {m[4]:.2f} {m[5]:.2f}; mean |brightness offset| noisy-clean {m[6]:.2f} grey levels")
