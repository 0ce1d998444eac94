"""Synthetic stationery and doodles: lined and grid paper under the writing, marker shapes
and small drawings beside it.

Why: real pages are written on ruled notebooks and grid pads, and people draw boxes, circles,
arrows and keys next to their text; the rule removal stage and the "not a character" class
must be tuned and measured on such pages. Each function takes a rendered
:class:`ocr.synth.SynthPage` and returns a new one with the same truth (rules and drawings
are not text). Printed lines and marker ink are composed multiplicatively into the photo
(subtractive colour: ink and print both absorb), so they share the page's lighting and
shadows; they get a blur of their own like the rest of the photo.

Rules follow the page: lined paper's rules pass under each text line's baseline (people write
on the line) at the page's line pitch and tilt, grid cells divide that pitch.
Sizes are relative to the page's character height ``h`` (median truth box height).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from ocr.synth.render import SynthPage

FloatImage = NDArray[np.float32]
Rng = np.random.Generator
Colour = tuple[float, float, float]

RULE_COLOURS: dict[str, Colour] = {
    "light blue": (150, 190, 235),
    "blue": (110, 150, 220),
    "grey": (165, 165, 170),
    "dark grey": (120, 120, 125),
}
"""Printed rule colours (RGB 0-255)."""

MARGIN_RED: Colour = (225, 120, 130)
"""The vertical margin rule of ruled notebook paper."""

RULE_WIDTH_H: tuple[float, float] = (0.03, 0.07)
"""Printed rule width, in character heights (a 0.2-0.5 mm hairline next to 5-8 mm capitals)."""

GRID_CELLS_PER_LINE: tuple[int, ...] = (2, 3)
"""Grid cells per text line pitch (5 mm squares under capitals two or three cells apart)."""

MARGIN_CHANCE: float = 0.5
"""Share of lined pages with a red margin rule left of the text."""

MARKER_COLOURS: dict[str, Colour] = {
    "red": (205, 40, 45),
    "blue": (40, 70, 190),
    "green": (40, 140, 60),
    "black": (35, 35, 40),
}

MARKER_WIDTH_H: tuple[float, float] = (0.08, 0.2)
"""Marker and felt-pen stroke width, in character heights."""

SHAPE_SIZE_H: tuple[float, float] = (1.0, 2.5)
"""Size of a marker shape or doodle, in character heights."""

SHAPES_PER_PAGE: tuple[int, int] = (2, 6)

CLEARANCE_H: float = 0.5
"""Free space kept between a drawing and any written character, in character heights."""

PRINT_BLUR_PX: tuple[float, float] = (0.4, 1.0)
"""Blur of the composed layer (the photo's optics), px."""


def char_height(page: SynthPage) -> float:
    heights = [c.box[3] - c.box[1] for ln in page.lines for c in ln.chars if c.char != "."]
    return float(np.median(heights)) if heights else 40.0


def _baselines(page: SynthPage) -> tuple[float, list[float]]:
    """Page slope (dy/dx) and each text line's baseline height at x = 0: a straight line
    through the bottoms of its character boxes (median slope over lines, robust to dots)."""
    fits = []
    for ln in page.lines:
        pts = [((c.box[0] + c.box[2]) / 2, c.box[3]) for c in ln.chars if c.char != "."]
        if len(pts) >= 2:
            x, y = np.asarray(pts, dtype=np.float64).T
            if np.ptp(x) > 0:
                fits.append((np.polyfit(x, y, 1)[0], x, y))
    slope = float(np.median([f[0] for f in fits])) if fits else 0.0
    bases = [float(np.median(y - slope * x)) for _, x, y in fits]
    return slope, sorted(bases)


def _compose(page: SynthPage, cov: FloatImage, colour: Colour, rng: Rng) -> SynthPage:
    """Multiply coverage ``cov`` of ``colour`` into the photo."""
    blur = float(rng.uniform(*PRINT_BLUR_PX))
    layer = Image.fromarray(np.clip(cov * 255, 0, 255).astype(np.uint8))
    cov = np.asarray(layer.filter(ImageFilter.GaussianBlur(blur)), np.float32) / 255.0
    absorb = 1.0 - np.asarray(colour, np.float32) / 255.0
    img = page.image.astype(np.float32) * (1.0 - cov[..., None] * absorb)
    return replace(page, image=np.clip(img, 0, 255).astype(np.uint8))


def _canvas(page: SynthPage) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    h, w = page.image.shape[:2]
    img = Image.new("L", (w, h), 0)
    return img, ImageDraw.Draw(img)


def _horizontal(d: ImageDraw.ImageDraw, y0: float, slope: float, w: int, width: int) -> None:
    d.line([(0, y0), (w, y0 + slope * w)], fill=255, width=width)


def lined_paper(page: SynthPage, rng: Rng) -> SynthPage:
    """Ruled notebook paper: a rule under every baseline and on at the same pitch over the
    whole sheet, blue or grey, and sometimes a red margin rule left of the text."""
    h = char_height(page)
    slope, bases = _baselines(page)
    hgt, wid = page.image.shape[:2]
    pitch = float(np.median(np.diff(bases))) if len(bases) >= 2 else 2.0 * h
    img, d = _canvas(page)
    width = max(1, round(h * rng.uniform(*RULE_WIDTH_H)))
    first = bases[0] if bases else float(rng.uniform(h, 2 * h))
    y = first - pitch * math.ceil((first + abs(slope) * wid) / pitch)
    while y < hgt + abs(slope) * wid:
        _horizontal(d, y, slope, wid, width)
        y += pitch
    colour = RULE_COLOURS[str(rng.choice(list(RULE_COLOURS)))]
    out = _compose(page, np.asarray(img, np.float32) / 255.0, colour, rng)
    left = min((c.box[0] for ln in page.lines for c in ln.chars), default=wid)
    if rng.random() < MARGIN_CHANCE and left > 1.5 * h:
        m_img, md = _canvas(page)
        x = float(rng.uniform(0.5 * h, left - h))
        md.line([(x, 0), (x - slope * hgt, hgt)], fill=255, width=width)
        out = _compose(out, np.asarray(m_img, np.float32) / 255.0, MARGIN_RED, rng)
    return out


def grid_paper(page: SynthPage, rng: Rng) -> SynthPage:
    """Squared paper: horizontal lines through the baselines and every cell between, and
    vertical lines at the same cell size, perpendicular to them."""
    h = char_height(page)
    slope, bases = _baselines(page)
    hgt, wid = page.image.shape[:2]
    pitch = float(np.median(np.diff(bases))) if len(bases) >= 2 else 2.0 * h
    cells = int(rng.choice(GRID_CELLS_PER_LINE))
    cell = pitch / cells
    img, d = _canvas(page)
    width = max(1, round(h * rng.uniform(*RULE_WIDTH_H) * 0.8))
    first = bases[0] if bases else 0.0
    y = first - cell * math.ceil((first + abs(slope) * wid) / cell)
    while y < hgt + abs(slope) * wid:
        _horizontal(d, y, slope, wid, width)
        y += cell
    x = float(rng.uniform(0, cell)) - cell * math.ceil(abs(slope) * hgt / cell)
    while x < wid + abs(slope) * hgt:
        d.line([(x, 0), (x - slope * hgt, hgt)], fill=255, width=width)
        x += cell
    colour = RULE_COLOURS[str(rng.choice(list(RULE_COLOURS)))]
    return _compose(page, np.asarray(img, np.float32) / 255.0, colour, rng)


def _shape(d: ImageDraw.ImageDraw, kind: str, cx: float, cy: float, r: float, pen: int) -> None:
    """Draw one doodle of half-size ``r`` centred at (cx, cy)."""
    box = (cx - r, cy - r, cx + r, cy + r)
    if kind == "circles":
        for k in (1.0, 0.55):
            d.ellipse((cx - k * r, cy - k * r, cx + k * r, cy + k * r), outline=255, width=pen)
    elif kind == "squares":
        for k in (1.0, 0.5):
            d.rectangle((cx - k * r, cy - k * r, cx + k * r, cy + k * r), outline=255, width=pen)
    elif kind == "triangles":
        for k in (1.0, 0.45):
            pts = [
                (cx + k * r * math.cos(a), cy + k * r * math.sin(a)) for a in (-1.57, 0.52, 2.62)
            ]
            d.polygon(pts, outline=255, width=pen)
    elif kind == "filled":
        d.ellipse(box, fill=255)
    elif kind == "star":
        pts = [
            (
                cx + r * (1.0 if i % 2 == 0 else 0.45) * math.cos(-1.57 + i * math.pi / 5),
                cy + r * (1.0 if i % 2 == 0 else 0.45) * math.sin(-1.57 + i * math.pi / 5),
            )
            for i in range(10)
        ]
        d.polygon(pts, outline=255, width=pen)
    elif kind == "infinity":
        t = np.linspace(0, 2 * math.pi, 60)
        xs = cx + r * np.cos(t) / (1 + np.sin(t) ** 2)
        ys = cy + r * 0.8 * np.sin(t) * np.cos(t) / (1 + np.sin(t) ** 2)
        d.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=255, width=pen)
    elif kind == "arrow":
        d.line([(cx - r, cy), (cx + r, cy)], fill=255, width=pen)
        d.line([(cx + r, cy), (cx + 0.5 * r, cy - 0.4 * r)], fill=255, width=pen)
        d.line([(cx + r, cy), (cx + 0.5 * r, cy + 0.4 * r)], fill=255, width=pen)
    else:  # "house": a box with a roof and a door
        d.rectangle((cx - r, cy - 0.2 * r, cx + r, cy + r), outline=255, width=pen)
        d.line([(cx - r, cy - 0.2 * r), (cx, cy - r), (cx + r, cy - 0.2 * r)], fill=255, width=pen)
        d.rectangle((cx - 0.2 * r, cy + 0.4 * r, cx + 0.2 * r, cy + r), outline=255, width=pen)


