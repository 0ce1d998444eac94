"""Words from gaps: the page's space threshold from its own letter and word gaps."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from ocr.stages.binarize import Scale
from ocr.stages.segment.layout import CharBox
from ocr.stages.segment.params import DEFAULT_PARAMS, SegmentParams


def word_gap_threshold(gaps: NDArray[np.float64], params: SegmentParams = DEFAULT_PARAMS) -> float:
    """Space threshold (in ch) from all gaps of a page, each in its own line's ch.

    Handwritten letter spacing varies a lot between writers (0.2-1 ch) and so does word
    spacing (0.7-2 ch), so the threshold comes from the page. When hardly any gap is
    letter-sized (params.letter_gap_ch) the page is rows of separate characters (``A B C``) and
    params.uniform_space_ch decides. Otherwise Otsu's split of the gaps' logarithms (letter
    gaps vs. word gaps; on the gaps themselves a page's spaced rows of A B C pulled it above
    the word gaps: validation pages 3.80% -> 3.42% CER, grid scenes 13.1 -> 12.1%) is moved to
    the widest empty interval near it and kept within params.space_range_ch.
    """
    # Touching or cut-apart letters (gap ~0) are never spaces; they take no part.
    gaps = np.sort(gaps[(gaps > params.word_gap_floor_ch) & (gaps < params.column_gap_ch)])
    if gaps.size < params.min_gaps_for_stats:
        return params.uniform_space_ch
    if float(
        np.mean(gaps < params.letter_gap_ch)
    ) < params.min_letter_gap_share and not _two_populations(gaps, params=params):
        return params.uniform_space_ch
    n = gaps.size
    k = np.arange(1, n)
    # Otsu on the logarithms: spacing is a matter of ratios, and a page's few very wide gaps
    # (a row of A B C, a list number's gap) must not pull the split above its word gaps.
    csum = np.cumsum(np.log(gaps))
    m0 = csum[:-1] / k
    m1 = (csum[-1] - csum[:-1]) / (n - k)
    i = int(np.argmax(k * (n - k) * (m1 - m0) ** 2))
    otsu = (gaps[i] + gaps[i + 1]) / 2
    # The widest ratio jump among the sorted gaps near the split (always including the two
    # gaps either side of it) is the empty interval between letter gaps and word gaps.
    near = np.flatnonzero((gaps >= otsu / params.jump_window) & (gaps <= otsu * params.jump_window))
    lo, hi = min(i, int(near[0]) if near.size else i), max(i + 1, int(near[-1]) if near.size else i)
    j = lo + int(np.argmax(np.diff(np.log(gaps[lo : hi + 1]))))
    return float(np.clip(np.sqrt(gaps[j] * gaps[j + 1]), *params.space_range_ch))


def _two_populations(
    sorted_gaps: NDArray[np.float64], params: SegmentParams = DEFAULT_PARAMS
) -> bool:
    """Whether sorted gaps split into two groups with an empty ratio interval of at least
    params.two_population_jump between them (wide letter spacing with wider word gaps), rather than
    one spread of spaces (an A B C page)."""
    if sorted_gaps.size < 2:
        return False
    return float(np.exp(np.diff(np.log(sorted_gaps)).max())) >= params.two_population_jump


def line_threshold(
    gaps: NDArray[np.float64], page_threshold: float, params: SegmentParams = DEFAULT_PARAMS
) -> float:
    """A line none of whose gaps (in ch) is letter-sized is a row of separate characters (a
    line of ``A B C`` on a page of words): every gap over ``uniform_space_ch`` is a space
    there."""
    real = np.sort(gaps[(gaps > params.word_gap_floor_ch) & (gaps < params.column_gap_ch)])
    if (
        real.size >= params.min_gaps_for_row
        and real[0] >= params.letter_gap_ch
        and not _two_populations(real, params=params)
    ):
        return min(page_threshold, params.uniform_space_ch)
    return page_threshold


def line_char_heights(
    lines: Sequence[Sequence[CharBox]], scale: Scale, params: SegmentParams = DEFAULT_PARAMS
) -> list[float]:
    """The ch (px) each line's gaps are judged against: the page's, except for a line whose
    median box height differs from the page's by more than params.line_height_ratio (a heading
    written twice as large, a small note), which gets the page ch scaled by that ratio. Box
    heights of single letters vary too much (I vs. a slanted W) to use them everywhere."""
    medians = [
        float(np.median([b.y1 - b.y0 for b in boxes if b.kind == "char"]))
        if sum(b.kind == "char" for b in boxes) >= params.min_chars_for_line_height
        else 0.0
        for boxes in lines
    ]
    known = [m for m in medians if m > 0]
    if not known:
        return [scale.char_height] * len(lines)
    page = float(np.median(known))
    out = []
    for m in medians:
        ratio = m / page if m > 0 else 1.0
        far = ratio > params.line_height_ratio or ratio < 1 / params.line_height_ratio
        out.append(scale.char_height * (ratio if far else 1.0))
    return out


def char_gaps(boxes: Sequence[CharBox]) -> NDArray[np.float64]:
    """Horizontal gap (px) before each character after the first, from the furthest right
    edge of the characters so far. Marks are left out: a dot sits in a gap without closing it."""
    chars = [b for b in boxes if b.kind == "char"]
    if len(chars) < 2:
        return np.zeros(0)
    reach = np.maximum.accumulate([b.x1 for b in chars])
    return np.array([chars[i + 1].x0 - reach[i] for i in range(len(chars) - 1)], float)


def split_words(boxes: Sequence[CharBox], threshold: float) -> list[list[int]]:
    """Word groups (indices into ``boxes``, left to right): a new word before every character
    whose gap exceeds ``threshold`` px; a mark stays with the word before it (``1.``)."""
    gaps = iter(char_gaps(boxes))
    words: list[list[int]] = []
    seen_char = False
    for i, b in enumerate(boxes):
        if b.kind == "char":
            if seen_char and next(gaps) > threshold:
                words.append([])
            seen_char = True
        if not words:
            words.append([])
        words[-1].append(i)
    return words


def drop_stray_marks(
    boxes: list[CharBox], scale: Scale, params: SegmentParams = DEFAULT_PARAMS
) -> list[CharBox]:
    """Keep marks near a character of the line (a full stop follows its letter closely)."""
    chars = [b for b in boxes if b.kind == "char"]
    limit = params.stray_mark_gap_ch * scale.char_height

    def near(m: CharBox) -> bool:
        return any(max(c.x0 - m.x1, m.x0 - c.x1) <= limit for c in chars)

    return [b for b in boxes if b.kind == "char" or near(b)]


def drop_inner_dots(
    word: Sequence[CharBox],
    scale: Scale,
    digits: Collection[int] = frozenset(),
    params: SegmentParams = DEFAULT_PARAMS,
) -> list[CharBox]:
    """The word without dots squeezed between two of its letters: a full stop inside a word
    (U.S.A.) needs a gap of its own between the letters, a speck left where a grid's rules
    crossed (WEE.K) or a letter's broken-off end does not. A dot between two boxes read as
    digits (identities in ``digits``) stays: a decimal point or a date's is written tight."""
    chars = [b for b in word if b.kind == "char"]
    limit = params.inner_dot_gap_ch * scale.char_height

    def squeezed(m: CharBox) -> bool:
        mid = (m.x0 + m.x1) / 2
        before = [c for c in chars if (c.x0 + c.x1) / 2 <= mid]
        after = [c for c in chars if (c.x0 + c.x1) / 2 > mid]
        if not before or not after:
            return False
        left, right = max(before, key=lambda c: c.x1), min(after, key=lambda c: c.x0)
        if id(left) in digits and id(right) in digits:
            return False
        return right.x0 - left.x1 < limit

    return [b for b in word if not (b.kind == "mark" and b.mark == "." and squeezed(b))]


