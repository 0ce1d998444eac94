"""Faint marks: shapes far fainter than the page's writing, dropped after recognition.

A sheet's torn or cut edge casts a thin shadow on the desk beside it, and a photo's sheet edge
or a fold shows as a thin grey line: binarization keeps such lines (they are darker than the
paper around them), segmentation makes them tall strokes, and the recognizer reads them as
1 or I. Their darkness gives them away: a pen's strokes on one page are about equally dark,
while such edges are a third as dark. Darkness is measured on the picture as decoded (the
working ink map saturates at the page's ink level, where a thin pen and an edge can both
sit), in each box's own neighbourhood. A character far fainter than the page's typical
character and read with doubt is dropped. Input: the segmented layout, each box's
probabilities (keyed by box identity, like ``drop_clutter``), the decoded pixels and the
pipeline's box maps back to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import NUM_CLASSES
from ocr.results import to_original
from ocr.stages.printread import BoxMap
from ocr.stages.segment import CharBox, Layout


@dataclass(frozen=True)
class FaintParams:
    """When a character is a faint mark; darkness is 1 - grey / paper (0 on paper)."""

    ink_percentile: float = 2.0
    """A box's ink grey is this percentile of its pixels: its strokes' cores (a character's
    strokes cover far more than this share of its box, a speck far less)."""

    paper_percentile: float = 90.0
    """...and its paper this percentile of the box grown by ``pad_ch`` of its height."""

    pad_ch: float = 0.5
    """(in the box's own heights)."""

    max_side_px: int = 48
    """Windows are read every n-th pixel so their longer side is at most this many samples:
    the cost per box stays fixed however large the photo."""

    ratio: float = 0.5
    """A character at most this share as dark as the page's median character is faint (pen
    characters of one page: 0.8-1.2 of the median; a torn sheet's edge on a desk 0.3-0.4)."""

    max_confidence: float = 0.9
    """...and is dropped only when its best reading is below this: a letter written lightly
    reads surely, an edge read as 1 does not."""

    min_page_chars: int = 8
    """A page needs this many characters for its median darkness to mean anything..."""

    reference_chars: int = 24
    """...which is measured on at most this many of them, spread over the page."""


def sampled_window(
    pixels: NDArray[np.generic], x0: int, y0: int, x1: int, y1: int, max_side: int
) -> tuple[NDArray[Any], int]:
    """``pixels[y0:y1, x0:x1]`` (starts clipped to the picture) read every n-th pixel, n
    such that the window's longer side is at most ``max_side`` samples, and n: a box's
    darkness or colour needs no more, and a 12 MP photo's boxes are large."""
    step = max(1, int(np.ceil(max(y1 - y0, x1 - x0) / max_side)))
    return np.asarray(pixels)[max(0, y0) : y1 : step, max(0, x0) : x1 : step], step


def percentile(values: NDArray[Any], q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation, the same float64 arithmetic) for
    the small windows of pixels read here (integers; other float types go to numpy), at a
    fifth of its cost: its generality costs ~40 us a call, and a page asks for two a
    character."""
    flat = np.asarray(values).ravel()
    if flat.dtype.kind == "f" and flat.dtype != np.float64:  # numpy interpolates in float32
        return float(np.percentile(flat, q))
    pos = (q / 100.0) * (flat.size - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, flat.size - 1)
    part = np.partition(flat, (lo, hi)) if hi > lo else np.partition(flat, lo)
    a, b, t = float(part[lo]), float(part[hi]), pos - lo
    # numpy's lerp: from the nearer end, so t = 0 and t = 1 give a and b exactly.
    return a + (b - a) * t if t < 0.5 else b - (b - a) * (1.0 - t)


def box_darkness(pixels: NDArray[np.generic], box: Sequence[int], params: FaintParams) -> float:
    """Darkness of the strokes in ``box`` (original px) over the paper around it."""
    x0, y0, x1, y1 = box
    h, w = pixels.shape[:2]
    pad = int(np.ceil(params.pad_ch * max(1, y1 - y0)))
    wy0, wy1, wx0, wx1 = max(0, y0 - pad), min(h, y1 + pad), max(0, x0 - pad), min(w, x1 + pad)
    win, step = sampled_window(pixels, wx0, wy0, wx1, wy1, params.max_side_px)
    if win.ndim == 3:  # the darkest channel, as the page is binarized (ocr.stages.binarize)
        win = win[..., :3].min(axis=2)
    inner = win[
        (y0 - wy0) // step : -(-(y1 - wy0) // step), (x0 - wx0) // step : -(-(x1 - wx0) // step)
    ]
    if win.size == 0 or inner.size == 0:
        return 0.0
    paper = percentile(win, params.paper_percentile)
    ink = percentile(inner, params.ink_percentile)
    return max(0.0, 1.0 - ink / max(paper, 1e-6))


def faint_chars(
    layout: Layout,
    probs: dict[int, NDArray[np.float32]],
    pixels: NDArray[np.generic],
    maps: Sequence[BoxMap],
    params: FaintParams = FaintParams(),
) -> set[int]:
    """Identities of the layout's character boxes that are faint marks: far fainter than the
    page's median character and read with doubt. ``maps``: working px -> ``pixels``' px,
    last step first (see :func:`ocr.results.to_original`)."""
    chars = [c for ln in layout.lines for w in ln.words for c in w.chars if c.kind == "char"]
    doubtful = [
        c
        for c in chars
        if id(c) in probs and float(probs[id(c)][:NUM_CLASSES].max()) < params.max_confidence
    ]
    if len(chars) < params.min_page_chars or not doubtful:
        return set()
    size = (pixels.shape[1], pixels.shape[0])

    def darkness(c: CharBox) -> float:
        return box_darkness(pixels, to_original(c, maps, size), params)

    # Darkness is at most 1, so no limit exceeds ``ratio``: where every doubtful character is
    # darker than that, the page's reference characters need not be measured (most pages).
    dark = {id(c): darkness(c) for c in doubtful}
    if min(dark.values()) >= params.ratio:
        return set()
    spread = np.linspace(0, len(chars) - 1, min(len(chars), params.reference_chars))
    limit = params.ratio * float(np.median([darkness(chars[int(i)]) for i in spread]))
    return {key for key, d in dark.items() if d < limit}