SHAPES: tuple[str, ...] = (
    "circles",
    "squares",
    "triangles",
    "filled",
    "star",
    "infinity",
    "arrow",
    "house",
)
"""Doodles like the marker shapes of the key-drawing photo. No lone outlined circle (an O)
nor a lone stroke (an I): a reader could not tell those from letters either."""


def marker_shapes(page: SynthPage, rng: Rng) -> SynthPage:
    """Marker shapes and small drawings in free parts of the page, clear of the writing."""
    h = char_height(page)
    hgt, wid = page.image.shape[:2]
    keep_out = np.zeros((hgt, wid), bool)
    pad = int(CLEARANCE_H * h)
    for ln in page.lines:
        for c in ln.chars:
            keep_out[
                max(0, c.box[1] - pad) : c.box[3] + pad, max(0, c.box[0] - pad) : c.box[2] + pad
            ] = True
    out = page
    n = int(rng.integers(SHAPES_PER_PAGE[0], SHAPES_PER_PAGE[1] + 1))
    for _ in range(n):
        for _try in range(30):
            r = 0.5 * h * float(rng.uniform(*SHAPE_SIZE_H))
            cx, cy = float(rng.uniform(r + 2, wid - r - 2)), float(rng.uniform(r + 2, hgt - r - 2))
            y0, y1, x0, x1 = int(cy - r - 2), int(cy + r + 3), int(cx - r - 2), int(cx + r + 3)
            if y0 < 0 or x0 < 0 or keep_out[y0:y1, x0:x1].any():
                continue
            keep_out[y0:y1, x0:x1] = True
            img, d = _canvas(out)
            pen = max(1, round(h * rng.uniform(*MARKER_WIDTH_H)))
            _shape(d, str(rng.choice(SHAPES)), cx, cy, r, pen)
            colour = MARKER_COLOURS[str(rng.choice(list(MARKER_COLOURS)))]
            out = _compose(out, np.asarray(img, np.float32) / 255.0, colour, rng)
            break
    return out


PAPER_SCENES: dict[str, Callable[[SynthPage, Rng], SynthPage]] = {
    "lined": lined_paper,
    "grid": grid_paper,
    "drawings": marker_shapes,
}
"""Scene kinds of this module; ``ocr.synth.scenes`` composes them like its own, so
``bench/scenes.py --kinds lined,grid,drawings`` measures them."""
