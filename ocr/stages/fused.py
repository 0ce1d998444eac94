"""Touching letters read as "not a character": cut into letters instead of dropped.

Segmentation offers a part wider than a letter to the scorer, which keeps it whole when the
product of its pieces' confidences is lower than the whole's (three letters read at 0.7 each
score as low as one blob read at 0.34). The recognizer, trained on fused glyphs as negatives,
then reads such a blob as "not a character", and the clutter stage would drop every letter in
it. Here, after recognition, a box read that way and shaped like touching letters (wider than
tall, a character's height, on a line with letters) is cut once more with the scorer, this
time without the choice of keeping it whole; its pieces are read like any character, and the
clutter stage drops those that are still not characters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import NOT_CHAR_INDEX, NUM_CLASSES
from ocr.stages.binarize import FloatImage
from ocr.stages.segment import CharBox, Layout, Line, Scorer, Word, crop_char
from ocr.stages.segment.params import DEFAULT_PARAMS, SegmentParams
from ocr.stages.segment.split import choose_cuts, cut_pieces, letter_count

Reader = Callable[[list[FloatImage]], NDArray[np.float32]]
"""The recognizer's probabilities (every class and "not a character") for each crop."""


@dataclass(frozen=True)
class FusedParams:
    """Which boxes read as "not a character" are cut again; units in the field names."""

    min_aspect: float = 1.0
    """Width over height at least this: two touching capitals are 1.1 and more, single
    capitals 0.3-0.9 (an M or W about 1.2, but those read as themselves, not as clutter)."""

    height_ch: tuple[float, float] = (0.6, 1.6)
    """Box height within this range of the page's character heights: letters, not a speck
    or a drawing."""

    letter_aspect: float = 0.75
    """Letters in the box are counted as if each were this many times the box's height wide
    (touching letters share their joining strokes: a pitch of width minus a stroke)."""

    min_confidence: float = 0.9
    """A cut is kept only when every piece is read either as a character at least this
    surely or as "not a character" (dropped with the clutter: a pair left fused beside a
    letter cut free), and one piece at least as a character: cuts of clutter that is not
    writing (a shadow's edge, a rule's remnant) give doubtful pieces. Validation scenes,
    all pieces sure at 0.7 / 0.8 / 0.9: touching 17.16 / 17.39 / 17.50% CER (17.88 uncut),
    rotated 3.26 / 3.14 / 3.14 (3.14), shadow 5.65 / 5.72 / 5.65 (5.65), grid 12.03 at 0.8
    and 0.9 (12.13); keeping every piece not read as "not a character" cost every other
    kind 0.2-1.2 points. Sure pieces kept beside clutter pieces (0.9): touching 17.31%, grid
    11.99, lined 8.15 -> 8.03, the rest unchanged."""

    min_piece_height: float = 0.75
    """...and every piece is at least this share of the tallest piece's height: capitals are
    all of a height, and a shorter piece is a fragment (the bar and arm of an A written wide,
    read 7 beside a 4: validation plain pages 3.42 -> 3.63% CER without this, 3.42 with it;
    touching pages 17.50% either way)."""

    max_boxes: int = 40
    """At most this many boxes a page are cut again (the widest first): a picture of
    texture makes hundreds of clutter boxes, and each cut costs up to 45 scored crops."""


DEFAULT_FUSED_PARAMS = FusedParams()


def _candidates(
    layout: Layout, probs: dict[int, NDArray[np.float32]], params: FusedParams
) -> list[CharBox]:
    """Boxes read as "not a character", shaped like touching letters, on lines that hold a
    character read as one (a line of texture alone is left to the clutter stage)."""
    ch = layout.scale.char_height
    lo, hi = params.height_ch
    found: list[CharBox] = []
    for line in layout.lines:
        chars = [c for w in line.words for c in w.chars if c.kind == "char" and id(c) in probs]
        read = [int(probs[id(c)].argmax()) != NOT_CHAR_INDEX for c in chars]
        if not any(read):
            continue
        for c, ok in zip(chars, read, strict=True):
            h, w = c.y1 - c.y0, c.x1 - c.x0
            if not ok and w >= params.min_aspect * h and lo * ch <= h <= hi * ch:
                found.append(c)
    found.sort(key=lambda c: c.x1 - c.x0, reverse=True)
    return found[: params.max_boxes]


def _cut(
    box: CharBox,
    ink: FloatImage,
    stroke_width: float,
    score: Scorer,
    params: FusedParams,
    segment: SegmentParams,
) -> list[CharBox]:
    """The box's pieces (own pixels, rows trimmed) at the cuts the scorer likes best among
    those that leave no piece whole; none when no such cut exists."""
    own = box.mask
    crop = crop_char(ink, box)
    profile = crop.sum(axis=0).astype(np.float64)
    letter = params.letter_aspect * own.shape[0]
    n = letter_count(own.shape[1], letter, stroke_width, segment)
    cuts = choose_cuts(own, profile, n, letter, crop, score, params=segment, whole=False)
    pieces = [
        CharBox(box.x0 + a, box.y0 + r0, box.x0 + b, box.y0 + r1, "char", piece)
        for a, r0, b, r1, piece in cut_pieces(own, cuts)
    ]
    return pieces if len(pieces) > 1 else []


def split_fused(
    layout: Layout,
    probs: dict[int, NDArray[np.float32]],
    ink: FloatImage,
    score: Scorer,
    read: Reader,
    params: FusedParams = DEFAULT_FUSED_PARAMS,
    segment: SegmentParams = DEFAULT_PARAMS,
) -> tuple[Layout, dict[int, NDArray[np.float32]]]:
    """The layout with each fused box (see the module) replaced by its pieces when they read
    surely as characters or as clutter (see ``FusedParams.min_confidence``), and the pieces'
    probabilities keyed by box identity (like ``probs``, which is not changed)."""
    cut: dict[int, list[CharBox]] = {}
    for box in _candidates(layout, probs, params):
        pieces = _cut(box, ink, layout.scale.stroke_width, score, params, segment)
        if pieces:
            cut[id(box)] = pieces
    if not cut:
        return layout, {}
    flat = [p for pieces in cut.values() for p in pieces]
    rows = read([crop_char(ink, p) for p in flat])
    read_as = {id(p): r for p, r in zip(flat, rows, strict=True)}
    for key, pieces in list(cut.items()):
        got = np.stack([read_as[id(p)] for p in pieces])
        chars = got[:, :NUM_CLASSES]
        clutter = got.argmax(axis=1) == NOT_CHAR_INDEX
        sure = ~clutter & (chars.max(axis=1) >= params.min_confidence)
        heights = [p.y1 - p.y0 for p, c in zip(pieces, clutter.tolist(), strict=True) if not c]
        tall = bool(heights) and min(heights) >= params.min_piece_height * max(heights)
        if not ((sure | clutter).all() and sure.any() and tall):
            del cut[key]
    if not cut:
        return layout, {}
    lines = [
        Line([Word([p for c in w.chars for p in cut.get(id(c), [c])]) for w in line.words])
        for line in layout.lines
    ]
    kept = {id(p): read_as[id(p)] for pieces in cut.values() for p in pieces}
    return replace(layout, lines=lines), kept
