"""The one canonical character normalization: any glyph image -> 32x32 float32.

Training data (every loader) and page crops go through :func:`normalize_glyph`, so the
network sees the same geometry at training and at inference time.

Polarity: ink = 1.0, background = 0.0, values in [0, 1].
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

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
    peak = float(crop.max())
    crop = np.clip(crop / peak, 0.0, 1.0)
    h, w = crop.shape
    scale = GLYPH_BOX / max(h, w)
    nh = min(GLYPH_BOX, max(MIN_THIN_SIDE, round(h * scale)))
    nw = min(GLYPH_BOX, max(MIN_THIN_SIDE, round(w * scale)))
    resized = np.asarray(
        Image.fromarray(crop, mode="F").resize((nw, nh), Image.Resampling.BILINEAR),
        dtype=np.float32,
    )
    resized = np.clip(resized, 0.0, 1.0)
    total = float(resized.sum())
    if total > 0:
        ys, xs = np.indices(resized.shape)
        cy = float((ys * resized).sum() / total)
        cx = float((xs * resized).sum() / total)
    else:
        cy, cx = (nh - 1) / 2, (nw - 1) / 2
    top = int(round((SIZE - 1) / 2 - cy))
    left = int(round((SIZE - 1) / 2 - cx))
    top = min(max(top, MARGIN), SIZE - MARGIN - nh)
    left = min(max(left, MARGIN), SIZE - MARGIN - nw)
    out[top : top + nh, left : left + nw] = resized
    return out


def normalize_batch(images: list[NDArray[np.floating]] | NDArray[np.floating]) -> FloatImage:
    """Normalize a sequence of glyph images into an (N, SIZE, SIZE) float32 array."""
    n = len(images)
    out = np.zeros((n, SIZE, SIZE), dtype=np.float32)
    for i in range(n):
        out[i] = normalize_glyph(images[i])
    return out