def drop_slivers(
    word: Sequence[CharBox], scale: Scale, params: SegmentParams = DEFAULT_PARAMS
) -> list[CharBox]:
    """The word without slivers of printed vertical rules: boxes ``sliver_aspect`` times
    taller than wide and thinner than the pen (a dot under ``sliver_width_sw``, a character
    under ``sliver_char_sw`` stroke widths). On grid paper a piece of a line is left where a
    stroke ended on it or beside a letter, read as a full stop (2.018) or as an I or 1
    (THIINGS); a pen's tick, 1 or I is as wide as its stroke."""

    def sliver(b: CharBox) -> bool:
        width = b.x1 - b.x0
        limit = params.sliver_width_sw if b.kind == "mark" else params.sliver_char_sw
        if b.kind == "mark" and b.mark != ".":
            return False
        thin = width < limit * scale.stroke_width
        return thin and b.y1 - b.y0 >= params.sliver_aspect * max(1, width)

    return [b for b in word if not sliver(b)]


def mark_commas(boxes: Sequence[CharBox], params: SegmentParams = DEFAULT_PARAMS) -> list[CharBox]:
    """The line's boxes with its commas as marks (','): a short part whose top is in the
    lower half of its neighbouring letters and whose tail hangs below their baseline (a
    comma after HI was read as a 9). Compared with the ``comma_neighbours`` nearest letters,
    so a tilted line's drifting baseline does not matter."""
    chars = [b for b in boxes if b.kind == "char"]
    if len(chars) < 3:
        return list(boxes)
    cx = np.array([(b.x0 + b.x1) / 2 for b in chars])
    tops = np.array([b.y0 for b in chars], float)
    bottoms = np.array([b.y1 for b in chars], float)
    # Every letter's nearest others at once (a line holds tens of letters).
    dist = np.abs(cx[:, None] - cx[None, :])
    np.fill_diagonal(dist, np.inf)
    near = np.argsort(dist, axis=1, kind="stable")[
        :, : min(params.comma_neighbours, len(chars) - 1)
    ]
    top = np.median(tops[near], axis=1)
    bottom = np.median(bottoms[near], axis=1)
    h = bottom - top
    height = bottoms - tops
    width = np.array([b.x1 - b.x0 for b in chars], float)
    lo, hi = params.comma_height
    comma = (
        (h > 0)
        & (lo * h <= height)
        & (height <= hi * h)
        & (width <= params.comma_max_aspect * height)
        & (tops >= top + params.comma_top * h)
        & (bottoms >= bottom + params.comma_below * h)
    )
    commas = {id(chars[i]) for i in np.flatnonzero(comma)}
    return [replace(b, kind="mark", mark=",") if id(b) in commas else b for b in boxes]
