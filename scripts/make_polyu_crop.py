#!/usr/bin/env python3
"""Writes docs/gallery/polyu-crop.png: noisy | `latent denoise` | clean reference, a 160x160 crop of
one polyu-val pair shown at 2x, and prints the whole image's PSNR before and after.
Usage: scripts/make_polyu_crop.py [LATENT] [NAME] [X Y]  (pip install pillow numpy)."""
import os, subprocess, sys, tempfile
import numpy as np
from PIL import Image

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
latent = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, ".build/release/latent")
name = sys.argv[2] if len(sys.argv) > 2 else "Canon5D2_5_160_3200_plug_12.png"
x0, y0 = (int(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (176, 176)
pairs = os.path.join(root, "../shared/data/denoise/polyu-val")
noisy_path, clean_path = os.path.join(pairs, "noisy", name), os.path.join(pairs, "clean", name)
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "out.png")
    subprocess.run([latent, "denoise", noisy_path, "-o", out, "--quiet"], check=True)
    imgs = [np.asarray(Image.open(p).convert("RGB")) for p in (noisy_path, out, clean_path)]
psnr = lambda a, b: 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b) ** 2))
print(f"{name}: {psnr(imgs[0], imgs[2]):.2f} -> {psnr(imgs[1], imgs[2]):.2f} dB")
gap, s = 4, 160
sheet = Image.new("RGB", (3 * 2 * s + 2 * gap, 2 * s), (255, 255, 255))
for i, im in enumerate(imgs):
    crop = Image.fromarray(im[y0:y0 + s, x0:x0 + s]).resize((2 * s, 2 * s), Image.NEAREST)
    sheet.paste(crop, (i * (2 * s + gap), 0))
sheet.save(os.path.join(root, "docs/gallery/polyu-crop.png"))
