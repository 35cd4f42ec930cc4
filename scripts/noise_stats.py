#!/usr/bin/env python3
"""Statistics of the real noise (noisy - clean) of a folder of pairs (noisy/ and clean/ PNGs of
the same names, as polyu-val): sigma per channel, horizontal autocorrelation at lags 1-8 and
cross-channel correlation, and luma and chroma apart (chroma's variance relative to luma's,
autocorrelations), averaged over the pairs. Set it beside `latent-bench noise-stats`
(the synthetic camera noise) to see what the training noise does not cover. Needs numpy, Pillow.
  python3 scripts/noise_stats.py ../shared/data/denoise/polyu-val
With --flat T, only where the reference is flat (luma's standard deviation over 9x9 pixels below
T grey levels, away from black and white): there the residual is noise alone, where elsewhere
it also holds the reference's softness and misregistration against the shot. Needs scipy too.
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
flat_t = float(sys.argv[sys.argv.index("--flat") + 1]) if "--flat" in sys.argv else None


def flat_mask(clean):
    """Where the reference is flat (all pixels without --flat)."""
    if flat_t is None:
        return np.ones(clean.shape[:2], bool)
    from scipy.ndimage import uniform_filter
    y = clean.mean(-1)
    m = uniform_filter(y, 9)
    sd = np.sqrt(np.maximum(0, uniform_filter(y * y, 9) - m * m))
    return (sd < flat_t) & (y > 20) & (y < 235)


def mean(a, m):
    """Mean of a (H x W [x C]) over the mask m (H x W)."""
    return a[m].mean(axis=0)


def lagged(a, m, l):
    """Mean of a[y, x] * a[y, x + l] over pairs both in the mask."""
    both = m[:, l:] & m[:, :-l]
    return (a[:, l:] * a[:, :-l])[both].mean(axis=0)

lags = [1, 2, 3, 4, 6, 8]
sig, ac, cross, share, oac = [], [], [], [], []
# Luma and the two chroma components: (R+G+B)/3, (R-B)/2, (R+B)/4 - G/2.
OPPONENT = np.array([[1 / 3, 1 / 3, 1 / 3], [0.5, 0, -0.5], [0.25, -0.5, 0.25]])
for n in sorted(os.listdir(os.path.join(d, "noisy"))):
    a = np.asarray(Image.open(os.path.join(d, "noisy", n)).convert("RGB"), dtype=np.float64)
    b = np.asarray(Image.open(os.path.join(d, "clean", n)).convert("RGB"), dtype=np.float64)
    m = flat_mask(b)
    if flat_t is not None and m.sum() < 2000:
        continue   # too little flat area to measure (the count of pairs printed says how many were)
    e = a - b
    e -= mean(e, m)
    v = np.maximum(1e-9, mean(e ** 2, m))
    sig.append(np.sqrt(v))
    ac.append([(lagged(e, m, l) / v).mean() for l in lags])
    c = np.corrcoef(e[m].T)
    cross.append([c[0, 1], c[0, 2], c[1, 2]])
    o = e @ OPPONENT.T
    ov = np.maximum(1e-9, mean(o ** 2, m))
    share.append(ov[1:] / ov[0])
    oac.append([[lagged(o[..., k], m, l) / ov[k] for l in lags] for k in range(3)])
where = f", where the reference is flat (9x9 standard deviation below {flat_t:g})" if flat_t is not None else ""
print(f"real noise{where}, {len(sig)} pairs: sigma per channel " + " ".join(f"{x:.2f}" for x in np.mean(sig, axis=0)))
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
