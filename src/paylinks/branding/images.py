"""Logo uploads: PNG, JPEG or WebP, recognised by their bytes (never by the file name or the
client's content type), at most 512 KiB and 2000 × 2000 pixels when the header says. SVG is
refused: it can carry script."""

from __future__ import annotations

import struct

MAX_BYTES = 512 * 1024
MAX_SIDE = 2000


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return None


def sniff(data: bytes) -> str:
    """The image's content type; ValueError (with a reason for people) if it may not be a logo."""
    if not data:
        raise ValueError("choose an image file")
    if len(data) > MAX_BYTES:
        raise ValueError(f"the logo must be at most {MAX_BYTES // 1024} KiB")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        size = _png_size(data)
        if size is None or not (0 < size[0] <= MAX_SIDE and 0 < size[1] <= MAX_SIDE):
            raise ValueError(f"the logo must be at most {MAX_SIDE} × {MAX_SIDE} pixels")
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise ValueError("the logo must be a PNG, JPEG or WebP image")
