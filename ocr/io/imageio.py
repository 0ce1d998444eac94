"""Reading input files into page images, safely: every failure is an :class:`InputError`.

Inputs are untrusted (uploads, S3 objects), so decoding is defensive:

* only JPEG, PNG, TIFF, WebP, BMP and PDF are opened (no Pillow plugin that shells out, e.g.
  EPS via Ghostscript, is ever reached);
* the size a header declares is checked against :data:`MAX_PIXELS` *before* any pixel is
  decoded, so a 100 kB file claiming 10 gigapixels costs nothing;
* every page is fully decoded inside ``try`` so a truncated file fails here, with the file's
  name, and not later inside binarization;
* large JPEGs are decoded at 1/2, 1/4 or 1/8 scale by the DCT itself (``Image.draft``), and any
  page whose long side is still above ``max_side`` is area-downscaled to about ``max_side``.

"Original pixels" (the frame every box in a :class:`schemas.page.PageResult` uses) are the
full-resolution pixels of the page *as a viewer displays it*: EXIF orientation is applied, so
a phone photo stored sideways has its width and height swapped. A PDF has no pixels; its
original pixels are those of the page rendered at :data:`PDF_REFERENCE_DPI`.

Pages are produced lazily. A problem with the whole file (empty, unknown format, too large, a
PDF without pages) raises before the first page. A problem inside page *k* of a multi-page
TIFF/PDF raises ``InputError(page_index=k)`` after pages ``0..k-1`` were yielded, and ends the
iteration: the caller reports that page as failed and the remaining ones as not read. (A
single-page file's errors carry ``page_index=None``: the file, not a page, is broken.)
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from numpy.typing import NDArray
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_SIDE: int = 2048
"""Largest long side (px) pages are decoded at (JPEGs may come out down to
DRAFT_MIN_FRACTION of it). A block-capital line on a full-page photo is >= ~1/80 of the page
height, so characters stay >= ~19 px tall: enough for the 32 px glyph pipeline (it upsamples
small writing up to 2x), while a page stays ~4 MP (12 MB RGB) whatever the camera."""

DRAFT_MIN_FRACTION: float = 0.75
"""A JPEG may be decoded at a DCT reduction down to this fraction of max_side (long side)."""

MAX_PIXELS: int = 120_000_000
"""Largest width x height (px) accepted from a header (~360 MB decoded as RGB): above any real
camera or 600 dpi A3 scan, far below what a forged header can ask for."""

MAX_FULL_DECODE_BYTES: int = 256 * 1024 * 1024
"""Largest full-resolution decode (bytes, as Pillow stores it: 1 byte/px grey or palette,
2 for 16-bit grey, 4 for RGB, RGBA and the rest) of an image the decoder cannot reduce while
decoding (all but JPEG). With the strip-wise reduction below a page then peaks at about
this plus the ~100 MB of the process, inside a 768 MiB worker: a 36 MP RGBA PNG (144 MB)
or a 70 MP A3 scan in RGB passes, a 120 MP RGB PNG (480 MB) is ``too-large``."""

REDUCE_STRIP_ROWS: int = 64
"""Output rows reduced at a time (x factor input rows): bounds the float working copy."""

MAX_FILE_BYTES: int = 512 * 1024 * 1024
"""Largest input file (bytes) read into memory."""

MAX_PAGES: int = 1000
"""Most pages read from one TIFF or PDF; more is a batch job split wrongly, or an attack."""

PDF_REFERENCE_DPI: float = 300.0
"""Dots per inch defining a PDF page's "original pixels": the usual scan resolution, so boxes
keep ~0.1 mm precision and ``scale`` stays <= 1 for ordinary pages, as for photos."""

PDF_POINTS_PER_INCH: float = 72.0

RASTER_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "TIFF", "WEBP", "BMP")
"""Pillow format ids we open. The JPEG opener also returns "MPO" images (multi-picture phone
JPEGs), which are decoded like JPEG."""

MULTI_PAGE_FORMATS: frozenset[str] = frozenset({"TIFF"})
"""Formats whose frames are pages. Other formats' extra frames (an MPO's depth map or preview,
an animated WebP) are not pages of a document; only frame 0 is read."""

PDF_MAGIC = b"%PDF-"
PDF_MAGIC_WINDOW: int = 1024
"""The PDF header may follow up to this many bytes of junk (PDF 1.7, annex H)."""

WHITE = 255
"""Background transparent pixels are composited onto: paper, not ink."""


class InputError(Exception):
    """An input that cannot be turned into page images; ``error_type`` is machine-readable.

    error_type: "unreadable-file", "empty-file", "not-an-image", "truncated-image",
    "too-large", "no-pages", "encrypted-pdf". ``message`` names the file and the reason.
    """

    def __init__(self, error_type: str, message: str, page_index: int | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.page_index = page_index


@dataclass
class PageImage:
    """One decoded page, with what is needed to map its pixels back to the original file."""

    source: str
    page_index: int
    page_count: int
    pixels: NDArray[np.uint8]
    """H x W x 3 RGB, or H x W grey."""
    scale: float
    """Decoded pixels per original pixel (decoded width / original width)."""
    original_size: tuple[int, int]
    """(width, height) in original pixels, orientation applied."""
    sha256: str
    """Of the whole file's bytes."""


