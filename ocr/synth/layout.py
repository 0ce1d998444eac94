"""Placing every character of a page: per-page parameters, per-character jitter and the
page geometry (rotation, keystone), all applied to stroke points before rasterizing."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ocr.synth.strokes import Glyphs, smooth_warp
from ocr.synth.style import INK_COLOURS, PAPER_TINTS, Box, FloatArray, SynthStyle
from ocr.synth.text import DOT_CHAR
from ocr.training.datasets.chars74k import Strokes

WORD_GAP_MARGIN: float = 0.5
"""Word gaps exceed letter gaps by at least this many char heights: on real pages the writer
separates words visibly, and the truth text's spaces must be recoverable from the ink."""


@dataclass
class Mark:
    """One character's ink in page coordinates (points already fully transformed)."""

    char: str
    strokes: list[FloatArray]
    radius: float
    """Half the pen width, px (larger for a dot)."""
    strengths: list[float]
    """Peak coverage of each stroke."""
    grain: float = 0.0
    """Share of coverage the ink texture may remove."""


@dataclass
class PageParams:
    """One page's draw from a :class:`SynthStyle`."""

    h: float
    pen: float
    slant: float
    width: float
    letter_gap: float
    word_gap: float
    line_step: float
    wave_amp: float
    wave_period: float
    ink: tuple[float, float, float]
    ink_strength: float
    ink_grain: float
    paper: tuple[float, float, float]
    lines_meta: list[tuple[float, float, float]] = field(default_factory=list)


def sample_params(style: SynthStyle, rng: np.random.Generator) -> PageParams:
    u = lambda r: float(rng.uniform(r[0], r[1]))  # noqa: E731
    h = u(style.char_height_px)
    letter_gap = u(style.letter_spacing) * h
    return PageParams(
        h=h,
        pen=max(1.0, u(style.pen_width) * h),
        slant=u(style.slant),
        width=u(style.glyph_width),
        letter_gap=letter_gap,
        word_gap=max(u(style.word_spacing) * h, letter_gap + WORD_GAP_MARGIN * h),
        line_step=u(style.line_spacing) * h,
        wave_amp=u(style.baseline_wave) * h,
        wave_period=float(rng.uniform(6.0, 16.0)) * h,
        ink=INK_COLOURS[str(rng.choice(list(style.inks)))],
        ink_strength=u(style.ink_strength),
        ink_grain=u(style.ink_grain),
        paper=PAPER_TINTS[str(rng.choice(list(style.papers)))],
    )


def _glyph_points(strokes: Strokes) -> tuple[list[FloatArray], FloatArray, float]:
    """Strokes as arrays, plus the glyph's bottom-left corner and height (stroke units)."""
    arrs = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes if len(s)]
    pts = np.concatenate(arrs)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    height = float(max(hi[1] - lo[1], 1e-6, 0.2 * (hi[0] - lo[0])))
    return arrs, np.array([lo[0], hi[1]]), height


def _place_char(
    strokes: Strokes,
    x: float,
    baseline: float,
    p: PageParams,
    style: SynthStyle,
    rng: np.random.Generator,
) -> tuple[list[FloatArray], float]:
    """Transform one glyph to page coordinates with its left ink edge at ``x`` and bottom on
    ``baseline``; returns the strokes and the right edge."""
    arrs, corner, height = _glyph_points(strokes)
    size = p.h * (1.0 + rng.uniform(-style.jitter_size, style.jitter_size))
    # Glyph-normalized coordinates: height 1, bottom-left at the origin, y down (so y <= 0).
    norm = [(a - corner) / height for a in arrs]
    allpts = np.concatenate(norm)
    warp_rng = np.random.default_rng(rng.integers(0, 2**63))
    warped = smooth_warp(allpts, warp_rng, style.stroke_warp)
    shear = p.slant + rng.uniform(-style.jitter_slant, style.jitter_slant)
    angle = math.radians(rng.uniform(-style.jitter_rotation_deg, style.jitter_rotation_deg))
    c, s = math.cos(angle), math.sin(angle)
    m = np.array([[c, -s], [s, c]]) @ np.array([[p.width, -shear], [0.0, 1.0]])
    moved = (warped @ m.T) * size
    lo = moved.min(axis=0)
    hi = moved.max(axis=0)
    jx, jy = rng.uniform(-style.jitter_position, style.jitter_position, 2) * p.h
    offset = np.array([x - lo[0] + jx, baseline - hi[1] + jy])
    out: list[FloatArray] = []
    start = 0
    for a in norm:
        out.append(moved[start : start + len(a)] + offset)
        start += len(a)
    return out, x + float(hi[0] - lo[0])


