"""How a synthetic page looks: ink and paper colours and the :class:`SynthStyle` ranges
every page draws from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Range = tuple[float, float]
Box = tuple[int, int, int, int]
"""(x0, y0, x1, y1) in page pixels, exclusive ends."""


INK_COLOURS: dict[str, tuple[float, float, float]] = {
    "black": (0.07, 0.07, 0.09),
    "blue": (0.10, 0.17, 0.48),
    "dark grey": (0.24, 0.24, 0.26),
}
"""Ink reflectance per RGB channel (0 = absorbs all light); dark grey stands in for pencil."""

PAPER_TINTS: dict[str, tuple[float, float, float]] = {
    "white": (0.93, 0.93, 0.91),
    "cool": (0.86, 0.90, 0.93),
    "warm": (0.94, 0.86, 0.74),
    "grey": (0.80, 0.82, 0.82),
}
"""Paper reflectance per RGB channel; the warm tint matches the indoor-lit sample photo."""


@dataclass(frozen=True)
class SynthStyle:
    """How a page looks. Every ``(lo, hi)`` pair is a uniform range drawn once per page
    (per character for the ``jitter_*`` amplitudes, which are +- limits). Lengths are relative
    to the character height unless the name says px. Defaults resemble the two sample photos:
    thin pen on dim grey-white paper, generous letter spacing, a few degrees of tilt."""

    char_height_px: Range = (45.0, 100.0)
    """Cap height of the writing in page pixels (the samples: about 80 and 165 px)."""
    pen_width: Range = (0.035, 0.08)
    """Pen width as a fraction of char height (ballpoint / pencil on the samples: ~0.05)."""
    slant: Range = (-0.12, 0.2)
    """Horizontal shear of glyphs per page; positive leans right."""
    glyph_width: Range = (0.85, 1.2)
    """Horizontal stretch of every glyph of the page (narrow or wide hand)."""
    jitter_position: float = 0.05
    """Per-char shift +-, fraction of char height, in x and y."""
    jitter_size: float = 0.08
    """Per-char relative size change +-."""
    jitter_rotation_deg: float = 4.0
    """Per-char rotation +-, degrees."""
    jitter_slant: float = 0.06
    """Per-char shear +- on top of the page slant."""
    stroke_warp: float = 0.025
    """Amplitude of the smooth per-occurrence warp of stroke points, fraction of char height;
    makes repeated letters of one writer differ although there is one glyph per char."""
    letter_spacing: Range = (0.2, 0.6)
    """Gap between the bounding boxes of neighbouring glyphs (samples: ~0.3-0.5)."""
    word_spacing: Range = (0.9, 1.6)
    """Gap between words; kept clearly above letter spacing, as on the samples."""
    spacing_jitter: float = 0.3
    """Relative +- variation of each individual gap."""
    line_spacing: Range = (1.7, 2.5)
    """Baseline-to-baseline distance."""
    indent: Range = (0.0, 1.2)
    """Random left indent of each line."""
    baseline_wave: Range = (0.0, 0.07)
    """Amplitude of the sinusoidal baseline drift."""
    line_tilt_deg: float = 1.2
    """Per-line baseline slope +-, degrees (hand-written lines are not parallel)."""
    margin: Range = (0.05, 0.12)
    """Empty paper around the text, fraction of the text block's size."""
    extra_space: Range = (0.0, 0.35)
    """Additional empty paper at the bottom and right, fraction of the page (lists rarely fill
    the sheet)."""
    aspect: Range = (0.75, 1.5)
    """Width / height of the photo; the page grows below or right of the text to reach it."""
    rotation_deg: float = 2.0
    """Page rotation +-, degrees."""
    perspective: float = 0.015
    """Keystone: each page corner moves up to this fraction of the page size."""
    inks: tuple[str, ...] = ("black", "blue", "dark grey")
    """Ink colours to choose from (keys of INK_COLOURS)."""
    ink_strength: Range = (0.7, 1.0)
    """Peak ink coverage: below 1 for pencil and faint ballpoint."""
    ink_variation: float = 0.15
    """Per-stroke relative darkness variation (pen pressure)."""
    ink_grain: Range = (0.0, 0.45)
    """Largest share of coverage removed by ink texture (pencil grain, skipping ballpoint);
    0 gives uniformly saturated strokes."""
    papers: tuple[str, ...] = ("white", "white", "cool", "warm", "grey")
    """Paper tints to choose from (keys of PAPER_TINTS); repeats weight the choice."""
    exposure: Range = (0.55, 0.95)
    """Brightness of fully lit white paper, fraction of 255 (phone photos of paper are dim:
    the samples' paper is at ~150)."""
    lighting_gradient: Range = (0.0, 0.3)
    """Linear darkening across the page in a random direction, fraction of the exposure."""
    vignette: Range = (0.0, 0.2)
    """Radial darkening towards the corners."""
    shadow: Range = (0.0, 0.35)
    """Darkness of a soft-edged shadow (phone, hand) over part of the page ..."""
    shadow_chance: float = 0.35
    """... which appears on this share of the pages."""
    show_through: Range = (0.0, 0.05)
    """Contrast of blurred mirrored writing from the back of the sheet."""
    paper_texture: float = 0.02
    """Relative amplitude of low-frequency paper brightness mottling."""
    noise: Range = (1.0, 5.0)
    """Gaussian sensor noise standard deviation, grey levels."""
    blur_px: Range = (0.3, 1.1)
    """Gaussian blur sigma, page pixels (focus and camera optics)."""
    jpeg_quality: tuple[int, int] = (70, 95)
    """JPEG quality range used when the page is saved."""
    max_megapixels: float = 3.5
    """Pages that would be larger (long lines of big writing) are scaled down to this area,
    like a phone photo whose resolution is fixed whatever the text size."""
    lines: tuple[int, int] = (5, 11)
    """Number of text lines of a random page (inclusive)."""

    @staticmethod
    def clean() -> SynthStyle:
        """Upright, noiseless, evenly lit pages: for tests and for isolating the recognizer
        from photo defects."""
        return SynthStyle(
            rotation_deg=0.0,
            perspective=0.0,
            lighting_gradient=(0.0, 0.0),
            vignette=(0.0, 0.0),
            shadow_chance=0.0,
            show_through=(0.0, 0.0),
            paper_texture=0.0,
            noise=(0.0, 0.0),
            blur_px=(0.0, 0.0),
            jpeg_quality=(95, 95),
            exposure=(0.95, 0.95),
            inks=("black",),
            ink_strength=(1.0, 1.0),
            ink_variation=0.0,
            ink_grain=(0.0, 0.0),
            papers=("white",),
        )
