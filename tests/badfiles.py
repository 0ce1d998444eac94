"""Hand-made bad and multi-page input files, shared by the input and CLI tests."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image


def forged_png(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG whose IHDR (with a correct CRC) declares width x height."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def two_page_pdf() -> bytes:
    """200 x 100 pt pages with a black 100 x 50 pt block at the bottom-left of each."""
    pdf = pdfium.PdfDocument.new()
    for _ in range(2):
        page = pdf.new_page(200, 100)
        block = pdfium.PdfImage.new(pdf)
        block.set_bitmap(pdfium.PdfBitmap.from_pil(Image.new("RGB", (4, 4), "black")))
        block.set_matrix(pdfium.PdfMatrix().scale(100, 50))
        page.insert_obj(block)
        page.gen_content()
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def write_bad_inputs(folder: Path) -> dict[str, str]:
    """Write one file per kind of bad input; return file name -> expected error_type."""
    folder.mkdir(parents=True, exist_ok=True)
    jpeg = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)).save(
        jpeg, "JPEG"
    )
    files = {
        "empty.jpg": (b"", "empty-file"),
        "notes.png": (b"shopping list: milk, eggs\n", "not-an-image"),
        "truncated.jpg": (jpeg.getvalue()[: len(jpeg.getvalue()) // 2], "truncated-image"),
        "huge.png": (forged_png(100_000, 100_000), "too-large"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    blank = Image.new("RGB", (1200, 900), (236, 234, 228))
    blank.save(folder / "blank.png")
    Image.new("RGB", (1200, 900), (6, 6, 6)).save(folder / "black.png")
    expected = {name: kind for name, (_, kind) in files.items()}
    expected.update({"blank.png": "blank-page", "black.png": "all-black-page"})
    return expected
