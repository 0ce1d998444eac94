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

Modules, in the order a page is made: ``style`` (what a page may look like), ``strokes``
(the writers' pen strokes), ``text`` (what it says), ``layout`` (where every stroke point
goes), ``raster`` (ink on the canvas, truth boxes), ``degrade`` (light, shadow, show-through),
``render`` (a whole page, batches, files). It imports ``ocr.training.datasets`` (Chars74K
strokes, the writer split) and nothing of the page engine, which it exists to test.

Entry point: ``python -m ocr.synth --out DIR --pages N --writers test --seed S``.
"""

from ocr.synth.render import (
    SynthChar,
    SynthLine,
    SynthPage,
    make_pages,
    render_page,
    save_page,
    truth_dict,
)
from ocr.synth.strokes import BUILTIN_FONT, Glyphs, builtin_glyphs, writer_glyphs, writer_split
from ocr.synth.style import INK_COLOURS, PAPER_TINTS, SynthStyle
from ocr.synth.text import DOT_CHAR, normalize_text, random_text

__all__ = [
    "BUILTIN_FONT",
    "DOT_CHAR",
    "INK_COLOURS",
    "PAPER_TINTS",
    "Glyphs",
    "SynthChar",
    "SynthLine",
    "SynthPage",
    "SynthStyle",
    "builtin_glyphs",
    "make_pages",
    "normalize_text",
    "random_text",
    "render_page",
    "save_page",
    "truth_dict",
    "writer_glyphs",
    "writer_split",
]
