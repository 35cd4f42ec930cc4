#!/usr/bin/env python3
"""Where the error on real noisy/clean pairs is, for the outputs of one or more methods:
  python3 scripts/pair_diagnostics.py PAIRS_DIR OUT_DIR [OUT_DIR...] [--blur S]
PAIRS_DIR has noisy/ and clean/ of the same names (polyu-val; scripts/eval_suite.sh's sony and
canon folders); each OUT_DIR holds a method's outputs under the same names (`latent denoise
PAIRS_DIR/noisy -o OUT_DIR`, or CBM3D's). The noisy inputs are scored too. Per method:
- PSNR (RGB, the image less an 8-pixel border), plain and **aligned**: each pair's sub-pixel
  shift between the noisy shot and its reference is found once, from the pair itself (the
  Fourier shift of the reference that best matches the shot on frequencies below 0.35
  cycles/pixel, ±1 px, to 0.02 px), and every method is scored against the shifted reference too.
  A mean of many shots is rarely registered to the single shot to better than a few tenths of a
  pixel, which costs a sharp output more than a smooth one.
- the luma error's power in ten radial frequency bands (0 to 0.71 cycles/pixel, mean squared
  error per pixel that each band contributes; their sum is the luma MSE): whether a method
  leaves fine noise, coarse noise or low-frequency differences (exposure, colour) behind.
--blur S adds each method's output blurred by a Gaussian of S pixels (a diagnostic: if it
scores higher, the output keeps fine-scale error the reference does not have).
Needs numpy, scipy, pillow."""
import argparse, glob, os

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

BORDER = 8
BANDS = np.linspace(0, 0.5 * np.sqrt(2), 11)


def load(p): return np.asarray(Image.open(p).convert("RGB")).astype(np.float64)
def psnr(a, b): return 10 * np.log10(255.0 ** 2 / np.mean((a - b) ** 2))
def crop(x): return x[BORDER:-BORDER, BORDER:-BORDER]
def freqs(h, w): return np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :]


def shift_of(noisy, clean):
    """(dy, dx) that the reference is to be moved by to match the shot (luma, low frequencies)."""
    n, c = np.fft.fft2(noisy.mean(2)), np.fft.fft2(clean.mean(2))
    fy, fx = freqs(*noisy.shape[:2])
    low = (np.abs(fx) < 0.35) & (np.abs(fy) < 0.35)
    n, c, fx, fy = n[low], c[low], np.broadcast_to(fx, low.shape)[low], np.broadcast_to(fy, low.shape)[low]
    def err(dy, dx): return np.sum(np.abs(n - c * np.exp(-2j * np.pi * (fx * dx + fy * dy))) ** 2)
    coarse = np.arange(-1, 1.01, 0.1)
    _, dy, dx = min((err(y, x), y, x) for y in coarse for x in coarse)
    fine = np.arange(-5, 6) * 0.02
    _, dy, dx = min((err(dy + y, dx + x), dy + y, dx + x) for y in fine for x in fine)
    return dy, dx


def shifted(img, dy, dx):
    fy, fx = freqs(*img.shape[:2])
    phase = np.exp(-2j * np.pi * (fx * dx + fy * dy))
    return np.stack([np.real(np.fft.ifft2(np.fft.fft2(img[..., k]) * phase)) for k in range(3)], 2)


def band_errors(x, ref):
    luma = np.array([0.299, 0.587, 0.114])
    e = np.fft.fft2((x - ref) @ luma)
    fy, fx = freqs(*x.shape[:2])
    r = np.hypot(fx, fy)
    return np.array([(np.abs(e[(r >= BANDS[i]) & (r < BANDS[i + 1])]) ** 2).sum() for i in range(10)]) / e.size ** 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pairs"); ap.add_argument("outs", nargs="+"); ap.add_argument("--blur", type=float, default=0)
    a = ap.parse_args()
    methods = [("noisy", None, 0)] + [(o, o, 0) for o in a.outs] + ([(o + f" blurred {a.blur:g}", o, a.blur) for o in a.outs] if a.blur else [])
    scores = {m[0]: {"plain": [], "aligned": [], "bands": np.zeros(10)} for m in methods}
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(a.pairs, "noisy", "*.png")))
    shifts = []
    for name in names:
        noisy, clean = load(os.path.join(a.pairs, "noisy", name)), load(os.path.join(a.pairs, "clean", name))
        dy, dx = shift_of(noisy, clean)
        shifts.append(np.hypot(dy, dx))
        moved = shifted(clean, dy, dx)
        for label, folder, blur in methods:
            x = noisy if folder is None else load(os.path.join(folder, name))
            if blur:
                x = np.stack([gaussian_filter(x[..., k], blur) for k in range(3)], 2)
            s = scores[label]
            s["plain"].append(psnr(crop(x), crop(clean)))
            s["aligned"].append(psnr(crop(x), crop(moved)))
            s["bands"] += band_errors(x, clean) / len(names)
    print(f"{len(names)} pairs; shot-to-reference shift median {np.median(shifts):.2f} px, max {np.max(shifts):.2f}")
    print(f"{'':34s} {'plain':>6s} {'aligned':>7s}   luma error by band, 0 → 0.71 cycles/pixel (sum)")
    for label, s in scores.items():
        b = s["bands"]
        print(f"{label[-34:]:34s} {np.mean(s['plain']):6.2f} {np.mean(s['aligned']):7.2f}   "
              + " ".join(f"{v:5.2f}" for v in b) + f"  ({b.sum():.2f})")


if __name__ == "__main__":
    main()
