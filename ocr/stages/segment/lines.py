"""Grouping components into text lines, and merging the parts of broken characters."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ocr.stages.binarize import FloatImage, Scale
from ocr.stages.segment.components import Component, own_ink, union
from ocr.stages.segment.layout import Scorer
from ocr.stages.segment.params import DEFAULT_PARAMS, SegmentParams


def estimate_skew(
    parts: Sequence[Component],
    scale: Scale,
    max_deg: float | None = None,
    params: SegmentParams = DEFAULT_PARAMS,
) -> float:
    """Page skew (radians): the angle within +-max_deg whose deskewed centre heights pile up
    most sharply (sum of squared histogram counts, bins of ``skew_bin_ch``, weighted by area)."""
    max_deg = params.max_skew_deg if max_deg is None else max_deg
    if len(parts) < 3:
        return 0.0
    xs = np.array([p.cx for p in parts])
    ys = np.array([p.cy for p in parts])
    w = np.sqrt(np.array([p.area for p in parts], dtype=np.float64))
    best, best_score = 0.0, -1.0
    bin_px = max(1.0, scale.char_height * params.skew_bin_ch)
    for deg in np.arange(-max_deg, max_deg + 1e-9, params.skew_step_deg):
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


def group_lines(
    parts: Sequence[Component],
    scale: Scale,
    params: SegmentParams = DEFAULT_PARAMS,
    stems: bool = True,
) -> list[list[Component]]:
    """Text lines, top to bottom, each a left-to-right list of characters and marks.

    Tall components are chained left to right after deskewing: each joins the line whose
    rightmost member overlaps it most vertically, so slowly drifting baselines still chain.
    Small parts then attach to the line whose band contains their centre, and within a line
    parts that overlap horizontally (a D drawn in two strokes, a T's bar) are merged.
    """
    ch = scale.char_height
    tan = np.tan(estimate_skew(parts, scale, params=params))

    def dy(c: Component) -> float:  # vertical shift that deskews a part at its centre
        return -c.cx * tan

    primary = sorted(
        (p for p in parts if p.height >= params.primary_height_ch * ch), key=lambda p: p.x0
    )
    small = [p for p in parts if p.height < params.primary_height_ch * ch]
    lines: list[list[Component]] = []
    # Deskewed vertical extent of every line so far: a part can only overlap (or lie in the
    # band of) a line whose whole extent it reaches, so the exact test below runs on those
    # few lines only. This keeps a page of thousands of parts from costing parts x lines.
    top: list[float] = []
    bottom: list[float] = []
    for p in primary:
        py0, py1 = p.y0 + dy(p), p.y1 + dy(p)
        best, best_ov = -1, 0.0
        for i in _reaching(top, bottom, py0, py1):
            line = lines[i]
            # The line's vertical extent near p: its last member and any others ending within
            # chain_reach_ch of p (a K whose arms and stem are separate strokes must not end
            # the line on its upper arm).
            recent = [
                c
                for c in line[-params.chain_members :]
                if c.x1 >= p.x0 - params.chain_reach_ch * ch
            ]
            near = recent or line[-1:]
            ly0 = min(c.y0 + dy(c) for c in near)
            ly1 = max(c.y1 + dy(c) for c in near)
            ov = _overlap(py0, py1, ly0, ly1) / max(1.0, min(py1 - py0, ly1 - ly0))
            if ov < params.line_overlap:
                # Or the band of its latest members (medians): a letter cut by a grid line
                # into a short bottom half must not push the next one to a line of its own.
                tail = line[-params.chain_members :]
                by0 = _median([c.y0 + dy(c) for c in tail])
                by1 = _median([c.y1 + dy(c) for c in tail])
                ov = _overlap(py0, py1, by0, by1) / max(1.0, min(py1 - py0, by1 - by0))
            if ov > best_ov:
                best, best_ov = i, ov
        if best >= 0 and best_ov >= params.line_overlap:
            lines[best].append(p)
            top[best], bottom[best] = min(top[best], py0), max(bottom[best], py1)
        else:
            lines.append([p])
            top.append(py0)
            bottom.append(py1)

    margin = params.line_band_margin_ch * ch
    for s in small:
        sy = s.cy + dy(s)
        best, best_dist = -1, np.inf
        for i in _reaching(top, bottom, sy - margin, sy + margin):
            line = lines[i]
            # Band from the nearest members only: handwritten baselines drift along a line.
            near = sorted(line, key=lambda c: abs(c.cx - s.cx))[: params.band_neighbours]
            band0 = _median([c.y0 + dy(c) for c in near]) - margin
            band1 = _median([c.y1 + dy(c) for c in near]) + margin
            dist = abs(near[0].cx - s.cx)
            if band0 <= sy <= band1 and dist < best_dist:
                best, best_dist = i, dist
        if best >= 0:
            lines[best].append(s)
            top[best] = min(top[best], s.y0 + dy(s))
            bottom[best] = max(bottom[best], s.y1 + dy(s))
    merged = [
        _merge_broken(sorted(line, key=lambda c: c.x0), scale, params=params, stems=stems)
        for line in lines
        if line
    ]
    merged.sort(key=lambda line: float(np.median([c.cy + dy(c) for c in line])))
    return merged


def _reaching(top: list[float], bottom: list[float], y0: float, y1: float) -> list[int]:
    """Indices of the lines whose vertical extent [top, bottom] meets [y0, y1], in order."""
    if not top:
        return []
    t, b = np.asarray(top), np.asarray(bottom)
    return [int(i) for i in np.flatnonzero((t <= y1) & (b >= y0))]


def _median(values: list[float]) -> float:
    """np.median of a handful of values, without its per-call overhead (~0.1 ms, which a
    page of clutter pays hundreds of thousands of times)."""
    v = sorted(values)
    n = len(v)
    return float(v[n // 2]) if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def _merge_broken(
    line: list[Component],
    scale: Scale,
    params: SegmentParams = DEFAULT_PARAMS,
    stems: bool = True,
) -> list[Component]:
    """Merge horizontally overlapping parts (and small pieces touching a letter across a pen
    lift) while the union stays character-sized; ``stems``: a bare stem close to its
    neighbour too (else the scorer decides, see ``SegmentParams.scored_stems``)."""
    ch, sw = scale.char_height, scale.stroke_width
    out: list[Component] = []
    for c in line:
        target = -1
        for j in range(len(out) - 1, max(-1, len(out) - 1 - params.merge_lookback), -1):
            o = out[j]
            u_width = max(o.x1, c.x1) - min(o.x0, c.x0)
            if u_width > params.merge_max_width_ch * ch:
                continue
            ov = _overlap(o.x0, o.x1, c.x0, c.x1) / max(1, min(o.width, c.width))
            piece, other = (c, o) if c.height <= o.height else (o, c)
            is_piece = piece.height < params.primary_height_ch * ch
            gap = max(o.x0, c.x0) - min(o.x1, c.x1)
            pen_lift = is_piece and gap <= params.piece_gap_sw * sw
            narrow = min(o.width, c.width) <= params.stem_width_ch * ch
            stem = stems and narrow and not is_piece and gap <= params.stem_gap_sw * sw
            if (
                ov >= params.merge_overlap
                or stem
                or (pen_lift and not _is_mark_shape(piece, other, scale, params=params))
            ):
                target = j
                break
        if target >= 0:
            out[target] = union([out[target], c])
        else:
            out.append(c)
    return sorted(out, key=lambda c: c.x0)


def _is_mark_shape(
    c: Component, other: Component, scale: Scale, params: SegmentParams = DEFAULT_PARAMS
) -> bool:
    """A small round part at the bottom of the line next to a letter: a '.', keep separate."""
    small = max(c.width, c.height) <= params.mark_max_ch * scale.char_height
    return small and c.cy > other.y0 + params.mark_low_fraction * other.height


def merge_scored(
    line: list[Component],
    labels: NDArray[np.int32],
    ink: FloatImage,
    scale: Scale,
    score: Scorer,
    params: SegmentParams = DEFAULT_PARAMS,
) -> list[Component]:
    """Merge neighbours that geometry cannot decide (a stem drawn apart from the rest of an R
    versus an I beside a P) when the recognizer likes the union more than the two parts:
    conf(union) > conf(a) * conf(b), the same product rule the split search maximizes."""
    ch, sw = scale.char_height, scale.stroke_width
    pairs = [
        i
        for i in range(len(line) - 1)
        if line[i + 1].x0 - line[i].x1 <= params.scored_merge_gap_sw * sw
        and max(line[i].x1, line[i + 1].x1) - line[i].x0 <= params.merge_max_width_ch * ch
        and min(line[i].height, line[i + 1].height) >= params.primary_height_ch * ch
    ]
    if not pairs:
        return line
    crops: list[FloatImage] = []
    for i in pairs:
        a, b = line[i], line[i + 1]
        crops += [
            own_ink(a, labels, ink),
            own_ink(b, labels, ink),
            own_ink(union([a, b]), labels, ink),
        ]
    conf = np.asarray(score(crops), dtype=np.float64).reshape(-1, 3)
    out = list(line)
    for k in reversed(range(len(pairs))):  # right to left keeps earlier indices valid
        i = pairs[k]
        ca, cb, cu = conf[k]
        if cu > ca * cb and i + 1 < len(out) and out[i] is line[i] and out[i + 1] is line[i + 1]:
            out[i : i + 2] = [union([out[i], out[i + 1]])]
    return out