def read_pages(path: Path, max_side: int = DEFAULT_MAX_SIDE) -> Iterator[PageImage]:
    """Every page of the file at ``path`` (see :func:`read_pages_from_bytes`)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                "too-large", f"{path}: the file is {size} bytes, over the {MAX_FILE_BYTES} limit"
            )
        data = path.read_bytes()
    except OSError as e:
        raise InputError("unreadable-file", f"{path}: cannot read the file: {e.strerror}") from e
    yield from read_pages_from_bytes(data, str(path), max_side)


def read_pages_from_bytes(
    data: bytes, source: str, max_side: int = DEFAULT_MAX_SIDE
) -> Iterator[PageImage]:
    """Every page of an in-memory file (e.g. an S3 object); ``source`` names it in errors."""
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    if not data:
        raise InputError("empty-file", f"{source}: the file is empty (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise InputError(
            "too-large", f"{source}: the file is {len(data)} bytes, over the {MAX_FILE_BYTES} limit"
        )
    digest = hashlib.sha256(data).hexdigest()
    if PDF_MAGIC in data[:PDF_MAGIC_WINDOW]:
        yield from _pdf_pages(data, source, digest, max_side)
    else:
        yield from _raster_pages(data, source, digest, max_side)


def _raster_pages(data: bytes, source: str, digest: str, max_side: int) -> Iterator[PageImage]:
    try:
        with warnings.catch_warnings():
            # Between Pillow's own warning threshold and MAX_PIXELS the size is fine for us.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=list(RASTER_FORMATS))
    except Image.DecompressionBombError as e:
        raise InputError("too-large", f"{source}: the image is too large to decode: {e}") from e
    except UnidentifiedImageError as e:
        raise InputError(
            "not-an-image",
            f"{source}: not a JPEG, PNG, TIFF, WebP, BMP or PDF file (starts with {data[:8]!r})",
        ) from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise InputError("truncated-image", f"{source}: the image header is damaged: {e}") from e

    with img:
        fmt = img.format or "?"
        try:
            frames = getattr(img, "n_frames", 1) if fmt in MULTI_PAGE_FORMATS else 1
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise InputError("truncated-image", f"{source}: the {fmt} file is damaged: {e}") from e
        if frames > MAX_PAGES:
            raise InputError(
                "too-large", f"{source}: {frames} pages, more than the {MAX_PAGES} page limit"
            )
        for index in range(frames):
            where = f"{source} (page {index + 1} of {frames})" if frames > 1 else source
            yield _decode_frame(img, index, frames, where, source, digest, max_side)


def _decode_frame(
    img: Image.Image,
    index: int,
    frames: int,
    where: str,
    source: str,
    digest: str,
    max_side: int,
) -> PageImage:
    """Seek, check the declared size, decode fully (reduced if possible), orient, normalize."""
    page = index if frames > 1 else None
    try:
        if index:
            img.seek(index)
        width, height = img.size
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise InputError("truncated-image", f"{where}: cannot read the page: {e}", page) from e
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise InputError(
            "too-large" if width * height > MAX_PIXELS else "truncated-image",
            f"{where}: the header declares {width} x {height} pixels; the limit is "
            f"{MAX_PIXELS // 1_000_000} megapixels",
            page,
        )
    orientation = _orientation(img)
    if orientation in (5, 6, 7, 8):  # a quarter turn: the displayed image is transposed
        width, height = height, width
    jpeg = img.format in ("JPEG", "MPO")
    if not jpeg and width * height * _bytes_per_pixel(img.mode) > MAX_FULL_DECODE_BYTES:
        raise InputError(
            "too-large",
            f"{where}: {width} x {height} pixels of {img.mode} would take "
            f"{width * height * _bytes_per_pixel(img.mode) // 2**20} MiB to decode; the limit "
            f"is {MAX_FULL_DECODE_BYTES // 2**20} MiB for {img.format} (JPEG is decoded reduced)",
            page,
        )
    try:
        if jpeg:
            _draft(img, max_side)
        img.load()
        reduced = _reduce(img, max_side)
        if reduced is not None:  # exif_transpose needs the EXIF the reduced copy lacks
            page_img = reduced.transpose(TRANSPOSE[orientation]) if orientation != 1 else reduced
        else:
            page_img = ImageOps.exif_transpose(img) if orientation != 1 else img
        page_img = _standard_mode(page_img)
        page_img = _fit(page_img, max_side)
        pixels = np.array(page_img, dtype=np.uint8)
    except Image.DecompressionBombError as e:
        raise InputError(
            "too-large", f"{where}: the image is too large to decode: {e}", page
        ) from e
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as e:
        raise InputError(
            "truncated-image", f"{where}: the image data is truncated or corrupt: {e}", page
        ) from e
    return PageImage(
        source=source,
        page_index=index,
        page_count=frames,
        pixels=pixels,
        scale=pixels.shape[1] / width,
        original_size=(width, height),
        sha256=digest,
    )


def _orientation(img: Image.Image) -> int:
    """EXIF/TIFF orientation 1..8 (1 = as stored); a damaged EXIF block counts as 1."""
    try:
        value = img.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # EXIF is optional metadata: never fail a page over it
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _draft(img: Image.Image, max_side: int) -> None:
    """Let the JPEG decoder reduce by 1/2, 1/4 or 1/8 while the long side stays at least
    DRAFT_MIN_FRACTION x max_side: decoding a 12 MP photo at half size is four times cheaper
    than decoding it whole and resizing."""
    width, height = img.size
    long_side = max(width, height)
    floor = DRAFT_MIN_FRACTION * max_side
    if long_side <= floor:
        return
    ratio = floor / long_side
    img.draft(img.mode, (max(1, math.ceil(width * ratio)), max(1, math.ceil(height * ratio))))


TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""EXIF orientation -> the transposition that shows the image upright (as exif_transpose)."""


