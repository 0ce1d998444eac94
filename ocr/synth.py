"""Synthetic photographed pages of handwritten block capitals, with exact ground truth.

Why: the two real sample photos are far too few to measure a page pipeline on, and the
held-out evaluation uses other writers, pens and lighting. This module composes whole pages
from real pen strokes (Chars74K, one writer per page) -- or, when the data is absent, from a
small built-in stroke font -- and degrades them like a phone photo: paper tint, uneven
lighting and shadow, show-through from the back of the sheet, slight rotation and
perspective, blur, sensor noise and JPEG. Every character's tight ink box is known, so
segmentation and recognition can be scored line by line and box by box.

Geometry (slant, jitter, baseline wave, page rotation, perspective) is applied to the stroke
*points* before rasterizing, so the truth boxes are measured on the final ink and never need
to be rotated afterwards.

Entry point: ``python -m ocr.synth --out DIR --pages N --writers test --seed S``.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from ocr.classes import CLASSES
from ocr.datapath import data_root
from ocr.datasets.chars74k import Strokes, read_strokes

FloatArray = NDArray[np.float64]
Glyphs = dict[str, list[Strokes]]

CHARS74K_FILE = Path("chars74k") / "strokes-writers-00-39.json"
"""Where the stroke file lives under :func:`ocr.datapath.data_root`."""

SUPERSAMPLE: int = 2
"""Marks are drawn at this many times page resolution and box-filtered down (antialiasing)."""

BOX_COVERAGE: float = 0.25
"""A pixel belongs to a character's truth box when its ink coverage is at least this share of
the character's peak coverage: tight, yet not fooled by the faint antialiasing fringe."""

DOT_CHAR: str = "."
"""The only punctuation drawn (list numbering such as ``1.``)."""

LIGHTING_GRID: int = 48
"""Side, in cells, of the low-resolution illumination field that is upsampled to the page;
lighting varies slowly, so computing it coarsely saves most of the per-pixel cost."""

GHOST_SCALE: int = 4
"""Show-through text is drawn at 1/GHOST_SCALE resolution and upsampled, which both saves time
and gives the blur that paper adds to writing seen through the sheet."""

WORD_GAP_MARGIN: float = 0.5
"""Word gaps exceed letter gaps by at least this many char heights: on real pages the writer
separates words visibly, and the truth text's spaces must be recoverable from the ink."""

GRAIN_CELL: int = 6
"""Size in page pixels of the coarse cells of the ink texture."""

MAX_LINE_CHARS: int = 26
"""Longest generated line, in characters, so random pages keep a photo-like aspect."""

BUILTIN_UNITS: float = 100.0
"""Built-in font glyphs are stored in a unit box and scaled to this many stroke units, the
same order of magnitude as Chars74K tablet coordinates."""

BUILTIN_SEED: int = 7919
"""Base seed of the built-in font's pseudo-writers (writer w uses BUILTIN_SEED + w)."""

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


Range = tuple[float, float]


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


Box = tuple[int, int, int, int]


@dataclass
class SynthChar:
    char: str
    box: Box
    """(x0, y0, x1, y1) in page pixels, exclusive ends: the tight ink box."""


@dataclass
class SynthLine:
    text: str
    box: Box
    chars: list[SynthChar]


@dataclass
class SynthPage:
    image: NDArray[np.uint8]
    """H x W x 3 RGB, before JPEG compression (``save_page`` applies ``jpeg_quality``)."""
    text: str
    """Lines joined by newlines, words by single spaces."""
    lines: list[SynthLine]
    writer: int
    seed: int
    """The page seed: ``render_page(glyphs, np.random.default_rng(seed), style)`` redraws it."""
    jpeg_quality: int = 90


# ---------------------------------------------------------------------------------------------
# Built-in stroke font (fallback without the data; also what the tests use).


