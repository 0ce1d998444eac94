"""Doodles: short lines of outsized, doubtful characters, dropped after recognition.

A house, a star or an arrow drawn beside the text is one or two components far taller than
the writing, and the recognizer reads it as a G, an A or an I. Size alone cannot decide:
keys drawn as big single letters (W, A, D) are as tall. The recognizer can: a doodle is read
with doubt, a big letter is not. So a line is dropped when it holds at most a couple of
characters, each far taller than the page's median character, and its best reading is
doubtful. So is a small doubtful group far from other writing, and one drawn with a marker
far thicker than the page's pen. Input: the segmented layout and each box's probabilities
(keyed by box identity, like ``drop_clutter``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import NUM_CLASSES
from ocr.stages.binarize import boundary_pixels
from ocr.stages.segment import CharBox, Layout, Line, Word


@dataclass(frozen=True)
class DoodleParams:
    height_ratio: float = 1.6
    """A doodle's characters are each at least this many times the page's median character
    height (drawings of the synthetic scenes: 1-2.5 ch; headings rarely reach 1.6)."""

    max_chars: int = 2
    """...and its line holds at most this many characters (a heading is a word or more)."""

    max_confidence: float = 0.6
    """...and its least sure character's best probability is below this (a house read as
    G I has one piece at 0.3-0.45 however sure the other is; big letters read at 0.7 and
    more)."""

    min_page_chars: int = 8
    """A page needs this many characters for its median height to mean anything."""

    lonely_max_chars: int = 2
    """A group of at most this many characters (a line, or part of one beyond a gap of
    ``lonely_gap_ch``) with no other character within ``lonely_gap_ch`` of it..."""

    lonely_gap_ch: float = 3.0
    """...(in median character heights, any direction)..."""

    thick_ratio: float = 1.3
    """A group of at most ``lonely_max_chars`` characters drawn with strokes at least this
    many times the page's stroke width (a marker beside a pen's writing)..."""

    thick_confidence: float = 0.95
    """...whose least sure character's best probability is below this is a marker drawing,
    near the writing or not (a star read J, an infinity sign OO, a house E3 beside a list).
    Validation drawings pages: small groups of writing measure 0.7-1.1 page stroke widths,
    marker shapes 1.3-2.6; CER 5.77% without the rule, 4.43 at 1.4 / 0.9, 4.24 at 1.3 /
    0.95, 4.09 at 1.25 with no doubt asked (kept: a word written in marker beside pen
    writing reads surely); every other scene kind and plain pages unchanged."""

    lonely_confidence: float = 0.6
    """...whose least sure character's best probability is below this is a drawing apart
    from the text, however small (a star's arm read J, an infinity sign read OO, a house
    joined to a heading's line far to its right read 69). A page number or a lone letter
    written on its own reads surely."""


def _groups(line: Line, gap: float) -> list[list[Word]]:
    """The line's words in groups split where the gap between words exceeds ``gap`` px."""
    groups: list[list[Word]] = []
    last_x1: int | None = None
    for w in line.words:
        chars = [c for c in w.chars if c.kind == "char"] or w.chars
        x0 = min(c.x0 for c in chars)
        if not groups or last_x1 is None or x0 - last_x1 > gap:
            groups.append([])
        groups[-1].append(w)
        last_x1 = max(c.x1 for c in chars)
    return groups


def _least_sure(chars: list[CharBox], probs: dict[int, NDArray[np.float32]]) -> float | None:
    """The lowest best-character probability among ``chars`` (None when none was read)."""
    sure = [float(probs[id(c)][:NUM_CLASSES].max()) for c in chars if id(c) in probs]
    return min(sure) if sure else None


def _stroke_ratio(chars: list[CharBox], stroke_width: float) -> float:
    """The characters' stroke width (2 * area / boundary, as the page's is measured) over
    the page's."""
    area = sum(int(c.mask.sum()) for c in chars)
    edge = sum(boundary_pixels(c.mask) for c in chars)
    return 2.0 * area / max(edge, 1) / max(stroke_width, 1e-6)


GroupKey = tuple[int, int]
"""(line, group) index of a group of words (see :func:`_groups`)."""


def _small_doubtful(
    groups: list[list[list[Word]]],
    probs: dict[int, NDArray[np.float32]],
    max_chars: int,
    below: float,
) -> list[tuple[GroupKey, list[CharBox]]]:
    """Groups of 1 to ``max_chars`` characters whose least sure one reads below ``below``,
    with their characters."""
    out = []
    for i, line_groups in enumerate(groups):
        for j, g in enumerate(line_groups):
            chars = [c for w in g for c in w.chars if c.kind == "char"]
            least = _least_sure(chars, probs) if 0 < len(chars) <= max_chars else None
            if least is not None and least < below:
                out.append(((i, j), chars))
    return out


def _lonely(
    groups: list[list[list[Word]]],
    probs: dict[int, NDArray[np.float32]],
    reach: float,
    params: DoodleParams,
) -> set[GroupKey]:
    """Small doubtful groups with no other character within ``reach`` px of them."""
    every = [c for line_groups in groups for g in line_groups for w in g for c in w.chars]
    chars_all = [c for c in every if c.kind == "char"]
    boxes = np.asarray([(c.x0, c.y0, c.x1, c.y1) for c in chars_all], np.float64)
    out: set[GroupKey] = set()
    for k, chars in _small_doubtful(
        groups, probs, params.lonely_max_chars, params.lonely_confidence
    ):
        own = np.asarray([any(c is o for o in chars) for c in chars_all])
        x0, y0 = min(c.x0 for c in chars) - reach, min(c.y0 for c in chars) - reach
        x1, y1 = max(c.x1 for c in chars) + reach, max(c.y1 for c in chars) + reach
        near = (boxes[:, 0] < x1) & (boxes[:, 2] > x0) & (boxes[:, 1] < y1) & (boxes[:, 3] > y0)
        if not (near & ~own).any():
            out.add(k)
    return out


def drop_doodles(
    layout: Layout,
    probs: dict[int, NDArray[np.float32]],
    params: DoodleParams = DoodleParams(),
) -> tuple[Layout, int]:
    """The layout without doodles, and how many character boxes went with them: lines of
    outsized doubtful characters, and small doubtful groups far from any other writing."""
    chars = [c for ln in layout.lines for w in ln.words for c in w.chars if c.kind == "char"]
    if len(chars) < params.min_page_chars:
        return layout, 0
    median_h = float(np.median([c.y1 - c.y0 for c in chars]))
    limit = params.height_ratio * median_h
    reach = params.lonely_gap_ch * median_h
    groups = [_groups(line, reach) for line in layout.lines]
    lonely = _lonely(groups, probs, reach, params)
    small = _small_doubtful(groups, probs, params.lonely_max_chars, params.thick_confidence)
    sw = layout.scale.stroke_width  # marker drawings: small, doubtful, far thicker than the pen
    lonely |= {k for k, own in small if _stroke_ratio(own, sw) >= params.thick_ratio}
    kept, dropped = [], 0
    for i, line in enumerate(layout.lines):
        own = [c for w in line.words for c in w.chars if c.kind == "char"]
        least = _least_sure(own, probs)
        doodle = (
            0 < len(own) <= params.max_chars
            and all(c.y1 - c.y0 >= limit for c in own)
            and (least if least is not None else 0.0) < params.max_confidence
        )
        if doodle:
            dropped += len(own)
            continue
        words: list[Word] = []
        for j, g in enumerate(groups[i]):
            if (i, j) in lonely:
                dropped += sum(c.kind == "char" for w in g for c in w.chars)
            else:
                words += g
        if words:
            kept.append(replace(line, words=words) if len(words) < len(line.words) else line)
    return replace(layout, lines=kept), dropped
