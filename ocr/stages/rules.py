"""Printed rules of lined, grid and boxed paper -> removed from the ink map, strokes kept.

A printed rule is the longest straight thing on a page: far longer than any stroke of a block
capital (at most about one character height), thin, and horizontal or vertical to within the
page's tilt. :func:`remove_rules` finds such runs with a morphological opening by a long line
(computed with running sums, so its cost does not grow with the line's length), removes their
pixels, and gives back the pixels where a handwritten stroke crosses a rule (ink continues on
both sides of it), so an H written across a line stays one H and the line never reaches
segmentation. Box edges (comb fields) are shorter than a rule; they count when they run
from one removed horizontal rule to the next and are no thicker than the rules are.

Input and output are the working-resolution ink map and mask of :mod:`ocr.stages.binarize`; every
length is relative to the page's character height (ch) or stroke width (sw).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, FloatImage, Scale
from ocr.stages.labels import label_boxes, select
from ocr.stages.penprint import (
    Darkness,
    most_telling,
    pen_colour,
    pen_on_rules,
    print_given_back,
    remnants,
)
from ocr.stages.ruleparams import DEFAULT_RULE_PARAMS, RuleParams
from ocr.stages.runs import grow, max_filter1d, min_filter1d, runs_at_least
from ocr.stages.segment import Components, find_components

ALONG_MARGIN_PX: float = 2.0
"""A stroke lying along a rule must make the ink at least this many pixels thicker than the
rule (besides half a stroke width): a blurred rule's own thickness wavers by a pixel."""


@dataclass(frozen=True)
class RulesRemoved:
    """The page without its rules, and what was removed (for overlays and tests)."""

    ink: FloatImage
    mask: BoolImage
    removed: BoolImage
    horizontal: int
    """Number of horizontal rule segments found."""
    vertical: int
    """Number of vertical rule segments (grid lines, margins) found."""
    box_edges: int
    components: Components | None
    """The mask's components when nothing was removed (deskew and segmentation reuse them),
    else None."""

    @property
    def found(self) -> bool:
        return bool(self.horizontal or self.vertical or self.box_edges)


def _straight(rows: NDArray[np.intp], cols: NDArray[np.intp]) -> float:
    """Median distance (px) of the column centres of pixels (``rows``, ``cols``) from the
    straight line fitted through them."""
    at = np.unique(cols)
    if len(at) < 3:
        return 0.0
    centre = np.asarray(ndi.mean(rows, cols, at), dtype=np.float64)
    fit = np.polyfit(at.astype(np.float64), centre, 1)
    return float(np.median(np.abs(centre - np.polyval(fit, at))))


