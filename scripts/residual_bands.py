#!/usr/bin/env python3
"""What denoisers leave behind on real noisy/clean pairs, by scale: for each output folder,
the error against the clean image split into a fine band (finer than 3 pixels: the image minus
its 3x3 box mean) and a middle band (3-9 pixels), and in each band the error regressed on the
noise (noisy - clean) and then on the clean image's own detail:
  coefficient on the noise: the share of the noise left in (0 removes it all, 1 none);
  coefficient on the detail: negative when the image's detail is flattened.
  python3 scripts/residual_bands.py PAIRS OUT [OUT ...]
PAIRS holds noisy/ and clean/ (as polyu-val); each OUT holds denoised images of the same names
(e.g. from `latent denoise PAIRS/noisy -o OUT`). Needs numpy, scipy, pillow."""
import os
import sys

import numpy as np
from PIL import Image
from scipy.ndimage import uniform_filter


def load(path):
    return np.asarray(Image.open(path).convert("RGB")).astype(np.float64)


def fine(x):
    return x - uniform_filter(x, size=(3, 3, 1))


def middle(x):
    return uniform_filter(x, size=(3, 3, 1)) - uniform_filter(x, size=(9, 9, 1))


def parts(err, noise, clean):
    a = (err * noise).sum() / (noise * noise).sum()
    rest = err - a * noise
    b = (rest * clean).sum() / (clean * clean).sum()
    return [np.mean(err ** 2), a, np.mean((a * noise) ** 2), b, np.mean((b * clean) ** 2), np.mean((rest - b * clean) ** 2)]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    pairs, outs = sys.argv[1], sys.argv[2:]
    names = sorted(os.listdir(os.path.join(pairs, "noisy")))
    rows = {o: [] for o in outs}
    for n in names:
        c = load(os.path.join(pairs, "clean", n))
        z = load(os.path.join(pairs, "noisy", n))
        for o in outs:
            e = load(os.path.join(o, n)) - c
            rows[o].append(parts(fine(e), fine(z - c), fine(c)) + parts(middle(e), middle(z - c), middle(c)))
    print(f"{len(names)} pairs; per band: MSE, noise coefficient, its MSE, detail coefficient, its MSE, the rest")
    print(f"{'':24} {'finer than 3 px':>47} | {'3-9 px':>47}")
    for o in outs:
        m = np.mean(rows[o], axis=0)
        print(f"{os.path.basename(o.rstrip('/'))[:24]:24} " + " ".join(f"{x:7.3f}" for x in m[:6]) + " | " + " ".join(f"{x:7.3f}" for x in m[6:]))


if __name__ == "__main__":
    main()
