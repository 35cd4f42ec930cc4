#!/usr/bin/env python3
"""Streams a large grey PNG to disk without holding it in memory: make_big_png.py OUT W H [--rgb]
(a smooth pattern plus texture, so it compresses like a photo, not like a blank page)."""
import struct, sys, zlib
import numpy as np

out, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rgb = "--rgb" in sys.argv
ch = 3 if rgb else 1
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
with open(out, "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if rgb else 0, 0, 0, 0)))
    comp = zlib.compressobj(1)
    x = np.arange(w, dtype=np.float32)
    rng = np.random.default_rng(1)
    buf = b""
    for y in range(h):
        v = 128 + 60 * np.sin(x / 97.0 + y / 53.0) + 40 * np.cos(x / 31.0 - y / 71.0) + rng.normal(0, 8, w)
        row = np.clip(v, 0, 255).astype(np.uint8)
        if rgb:
            row = np.stack([row, row[::-1], 255 - row], -1).reshape(-1)
        buf += comp.compress(b"\x00" + row.tobytes())
        if len(buf) > 1 << 20:
            f.write(chunk(b"IDAT", buf)); buf = b""
    buf += comp.flush()
    f.write(chunk(b"IDAT", buf) + chunk(b"IEND", b""))