def _long_segments(
    opened: BoolImage,
    mask: BoolImage,
    min_length: int,
    max_thickness: float,
    join: int,
    max_bend: float,
    short_length: int,
) -> tuple[BoolImage, int]:
    """Pieces of ``opened`` that, with gaps up to ``join`` px along the row closed, make runs
    at least ``min_length`` wide whose ink (``mask``) is in most columns at most
    ``max_thickness`` thick (the median column: letters written across a rule thicken it
    where they cross, and a line of dense writing crossed it in a third of its columns), and
    how many such runs there are. (A faint rule binarizes with gaps longer than
    the bridge; its pieces are each shorter than a rule but lie on one line.) A run that is
    long only when joined, or shorter than ``short_length``, must be straight: its column
    centres at most ``max_bend`` px (median) from a line, as printed pieces are and the top
    bars of a line of capitals (touching along a word) are not."""
    joined = opened
    if join > 1:
        joined = _closed_along(opened, join - 1, axis=1) | opened
    labels, n = ndi.label(joined, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros_like(opened), 0
    pieces, n_pieces = ndi.label(opened, structure=np.ones((3, 3), bool))
    piece_width = np.zeros(n_pieces + 1, dtype=np.int64)
    piece_width[1:] = label_boxes(pieces, n_pieces).widths
    keep = np.zeros(n + 1, dtype=bool)
    runs = label_boxes(labels, n)
    for i in np.flatnonzero(runs.widths >= min_length).tolist():
        s = np.s_[runs.y0[i] : runs.y1[i], runs.x0[i] : runs.x1[i]]
        own = (labels[s] == i + 1) & opened[s]
        # Thickness over the columns the pieces cover, not over the closed gaps.
        per_column = (own & mask[s]).sum(axis=0)
        if float(np.median(per_column[own.any(axis=0)])) > max_thickness:
            continue
        width = s[1].stop - s[1].start
        if width < short_length or piece_width[pieces[s][own]].max() < min_length:
            rows, cols = np.nonzero(own & mask[s])
            if _straight(rows, cols) > max_bend:
                continue
        keep[i + 1] = True
    return select(labels, keep) & opened, int(keep.sum())


def _horizontal_rules(
    mask: BoolImage, scale: Scale, params: RuleParams
) -> tuple[BoolImage, int, float]:
    """Mask pixels on long, thin, nearly horizontal runs (for vertical rules pass mask.T)."""
    ch, sw = scale.char_height, scale.stroke_width
    slack = max(1, int(round(params.tilt_slack_sw * sw)))
    probe = max(3, int(round(params.probe_ch * ch)))
    bridge = max(1, int(round(params.gap_sw * sw)))
    grown = max_filter1d(mask, 2 * slack + 1, axis=0)
    grown = max_filter1d(grown, 2 * bridge + 1, axis=1)
    opened = runs_at_least(grown, probe)
    band, n = _long_segments(
        opened,
        mask,
        int(round(params.min_length_ch * ch)),
        params.max_thickness_ch * ch,
        int(round(params.join_ch * ch)),
        params.joined_bend_px,
        int(round(params.short_rule_ch * ch)),
    )
    # The band is the rule grown by the slack; within it the rule is what runs straight.
    # (Grown by a pixel: the joints of a tilted line's steps are single pixels. Runs are
    # measured with the same gaps bridged as above: a faint rule is dashes on every row.)
    dashes = _closed_along(mask, 2 * bridge, axis=1)
    core = runs_at_least(dashes | mask, max(3, int(round(params.core_run_sw * sw))))
    core = grow(core, 1)
    rules = band & core & mask
    return rules, n, _thickness(rules)


def _any_within(keep: BoolImage, reach: int) -> tuple[BoolImage, BoolImage]:
    """For every pixel, is any ``keep`` pixel within ``reach`` above it in its column, and
    any within ``reach`` below it (1-D maximum filters over a trailing and a leading window,
    shifted a row: linear in the image, no temporaries of the image's size in int32)."""
    h = keep.shape[0]
    above = np.zeros_like(keep)
    below = np.zeros_like(keep)
    if reach < 1 or h < 2:
        return above, below
    trailing = max_filter1d(keep, reach, axis=0, mode="constant", origin=(reach - 1) // 2)
    leading = max_filter1d(keep, reach, axis=0, mode="constant", origin=-(reach // 2))
    above[1:] = trailing[:-1]  # any in [y - reach, y - 1]
    below[:-1] = leading[1:]  # any in [y + 1, y + reach]
    return above, below


def _column_run(mask: BoolImage, near: int) -> NDArray[np.uint8]:
    """For every pixel, how many ``mask`` pixels lie within ``near`` above or below it in its
    column, plus one for itself whether set or not (shifted adds: ``near`` is a few px)."""
    h = mask.shape[0]
    counts = np.ones(mask.shape, dtype=np.uint8)
    m = mask.view(np.uint8)
    for d in range(1, min(near, h - 1) + 1):
        counts[d:] += m[:-d]
        counts[:-d] += m[d:]
    return counts


def _thickness(rules: BoolImage) -> float:
    """Typical thickness (px) of horizontal rules: the median length of the vertical runs of
    rule pixels (a column crosses many rules on ruled paper)."""
    if not rules.any():
        return 0.0
    starts = rules & ~np.pad(rules, ((1, 0), (0, 0)))[:-1]
    ends = rules & ~np.pad(rules, ((0, 1), (0, 0)))[1:]
    ys_start = np.nonzero(starts.T)
    ys_end = np.nonzero(ends.T)
    return float(np.median(ys_end[1] - ys_start[1] + 1))


def _restore(
    rule: BoolImage, kept: BoolImage, mask: BoolImage, reach: int, thick: float, sw: float
) -> BoolImage:
    """Rule pixels that are also handwriting: a stroke crossing the rule (ink of ``kept``, the
    page without any rule, within ``reach`` both above and below, in the same or a
    neighbouring column), or a stroke lying along it (the ink there is thicker than the rule
    by half a stroke: the foot of an L, the bar of an E written on the line)."""
    wide = max_filter1d(kept, 3, axis=1)
    above, below = _any_within(wide, reach)
    crossing = above & below
    near = int(np.ceil(thick + sw))
    along = _column_run(mask, near) >= thick + max(0.5 * sw, ALONG_MARGIN_PX)
    return rule & (crossing | along)


def _box_edges(
    mask: BoolImage, rules_h: BoolImage, thickness: float, scale: Scale, params: RuleParams
) -> tuple[BoolImage, int]:
    """Vertical straight runs joining two removed horizontal rules, as thin as the rules.
    ``mask`` is the page without any long rule (grid lines are no box edges to look at)."""
    if not rules_h.any():
        return np.zeros_like(mask), 0
    length = max(3, int(round(params.box_edge_ch * scale.char_height)))
    runs = runs_at_least((mask & ~rules_h).T, length).T
    labels, n = ndi.label(runs, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros_like(mask), 0
    near_rule = ndi.binary_dilation(rules_h, iterations=2)
    limit = params.box_edge_thickness * max(1.0, thickness) + 1.0  # + a pixel of sampling
    b = label_boxes(labels, n)
    keep = np.zeros(n + 1, dtype=bool)
    last = mask.shape[0] - 1
    for i in np.flatnonzero(b.area / b.heights <= limit).tolist():
        xs = slice(int(b.x0[i]), int(b.x1[i]))
        top_hit = near_rule[max(0, int(b.y0[i]) - 1), xs].any()
        bottom_hit = near_rule[min(last, int(b.y1[i])), xs].any()
        keep[i + 1] = bool(top_hit and bottom_hit)
    return select(labels, keep) & mask, int(keep.sum())


def _windows(
    comps: Components, scale: Scale, params: RuleParams, shape: tuple[int, int]
) -> list[tuple[slice, slice]]:
    """Boxes (grown by the reach of restoration) of components long enough to hold a rule,
    overlapping ones merged. A page without any is left alone at the cost of a labelling."""
    ch, sw = scale.char_height, scale.stroke_width
    long = params.min_length_ch * ch
    pad = int(np.ceil(params.restore_reach_sw * sw + params.max_thickness_ch * ch)) + 2
    boxes = [
        [
            max(0, c.y0 - pad),
            min(shape[0], c.y1 + pad),
            max(0, c.x0 - pad),
            min(shape[1], c.x1 + pad),
        ]
        for c in comps.items
        if c.width >= long or c.height >= long
    ]
    # Longest first, up to a page's worth of pixels: a desk's grain is not ruled paper and
    # must not cost a window per streak.
    boxes.sort(key=lambda b: max(b[1] - b[0], b[3] - b[2]), reverse=True)
    budget = params.max_window_share * shape[0] * shape[1]
    if len(boxes) > params.max_long_components:
        return []  # streaks by the hundred: a desk's grain or a texture, not ruled paper
    kept_boxes: list[list[int]] = []
    covered = np.zeros(shape, dtype=bool)  # pixels already in a window count once
    for b in boxes:
        window = covered[b[0] : b[1], b[2] : b[3]]
        budget -= window.size - int(np.count_nonzero(window))
        window[...] = True
        if budget < 0 and kept_boxes:
            break
        kept_boxes.append(b)
    merged: list[list[int]] = []
    for b in sorted(kept_boxes):
        for m in merged:
            if b[0] < m[1] and m[0] < b[1] and b[2] < m[3] and m[2] < b[3]:
                m[:] = [min(m[0], b[0]), max(m[1], b[1]), min(m[2], b[2]), max(m[3], b[3])]
                break
        else:
            merged.append(b)
    return [(slice(a, b), slice(c, d)) for a, b, c, d in merged]


def _closed_along(mask: BoolImage, gap: int, axis: int) -> BoolImage:
    """``mask`` with gaps of up to ``gap`` pixels along ``axis`` filled (a 1-D closing)."""
    grown = max_filter1d(mask, gap + 1, axis=axis)
    return min_filter1d(grown, gap + 1, axis=axis)


def _remove_in(
    mask: BoolImage, scale: Scale, params: RuleParams
) -> tuple[BoolImage, BoolImage, int, int, int]:
    """Rule pixels to remove from one window of the mask, the rule pixels given back as
    strokes crossing or lying along them, and the segment counts."""
    # A window shorter than a rule in one direction holds none that way (the strip around one
    # rule of lined paper: looking for vertical rules in it was half the stage's time).
    longest = params.min_length_ch * scale.char_height
    h_rules, nh, th = np.zeros_like(mask), 0, 0.0
    v_rules, nv, tv = np.zeros_like(mask), 0, 0.0
    if mask.shape[1] >= longest:
        h_rules, nh, th = _horizontal_rules(mask, scale, params)
    if mask.shape[0] >= longest:
        v_rules_t, nv, tv = _horizontal_rules(mask.T, scale, params)
        v_rules = v_rules_t.T
    if nh == 0 and nv == 0:
        return np.zeros_like(mask), np.zeros_like(mask), 0, 0, 0
    sw = scale.stroke_width
    reach_h = int(round(params.restore_reach_sw * sw + th))
    reach_v = int(round(params.restore_reach_sw * sw + tv))
    edges, nb = np.zeros_like(mask), 0
    if nv < params.grid_min_vertical:  # on a grid every printed line is long and found
        edges, nb = _box_edges(mask & ~v_rules, h_rules, th, scale, params)
    if nv and nh < params.grid_min_vertical:
        # And across: a box drawn round a word on a page stored sideways has its long sides
        # vertical here, and its short ones (read as 1s once turned) join them.
        across, na = _box_edges((mask & ~h_rules).T, v_rules.T, tv, scale, params)
        edges |= across.T
        nb += na
    rules = h_rules | v_rules | edges
    kept = mask & ~rules
    back = back_h = back_v = np.zeros_like(mask)
    # Thickness along a rule is judged without the rules across it (grid crossings). On a
    # grid a second pass counts what the first gave back as kept: a stem written along a grid
    # line comes back as "along" only off the crossing rules, and only then does the crossing
    # have ink on both sides.
    for _ in range(2 if nh and nv else 1):
        kept_now = kept | back
        if nh:
            back_h = _restore(h_rules, kept_now, mask & ~(v_rules & ~back), reach_h, th, sw)
        if nv:
            across = (mask & ~(h_rules & ~back)).T
            back_v = _restore(v_rules.T, kept_now.T, across, reach_v, tv, sw).T
        back = back_h | back_v
    # A stroke running along a rule for a while comes back in pieces where the two only just
    # part (the thickness test fails by a pixel): short gaps along the rule between pieces
    # given back are the stroke too.
    gap = max(1, int(round(params.heal_gap_sw * sw)))
    if nh:
        back |= h_rules & _closed_along(back_h, gap, axis=1)
    if nv:
        back |= v_rules & _closed_along(back_v, gap, axis=0)
    return rules & ~back, rules & back, nh, nv, nb


def rule_pixels(
    mask: BoolImage,
    scale: Scale,
    params: RuleParams = DEFAULT_RULE_PARAMS,
    comps: Components | None = None,
) -> tuple[BoolImage, BoolImage, tuple[int, int, int]]:
    """The pixels of the printed rules and box edges by shape alone (strokes crossing them
    given back), the rule pixels given back so, and the number of horizontal rules, vertical
    rules and box edges found. ``comps``: the mask's components if known already."""
    comps = comps if comps is not None else find_components(mask)
    removed = np.zeros_like(mask)
    given = np.zeros_like(mask)
    counts = np.zeros(3, dtype=np.int64)
    for win in _windows(comps, scale, params, mask.shape):
        gone, back, nh, nv, nb = _remove_in(mask[win] & ~removed[win], scale, params)
        removed[win] |= gone
        given[win] |= back
        counts += (nh, nv, nb)
    nh, nv, nb = (int(c) for c in counts)
    return removed, given & ~removed, (nh, nv, nb)


def remove_rules(
    ink: FloatImage,
    mask: BoolImage,
    scale: Scale,
    params: RuleParams = DEFAULT_RULE_PARAMS,
    comps: Components | None = None,
    dark: FloatImage | Darkness | None = None,
    faint: Callable[[], BoolImage] | None = None,
    colours: Callable[[], NDArray[np.float32] | None] | None = None,
) -> RulesRemoved:
    """Remove horizontal and vertical printed rules and box edges from the ink map and mask,
    keeping the pixels where handwriting crosses them. ``comps``: the mask's components if
    known already; ``dark``: the unsaturated darkness (:attr:`PreparedPage.dark`), or a
    function giving such maps (asked only when rules were found): it tells pen from print
    where the ink map has both at its ceiling (else the ink map is used); ``faint``: a
    function giving the page's faint mask (:func:`ocr.stages.darkness.faint_mask`), asked
    only when rules were found: rules too faint to binarize whole are found on it, and the
    pieces of them the mask holds (under and joined to the words) go too; ``colours``: a
    function giving the darkness per colour channel (:func:`ocr.stages.darkness.channel_darkness`),
    asked only when rules were found: where pen and print differ in colour, that difference
    tells them apart (:func:`ocr.stages.penprint.pen_colour`)."""
    comps = comps if comps is not None else find_components(mask)
    removed, given, (nh, nv, nb) = rule_pixels(mask, scale, params, comps)
    if not removed.any():
        return RulesRemoved(ink, mask, removed, 0, 0, 0, comps)
    # Lined paper only: a grid's lines are all found on the mask (validation grid pages 11.99
    # -> 12.40% CER with the faint pass, lined 8.03 -> 7.35%).
    if faint is not None and nh and nv < params.grid_min_vertical:
        more, more_given, (fh, fv, _) = rule_pixels(faint(), scale, params)
        removed |= more & mask
        given = (given | (more_given & mask)) & ~removed
        nh, nv = max(nh, fh), max(nv, fv)
    # A form (printed boxes found) keeps the darkness-only judgement: its fields stage
    # removes its lines itself from the page as binarized. Colours changed nothing there but
    # the time, and taking back what shape gave back only moved the scale the fields are
    # found at (validation forms 5.68 -> 5.92% CER, two forms of 40).
    form = nb > 0
    channels = colours() if colours is not None and not form else None
    best = pen_colour(channels, mask, removed, params) if channels is not None else None
    if best is None:
        maps = [dark] if isinstance(dark, np.ndarray) else list(dark()) if dark is not None else []
        best = most_telling(maps, mask, removed)
    # Shape gave back what darkness or colour says is print: taken away again.
    if best is not None and not form:
        removed |= print_given_back(best, mask, removed, given, scale, params)
    darkness = ink if best is None else best
    removed &= ~pen_on_rules(darkness, mask, removed, scale, params)
    removed |= remnants(mask & ~removed, removed, scale, params, best)
    new_mask = mask & ~removed
    new_ink = np.where(new_mask, ink, np.float32(0.0)).astype(np.float32)
    return RulesRemoved(new_ink, new_mask, removed, nh, nv, nb, None)


SCALE_PROBE_CHARS: float = 40.0
"""Before the character height is known, rules are looked for as if characters were the
image's long side over this (a page of 15-25 lines): rules span far more than that, and the
strokes of letters far less."""


def without_rules(mask: BoolImage, scale: Scale | None = None) -> BoolImage:
    """``mask`` without printed rules, to measure the writing's size on (see
    :func:`ocr.stages.binarize.prepare_page`); the same array when there are none. By shape
    alone: on a mask every pixel is as dark as any other, so the pen-or-print judgement of
    :func:`remove_rules` would give nothing back, and is not made."""
    if scale is None:
        ch = max(mask.shape) / SCALE_PROBE_CHARS
        scale = Scale(char_height=ch, stroke_width=max(1.0, ch / 10))
    removed, _, _ = rule_pixels(mask, scale)
    if not removed.any():
        return mask
    return mask & ~(removed | remnants(mask & ~removed, removed, scale, DEFAULT_RULE_PARAMS))