def layout_lines(
    lines: list[str], glyphs: Glyphs, p: PageParams, style: SynthStyle, rng: np.random.Generator
) -> list[list[Mark]]:
    """Place every character of every line; page coordinates start near (0, 0)."""
    out: list[list[Mark]] = []
    y = p.h
    for text in lines:
        x0 = float(rng.uniform(*style.indent)) * p.h
        tilt = math.tan(math.radians(rng.uniform(-style.line_tilt_deg, style.line_tilt_deg)))
        phase = float(rng.uniform(0, 2 * math.pi))
        base_y = y + float(rng.uniform(-0.1, 0.1)) * p.h
        x = x0
        marks: list[Mark] = []
        for wi, word in enumerate(text.split(" ")):
            if wi:
                x += p.word_gap * (1.0 + rng.uniform(-style.spacing_jitter, style.spacing_jitter))
            for ci, ch in enumerate(word):
                if ci:
                    jitter = 1.0 + rng.uniform(-style.spacing_jitter, style.spacing_jitter)
                    gap = p.letter_gap * jitter
                    if ch == DOT_CHAR:
                        gap = p.letter_gap * 0.4 * jitter
                    x += max(gap, 0.03 * p.h + p.pen)
                baseline = (
                    base_y
                    + tilt * (x - x0)
                    + p.wave_amp * math.sin(2 * math.pi * x / p.wave_period + phase)
                )
                if ch == DOT_CHAR:
                    r = 0.5 * p.pen * float(rng.uniform(1.2, 1.8))
                    centre = np.array([[x + r, baseline - r]])
                    marks.append(Mark(ch, [centre], r, [p.ink_strength], p.ink_grain))
                    x += 2 * r
                    continue
                if ch not in glyphs or not glyphs[ch]:
                    raise ValueError(f"no glyph for {ch!r}")
                options = glyphs[ch]
                strokes = options[int(rng.integers(0, len(options)))]
                placed, x = _place_char(strokes, x, baseline, p, style, rng)
                strengths = [
                    p.ink_strength * (1.0 - float(rng.uniform(0, style.ink_variation)))
                    for _ in placed
                ]
                marks.append(Mark(ch, placed, 0.5 * p.pen, strengths, p.ink_grain))
        out.append(marks)
        y += p.line_step
    return out


def homography(src: FloatArray, dst: FloatArray) -> FloatArray:
    """3x3 projective map taking the four ``src`` points to ``dst``."""
    a = []
    b = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.extend([u, v])
    h = np.linalg.solve(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def apply_homography(points: FloatArray, hmat: FloatArray) -> FloatArray:
    q = np.c_[points, np.ones(len(points))] @ hmat.T
    return q[:, :2] / q[:, 2:]


def union_box(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def extent(marks: list[list[Mark]]) -> tuple[FloatArray, FloatArray]:
    pts = np.concatenate([s for line in marks for m in line for s in m.strokes])
    return pts.min(axis=0), pts.max(axis=0)


def transform_marks(marks: list[list[Mark]], fn: Callable[[FloatArray], FloatArray]) -> None:
    """Apply a point transform to every stroke of every mark, in place."""
    for line in marks:
        for m in line:
            m.strokes = [fn(s) for s in m.strokes]
