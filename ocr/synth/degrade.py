"""What a phone photo adds to the paper: uneven light, shadows and vignetting, paper
mottling, and writing showing through from the back of the sheet."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ocr.synth.layout import PageParams, layout_lines, transform_marks
from ocr.synth.raster import draw_mark, upsample
from ocr.synth.strokes import Glyphs
from ocr.synth.style import FloatArray, SynthStyle
from ocr.synth.text import random_text

LIGHTING_GRID: int = 48
"""Side, in cells, of the low-resolution illumination field that is upsampled to the page;
lighting varies slowly, so computing it coarsely saves most of the per-pixel cost."""

GHOST_SCALE: int = 4
"""Show-through text is drawn at 1/GHOST_SCALE resolution and upsampled, which both saves time
and gives the blur that paper adds to writing seen through the sheet."""


def illumination(
    style: SynthStyle, rng: np.random.Generator, wid: int, hgt: int
) -> NDArray[np.float32]:
    """Relative light falling on the page (1 = fully lit), at LIGHTING_GRID resolution."""
    n = LIGHTING_GRID
    gy, gx = np.mgrid[0:n, 0:n].astype(np.float64) / (n - 1)
    light = np.ones((n, n))
    theta = rng.uniform(0, 2 * math.pi)
    ramp = (gx - 0.5) * math.cos(theta) + (gy - 0.5) * math.sin(theta)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-9)
    light *= 1.0 - rng.uniform(*style.lighting_gradient) * ramp
    r2 = ((gx - 0.5) ** 2 + (gy - 0.5) ** 2) / 0.5
    light *= 1.0 - rng.uniform(*style.vignette) * r2
    if rng.random() < style.shadow_chance:
        phi = rng.uniform(0, 2 * math.pi)
        dist = (gx - 0.5) * math.cos(phi) + (gy - 0.5) * math.sin(phi) - rng.uniform(0.1, 0.45)
        soft = rng.uniform(0.02, 0.12)
        light *= 1.0 - rng.uniform(*style.shadow) / (1.0 + np.exp(-dist / soft))
    if style.paper_texture > 0:
        mottle = rng.standard_normal((n // 4, n // 4))
        light *= 1.0 + style.paper_texture * upsample(mottle.astype(np.float32), (n, n))
    return upsample(light.astype(np.float32), (wid, hgt))


def show_through_field(
    glyphs: Glyphs,
    p: PageParams,
    style: SynthStyle,
    rng: np.random.Generator,
    wid: int,
    hgt: int,
) -> NDArray[np.float32]:
    """Blurred, mirrored writing from the back of the sheet (coverage 0..1, page size)."""
    n_lines = max(1, int(hgt / p.line_step))
    lines = random_text(rng, n_lines).split("\n")
    marks = layout_lines(lines, glyphs, p, style, rng)
    small = np.zeros((hgt // GHOST_SCALE + 1, wid // GHOST_SCALE + 1), dtype=np.float32)
    shift = np.array([rng.uniform(0, 0.1) * wid, rng.uniform(0, 0.05) * hgt])

    def to_back(s: FloatArray) -> FloatArray:
        q = s + shift
        q[:, 0] = wid - q[:, 0]
        return q / GHOST_SCALE

    transform_marks(marks, to_back)
    for line in marks:
        for m in line:
            m.radius = max(0.5, m.radius / GHOST_SCALE)
            draw_mark(m, small)
    return upsample(small, (wid, hgt))