def _bytes_per_pixel(mode: str) -> int:
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def _reduce(img: Image.Image, max_side: int) -> Image.Image | None:
    """A loaded image at least twice max_side, area-averaged by an integer factor to "L" or
    "RGB" strip by strip (None when it is small, or a mode this does not handle).

    Why: converting the mode at full resolution first (16-bit to 8-bit through float64,
    RGBA composited onto white in several full-size copies) made a 36 MP PNG peak at
    700-930 MB. Here only REDUCE_STRIP_ROWS output rows exist as floats at a time, and
    transparency is composited per pixel before averaging (the same as averaging after)."""
    width, height = img.size
    factor = max(width, height) // max_side
    mode = img.mode
    if factor < 2 or not (mode in ("L", "RGB", "RGBA", "LA", "I") or mode.startswith("I;16")):
        return None
    out_w, out_h = math.ceil(width / factor), math.ceil(height / factor)
    grey = mode not in ("RGB", "RGBA")
    out = np.empty((out_h, out_w) if grey else (out_h, out_w, 3), dtype=np.uint8)
    step = REDUCE_STRIP_ROWS * factor
    for top in range(0, height, step):
        strip = np.asarray(img.crop((0, top, width, min(height, top + step))))
        values = _paper_values(strip, mode)
        rows = math.ceil(values.shape[0] / factor)
        pad = [(0, rows * factor - values.shape[0]), (0, out_w * factor - width)]
        pad += [(0, 0)] * (values.ndim - 2)
        values = np.pad(values, pad, mode="edge")
        blocks = values.reshape(rows, factor, out_w, factor, *values.shape[2:])
        mean = blocks.mean(axis=(1, 3))
        out[top // factor : top // factor + rows] = np.clip(mean + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(out)


def _paper_values(strip: NDArray[np.generic], mode: str) -> NDArray[np.float32]:
    """0..255 float grey or RGB of a strip, transparent parts white (see _standard_mode)."""
    values = strip.astype(np.float32)
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N") or mode.startswith("I;16"):
        return values / 257.0
    if mode in ("RGBA", "LA"):
        alpha = values[..., -1:] / 255.0
        flat = values[..., :-1] * alpha + WHITE * (1.0 - alpha)
        return flat[..., 0] if mode == "LA" else flat
    return values


def _standard_mode(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> "L" (grey sources) or "RGB"; transparency becomes white paper."""
    mode = img.mode
    if mode in ("L", "RGB"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode == "P":
        palette_mode = img.palette.mode if img.palette is not None else "RGB"
        has_alpha = "transparency" in img.info or "A" in palette_mode
        img = img.convert("RGBA" if has_alpha else "RGB")
        mode = img.mode
        if mode == "RGB":
            return img
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        rgba = img.convert("RGBA")
        grey = mode in ("LA", "La")
        paper = Image.new("RGBA", rgba.size, (WHITE, WHITE, WHITE, 255))
        flat = Image.alpha_composite(paper, rgba).convert("RGB")
        return flat.convert("L") if grey else flat
    if mode.startswith("I;16") or mode == "I":
        # 16-bit (or 32-bit integer) grey: map 0..65535 onto 0..255.
        wide = np.asarray(img, dtype=np.float64)
        return Image.fromarray(np.clip(wide / 257.0 + 0.5, 0, 255).astype(np.uint8))
    if mode == "F":
        values = np.asarray(img, dtype=np.float64)
        top = 1.0 if float(np.nanmax(values, initial=0.0)) <= 1.0 else 255.0
        scaled = np.nan_to_num(values / top * 255.0 + 0.5, nan=WHITE)
        return Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8))
    return img.convert("RGB")  # CMYK, YCbCr, LAB, HSV, ...


def _fit(img: Image.Image, max_side: int) -> Image.Image:
    """Area-average down so the long side is max_side; never upscale. (Leaving larger pages
    to the page stage's own resampling saved 10 ms a page but read measurably worse: the
    area average here is the better anti-aliasing.)"""
    width, height = img.size
    long_side = max(width, height)
    if long_side <= max_side:
        return img
    ratio = max_side / long_side
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return img.resize(size, Image.Resampling.BOX)


def _pdf_pages(data: bytes, source: str, digest: str, max_side: int) -> Iterator[PageImage]:
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise InputError("encrypted-pdf", f"{source}: the PDF is password-protected") from e
        if code == pdfium_c.FPDF_ERR_SUCCESS:
            # PDFium reports no error when the file parses but its page tree is empty.
            raise InputError("no-pages", f"{source}: the PDF has no pages") from e
        raise InputError(
            "truncated-image", f"{source}: the PDF is damaged or truncated: {e}"
        ) from e
    try:
        count = len(pdf)
        if count == 0:
            raise InputError("no-pages", f"{source}: the PDF has no pages")
        if count > MAX_PAGES:
            raise InputError(
                "too-large", f"{source}: {count} pages, more than the {MAX_PAGES} page limit"
            )
        for index in range(count):
            yield _render_pdf_page(pdf, index, count, source, digest, max_side)
    finally:
        pdf.close()


def _render_pdf_page(
    pdf: pdfium.PdfDocument, index: int, count: int, source: str, digest: str, max_side: int
) -> PageImage:
    """Render so the long side is max_side; original pixels are the page at 300 dpi.

    The original size is derived from the rendered bitmap, not the media box, so a page with
    a /Rotate entry gets its displayed (rotated) width and height.
    """
    where = f"{source} (page {index + 1} of {count})" if count > 1 else source
    page_index = index if count > 1 else None
    page = None
    try:
        page = pdf[index]
        width_pt, height_pt = page.get_size()
        if not (width_pt > 0 and height_pt > 0):
            raise ValueError(f"page size {width_pt} x {height_pt} pt")
        px_per_pt = max_side / max(width_pt, height_pt)
        bitmap = page.render(scale=px_per_pt)
        pixels = np.array(_standard_mode(bitmap.to_pil()), dtype=np.uint8)
    except (pdfium.PdfiumError, ValueError, OSError) as e:
        raise InputError(
            "truncated-image", f"{where}: cannot render the page: {e}", page_index
        ) from e
    finally:
        if page is not None:
            page.close()
    decoded_per_original = px_per_pt * PDF_POINTS_PER_INCH / PDF_REFERENCE_DPI
    width = max(1, round(pixels.shape[1] / decoded_per_original))
    height = max(1, round(pixels.shape[0] / decoded_per_original))
    return PageImage(
        source=source,
        page_index=index,
        page_count=count,
        pixels=pixels,
        scale=pixels.shape[1] / width,
        original_size=(width, height),
        sha256=digest,
    )
