#!/usr/bin/env python3
"""Writes MNIST images as 28x28 grey PNGs: make_mnist_pngs.py OUTDIR [COUNT] [--noise SIGMA] [--seed S]
Reads ../shared/data/mnist/t10k-images-idx3-ubyte.gz (the test set) by default; --train for the
training set. Encoded with zlib/struct (no PIL needed)."""
import argparse, gzip, os, struct, zlib
import numpy as np


def png_bytes(img):
    h, w = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("count", type=int, nargs="?", default=10000)
    ap.add_argument("--mnist", default=os.path.join(os.path.dirname(__file__), "../../shared/data/mnist"))
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--noise", type=float, default=0.0, help="gaussian sigma on [0,1] pixels, clipped")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    name = "train-images-idx3-ubyte.gz" if a.train else "t10k-images-idx3-ubyte.gz"
    with gzip.open(os.path.join(a.mnist, name)) as f:
        _, n, h, w = struct.unpack(">IIII", f.read(16))
        imgs = np.frombuffer(f.read(), np.uint8).reshape(n, h, w)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    count = min(a.count, n)
    for i in range(count):
        img = imgs[i]
        if a.noise > 0:
            x = img / 255.0 + rng.normal(0, a.noise, img.shape)
            img = (np.clip(x, 0, 1) * 255).round().astype(np.uint8)
        with open(os.path.join(a.outdir, "%05d.png" % i), "wb") as f:
            f.write(png_bytes(img))
    print("wrote %d PNGs to %s" % (count, a.outdir))


if __name__ == "__main__":
    main()
