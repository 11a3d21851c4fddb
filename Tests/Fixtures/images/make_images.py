"""Writes the seed images of the image-loader fuzzer: a 28×28 grey gradient as PNG (8-bit grey, written with the
standard library's zlib) and as binary PGM. Run: python make_images.py"""
import struct
import zlib

side = 28
pixels = bytes((x * 9 + y * 5) % 256 for y in range(side) for x in range(side))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


rows = b"".join(b"\x00" + pixels[y * side:(y + 1) * side] for y in range(side))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
open("gradient.png", "wb").write(png)
open("gradient.pgm", "wb").write(b"P5 28 28 255\n" + pixels)
