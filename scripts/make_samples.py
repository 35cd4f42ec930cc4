#!/usr/bin/env python3
"""Makes the PNGs in samples/ (run from the repository root). Uses numpy and the independent
zlib/struct encoder of Tests/PNGIOTests/Fixtures/make_fixtures.py; MNIST digits come from
../shared/data/mnist and the noisy photos (real camera noise, 256x256 crops of two polyu-val
shots: one Sony A7 II frame at ISO 3200, one Canon 5D Mark II frame at ISO 6400, as the cameras
saved them) from ../shared/data/denoise/polyu-val when they are there."""
import gzip, os, struct, sys
import numpy as np

sys.path.insert(0, "Tests/PNGIOTests/Fixtures")
from make_fixtures import encode  # noqa: E402


def rows(a):
    """numpy (h, w[, c]) → list of rows of pixel tuples."""
    if a.ndim == 2:
        a = a[:, :, None]
    return [[tuple(int(v) for v in px) for px in row] for row in a]


def save(path, a, ctype, depth, interlaced=False, plte=None, trns=None):
    with open(path, "wb") as f:
        f.write(encode(a.shape[1], a.shape[0], ctype, depth, rows(a), interlaced, plte, trns))


def main():
    os.makedirs("samples/digits", exist_ok=True)
    mnist = "../shared/data/mnist/t10k-images-idx3-ubyte.gz"
    if os.path.exists(mnist):
        with gzip.open(mnist) as f:
            _, n, h, w = struct.unpack(">IIII", f.read(16))
            imgs = np.frombuffer(f.read(), np.uint8).reshape(n, h, w)
        for i in range(8):
            save("samples/digits/digit-%d.png" % i, imgs[i], 0, 8)
    polyu = "../shared/data/denoise/polyu-val/noisy/"
    if os.path.isdir(polyu):
        from PIL import Image
        os.makedirs("samples/noisy-photos", exist_ok=True)
        for name, (x0, y0), out in [("Sony_4-5_125_3200_plant_10", (256, 0), "sony-a7ii-iso3200-leaves"),
                                     ("Canon5D2_5_160_6400_circuit_3", (0, 0), "canon-5d2-iso6400-circuit")]:
            a = np.asarray(Image.open(polyu + name + ".png").convert("RGB"))[y0:y0 + 256, x0:x0 + 256]
            save("samples/noisy-photos/%s.png" % out, a, 2, 8)
    y, x = np.mgrid[0:64, 0:96].astype(np.float64)
    rgb = np.stack([x / 95 * 255, y / 63 * 255, (np.sin(x / 7) * np.cos(y / 9) * 0.5 + 0.5) * 255], -1)
    save("samples/gradient-rgb.png", rgb.round().astype(np.uint8), 2, 8)
    y, x = np.mgrid[0:64, 0:64].astype(np.float64)
    r = np.hypot(x - 31.5, y - 31.5)
    alpha = np.clip((28 - r) / 4, 0, 1) * 255
    sprite = np.stack([np.full_like(r, 230), 120 + 100 * (y / 63), 40 + 0 * r, alpha], -1)
    save("samples/sprite-rgba.png", sprite.round().astype(np.uint8), 6, 8)
    tiles = ((x // 8 + y // 8) % 5).astype(np.uint8)[:48, :48]
    plte = [(20, 20, 20), (200, 40, 40), (40, 160, 60), (50, 80, 210), (240, 220, 90)]
    save("samples/palette-tiles.png", tiles, 3, 4, plte=plte, trns=bytes([0]))
    ramp = np.tile(np.linspace(0, 65535, 128), (32, 1)).round().astype(np.uint16)
    save("samples/ramp-16bit.png", ramp, 0, 16)
    y, x = np.mgrid[0:80, 0:80].astype(np.float64)
    rings = (np.sin(np.hypot(x - 40, y - 40) / 3) * 0.5 + 0.5) * 255
    save("samples/rings-interlaced.png", np.stack([rings, rings[::-1], 255 - rings], -1).round().astype(np.uint8),
         2, 8, interlaced=True)


if __name__ == "__main__":
    main()
