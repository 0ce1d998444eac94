"""The one canonical character normalization: any glyph image -> 32x32 float32.

Training data (every loader) and page crops go through :func:`normalize_glyph`, so the
network sees the same geometry at training and at inference time.

Polarity: ink = 1.0, background = 0.0, values in [0, 1].
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

SIZE: int = 32
"""Side of the normalized square, in pixels."""

GLYPH_BOX: int = 24
"""Longest side of the glyph's ink box after scaling, in pixels (the rest is margin)."""

INK_FRACTION: float = 0.2
"""A pixel belongs to the ink box when it exceeds this fraction of the crop's maximum."""

MARGIN: int = 1
"""Mass centring never pushes ink closer than this to the square's edge, in pixels."""

MIN_THIN_SIDE: int = 2
"""The short side of a very thin glyph (I, 1) is never scaled below this many pixels."""

NORMALIZATION_ID: str = f"inkbox{INK_FRACTION}-long{GLYPH_BOX}-mass-centre-{SIZE}"
"""Recorded in every model manifest; a model is only valid with the same normalization."""

FloatImage = NDArray[np.float32]


def ink_box(img: NDArray[np.floating]) -> tuple[int, int, int, int] | None:
    """Return (r0, r1, c0, c1) of the pixels above INK_FRACTION x max, or None if blank."""
    peak = float(img.max()) if img.size else 0.0
    if peak <= 0.0:
        return None
    mask = img > INK_FRACTION * peak
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def normalize_glyph(img: NDArray[np.floating]) -> FloatImage:
    """Tight ink box -> keep aspect -> scale longest side to GLYPH_BOX -> centre of mass
    at the middle of a SIZE x SIZE square. A blank input gives an all-zero square."""
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    src = np.asarray(img, dtype=np.float32)
    box = ink_box(src)
    if box is None:
        return out
    r0, r1, c0, c1 = box
    crop = src[r0:r1, c0:c1]
    # The ink box holds the image's maximum, so the crop's peak is the image's. Clipping as
    # two in-place ufuncs: np.clip's dispatch cost more than the arithmetic on a glyph.
    crop = crop / np.float32(crop.max())
    _clip01(crop)
    h, w = crop.shape
    scale = GLYPH_BOX / max(h, w)
    nh = min(GLYPH_BOX, max(MIN_THIN_SIDE, round(h * scale)))
    nw = min(GLYPH_BOX, max(MIN_THIN_SIDE, round(w * scale)))
    resized = _clip01(resize_bilinear(crop, nh, nw))
    total = float(resized.sum())
    if total > 0:
        cy = float(_ramp(nh) @ resized.sum(axis=1) / total)
        cx = float(_ramp(nw) @ resized.sum(axis=0) / total)
    else:
        cy, cx = (nh - 1) / 2, (nw - 1) / 2
    top = int(round((SIZE - 1) / 2 - cy))
    left = int(round((SIZE - 1) / 2 - cx))
    top = min(max(top, MARGIN), SIZE - MARGIN - nh)
    left = min(max(left, MARGIN), SIZE - MARGIN - nw)
    out[top : top + nh, left : left + nw] = resized
    return out


def _clip01(a: FloatImage) -> FloatImage:
    """``a`` clipped to [0, 1] in place (``np.clip``'s result, without its dispatch)."""
    np.maximum(a, np.float32(0.0), out=a)
    np.minimum(a, np.float32(1.0), out=a)
    return a


@lru_cache(maxsize=64)
def _ramp(n: int) -> NDArray[np.int64]:
    """0, 1, ..., n - 1 (read-only, cached: a glyph asks for two)."""
    r = np.arange(n)
    r.setflags(write=False)
    return r


@lru_cache(maxsize=4096)
def _bilinear_weights(n_in: int, n_out: int) -> NDArray[np.float64]:
    """(n_out, n_in) weights of Pillow's BILINEAR resampling along one axis: a triangle
    widened by the reduction factor (antialiasing), cut where Pillow cuts it, each row
    summing to 1 (Pillow's ``precompute_coeffs``)."""
    scale = n_in / n_out
    spread = max(scale, 1.0)
    centre = (np.arange(n_out) + 0.5) * scale
    first = np.maximum((centre - spread + 0.5).astype(int), 0)
    last = np.minimum((centre + spread + 0.5).astype(int), n_in)
    x = np.arange(n_in)[None, :]
    w = np.maximum(0.0, 1.0 - np.abs((x - centre[:, None] + 0.5) / spread))
    w[(x < first[:, None]) | (x >= last[:, None])] = 0.0
    total = w.sum(axis=1, keepdims=True)
    w = np.divide(w, total, out=np.zeros_like(w), where=total != 0)
    w.setflags(write=False)
    return w


def resize_bilinear(img: FloatImage, nh: int, nw: int) -> FloatImage:
    """``img`` resized to nh x nw exactly as Pillow's BILINEAR resize of a mode "F" image
    (rows first, a float32 result between the passes; equal to 1 float32 ulp), as two small
    matrix products: a third of Pillow's time per glyph, without an image object each."""
    h, w = img.shape
    out = img.astype(np.float64)
    if w != nw:
        out = (out @ _bilinear_weights(w, nw).T).astype(np.float32).astype(np.float64)
    if h != nh:
        out = _bilinear_weights(h, nh) @ out
    return out.astype(np.float32)


def normalize_batch(images: list[NDArray[np.floating]] | NDArray[np.floating]) -> FloatImage:
    """Normalize a sequence of glyph images into an (N, SIZE, SIZE) float32 array."""
    n = len(images)
    out = np.zeros((n, SIZE, SIZE), dtype=np.float32)
    for i in range(n):
        out[i] = normalize_glyph(images[i])
    return out
