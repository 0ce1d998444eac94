"""Page images for the reviewer: the character in its word and line, the page with boxes,
and the labelled crop that becomes training data.

Every picture is cut from the page image itself (decoded by ``ocr.imageio``, the decoder the
pipeline used, so EXIF turns and multi-page files match the boxes), never from the
binarized page: the reviewer must see what the writer wrote, and the training crop must look
like what ``--data folder:`` users bring.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from ocr.io.imageio import InputError, PageImage, read_pages_from_bytes
from schemas.page import PageResult

CACHED_PAGES: int = 12
"""Decoded pages kept in memory (about 12 MB each at the decoder's 2048 px): the queue visits
pages in doubt order, so the same few pages come back often."""

LINE_VIEW_HEIGHT_PX: int = 110
"""Height of the line picture in the queue view."""
CHAR_VIEW_HEIGHT_PX: int = 180
"""Height of the enlarged character in the queue view."""
CONTEXT_MARGIN: float = 0.35
"""Margin around the line (and the enlarged character), relative to the line's height."""
LINE_MAX_WIDTH_PX: int = 1400
"""The line picture is scaled down further when wider than this."""

PAGE_VIEW_MAX_SIDE_PX: int = 1400
"""Long side of the page picture in the page view."""
PAGE_VIEW_JPEG_QUALITY: int = 85

WORD_FRAME: tuple[int, int, int] = (40, 110, 255)
CHAR_FRAME: tuple[int, int, int] = (255, 0, 255)
"""Magenta, as the overlay's flag frame: no ink colour and no confidence colour."""
FRAME_WIDTH_PX: int = 2


class ImageUnavailable(Exception):
    """The page image a result names cannot be read (moved, changed, not an image)."""


Box = tuple[int, int, int, int]


def _rgb(pixels: NDArray[np.uint8]) -> Image.Image:
    if pixels.ndim == 2:
        return Image.fromarray(pixels, "L").convert("RGB")
    return Image.fromarray(np.ascontiguousarray(pixels[:, :, :3]), "RGB")


def _scaled(box: Box, scale: float, size: tuple[int, int]) -> Box:
    """An original-pixel box on the decoded page, clipped to it and at least 1 px."""
    w, h = size
    x0 = min(max(0, int(box[0] * scale)), w - 1)
    y0 = min(max(0, int(box[1] * scale)), h - 1)
    x1 = min(w, max(x0 + 1, int(np.ceil(box[2] * scale))))
    y1 = min(h, max(y0 + 1, int(np.ceil(box[3] * scale))))
    return (x0, y0, x1, y1)


def _grow(box: Box, margin: int, size: tuple[int, int]) -> Box:
    w, h = size
    return (
        max(0, box[0] - margin),
        max(0, box[1] - margin),
        min(w, box[2] + margin),
        min(h, box[3] + margin),
    )


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=1)  # speed over size: served once, locally
    return buf.getvalue()


