#!/usr/bin/env python3
"""Writes small PNG files with nothing but zlib and struct (independent of libpng and of latent),
plus manifest.json with the samples a decoder must deliver for each: palette expanded to RGB(A),
1/2/4-bit grey scaled to 8 bits, tRNS turned into an alpha channel, 16-bit values unchanged.

Every colour type x bit depth, with and without Adam7 interlacing, odd sizes so that interlace
passes are partial, and all five row filters in turn. Run it from this folder to regenerate."""
import json, struct, zlib, random

ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def pack_row(samples, depth):
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        nbits += depth
        if nbits == 8:
            out.append(acc); acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_row(ftype, row, prev, bpp):
    out = bytearray([ftype])
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i] if prev else 0
        c = prev[i - bpp] if prev and i >= bpp else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ftype]
        out.append((x - pred) & 0xff)
    return bytes(out)


def encode(width, height, ctype, depth, pixels, interlaced, plte=None, trns=None):
    ch = CHANNELS[ctype]
    bpp = max(1, ch * depth // 8)
    passes = ADAM7 if interlaced else [(0, 0, 1, 1)]
    raw = bytearray()
    ftype = 0
    for (x0, y0, dx, dy) in passes:
        xs = list(range(x0, width, dx))
        ys = list(range(y0, height, dy))
        if not xs or not ys:
            continue
        prev = None
        for y in ys:
            samples = [s for x in xs for s in pixels[y][x]]
            row = pack_row(samples, depth)
            raw += filter_row(ftype, row, prev, bpp)
            ftype = (ftype + 1) % 5
            prev = row
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, ctype, 0, 0, 1 if interlaced else 0))
    if plte is not None:
        png += chunk(b"PLTE", bytes(v for rgb in plte for v in rgb))
    if trns is not None:
        png += chunk(b"tRNS", trns)
    png += chunk(b"tEXt", b"Source\x00make_fixtures.py")
    data = zlib.compress(bytes(raw), 9)
    # Split the image data over two IDAT chunks, as encoders may.
    half = len(data) // 2
    png += chunk(b"IDAT", data[:half]) + chunk(b"IDAT", data[half:])
    png += chunk(b"IEND", b"")
    return png


def expected(ctype, depth, pixels, plte, trns_value):
    """Samples as latent's reader delivers them, flattened."""
    out = []
    maxv = 65535 if depth == 16 else 255
    for row in pixels:
        for px in row:
            if ctype == 3:
                r, g, b = plte[px[0]]
                if trns_value is not None:
                    a = trns_value[px[0]] if px[0] < len(trns_value) else 255
                    out += [r, g, b, a]
                else:
                    out += [r, g, b]
            elif ctype == 0:
                v = px[0]
                scaled = v * {1: 255, 2: 85, 4: 17, 8: 1, 16: 1}[depth]
                out.append(scaled)
                if trns_value is not None:
                    out.append(0 if v == trns_value else maxv)
            elif ctype == 2 and trns_value is not None:
                out += list(px) + [0 if tuple(px) == tuple(trns_value) else maxv]
            else:
                out += list(px)
    return out


def main():
    rng = random.Random(20261124)
    manifest = []
    cases = [(0, d) for d in (1, 2, 4, 8, 16)] + [(4, 8), (4, 16), (2, 8), (2, 16), (6, 8), (6, 16)] \
        + [(3, d) for d in (1, 2, 4, 8)]
    trns_cases = [(0, 8), (0, 16), (2, 8), (3, 2), (3, 8)]
    width, height = 9, 7
    for interlaced in (False, True):
        for (ctype, depth) in cases + [("t", c) for c in trns_cases]:
            with_trns = ctype == "t"
            if with_trns:
                ctype, depth = depth
            ch = CHANNELS[ctype]
            maxv = (1 << depth) - 1
            plte = trns = trns_value = None
            if ctype == 3:
                n = min(1 << depth, 6)
                plte = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(n)]
                pixels = [[(rng.randrange(n),) for _ in range(width)] for _ in range(height)]
                if with_trns:
                    trns_value = [rng.randrange(256) for _ in range(n - 1)]  # last entry opaque
                    trns = bytes(trns_value)
            else:
                pixels = [[tuple(rng.randrange(maxv + 1) for _ in range(ch)) for _ in range(width)]
                          for _ in range(height)]
                if with_trns:
                    trns_value = pixels[1][2][0] if ctype == 0 else pixels[1][2]
                    trns = struct.pack(">H", trns_value) if ctype == 0 else struct.pack(">HHH", *trns_value)
            name = "c%d_d%d%s%s.png" % (ctype, depth, "_trns" if with_trns else "", "_i" if interlaced else "")
            with open(name, "wb") as f:
                f.write(encode(width, height, ctype, depth, pixels, interlaced, plte, trns))
            exp = expected(ctype, depth, pixels, plte, trns_value)
            out_ch = len(exp) // (width * height)
            manifest.append({"file": name, "width": width, "height": height, "color_type": ctype,
                             "bit_depth": depth, "interlaced": interlaced, "channels": out_ch,
                             "depth": 16 if depth == 16 else 8, "samples": exp})
    with open("manifest.json", "w") as f:
        json.dump(manifest, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
