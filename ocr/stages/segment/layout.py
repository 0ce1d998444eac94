"""What segmentation produces: character boxes with their own-pixel masks, in words, in
lines; and the crops the recognizer reads from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ocr.stages.binarize import BoolImage, FloatImage, Scale
from ocr.stages.segment.components import Component
from ocr.stages.segment.params import DEFAULT_PARAMS, SegmentParams

Scorer = Callable[[list[FloatImage]], NDArray[np.floating]]
"""Given ink crops, a confidence in [0, 1] for each (e.g. the recognizer's max probability)."""

Kind = Literal["char", "mark"]


@dataclass(frozen=True)
class CharBox:
    """A character or mark in working-image pixels; ``mask`` (shape of the box) marks the
    pixels that belong to it, so a neighbour's stroke inside the box is not its ink."""

    x0: int
    y0: int
    x1: int
    y1: int
    kind: Kind
    mask: BoolImage = field(compare=False, repr=False)
    mark: str = ""
    """For marks: '.' for a dot, '-' for a dash, ',' for a comma."""


@dataclass(frozen=True)
class Word:
    chars: list[CharBox]


@dataclass(frozen=True)
class Line:
    words: list[Word]


@dataclass(frozen=True)
class Layout:
    lines: list[Line]
    scale: Scale
    parts_dropped: int = 0
    """Components left out by the ``max_parts`` cap (a picture of texture, not a page)."""
    unscored_passes: int = 0
    """Line passes (a line's merges, a line's cuts) decided by geometry alone because the
    page's scoring budget was spent."""


def to_charbox(
    c: Component, own: BoolImage, scale: Scale, params: SegmentParams = DEFAULT_PARAMS
) -> CharBox:
    ch = scale.char_height
    small = (
        c.height < params.primary_height_ch * ch
        and max(c.width, c.height) <= params.mark_max_ch * ch
    )
    if not small:
        return CharBox(c.x0, c.y0, c.x1, c.y1, "char", own)
    mark = "-" if c.width >= params.dash_aspect * max(1, c.height) else "."
    return CharBox(c.x0, c.y0, c.x1, c.y1, "mark", own, mark)


@dataclass(frozen=True)
class Glyph:
    """A character box and its ink crop, cut together so the recognizer's reading of the
    crop can be matched to its box without relying on list positions."""

    box: CharBox
    crop: FloatImage = field(repr=False)


def crop_char(ink_map: FloatImage, box: CharBox) -> FloatImage:
    """The box's own ink (its own pixels only, zero elsewhere), ready for
    ``ocr.stages.normalize.normalize_glyph``."""
    window = ink_map[box.y0 : box.y1, box.x0 : box.x1]
    return np.where(box.mask, window, np.float32(0.0)).astype(np.float32)


def cut_glyphs(ink_map: FloatImage, layout: Layout) -> list[Glyph]:
    """Every character (marks skipped) with its crop, in reading order."""
    return [Glyph(c, crop_char(ink_map, c)) for c in chars_in_order(layout) if c.kind == "char"]


def crop_chars(ink_map: FloatImage, layout: Layout) -> list[FloatImage]:
    """Each character's ink crop in reading order; marks are skipped."""
    return [g.crop for g in cut_glyphs(ink_map, layout)]


def chars_in_order(layout: Layout) -> list[CharBox]:
    """All boxes (chars and marks) in reading order."""
    return [c for line in layout.lines for w in line.words for c in w.chars]