def _arc(
    cx: float, cy: float, rx: float, ry: float, t0: float, t1: float, n: int = 12
) -> list[tuple[float, float]]:
    """Points of an elliptic arc from angle t0 to t1 degrees (y down, 0 = right, 90 = bottom)."""
    ts = np.deg2rad(np.linspace(t0, t1, n))
    return [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in ts]


def _builtin_font() -> dict[str, list[list[tuple[float, float]]]]:
    """Block capitals as polylines in a box of height 1 (y down, baseline at y = 1)."""
    o = _arc(0.4, 0.5, 0.4, 0.5, 0, 360, 24)
    p_bowl = [(0.0, 0.0), (0.32, 0.0), *_arc(0.32, 0.27, 0.27, 0.27, -90, 90), (0.0, 0.54)]
    return {
        "A": [[(0.0, 1.0), (0.35, 0.0), (0.7, 1.0)], [(0.13, 0.62), (0.57, 0.62)]],
        "B": [
            [(0.0, 0.0), (0.0, 1.0)],
            [(0.0, 0.0), (0.36, 0.0), *_arc(0.36, 0.24, 0.22, 0.24, -90, 90), (0.0, 0.48)],
            [(0.0, 0.48), (0.4, 0.48), *_arc(0.4, 0.74, 0.26, 0.26, -90, 90), (0.0, 1.0)],
        ],
        "C": [_arc(0.4, 0.5, 0.4, 0.5, 45, 315, 20)],
        "D": [
            [(0.0, 0.0), (0.0, 1.0)],
            [(0.0, 0.0), (0.28, 0.0), *_arc(0.28, 0.5, 0.37, 0.5, -90, 90, 16), (0.0, 1.0)],
        ],
        "E": [[(0.6, 0.0), (0.0, 0.0), (0.0, 1.0), (0.6, 1.0)], [(0.0, 0.5), (0.48, 0.5)]],
        "F": [[(0.6, 0.0), (0.0, 0.0), (0.0, 1.0)], [(0.0, 0.5), (0.48, 0.5)]],
        "G": [[*_arc(0.4, 0.5, 0.4, 0.5, 315, 10, 20), (0.8, 0.62), (0.8, 0.55), (0.45, 0.55)]],
        "H": [[(0.0, 0.0), (0.0, 1.0)], [(0.6, 0.0), (0.6, 1.0)], [(0.0, 0.5), (0.6, 0.5)]],
        "I": [[(0.05, 0.0), (0.45, 0.0)], [(0.25, 0.0), (0.25, 1.0)], [(0.05, 1.0), (0.45, 1.0)]],
        "J": [
            [(0.15, 0.0), (0.65, 0.0)],
            [(0.5, 0.0), (0.5, 0.75), *_arc(0.27, 0.75, 0.23, 0.25, 0, 180)],
        ],
        "K": [[(0.0, 0.0), (0.0, 1.0)], [(0.6, 0.0), (0.0, 0.58)], [(0.18, 0.44), (0.65, 1.0)]],
        "L": [[(0.0, 0.0), (0.0, 1.0), (0.55, 1.0)]],
        "M": [[(0.0, 1.0), (0.05, 0.0), (0.4, 0.62), (0.75, 0.0), (0.8, 1.0)]],
        "N": [[(0.0, 1.0), (0.0, 0.0), (0.65, 1.0), (0.65, 0.0)]],
        "O": [o],
        "P": [[(0.0, 0.0), (0.0, 1.0)], p_bowl],
        "Q": [o, [(0.45, 0.7), (0.85, 1.05)]],
        "R": [[(0.0, 0.0), (0.0, 1.0)], p_bowl, [(0.28, 0.54), (0.62, 1.0)]],
        "S": [
            [*_arc(0.33, 0.25, 0.3, 0.25, 330, 90, 12), *_arc(0.35, 0.75, 0.32, 0.25, -90, 150, 14)]
        ],
        "T": [[(0.0, 0.0), (0.7, 0.0)], [(0.35, 0.0), (0.35, 1.0)]],
        "U": [[(0.0, 0.0), (0.0, 0.68), *_arc(0.32, 0.68, 0.32, 0.32, 180, 0), (0.64, 0.0)]],
        "V": [[(0.0, 0.0), (0.35, 1.0), (0.7, 0.0)]],
        "W": [[(0.0, 0.0), (0.2, 1.0), (0.45, 0.3), (0.7, 1.0), (0.9, 0.0)]],
        "X": [[(0.0, 0.0), (0.65, 1.0)], [(0.65, 0.0), (0.0, 1.0)]],
        "Y": [[(0.0, 0.0), (0.35, 0.5), (0.7, 0.0)], [(0.35, 0.5), (0.35, 1.0)]],
        "Z": [[(0.0, 0.0), (0.65, 0.0), (0.0, 1.0), (0.7, 1.0)]],
        "0": [_arc(0.3, 0.5, 0.3, 0.5, -90, 270, 24)],
        "1": [[(0.0, 0.22), (0.28, 0.0), (0.28, 1.0)]],
        "2": [[*_arc(0.3, 0.28, 0.3, 0.28, 200, 380, 12), (0.0, 1.0), (0.65, 1.0)]],
        "3": [
            [*_arc(0.3, 0.25, 0.28, 0.25, 200, 450, 12), *_arc(0.3, 0.75, 0.33, 0.25, -90, 160, 14)]
        ],
        "4": [[(0.5, 1.0), (0.5, 0.0), (0.0, 0.68), (0.7, 0.68)]],
        "5": [[(0.6, 0.0), (0.08, 0.0), (0.05, 0.46), *_arc(0.3, 0.7, 0.33, 0.3, 235, 510, 16)]],
        "6": [
            [*_arc(0.33, 0.5, 0.33, 0.5, 300, 180, 10), *_arc(0.33, 0.7, 0.33, 0.3, 180, 540, 18)]
        ],
        "7": [[(0.0, 0.0), (0.65, 0.0), (0.25, 1.0)]],
        "8": [_arc(0.3, 0.25, 0.25, 0.25, 90, 450, 18), _arc(0.3, 0.73, 0.3, 0.27, -90, 270, 18)],
        "9": [[*_arc(0.3, 0.3, 0.3, 0.3, 0, 360, 18), (0.58, 1.0)]],
    }


