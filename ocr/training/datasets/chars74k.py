"""Chars74K "EnglishHnd" pen strokes: ``{char: [glyph per writer]}``, glyph = strokes,
stroke = [[x, y], ...] in screen coordinates (y down). List index = writer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from ocr.model.classes import CLASS_INDEX
from ocr.stages.normalize import normalize_batch
from ocr.training.datasets.base import Dataset, file_sha256

Strokes = list[list[tuple[float, float]]]

DEFAULT_PEN: float = 0.08
"""Pen width as a fraction of the glyph's longest side (the calibration run's held-out pen)."""

RENDER_SIDE: int = 64
"""Longest side of the glyph when rasterized, in pixels, before normalization."""


@dataclass(frozen=True)
class StrokeGlyph:
    label: int
    writer: int
    strokes: Strokes


def read_strokes(path: Path) -> list[StrokeGlyph]:
    raw = json.loads(Path(path).read_text())
    glyphs = []
    for char, per_writer in raw.items():
        if char not in CLASS_INDEX:
            continue
        for writer, strokes in enumerate(per_writer):
            if strokes:
                pts = [[(float(x), float(y)) for x, y in s] for s in strokes if s]
                glyphs.append(StrokeGlyph(CLASS_INDEX[char], writer, pts))
    return glyphs


def render_strokes(
    strokes: Strokes,
    pen: float = DEFAULT_PEN,
    side: int = RENDER_SIDE,
    blur: float = 0.0,
    transform: NDArray[np.float64] | None = None,
) -> NDArray[np.float32]:
    """Rasterize strokes with round caps; ``pen`` is relative to the glyph's longest side.

    ``transform`` is an optional 2x2 matrix applied to the points first (slant, rotation).
    Returns ink = 1 on 0, with the glyph's longest side ``side`` pixels and a pen margin.
    """
    pts = np.concatenate([np.asarray(s, dtype=np.float64) for s in strokes])
    centre = pts.mean(axis=0)
    matrix = transform

    def apply(p: NDArray[np.float64]) -> NDArray[np.float64]:
        # No transform means the points exactly as drawn (the shipped metrics depend on it).
        return p if matrix is None else (p - centre) @ matrix.T + centre

    pts = apply(pts)
    lo = pts.min(axis=0)
    extent = float(max((pts.max(axis=0) - lo).max(), 1.0))
    scale = side / extent
    width = max(1.0, pen * side)
    margin = int(np.ceil(width)) + 2
    size = (
        int(np.ceil((pts[:, 0].max() - lo[0]) * scale)) + 2 * margin,
        int(np.ceil((pts[:, 1].max() - lo[1]) * scale)) + 2 * margin,
    )
    canvas = Image.new("L", size, 0)
    draw = ImageDraw.Draw(canvas)
    r = width / 2
    for s in strokes:
        p = (apply(np.asarray(s, dtype=np.float64)) - lo) * scale + margin
        xy = [tuple(q) for q in p.tolist()]
        if len(xy) > 1:
            draw.line(xy, fill=255, width=int(round(width)), joint="curve")
        for x, y in (xy[0], xy[-1]) if len(xy) > 1 else xy:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    if blur > 0:
        canvas = canvas.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(canvas, dtype=np.float32) / 255.0


def render_glyphs(
    glyphs: list[StrokeGlyph],
    pens: NDArray[np.floating],
    blurs: NDArray[np.floating] | None = None,
    transforms: NDArray[np.float64] | None = None,
) -> NDArray[np.float32]:
    """Render and normalize glyph i with pens[i] (and blurs[i], transforms[i] if given)."""
    raw = [
        render_strokes(
            g.strokes,
            pen=float(pens[i]),
            blur=0.0 if blurs is None else float(blurs[i]),
            transform=None if transforms is None else transforms[i],
        )
        for i, g in enumerate(glyphs)
    ]
    return normalize_batch(raw)


def load_chars74k(path: Path, pen: float = DEFAULT_PEN) -> Dataset:
    """Every glyph rendered once with ``pen``; ``groups`` holds the writer index."""
    glyphs = read_strokes(path)
    images = render_glyphs(glyphs, np.full(len(glyphs), pen), blurs=np.full(len(glyphs), 1.0))
    return Dataset(
        name=f"chars74k:{path.name}",
        images=images,
        labels=np.array([g.label for g in glyphs], dtype=np.int64),
        groups=np.array([g.writer for g in glyphs], dtype=np.int64),
        sha256={path.name: file_sha256(path)},
    )


@dataclass(frozen=True)
class RenderVariety:
    """How training re-renders stroke glyphs so they look like many pens and scans."""

    pen_min: float = 0.06
    pen_max: float = 0.14
    """Pen width range, as a fraction of the glyph's longest side."""
    blur_max: float = 1.5
    """Gaussian blur sigma range [0, blur_max], in pixels at RENDER_SIDE."""
    slant: float = 0.25
    """Horizontal shear range +-, applied to the stroke points."""
    rotation: float = 6.0
    """Rotation range +-, in degrees."""


def render_variants(
    glyphs: list[StrokeGlyph], copies: int, rng: np.random.Generator, variety: RenderVariety
) -> tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.int64]]:
    """``copies`` renderings of every glyph with random pen, blur, slant and rotation."""
    many = [g for g in glyphs for _ in range(copies)]
    n = len(many)
    pens = rng.uniform(variety.pen_min, variety.pen_max, n)
    blurs = rng.uniform(0.0, variety.blur_max, n)
    shear = rng.uniform(-variety.slant, variety.slant, n)
    angle = np.deg2rad(rng.uniform(-variety.rotation, variety.rotation, n))
    cos, sin = np.cos(angle), np.sin(angle)
    transforms = np.empty((n, 2, 2))
    transforms[:, 0, 0] = cos
    transforms[:, 0, 1] = -sin + shear * cos
    transforms[:, 1, 0] = sin
    transforms[:, 1, 1] = cos + shear * sin
    images = render_glyphs(many, pens, blurs, transforms)
    labels = np.array([g.label for g in many], dtype=np.int64)
    writers = np.array([g.writer for g in many], dtype=np.int64)
    return images, labels, writers
