"""Binarized page -> lines -> words -> character boxes.

Stages (each callable alone, data flows one way): :func:`find_components` ->
:func:`filter_components` -> :func:`group_lines` (which also attaches small pieces and marks and
merges broken characters) -> :func:`split_wide` -> :func:`split_words`; :func:`segment` chains
them and :func:`crop_chars` cuts each character's own ink out for the recognizer.

Every size constant is a multiple of the estimated character height ("ch") or stroke width
("sw") of :class:`ocr.binarize.Scale`; coordinates are working-image pixels, boxes half-open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ocr.binarize import BoolImage, FloatImage, Scale

Scorer = Callable[[list[FloatImage]], NDArray[np.floating]]
"""Given ink crops, a confidence in [0, 1] for each (e.g. the recognizer's max probability)."""

SPECK_AREA_SW2: float = 0.6
"""Components with fewer pixels than this many sw^2 are noise (a dot is about 1-3 sw^2)."""

HUGE_HEIGHT_CH: float = 3.0
"""Components taller than this many ch are not characters (page edges, desk, drawings)."""

HUGE_WIDTH_CH: float = 12.0
"""...or wider than this many ch (a rule line, a page edge; a run of touching letters of a
long word stays below it)."""

BORDER_LONG_CH: float = 2.0
"""A component touching the image border and longer than this many ch is a page/desk edge."""

BLOB_FILL: float = 0.6
"""Components larger than a character in both directions and filled above this fraction of
their box are blobs (shadows, thumbs), not handwriting (strokes fill ~0.1-0.4 of a box)."""

PRIMARY_HEIGHT_CH: float = 0.45
"""Components at least this many ch tall anchor lines; smaller ones are pieces or marks."""

LINE_OVERLAP: float = 0.4
"""A component joins a line when its vertical overlap with the line's nearest member (after
deskew) is at least this fraction of the shorter of the two."""

CHAIN_REACH_CH: float = 1.0
"""Members of a line ending within this many ch before a new part count for its extent."""

CHAIN_MEMBERS: int = 4
"""At most this many of a line's latest members are looked at when chaining."""

LINE_BAND_MARGIN_CH: float = 0.25
"""Small pieces and marks attach to a line when their centre lies within the line's vertical
band extended by this many ch."""

BAND_NEIGHBOURS: int = 3
"""Number of horizontally nearest line members whose median top/bottom give the local band."""

MAX_SKEW_DEG: float = 6.0
"""Largest page skew searched for, in degrees, in steps of SKEW_STEP_DEG."""

SKEW_STEP_DEG: float = 0.5
"""Resolution of the skew search, in degrees."""

MERGE_OVERLAP: float = 0.3
"""Two parts in a line merge when they overlap horizontally by this fraction of the narrower."""

MERGE_MAX_WIDTH_CH: float = 1.3
"""...and the union is at most this many ch wide (two real letters side by side are wider)."""

PIECE_GAP_SW: float = 1.5
"""A small piece also joins a neighbouring character when the gap between them is at most this
many sw (a pen lift inside a letter) and the union respects MERGE_MAX_WIDTH_CH."""

SCORED_MERGE_GAP_SW: float = 1.0
"""With a scorer, neighbours whose boxes are at most this many sw apart are offered to it as
one character."""

STEM_WIDTH_CH: float = 0.2
"""A tall part at most this many ch wide is a bare stem (of a D, B, P, R drawn in two
strokes, or an I / 1)..."""

STEM_GAP_SW: float = 1.0
"""...and it merges with a neighbour at most this many sw away (a pen lift; letter gaps are
wider). An I written that close to the next letter is merged too: a known ambiguity that the
scorer (merge_scored) does not undo."""

SPLIT_WIDTH_RATIO: float = 1.5
"""With a scorer, parts wider than this many typical character widths of their line are
offered for splitting (the scorer may keep them whole: wide M and W are common)."""

SPLIT_WIDTH_RATIO_BLIND: float = 2.0
"""Without a scorer only parts wider than this many typical widths are split (a handwritten
W reaches 1.6-1.8 typical widths; two touching letters are about 2)."""

SPLIT_SEARCH: float = 0.35
"""Cuts are searched within this fraction of the expected piece width around their expected
position."""

SPLIT_MIN_PIECE: float = 0.35
"""No piece of a split is narrower than this many typical widths."""

SPLIT_MAX_CANDIDATES: int = 8
"""Projection minima kept as candidate cuts for the scorer (the scorer sees all segments
between pairs of them, so this bounds its batch size quadratically)."""

MARK_MAX_CH: float = 0.4
"""Leftover small parts up to this many ch in both directions become marks ('.', '-')."""

DASH_ASPECT: float = 2.0
"""A mark at least this many times wider than tall is a dash; anything else (round dots,
the short vertical ticks many writers make for a full stop) is a dot."""

COLUMN_GAP_CH: float = 4.0
"""Gaps wider than this many ch separate columns or stray marks from the text, not words;
they are spaces but take no part in the statistics that tell letter gaps from word gaps."""

STRAY_MARK_GAP_CH: float = 1.5
"""A mark (dot, dash) further than this many ch from every character of its line is a speck
of dirt or noise, not punctuation, and is dropped."""

WORD_GAP_FLOOR_CH: float = 0.05
"""Gaps up to this many ch (touching letters, pieces of a split) are left out of the gap
statistics."""

LETTER_GAP_CH: float = 0.5
"""Gaps below this many ch are letter gaps for every writer we have seen; word gaps are
rarely this narrow (sample photos: letters 0.1-0.9 ch, words 1.2-2.2 ch; A B C rows 0.6-1.6)."""

MIN_LETTER_GAP_SHARE: float = 0.2
"""A page with fewer of its gaps letter-sized than this share is rows of separate characters."""

SPACE_RANGE_CH: tuple[float, float] = (0.6, 1.3)
"""The page's space threshold is kept within this range, in ch."""

JUMP_WINDOW: float = 1.5
"""The space threshold moves to the widest ratio jump between sorted gaps lying within this
factor of the Otsu threshold (the empty interval between the two populations)."""

TWO_POPULATION_JUMP: float = 1.6
"""Ratio between neighbouring sorted gaps that separates two populations of gaps; the A B C
sample page's widest ratio is 1.3, wide-spaced words (0.7 ch letters, 1.8 ch words) 2.5."""

MIN_GAPS_FOR_ROW: int = 3

LINE_HEIGHT_RATIO: float = 1.35
"""A line whose median character height is this much larger or smaller than the page's is
measured in its own ch when gaps are judged."""
"""A line needs this many gaps before it can count as a row of separate characters."""

UNIFORM_SPACE_CH: float = 0.5
"""Unimodal gaps (one population): spaces where gaps exceed this many ch. Letters spaced more
than half a character apart with no wider gaps anywhere are read as separate words (A B C)."""

MIN_GAPS_FOR_STATS: int = 4
"""Fewer gaps on a page than this: use UNIFORM_SPACE_CH alone."""

TYPICAL_WIDTH_CH: float = 0.7
"""Fallback typical character width, in ch, for lines with too few characters to measure."""

Kind = Literal["char", "mark"]


@dataclass(frozen=True)
class Component:
    """One connected ink component (or a merged group): box and the labels it owns."""

    x0: int
    y0: int
    x1: int
    y1: int
    labels: tuple[int, ...]
    area: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


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
    """For marks: '.' for a dot, '-' for a dash."""


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


@dataclass(frozen=True)
class Components:
    """Label image and its components."""

    labels: NDArray[np.int32]
    items: list[Component]


def find_components(mask: BoolImage) -> Components:
    """8-connected components of the ink mask with their boxes and pixel counts."""
    labels, n = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    labels = labels.astype(np.int32, copy=False)
    areas = np.bincount(labels.ravel(), minlength=n + 1)
    items = [
        Component(s[1].start, s[0].start, s[1].stop, s[0].stop, (i + 1,), int(areas[i + 1]))
        for i, s in enumerate(ndi.find_objects(labels))
        if s is not None
    ]
    return Components(labels, items)


def filter_components(comps: Components, scale: Scale) -> list[Component]:
    """Drop noise specks and non-character things (page/desk edges, rules, filled blobs)."""
    ch, sw = scale.char_height, scale.stroke_width
    h_img, w_img = comps.labels.shape
    kept: list[Component] = []
    for c in comps.items:
        if c.area < SPECK_AREA_SW2 * sw * sw:
            continue
        if c.height > HUGE_HEIGHT_CH * ch or c.width > HUGE_WIDTH_CH * ch:
            continue
        on_border = c.x0 == 0 or c.y0 == 0 or c.x1 == w_img or c.y1 == h_img
        if on_border and max(c.width, c.height) > BORDER_LONG_CH * ch:
            continue
        if min(c.width, c.height) > ch and c.area > BLOB_FILL * c.width * c.height:
            continue
        kept.append(c)
    return kept


def union(parts: Sequence[Component]) -> Component:
    """One component covering all ``parts``."""
    return Component(
        min(p.x0 for p in parts),
        min(p.y0 for p in parts),
        max(p.x1 for p in parts),
        max(p.y1 for p in parts),
        tuple(sorted(label for p in parts for label in p.labels)),
        sum(p.area for p in parts),
    )


def estimate_skew(parts: Sequence[Component], scale: Scale, max_deg: float = MAX_SKEW_DEG) -> float:
    """Page skew (radians): the angle within +-max_deg whose deskewed centre heights pile up
    most sharply (sum of squared histogram counts, bins of ch / 4, weighted by area)."""
    if len(parts) < 3:
        return 0.0
    xs = np.array([p.cx for p in parts])
    ys = np.array([p.cy for p in parts])
    w = np.sqrt(np.array([p.area for p in parts], dtype=np.float64))
    best, best_score = 0.0, -1.0
    bin_px = max(1.0, scale.char_height / 4)
    for deg in np.arange(-max_deg, max_deg + 1e-9, SKEW_STEP_DEG):
        t = np.tan(np.deg2rad(deg))
        yy = ys - xs * t
        idx = np.floor((yy - yy.min()) / bin_px).astype(np.intp)
        hist = np.bincount(idx, weights=w)
        score = float((hist * hist).sum()) - 1e-6 * abs(deg)  # prefer 0 on ties
        if score > best_score:
            best, best_score = float(np.deg2rad(deg)), score
    return best


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def group_lines(parts: Sequence[Component], scale: Scale) -> list[list[Component]]:
    """Text lines, top to bottom, each a left-to-right list of characters and marks.

    Tall components are chained left to right after deskewing: each joins the line whose
    rightmost member overlaps it most vertically, so slowly drifting baselines still chain.
    Small parts then attach to the line whose band contains their centre, and within a line
    parts that overlap horizontally (a D drawn in two strokes, a T's bar) are merged.
    """
    ch = scale.char_height
    tan = np.tan(estimate_skew(parts, scale))

    def dy(c: Component) -> float:  # vertical shift that deskews a part at its centre
        return -c.cx * tan

    primary = sorted((p for p in parts if p.height >= PRIMARY_HEIGHT_CH * ch), key=lambda p: p.x0)
    small = [p for p in parts if p.height < PRIMARY_HEIGHT_CH * ch]
    lines: list[list[Component]] = []
    for p in primary:
        py0, py1 = p.y0 + dy(p), p.y1 + dy(p)
        best, best_ov = -1, 0.0
        for i, line in enumerate(lines):
            # The line's vertical extent near p: its last member and any others ending within
            # CHAIN_REACH_CH of p (a K whose arms and stem are separate strokes must not end
            # the line on its upper arm).
            recent = [c for c in line[-CHAIN_MEMBERS:] if c.x1 >= p.x0 - CHAIN_REACH_CH * ch]
            near = recent or line[-1:]
            ly0 = min(c.y0 + dy(c) for c in near)
            ly1 = max(c.y1 + dy(c) for c in near)
            ov = _overlap(py0, py1, ly0, ly1) / max(1.0, min(py1 - py0, ly1 - ly0))
            if ov > best_ov:
                best, best_ov = i, ov
        if best >= 0 and best_ov >= LINE_OVERLAP:
            lines[best].append(p)
        else:
            lines.append([p])

    margin = LINE_BAND_MARGIN_CH * ch
    for s in small:
        sy = s.cy + dy(s)
        best, best_dist = -1, np.inf
        for i, line in enumerate(lines):
            # Band from the nearest members only: handwritten baselines drift along a line.
            near = sorted(line, key=lambda c: abs(c.cx - s.cx))[:BAND_NEIGHBOURS]
            band0 = float(np.median([c.y0 + dy(c) for c in near])) - margin
            band1 = float(np.median([c.y1 + dy(c) for c in near])) + margin
            dist = abs(near[0].cx - s.cx)
            if band0 <= sy <= band1 and dist < best_dist:
                best, best_dist = i, dist
        if best >= 0:
            lines[best].append(s)
    merged = [_merge_broken(sorted(line, key=lambda c: c.x0), scale) for line in lines if line]
    merged.sort(key=lambda line: float(np.median([c.cy + dy(c) for c in line])))
    return merged


def _merge_broken(line: list[Component], scale: Scale) -> list[Component]:
    """Merge horizontally overlapping parts (and small pieces touching a letter across a pen
    lift) while the union stays character-sized."""
    ch, sw = scale.char_height, scale.stroke_width
    out: list[Component] = []
    for c in line:
        target = -1
        for j in range(len(out) - 1, max(-1, len(out) - 4), -1):
            o = out[j]
            u_width = max(o.x1, c.x1) - min(o.x0, c.x0)
            if u_width > MERGE_MAX_WIDTH_CH * ch:
                continue
            ov = _overlap(o.x0, o.x1, c.x0, c.x1) / max(1, min(o.width, c.width))
            piece, other = (c, o) if c.height <= o.height else (o, c)
            is_piece = piece.height < PRIMARY_HEIGHT_CH * ch
            gap = max(o.x0, c.x0) - min(o.x1, c.x1)
            pen_lift = is_piece and gap <= PIECE_GAP_SW * sw
            narrow = min(o.width, c.width) <= STEM_WIDTH_CH * ch
            stem = narrow and not is_piece and gap <= STEM_GAP_SW * sw
            if (
                ov >= MERGE_OVERLAP
                or stem
                or (pen_lift and not _is_mark_shape(piece, other, scale))
            ):
                target = j
                break
        if target >= 0:
            out[target] = union([out[target], c])
        else:
            out.append(c)
    return sorted(out, key=lambda c: c.x0)


def _is_mark_shape(c: Component, other: Component, scale: Scale) -> bool:
    """A small round part at the bottom of the line next to a letter: a '.', keep separate."""
    small = max(c.width, c.height) <= MARK_MAX_CH * scale.char_height
    return small and c.cy > other.y0 + 0.6 * other.height


def merge_scored(
    line: list[Component],
    labels: NDArray[np.int32],
    ink: FloatImage,
    scale: Scale,
    score: Scorer,
) -> list[Component]:
    """Merge neighbours that geometry cannot decide (a stem drawn apart from the rest of an R
    versus an I beside a P) when the recognizer likes the union more than the two parts:
    conf(union) > conf(a) * conf(b), the same product rule the split search maximizes."""
    ch, sw = scale.char_height, scale.stroke_width
    pairs = [
        i
        for i in range(len(line) - 1)
        if line[i + 1].x0 - line[i].x1 <= SCORED_MERGE_GAP_SW * sw
        and max(line[i].x1, line[i + 1].x1) - line[i].x0 <= MERGE_MAX_WIDTH_CH * ch
        and min(line[i].height, line[i + 1].height) >= PRIMARY_HEIGHT_CH * ch
    ]
    if not pairs:
        return line
    crops: list[FloatImage] = []
    for i in pairs:
        a, b = line[i], line[i + 1]
        crops += [
            _own_ink(a, labels, ink),
            _own_ink(b, labels, ink),
            _own_ink(union([a, b]), labels, ink),
        ]
    conf = np.asarray(score(crops), dtype=np.float64).reshape(-1, 3)
    out = list(line)
    for k in reversed(range(len(pairs))):  # right to left keeps earlier indices valid
        i = pairs[k]
        ca, cb, cu = conf[k]
        if cu > ca * cb and i + 1 < len(out) and out[i] is line[i] and out[i + 1] is line[i + 1]:
            out[i : i + 2] = [union([out[i], out[i + 1]])]
    return out


def _own_ink(c: Component, labels: NDArray[np.int32], ink: FloatImage) -> FloatImage:
    own = np.isin(labels[c.y0 : c.y1, c.x0 : c.x1], c.labels)
    return np.where(own, ink[c.y0 : c.y1, c.x0 : c.x1], np.float32(0.0)).astype(np.float32)


def typical_width(line: Sequence[Component], scale: Scale) -> float:
    """Median width of the line's character-sized parts, falling back to TYPICAL_WIDTH_CH."""
    widths = [c.width for c in line if c.height >= PRIMARY_HEIGHT_CH * scale.char_height]
    if len(widths) < 3:
        return TYPICAL_WIDTH_CH * scale.char_height
    return max(float(np.median(widths)), 0.4 * scale.char_height)


def _window_min(profile: NDArray[np.float64], want: float, half: float) -> int | None:
    """Column of least ink within ``half`` of ``want`` (ties: nearest to ``want``)."""
    lo, hi = max(1, int(want - half)), min(len(profile) - 1, int(want + half) + 1)
    if hi <= lo:
        return None
    cols = np.arange(lo, hi)
    key = np.lexsort((np.abs(cols - want), profile[lo:hi]))
    return int(cols[key[0]])


def _cut_candidates(profile: NDArray[np.float64], n0: int, tw: float) -> list[int]:
    """Candidate cut columns: the least-ink column near every expected cut for each plausible
    piece count (n0 - 1 .. n0 + 1), so flat runs of low ink (a T's bar) still give
    a cut where a letter boundary is expected; lowest-ink first, capped."""
    width = len(profile)
    smooth = ndi.uniform_filter1d(profile, size=3, mode="nearest")
    cands: set[int] = set()
    for n in range(max(2, n0 - 1), n0 + 2):
        for k in range(1, n):
            col = _window_min(smooth, k * width / n, SPLIT_SEARCH * width / n)
            if col is not None and SPLIT_MIN_PIECE * tw <= col <= width - SPLIT_MIN_PIECE * tw:
                cands.add(col)
    ranked = sorted(cands, key=lambda c: smooth[c])[:SPLIT_MAX_CANDIDATES]
    return sorted(ranked)


def split_wide(
    line: list[Component],
    labels: NDArray[np.int32],
    ink: FloatImage,
    scale: Scale,
    score: Scorer | None = None,
) -> list[tuple[Component, BoolImage]]:
    """Each part with its own-pixel mask; parts much wider than the line's typical character
    are cut at columns of low ink (chosen by ``score`` when given, else the projection minimum
    nearest each expected cut)."""
    tw = typical_width(line, scale)
    out: list[tuple[Component, BoolImage]] = []
    for c in line:
        own = np.isin(labels[c.y0 : c.y1, c.x0 : c.x1], c.labels)
        ratio = SPLIT_WIDTH_RATIO if score is not None else SPLIT_WIDTH_RATIO_BLIND
        if c.width <= ratio * tw or c.height < PRIMARY_HEIGHT_CH * scale.char_height:
            out.append((c, own))
            continue
        profile = (own * ink[c.y0 : c.y1, c.x0 : c.x1]).sum(axis=0).astype(np.float64)
        # Touching letters share their joining strokes: n letters span n * (tw - sw) + sw.
        pitch = max(tw - scale.stroke_width, 0.5 * tw)
        n = max(2, int(round((c.width - scale.stroke_width) / pitch)))
        cuts = _choose_cuts(own, profile, n, tw, ink[c.y0 : c.y1, c.x0 : c.x1], score)
        edges = [0, *cuts, c.width]
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            piece = own[:, a:b]
            rows = np.flatnonzero(piece.any(axis=1))
            if rows.size == 0:
                continue
            r0, r1 = int(rows[0]), int(rows[-1]) + 1
            comp = Component(c.x0 + a, c.y0 + r0, c.x0 + b, c.y0 + r1, c.labels, int(piece.sum()))
            out.append((comp, piece[r0:r1]))
    return out


def _choose_cuts(
    own: BoolImage,
    profile: NDArray[np.float64],
    n: int,
    tw: float,
    ink: FloatImage,
    score: Scorer | None,
) -> list[int]:
    """Cut columns for a part expected to hold ``n`` letters of typical width ``tw``."""
    width = len(profile)
    if score is None:
        smooth = ndi.uniform_filter1d(profile, size=3, mode="nearest")
        blind = [_window_min(smooth, k * width / n, SPLIT_SEARCH * width / n) for k in range(1, n)]
        return sorted({c for c in blind if c is not None})
    cands = _cut_candidates(profile, n, tw)
    if not cands:
        return []
    # Scorer: best path through candidate cuts maximizing the summed log confidence of the
    # pieces; every segment between two cut points is scored once, in one batch.
    points = [0, *cands, width]
    m = len(points)
    segs = [
        (i, j)
        for i in range(m)
        for j in range(i + 1, m)
        if points[j] - points[i] >= SPLIT_MIN_PIECE * tw
    ]
    crops = [
        np.where(own[:, points[i] : points[j]], ink[:, points[i] : points[j]], 0.0) for i, j in segs
    ]
    conf = np.clip(np.asarray(score([c.astype(np.float32) for c in crops]), float), 1e-6, 1.0)
    logc = dict(zip(segs, np.log(conf), strict=True))
    best = np.full(m, -np.inf)
    prev = np.full(m, -1)
    best[0] = 0.0
    for j in range(1, m):
        for i in range(j):
            if (i, j) in logc and best[i] + logc[(i, j)] > best[j]:
                best[j], prev[j] = best[i] + logc[(i, j)], i
    if not np.isfinite(best[m - 1]):
        return []
    cuts = []
    j = int(prev[m - 1])
    while j > 0:
        cuts.append(points[j])
        j = int(prev[j])
    return sorted(cuts)


def word_gap_threshold(gaps: NDArray[np.float64]) -> float:
    """Space threshold (in ch) from all gaps of a page, each in its own line's ch.

    Handwritten letter spacing varies a lot between writers (0.2-1 ch) and so does word
    spacing (0.7-2 ch), so the threshold comes from the page. When hardly any gap is
    letter-sized (LETTER_GAP_CH) the page is rows of separate characters (``A B C``) and
    UNIFORM_SPACE_CH decides. Otherwise Otsu's split of the gaps (letter gaps vs. word gaps)
    is moved to the widest empty interval near it and kept within SPACE_RANGE_CH.
    """
    # Touching or cut-apart letters (gap ~0) are never spaces; they take no part.
    gaps = np.sort(gaps[(gaps > WORD_GAP_FLOOR_CH) & (gaps < COLUMN_GAP_CH)])
    if gaps.size < MIN_GAPS_FOR_STATS:
        return UNIFORM_SPACE_CH
    if float(np.mean(gaps < LETTER_GAP_CH)) < MIN_LETTER_GAP_SHARE and not _two_populations(gaps):
        return UNIFORM_SPACE_CH
    n = gaps.size
    k = np.arange(1, n)
    csum = np.cumsum(gaps)
    m0 = csum[:-1] / k
    m1 = (csum[-1] - csum[:-1]) / (n - k)
    i = int(np.argmax(k * (n - k) * (m1 - m0) ** 2))
    otsu = (gaps[i] + gaps[i + 1]) / 2
    # The widest ratio jump among the sorted gaps near the split (always including the two
    # gaps either side of it) is the empty interval between letter gaps and word gaps.
    near = np.flatnonzero((gaps >= otsu / JUMP_WINDOW) & (gaps <= otsu * JUMP_WINDOW))
    lo, hi = min(i, int(near[0]) if near.size else i), max(i + 1, int(near[-1]) if near.size else i)
    j = lo + int(np.argmax(np.diff(np.log(gaps[lo : hi + 1]))))
    return float(np.clip(np.sqrt(gaps[j] * gaps[j + 1]), *SPACE_RANGE_CH))


def _two_populations(sorted_gaps: NDArray[np.float64]) -> bool:
    """Whether sorted gaps split into two groups with an empty ratio interval of at least
    TWO_POPULATION_JUMP between them (wide letter spacing with wider word gaps), rather than
    one spread of spaces (an A B C page)."""
    if sorted_gaps.size < 2:
        return False
    return float(np.exp(np.diff(np.log(sorted_gaps)).max())) >= TWO_POPULATION_JUMP


def line_threshold(gaps: NDArray[np.float64], page_threshold: float) -> float:
    """A line none of whose gaps (in ch) is letter-sized is a row of separate characters (a
    line of ``A B C`` on a page of words): every gap over UNIFORM_SPACE_CH is a space there."""
    real = np.sort(gaps[(gaps > WORD_GAP_FLOOR_CH) & (gaps < COLUMN_GAP_CH)])
    if real.size >= MIN_GAPS_FOR_ROW and real[0] >= LETTER_GAP_CH and not _two_populations(real):
        return min(page_threshold, UNIFORM_SPACE_CH)
    return page_threshold


def line_char_heights(lines: Sequence[Sequence[CharBox]], scale: Scale) -> list[float]:
    """The ch (px) each line's gaps are judged against: the page's, except for a line whose
    median box height differs from the page's by more than LINE_HEIGHT_RATIO (a heading
    written twice as large, a small note), which gets the page ch scaled by that ratio. Box
    heights of single letters vary too much (I vs. a slanted W) to use them everywhere."""
    medians = [
        float(np.median([b.y1 - b.y0 for b in boxes if b.kind == "char"]))
        if sum(b.kind == "char" for b in boxes) >= 2
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
        far = ratio > LINE_HEIGHT_RATIO or ratio < 1 / LINE_HEIGHT_RATIO
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


def drop_stray_marks(boxes: list[CharBox], scale: Scale) -> list[CharBox]:
    """Keep marks near a character of the line (a full stop follows its letter closely)."""
    chars = [b for b in boxes if b.kind == "char"]
    limit = STRAY_MARK_GAP_CH * scale.char_height

    def near(m: CharBox) -> bool:
        return any(max(c.x0 - m.x1, m.x0 - c.x1) <= limit for c in chars)

    return [b for b in boxes if b.kind == "char" or near(b)]


def _to_charbox(c: Component, own: BoolImage, scale: Scale) -> CharBox:
    ch = scale.char_height
    small = c.height < PRIMARY_HEIGHT_CH * ch and max(c.width, c.height) <= MARK_MAX_CH * ch
    if not small:
        return CharBox(c.x0, c.y0, c.x1, c.y1, "char", own)
    mark = "-" if c.width >= DASH_ASPECT * max(1, c.height) else "."
    return CharBox(c.x0, c.y0, c.x1, c.y1, "mark", own, mark)


def segment(
    mask: BoolImage,
    ink: FloatImage,
    scale: Scale,
    score: Scorer | None = None,
    comps: Components | None = None,
) -> Layout:
    """Whole segmentation: components -> filtered -> lines (with merges) -> splits -> words.

    ``comps``: the components of ``mask`` where an earlier stage (deskew) already found them.
    """
    comps = comps if comps is not None else find_components(mask)
    parts = filter_components(comps, scale)
    grouped = group_lines(parts, scale)
    if score is not None:
        grouped = [merge_scored(line, comps.labels, ink, scale, score) for line in grouped]
    lines = [
        drop_stray_marks(
            [
                _to_charbox(c, own, scale)
                for c, own in split_wide(line, comps.labels, ink, scale, score)
            ],
            scale,
        )
        for line in grouped
    ]
    lines = [boxes for boxes in lines if any(b.kind == "char" for b in boxes)]
    heights = line_char_heights(lines, scale)
    pooled = [char_gaps(boxes) / h for boxes, h in zip(lines, heights, strict=True)]
    page_threshold = word_gap_threshold(np.concatenate([np.zeros(0), *pooled]))
    out: list[Line] = []
    for boxes, gaps, h in zip(lines, pooled, heights, strict=True):
        words = split_words(boxes, line_threshold(gaps, page_threshold) * h)
        out.append(Line([Word([boxes[i] for i in w]) for w in words]))
    return Layout(out, scale)


def crop_chars(ink_map: FloatImage, layout: Layout) -> list[FloatImage]:
    """Each character's ink (its own pixels only, zero elsewhere), in reading order; marks are
    skipped. Ready for ``ocr.normalize.normalize_glyph``."""
    crops: list[FloatImage] = []
    for line in layout.lines:
        for word in line.words:
            for c in word.chars:
                if c.kind != "char":
                    continue
                box = ink_map[c.y0 : c.y1, c.x0 : c.x1]
                crops.append(np.where(c.mask, box, np.float32(0.0)).astype(np.float32))
    return crops


def chars_in_order(layout: Layout) -> list[CharBox]:
    """All boxes (chars and marks) in reading order."""
    return [c for line in layout.lines for w in line.words for c in w.chars]