BUILTIN_FONT = _builtin_font()
"""A-Z and 0-9 as unit-box polylines; :func:`builtin_glyphs` turns them into writers."""


def _densify(points: FloatArray, step: float) -> FloatArray:
    """Resample a polyline so no segment is longer than ``step`` (lets warps bend it)."""
    if len(points) < 2:
        return points
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        n = max(1, int(math.ceil(float(np.hypot(*(b - a))) / step)))
        t = np.arange(1, n + 1, dtype=np.float64)[:, None] / n
        out.append(a + (b - a) * t)
    return np.concatenate(out)


def _smooth_warp(points: FloatArray, rng: np.random.Generator, amp: float) -> FloatArray:
    """Displace points (in a box of height ~1) by two random low-frequency waves per axis."""
    if amp <= 0:
        return points
    out = points.copy()
    for axis in (0, 1):
        for _ in range(2):
            freq = rng.uniform(0.4, 1.2, 2) * rng.choice([-1.0, 1.0], 2)
            phase = rng.uniform(0, 2 * math.pi)
            out[:, axis] += (
                amp * rng.uniform(0.5, 1.0) * np.sin(2 * math.pi * points @ freq + phase)
            )
    return out


def builtin_glyphs(writer: int) -> Glyphs:
    """The built-in font as seen through one pseudo-writer: a writer-specific width, slant
    and smooth warp, so different writer ids give visibly different hands."""
    rng = np.random.default_rng(BUILTIN_SEED + writer)
    width = rng.uniform(0.85, 1.15)
    shear = rng.uniform(-0.08, 0.12)
    out: Glyphs = {}
    for char, strokes in BUILTIN_FONT.items():
        glyph: Strokes = []
        for s in strokes:
            p = _densify(np.asarray(s, dtype=np.float64), 0.05)
            p = _smooth_warp(p, rng, 0.03)
            p[:, 0] = p[:, 0] * width + shear * (1.0 - p[:, 1])
            glyph.append([(float(x), float(y)) for x, y in p * BUILTIN_UNITS])
        out[char] = [glyph]
    return out


