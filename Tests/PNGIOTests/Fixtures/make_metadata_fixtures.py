#!/usr/bin/env python3
"""Writes two small RGB PNGs with colour-management, physical-size and text chunks, with nothing
but zlib and struct (independent of libpng and of latent): meta_srgb.png (sRGB, gAMA, cHRM, pHYs,
tEXt) and meta_icc.png (an embedded ICC profile, iCCP: littlecms's sRGB profile, made once with
Pillow's ImageCms and stored below; pHYs; tEXt). Run it from this folder to regenerate."""
import base64, struct, zlib

PROFILE = base64.b64decode(
    "AAACTGxjbXMEQAAAbW50clJHQiBYWVogB+oADAADAAoAKgAFYWNzcEFQUEwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPbW"
    "AAEAAAAA0y1sY21zAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALZGVzYwAAAQgAAAA2"
    "Y3BydAAAAUAAAABMd3RwdAAAAYwAAAAUY2hhZAAAAaAAAAAsclhZWgAAAcwAAAAUYlhZWgAAAeAAAAAUZ1hZWgAAAfQAAAAU"
    "clRSQwAAAggAAAAgZ1RSQwAAAggAAAAgYlRSQwAAAggAAAAgY2hybQAAAigAAAAkbWx1YwAAAAAAAAABAAAADGVuVVMAAAAa"
    "AAAAHABzAFIARwBCACAAYgB1AGkAbAB0AC0AaQBuAABtbHVjAAAAAAAAAAEAAAAMZW5VUwAAADAAAAAcAE4AbwAgAGMAbwBw"
    "AHkAcgBpAGcAaAB0ACwAIAB1AHMAZQAgAGYAcgBlAGUAbAB5WFlaIAAAAAAAAPbWAAEAAAAA0y1zZjMyAAAAAAABDEIAAAXe"
    "///zJQAAB5MAAP2Q///7of///aIAAAPcAADAblhZWiAAAAAAAABvoAAAOPUAAAOQWFlaIAAAAAAAACSfAAAPhAAAtsNYWVog"
    "AAAAAAAAYpcAALeHAAAY2XBhcmEAAAAAAAMAAAACZmYAAPKnAAANWQAAE9AAAApbY2hybQAAAAAAAwAAAACj1wAAVHsAAEzN"
    "AACZmgAAJmYAAA9c")


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png(ancillary, width=20, height=12):
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw += bytes(((x * 13 + y * 7) % 256, (x * 5 + y * 11) % 256, (x * y) % 256))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    for kind, data in ancillary:
        out += chunk(kind, data)
    return out + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


PHYS = struct.pack(">IIB", 11811, 11811, 1)   # 300 dpi
with open("meta_srgb.png", "wb") as f:
    f.write(png([(b"sRGB", bytes([0])), (b"gAMA", struct.pack(">I", 45455)),
                 (b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)),
                 (b"pHYs", PHYS), (b"tEXt", b"Author\x00A. Photographer")]))
with open("meta_icc.png", "wb") as f:
    f.write(png([(b"iCCP", b"sRGB built-in\x00\x00" + zlib.compress(PROFILE, 9)), (b"pHYs", PHYS),
                 (b"tEXt", b"Copyright\x00CC BY 4.0")]))
