"""Rasterizing marks: antialiased round-capped strokes with ink texture, and their tight
truth boxes."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from ocr.synth.layout import Mark
from ocr.synth.style import Box

SUPERSAMPLE: int = 2
"""Marks are drawn at this many times page resolution and box-filtered down (antialiasing)."""

BOX_COVERAGE: float = 0.25
"""A pixel belongs to a character's truth box when its ink coverage is at least this share of
the character's peak coverage: tight, yet not fooled by the faint antialiasing fringe."""


GRAIN_CELL: int = 6
"""Size in page pixels of the coarse cells of the ink texture."""


def draw_mark(
    mark: Mark, cov: NDArray[np.float32], rng: np.random.Generator | None = None
) -> Box | None:
    """Rasterize one mark (2x supersampled, round caps) into ``cov`` with max-compositing;
    return its tight ink box, or None if it fell outside the canvas."""
    pts = np.concatenate(mark.strokes)
    pad = mark.radius + 2.0
    hgt, wid = cov.shape
    x0 = max(0, int(math.floor(pts[:, 0].min() - pad)))
    y0 = max(0, int(math.floor(pts[:, 1].min() - pad)))
    x1 = min(wid, int(math.ceil(pts[:, 0].max() + pad)) + 1)
    y1 = min(hgt, int(math.ceil(pts[:, 1].max() + pad)) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    ss = SUPERSAMPLE
    canvas = Image.new("L", ((x1 - x0) * ss, (y1 - y0) * ss), 0)
    draw = ImageDraw.Draw(canvas)
    r = mark.radius * ss
    width = max(1, int(round(2 * r)))
    for stroke, strength in zip(mark.strokes, mark.strengths, strict=True):
        fill = int(round(255 * strength))
        q = (stroke - [x0, y0]) * ss
        xy = [(float(a), float(b)) for a, b in q]
        if len(xy) > 1:
            draw.line(xy, fill=fill, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]) if len(xy) > 1 else xy:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    local = np.asarray(canvas.reduce(ss), dtype=np.float32) / 255.0
    if mark.grain > 0 and rng is not None:
        local = local * _ink_texture(local.shape, mark.grain, rng)
    region = cov[y0:y1, x0:x1]
    np.maximum(region, local, out=region)
    peak = float(local.max())
    if peak <= 0:
        return None
    ys, xs = np.nonzero(local >= BOX_COVERAGE * peak)
    return (x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1, y0 + int(ys.max()) + 1)


def _ink_texture(
    shape: tuple[int, ...], grain: float, rng: np.random.Generator
) -> NDArray[np.float32]:
    """Multiplicative ink texture in [1 - grain, 1]: patches of lighter pressure (coarse,
    about GRAIN_CELL px) mixed with pixel grain, as pencil and dry ballpoint leave it."""
    hgt, wid = shape
    coarse_lr = rng.random((hgt // GRAIN_CELL + 2, wid // GRAIN_CELL + 2)).astype(np.float32)
    coarse = upsample(coarse_lr, (wid, hgt))
    fine = rng.random((hgt, wid), dtype=np.float32)
    return (1.0 - grain * (0.6 * coarse + 0.4 * fine)).astype(np.float32)


def upsample(field_lr: NDArray[np.float32], size: tuple[int, int]) -> NDArray[np.float32]:
    """Bilinear resize of a small float field to (width, height)."""
    img = Image.fromarray(field_lr.astype(np.float32), mode="F")
    return np.asarray(img.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)