def writer_glyphs(path: Path, writers: set[int]) -> dict[int, Glyphs]:
    """Chars74K strokes of the given writers: ``{writer: {char: [strokes]}}`` (one glyph per
    char and writer in that corpus)."""
    out: dict[int, Glyphs] = {w: {} for w in sorted(writers)}
    for g in read_strokes(Path(path)):
        if g.writer in out:
            out[g.writer].setdefault(CLASSES[g.label], []).append(g.strokes)
    return out


# ---------------------------------------------------------------------------------------------
# Text content.

VOCABULARY: tuple[str, ...] = tuple(
    """TO DO LIST BUY MILK CALL MOM DAD EGGS BREAD CHEESE BUTTER APPLES RICE PASTA COFFEE TEA
    PAY RENT BILLS FIX BIKE CLEAN ROOM WASH CAR WALK DOG FEED CAT READ BOOK WRITE EMAIL SEND
    LETTER BOOK FLIGHT HOTEL PACK BAGS MEET JOHN ANNA SAM AT THE OF AND FOR WITH ON IN BY
    MONDAY FRIDAY SUNDAY JUNE MAY JULY MARCH NOON PM AM CHECK OFF FIRST THING MAKE A NEW PLAN
    REALIZE YOU HAVE ALREADY COMPLETED THINGS REWARD YOURSELF NAP GYM RUN MILES WATER PLANTS
    DENTIST DOCTOR BANK POST OFFICE PICK UP KIDS SCHOOL HOMEWORK MATH EXAM STUDY NOTES PAGE
    ORDER PIZZA TAKE OUT TRASH GROCERIES SHOPPING RETURN KEYS PHONE CHARGER PRINT TICKETS
    BIRTHDAY GIFT CARD PARTY CAKE CANDLES OVEN BAKE QUIZ JAZZ BOX FOX ZOO QUICK JUMP LAZY
    VISIT GRANDMA UNCLE PAINT FENCE GARDEN SEEDS MOW LAWN BACKUP LAPTOP UPDATE REPORT DRAFT
    BUDGET TAXES FORM SIGN RENEW PASSPORT WEEK TODAY TOMORROW NEXT LAST ITEMS BOXES""".split()
)
"""English words of 1-10 letters, heavy on list vocabulary; includes every letter."""

HEADINGS: tuple[str, ...] = (
    "TO DO LIST",
    "SHOPPING LIST",
    "NOTES",
    "PLAN FOR TODAY",
    "THINGS TO DO",
    "GROCERIES",
    "WEEK PLAN",
)

ORDINALS: tuple[str, ...] = ("1ST", "2ND", "3RD", "4TH", "5TH", "10TH", "21ST")
"""The rare tokens that mix digits and letters."""


def _number(rng: np.random.Generator) -> str:
    kind = rng.integers(0, 5)
    if kind == 0:
        return str(int(rng.integers(1, 13)))  # quantity / hour
    if kind == 1:
        return str(int(rng.integers(1, 32)))  # day of month
    if kind == 2:
        return str(int(rng.integers(1990, 2031)))  # year
    if kind == 3:
        return str(int(rng.integers(10, 1000)))  # amount
    return "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(3, 7))))  # any digits


def _words_line(rng: np.random.Generator, n_words: int) -> list[str]:
    words: list[str] = []
    for _ in range(n_words):
        r = rng.random()
        if r < 0.15:
            words.append(_number(rng))
        elif r < 0.17:
            words.append(str(rng.choice(ORDINALS)))
        else:
            words.append(str(rng.choice(VOCABULARY)))
    return words