class PageImages:
    """Decoded pages by (source, page), read through ``fetch`` and checked against the sha256
    the result recorded, so crops never come from a file that changed after transcription."""

    def __init__(self, fetch: Callable[[str], bytes], cache_size: int = CACHED_PAGES) -> None:
        self.fetch = fetch
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, int], Image.Image] = OrderedDict()
        self._scales: dict[tuple[str, int], float] = {}
        self._lock = threading.Lock()

    def page(self, result: PageResult) -> tuple[Image.Image, float]:
        """The page as an RGB image and its scale (decoded px per original px)."""
        src = result.source
        key = (src.path_or_uri, src.page_index)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key], self._scales[key]
        page = self._decode(result)
        img = _rgb(page.pixels)
        with self._lock:
            self._cache[key] = img
            self._scales[key] = page.scale
            while len(self._cache) > self.cache_size:
                old, _ = self._cache.popitem(last=False)
                self._scales.pop(old, None)
        return img, page.scale

    def _decode(self, result: PageResult) -> PageImage:
        src = result.source
        try:
            data = self.fetch(src.path_or_uri)
        except (OSError, KeyError, ValueError) as e:
            raise ImageUnavailable(f"{src.path_or_uri}: cannot read the page image ({e})") from e
        if hashlib.sha256(data).hexdigest() != src.sha256:
            raise ImageUnavailable(
                f"{src.path_or_uri}: the file changed since it was transcribed (sha256 differs)"
            )
        try:
            for page in read_pages_from_bytes(data, src.path_or_uri):
                if page.page_index == src.page_index:
                    return page
        except InputError as e:
            raise ImageUnavailable(e.message) from e
        raise ImageUnavailable(f"{src.path_or_uri}: no page {src.page_index + 1}")

    def line_view(self, result: PageResult, line_box: Box, word_box: Box, box: Box) -> bytes:
        """The line around the character, the word framed blue and the character magenta."""
        img, scale = self.page(result)
        line = _scaled(line_box, scale, img.size)
        margin = round((line[3] - line[1]) * CONTEXT_MARGIN)
        region = _grow(line, margin, img.size)
        view = img.crop(region)
        draw = ImageDraw.Draw(view)
        for b, colour in ((word_box, WORD_FRAME), (box, CHAR_FRAME)):
            x0, y0, x1, y1 = _scaled(b, scale, img.size)
            draw.rectangle(
                (
                    x0 - region[0] - FRAME_WIDTH_PX,
                    y0 - region[1] - FRAME_WIDTH_PX,
                    x1 - region[0] + FRAME_WIDTH_PX - 1,
                    y1 - region[1] + FRAME_WIDTH_PX - 1,
                ),
                outline=colour,
                width=FRAME_WIDTH_PX,
            )
        factor = LINE_VIEW_HEIGHT_PX / view.height
        if view.width * factor > LINE_MAX_WIDTH_PX:
            factor = LINE_MAX_WIDTH_PX / view.width
        size = (max(1, round(view.width * factor)), max(1, round(view.height * factor)))
        return _png(view.resize(size, Image.Resampling.BILINEAR))

    def char_view(self, result: PageResult, line_box: Box, box: Box) -> bytes:
        """The character enlarged, with a margin of its line's height around it."""
        img, scale = self.page(result)
        line = _scaled(line_box, scale, img.size)
        margin = round((line[3] - line[1]) * CONTEXT_MARGIN)
        region = _grow(_scaled(box, scale, img.size), margin, img.size)
        view = img.crop(region)
        factor = CHAR_VIEW_HEIGHT_PX / view.height
        size = (max(1, round(view.width * factor)), CHAR_VIEW_HEIGHT_PX)
        return _png(view.resize(size, Image.Resampling.BICUBIC))

    def training_crop(self, result: PageResult, box: Box) -> bytes:
        """The character's box as a grey PNG: what ``ocr.datasets.folder`` reads (the median
        pixel is paper; ink is the contrast above it)."""
        img, scale = self.page(result)
        return _png(img.crop(_scaled(box, scale, img.size)).convert("L"))

    def page_view(self, result: PageResult) -> bytes:
        """The whole page as a JPEG for the page view (boxes are drawn by the browser)."""
        img, _ = self.page(result)
        view = img.copy()
        view.thumbnail((PAGE_VIEW_MAX_SIDE_PX, PAGE_VIEW_MAX_SIDE_PX), Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        view.save(buf, format="JPEG", quality=PAGE_VIEW_JPEG_QUALITY)
        return buf.getvalue()


def local_fetcher(bases: list[Path]) -> Callable[[str], bytes]:
    """Read a local image path as the result names it: absolute, or relative to the
    directory ``transcribe`` ran in (tried first) or to the results folder."""

    def fetch(path_or_uri: str) -> bytes:
        p = Path(path_or_uri)
        if p.is_absolute():
            return p.read_bytes()
        for base in bases:
            candidate = base / p
            if candidate.is_file():
                return candidate.read_bytes()
        raise FileNotFoundError(f"not found under {', '.join(str(b) for b in bases)}")

    return fetch


def s3_fetcher(client: object, max_bytes: int) -> Callable[[str], bytes]:
    """Read ``s3://B/K`` images with the worker's size limit (via worker.storage)."""
    from worker.storage import ObjectTooLarge, Storage, StorageError, parse_s3_uri

    storage = Storage(client, max_bytes)

    def fetch(uri: str) -> bytes:
        loc = parse_s3_uri(uri)
        try:
            return storage.download(loc.bucket, loc.key).data
        except (ObjectTooLarge, StorageError) as e:
            raise OSError(str(e)) from e

    return fetch
