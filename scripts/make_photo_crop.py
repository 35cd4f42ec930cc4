#!/usr/bin/env python3
"""Writes docs/gallery/photo-crop.png: clean | noisy (sigma 25) | BM3D | latent photo, a crop of
one Set12 image at 2x, the noisy image saved as an 8-bit PNG and denoised by `latent denoise`
(what a user sees). Usage: scripts/make_photo_crop.py [LATENT] [MODEL]  (pip install pillow numpy bm3d)."""
import os, subprocess, sys, tempfile
import numpy as np
from PIL import Image

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
latent = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, ".build/release/latent")
model = sys.argv[2] if len(sys.argv) > 2 else "photo"
src = os.path.join(root, "../shared/data/denoise/set12/05.png")
sigma, box, scale = 25.0, (40, 60, 200, 220), 2   # x0, y0, x1, y1 of the crop

clean = np.asarray(Image.open(src).convert("L"), dtype=np.float64)
rng = np.random.default_rng(0)
noisy = np.clip(np.round(clean + sigma * rng.standard_normal(clean.shape)), 0, 255).astype(np.uint8)
with tempfile.TemporaryDirectory() as d:
    os.makedirs(os.path.join(d, "in"))
    Image.fromarray(noisy).save(os.path.join(d, "in", "05.png"))
    subprocess.run([latent, "denoise", os.path.join(d, "in"), "-o", os.path.join(d, "out"), "--model", model, "--quiet"], check=True)
    ours = np.asarray(Image.open(os.path.join(d, "out", "05.png")).convert("L"))
panels = [clean.astype(np.uint8), noisy]
try:
    import bm3d
    panels.append(np.clip(np.round(bm3d.bm3d(noisy / 255.0, sigma / 255.0) * 255), 0, 255).astype(np.uint8))
except ImportError:
    print("bm3d not installed: no BM3D panel", file=sys.stderr)
panels.append(ours)

def psnr(a):
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - clean) ** 2))

x0, y0, x1, y1 = box
w, h, gap = (x1 - x0) * scale, (y1 - y0) * scale, 8
sheet = Image.new("L", (len(panels) * w + (len(panels) - 1) * gap, h), 255)
for i, p in enumerate(panels):
    crop = Image.fromarray(p[y0:y1, x0:x1]).resize((w, h), Image.NEAREST)
    sheet.paste(crop, (i * (w + gap), 0))
out = os.path.join(root, "docs/gallery/photo-crop.png")
sheet.save(out, optimize=True)
print(f"wrote {out}: PSNR of the whole image: noisy {psnr(noisy):.2f}"
      + (f", BM3D {psnr(panels[2]):.2f}" if len(panels) == 4 else "") + f", latent {psnr(ours):.2f} dB")