def _fit(words: list[str], limit: int = MAX_LINE_CHARS) -> str:
    """Join words, dropping trailing ones past ``limit`` characters (keeping at least one)."""
    out = words[:1]
    for w in words[1:]:
        if len(" ".join([*out, w])) > limit:
            break
        out.append(w)
    return " ".join(out)


def random_text(rng: np.random.Generator, lines: int) -> str:
    """Plausible page content of exactly ``lines`` lines: an optional heading, numbered items
    ("1. BUY MILK") with unnumbered continuation lines, plain lines mixing words and numbers
    (dates, quantities, years), and sometimes runs of isolated letters or digits
    ("A B C D"). Digits inside letter words are rare (ordinals), pure numbers common."""
    out: list[str] = []
    item = int(rng.integers(1, 3)) if rng.random() < 0.2 else 1
    numbered = rng.random() < 0.6
    if lines > 1 and rng.random() < 0.5:
        out.append(str(rng.choice(HEADINGS)))
    while len(out) < lines:
        r = rng.random()
        if r < 0.12:
            alphabet = CLASSES[26:] if rng.random() < 0.35 else CLASSES[:26]
            start = int(rng.integers(0, len(alphabet)))
            count = int(rng.integers(3, 11))
            if rng.random() < 0.5:
                run = [alphabet[(start + k) % len(alphabet)] for k in range(count)]
            else:
                run = [str(c) for c in rng.choice(list(alphabet), count)]
            out.append(" ".join(run))
        elif r < 0.22:
            day = str(int(rng.integers(1, 32)))
            month = str(rng.choice(["JAN", "FEB", "MARCH", "MAY", "JUNE", "JULY", "OCT", "DEC"]))
            out.append(f"{day} {month} {int(rng.integers(1995, 2031))}")
        elif numbered:
            words = _words_line(rng, int(rng.integers(1, 6)))
            out.append(_fit([f"{item}.", *words]))
            item += 1
            if len(out) < lines and rng.random() < 0.3:
                out.append(_fit(_words_line(rng, int(rng.integers(1, 5)))))
        else:
            out.append(_fit(_words_line(rng, int(rng.integers(1, 6)))))
    return "\n".join(out[:lines])


