"""A PNG of a window (or an X display's root window): xwd's dump (ZPixmap, 24 or 32 bits per
pixel, as Xvfb makes it) written out with zlib, so that no image tool is
needed beside xwd (x11-apps)."""

import struct
import subprocess
import zlib


def _png(width, height, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def xwd_to_png(dump):
    fields = struct.unpack(">25I", dump[:100])
    header_size, _, pixmap_format, _, width, height = fields[:6]
    byte_order, bits_per_pixel, bytes_per_line = fields[7], fields[11], fields[12]
    red_mask, green_mask, blue_mask, ncolors = fields[14], fields[15], fields[16], fields[19]
    if pixmap_format != 2 or bits_per_pixel not in (24, 32):
        raise ValueError(f"xwd format {pixmap_format} with {bits_per_pixel} bits per pixel")
    data = dump[header_size + 12 * ncolors:]
    step = bits_per_pixel // 8
    order = "<" if byte_order == 0 else ">"

    def shift(mask):
        return (mask & -mask).bit_length() - 1

    shifts = [shift(m) for m in (red_mask, green_mask, blue_mask)]
    rows = []
    for y in range(height):
        line = data[y * bytes_per_line:y * bytes_per_line + width * step]
        if step == 4:
            pixels = struct.unpack(f"{order}{width}I", line)
        else:
            pixels = [int.from_bytes(line[i:i + 3], "little" if order == "<" else "big")
                      for i in range(0, len(line), 3)]
        rows.append(bytes(v for p in pixels for v in ((p >> shifts[0]) & 0xFF, (p >> shifts[1]) & 0xFF,
                                                        (p >> shifts[2]) & 0xFF)))
    return _png(width, height, rows)


def screenshot(display, path, env=None, window=None):
    which = ["-id", str(window)] if window else ["-root"]
    dump = subprocess.run(["xwd", *which, "-silent", "-display", display], capture_output=True,
                          check=True, env=env, timeout=30).stdout
    with open(path, "wb") as fh:
        fh.write(xwd_to_png(dump))