def normalize_text(text: str) -> str:
    """Upper-case, single spaces, no blank lines: the form truth text is stored in."""
    lines = [" ".join(line.upper().split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


# ---------------------------------------------------------------------------------------------
# Layout and rasterization.


@dataclass
class _Mark:
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
class _Params:
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


def _sample_params(style: SynthStyle, rng: np.random.Generator) -> _Params:
    u = lambda r: float(rng.uniform(r[0], r[1]))  # noqa: E731
    h = u(style.char_height_px)
    letter_gap = u(style.letter_spacing) * h
    return _Params(
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
    p: _Params,
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
    warped = _smooth_warp(allpts, warp_rng, style.stroke_warp)
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


def _layout(
    lines: list[str], glyphs: Glyphs, p: _Params, style: SynthStyle, rng: np.random.Generator
) -> list[list[_Mark]]:
    """Place every character of every line; page coordinates start near (0, 0)."""
    out: list[list[_Mark]] = []
    y = p.h
    for text in lines:
        x0 = float(rng.uniform(*style.indent)) * p.h
        tilt = math.tan(math.radians(rng.uniform(-style.line_tilt_deg, style.line_tilt_deg)))
        phase = float(rng.uniform(0, 2 * math.pi))
        base_y = y + float(rng.uniform(-0.1, 0.1)) * p.h
        x = x0
        marks: list[_Mark] = []
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
                    marks.append(_Mark(ch, [centre], r, [p.ink_strength], p.ink_grain))
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
                marks.append(_Mark(ch, placed, 0.5 * p.pen, strengths, p.ink_grain))
        out.append(marks)
        y += p.line_step
    return out


def _homography(src: FloatArray, dst: FloatArray) -> FloatArray:
    """3x3 projective map taking the four ``src`` points to ``dst``."""
    a = []
    b = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        a.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        a.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        b.extend([u, v])
    h = np.linalg.solve(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return np.append(h, 1.0).reshape(3, 3)


def _apply(points: FloatArray, hmat: FloatArray) -> FloatArray:
    q = np.c_[points, np.ones(len(points))] @ hmat.T
    return q[:, :2] / q[:, 2:]


def _draw_mark(
    mark: _Mark, cov: NDArray[np.float32], rng: np.random.Generator | None = None
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
    coarse = _upsample(coarse_lr, (wid, hgt))
    fine = rng.random((hgt, wid), dtype=np.float32)
    return (1.0 - grain * (0.6 * coarse + 0.4 * fine)).astype(np.float32)


def _union(boxes: Sequence[Box]) -> Box:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _extent(marks: list[list[_Mark]]) -> tuple[FloatArray, FloatArray]:
    pts = np.concatenate([s for line in marks for m in line for s in m.strokes])
    return pts.min(axis=0), pts.max(axis=0)


def _transform_marks(marks: list[list[_Mark]], fn: object) -> None:
    for line in marks:
        for m in line:
            m.strokes = [fn(s) for s in m.strokes]  # type: ignore[operator]


def _upsample(field_lr: NDArray[np.float32], size: tuple[int, int]) -> NDArray[np.float32]:
    """Bilinear resize of a small float field to (width, height)."""
    img = Image.fromarray(field_lr.astype(np.float32), mode="F")
    return np.asarray(img.resize(size, Image.Resampling.BILINEAR), dtype=np.float32)


def _illumination(
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
        light *= 1.0 + style.paper_texture * _upsample(mottle.astype(np.float32), (n, n))
    return _upsample(light.astype(np.float32), (wid, hgt))


def _ghost(
    glyphs: Glyphs,
    p: _Params,
    style: SynthStyle,
    rng: np.random.Generator,
    wid: int,
    hgt: int,
) -> NDArray[np.float32]:
    """Blurred, mirrored writing from the back of the sheet (coverage 0..1, page size)."""
    n_lines = max(1, int(hgt / p.line_step))
    lines = random_text(rng, n_lines).split("\n")
    marks = _layout(lines, glyphs, p, style, rng)
    small = np.zeros((hgt // GHOST_SCALE + 1, wid // GHOST_SCALE + 1), dtype=np.float32)
    shift = np.array([rng.uniform(0, 0.1) * wid, rng.uniform(0, 0.05) * hgt])

    def to_back(s: FloatArray) -> FloatArray:
        q = s + shift
        q[:, 0] = wid - q[:, 0]
        return q / GHOST_SCALE

    _transform_marks(marks, to_back)
    for line in marks:
        for m in line:
            m.radius = max(0.5, m.radius / GHOST_SCALE)
            _draw_mark(m, small)
    return _upsample(small, (wid, hgt))


def render_page(
    writer_glyphs: Glyphs,
    rng: np.random.Generator,
    style: SynthStyle = SynthStyle(),
    text: str | None = None,
    *,
    writer: int = -1,
    seed: int = -1,
) -> SynthPage:
    """Render one page in one writer's hand.

    ``writer_glyphs`` maps each char to that writer's glyph(s); every occurrence is varied by
    a random affine jitter and a smooth warp. ``text`` (normalized with
    :func:`normalize_text`) defaults to :func:`random_text`. ``writer`` and ``seed`` are only
    recorded in the result.
    """
    p = _sample_params(style, rng)
    if text is None:
        text = random_text(rng, int(rng.integers(style.lines[0], style.lines[1] + 1)))
    text = normalize_text(text)
    lines = text.split("\n") if text else []
    marks = _layout(lines, writer_glyphs, p, style, rng)
    pen_pad = p.pen + 2
    if any(marks):
        lo, hi = _extent(marks)
    else:
        lo, hi = np.zeros(2), np.array([10 * p.h, 2 * p.h])
    block = hi - lo
    margin = np.array([rng.uniform(*style.margin), rng.uniform(*style.margin)]) * max(block)
    margin = np.maximum(margin, 0.5 * p.h)
    size = (block + 2 * margin) * (1.0 + rng.uniform(*style.extra_space, 2))
    aspect = float(rng.uniform(*style.aspect))
    if size[0] / size[1] > aspect:
        size[1] = size[0] / aspect  # more paper below the text
    else:
        size[0] = size[1] * aspect  # more paper right of the text
    area = float(size[0] * size[1]) / 1e6
    if area > style.max_megapixels:
        # Too big for a phone photo at this char height: shrink the writing (pen included).
        k = math.sqrt(style.max_megapixels / area)
        _transform_marks(marks, lambda q: q * k)
        for m in (m for line in marks for m in line):
            m.radius *= k
        p.h, p.pen, p.line_step = p.h * k, p.pen * k, p.line_step * k
        lo, margin, size = lo * k, margin * k, size * k
    wid, hgt = int(math.ceil(size[0])), int(math.ceil(size[1]))
    shift = margin - lo

    # Page rotation about the centre and keystone, applied to the points.
    angle = math.radians(rng.uniform(-style.rotation_deg, style.rotation_deg))
    c, s = math.cos(angle), math.sin(angle)
    ctr = np.array([wid / 2, hgt / 2])
    rot = np.array([[c, -s], [s, c]])
    corners = np.array([[0, 0], [wid, 0], [wid, hgt], [0, hgt]], dtype=np.float64)
    moved = corners + rng.uniform(-1, 1, (4, 2)) * style.perspective * np.array([wid, hgt])
    hmat = _homography(corners, moved)
    _transform_marks(marks, lambda q: _apply((q + shift - ctr) @ rot.T + ctr, hmat))
    if any(marks):
        lo, hi = _extent(marks)
        grow_lo = np.maximum(0.0, pen_pad - lo)
        if grow_lo.any():
            _transform_marks(marks, lambda q: q + grow_lo)
            hi = hi + grow_lo
        wid = max(wid + int(math.ceil(grow_lo[0])), int(math.ceil(hi[0] + pen_pad)))
        hgt = max(hgt + int(math.ceil(grow_lo[1])), int(math.ceil(hi[1] + pen_pad)))

    cov = np.zeros((hgt, wid), dtype=np.float32)
    out_lines: list[SynthLine] = []
    for text_line, line_marks in zip(lines, marks, strict=True):
        chars = []
        for m in line_marks:
            box = _draw_mark(m, cov, rng)
            if box is not None:
                chars.append(SynthChar(m.char, box))
        box = _union([ch.box for ch in chars]) if chars else (0, 0, 0, 0)
        out_lines.append(SynthLine(text_line, box, chars))

    # Reflectance (paper blended towards ink by coverage), then light, blur, noise.
    paper = np.asarray(p.paper, dtype=np.float32)
    ink = np.asarray(p.ink, dtype=np.float32)
    ghost = float(rng.uniform(*style.show_through))
    if ghost > 0:
        back = _ghost(writer_glyphs, p, style, rng, wid, hgt)
        paper_map = paper * (1.0 - ghost * back)[..., None]
        refl = paper_map + cov[..., None] * (ink - paper_map)
    else:
        refl = paper + cov[..., None] * (ink - paper)
    light = _illumination(style, rng, wid, hgt) * (255.0 * float(rng.uniform(*style.exposure)))
    img = np.clip(refl * light[..., None], 0, 255).astype(np.uint8)
    blur = float(rng.uniform(*style.blur_px))
    if blur > 0.05:
        img = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(blur)))
    sigma = float(rng.uniform(*style.noise))
    if sigma > 0:
        noise = rng.standard_normal((hgt, wid), dtype=np.float32) * sigma
        img = np.clip(img + noise[..., None], 0, 255).astype(np.uint8)
    quality = int(rng.integers(style.jpeg_quality[0], style.jpeg_quality[1] + 1))
    return SynthPage(np.ascontiguousarray(img), text, out_lines, writer, seed, quality)


# ---------------------------------------------------------------------------------------------
# Batches, files and the command line.


def chars74k_path() -> Path:
    return data_root() / CHARS74K_FILE


def writer_split(seed: int = 0) -> dict[str, list[int]]:
    """Chars74K writers of each split of :func:`ocr.split.split` (train / valid / test, and
    all). Without the data, the same split of the 40 writer ids, for built-in pseudo-writers."""
    from ocr.datasets import Dataset, load
    from ocr.normalize import SIZE
    from ocr.split import split

    path = chars74k_path()
    if path.is_file():
        ds = load(f"chars74k:{path}")
    else:
        n = 40
        ds = Dataset(
            "builtin",
            np.zeros((n, SIZE, SIZE), dtype=np.float32),
            np.zeros(n, dtype=np.int64),
            np.arange(n, dtype=np.int64),
        )
    parts = split(ds, seed=seed)
    out = {
        k: sorted(int(w) for w in np.unique(d.groups))
        for k, d in zip(("train", "valid", "test"), parts, strict=True)
    }
    out["all"] = sorted(int(w) for w in np.unique(ds.groups))
    return out


def _glyph_source(source: str, writers: list[int]) -> dict[int, Glyphs]:
    path = chars74k_path()
    if source == "auto":
        source = "chars74k" if path.is_file() else "builtin"
    if source == "chars74k":
        return writer_glyphs(path, set(writers))
    if source == "builtin":
        return {w: builtin_glyphs(w) for w in writers}
    raise ValueError(f"unknown glyph source {source!r} (auto, chars74k, builtin)")


def make_pages(
    n: int,
    writers: list[int],
    seed: int,
    style: SynthStyle = SynthStyle(),
    source: str = "auto",
) -> list[SynthPage]:
    """``n`` pages, writer ``writers[i % len(writers)]`` for page i; the same arguments give
    the same pages. ``source``: "chars74k", "builtin" (the module's stroke font), or "auto"
    (Chars74K when the data is present)."""
    if not writers:
        raise ValueError("no writers")
    glyphs = _glyph_source(source, writers)
    pages = []
    for i in range(n):
        page_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
        writer = writers[i % len(writers)]
        rng = np.random.default_rng(page_seed)
        pages.append(render_page(glyphs[writer], rng, style, writer=writer, seed=page_seed))
    return pages


def truth_dict(page: SynthPage) -> dict[str, object]:
    """The page's ground truth as JSON-ready data (what ``stem.truth.json`` holds)."""
    return {
        "text": page.text,
        "writer": page.writer,
        "seed": page.seed,
        "width": int(page.image.shape[1]),
        "height": int(page.image.shape[0]),
        "lines": [
            {
                "text": line.text,
                "box": list(line.box),
                "chars": [{"char": c.char, "box": list(c.box)} for c in line.chars],
            }
            for line in page.lines
        ],
    }


def save_page(page: SynthPage, directory: Path, stem: str) -> Path:
    """Write ``stem.jpg`` (at the page's JPEG quality), ``stem.txt`` (truth text, one line per
    text line, like the sample photos' files) and ``stem.truth.json``; return the image path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    image_path = directory / f"{stem}.jpg"
    Image.fromarray(page.image).save(image_path, quality=page.jpeg_quality)
    (directory / f"{stem}.txt").write_text(page.text + "\n")
    (directory / f"{stem}.truth.json").write_text(
        json.dumps(truth_dict(page), separators=(",", ":")) + "\n"
    )
    return image_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr.synth", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--writers", choices=("test", "valid", "train", "all"), default="test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", choices=("auto", "chars74k", "builtin"), default="auto")
    parser.add_argument("--clean", action="store_true", help="no photo defects")
    args = parser.parse_args(argv)
    writers = writer_split()[args.writers]
    style = SynthStyle.clean() if args.clean else SynthStyle()
    pages = make_pages(args.pages, writers, args.seed, style, source=args.source)
    for i, page in enumerate(pages):
        save_page(page, args.out, f"synth_{args.seed}_{i:04d}")
    print(f"wrote {len(pages)} pages to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
