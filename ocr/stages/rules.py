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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, FloatImage, Scale
from ocr.stages.segment import Components, find_components

RULE_PERCENTILE: float = 90.0
"""Percentile of removed pixels' darkness taken as the rules' (their cores: the median would
be the blurred edges, and rule cores would pass for pen)."""

PEN_PERCENTILE: float = 75.0
"""Percentile of the kept ink's darkness taken as the pen's (strokes' cores, not edges)."""

ALONG_MARGIN_PX: float = 2.0
"""A stroke lying along a rule must make the ink at least this many pixels thicker than the
rule (besides half a stroke width): a blurred rule's own thickness wavers by a pixel."""


@dataclass(frozen=True)
class RuleParams:
    """Where a straight run is a printed rule; units in the field names."""

    probe_ch: float = 1.5
    """Length (ch) of the straight line the mask is opened with: longer than any stroke of a
    capital (the bar of a T or the foot of an L is under one ch), so letters never survive
    the opening, only lines do."""

    min_length_ch: float = 4.0
    """A rule is at least this long (ch). Shorter straight runs are left to segmentation (a
    long dash, an underlined word's underline is removed, which costs nothing to read)."""

    tilt_slack_sw: float = 1.0
    """Vertical (for horizontal rules) slack, in sw, added before the opening so a rule tilted
    a few degrees still gives long runs: a rule of thickness t tilted by a gives runs of
    (t + 2 * slack) / tan(a)."""

    join_ch: float = 2.0
    """Straight pieces on one line with gaps up to this many ch between them are one rule
    when their length is judged: a faint rule binarizes as pieces shorter than a rule, a few
    pixels apart. (More would join the top bars of the capitals along a line of writing,
    which touch or nearly touch: E, T, F, Z and P tops lie on one cap line.)"""

    joined_bend_px: float = 0.8
    """...and such a joined rule is straight: the median distance of its column centres from
    a fitted line is at most this many pixels. Printed lines are straight to the sampling's
    pixel whatever the scale (pieces of faint rules: 0.2-0.5 px); the top bars of capitals
    along a line of writing, which also nearly touch, wander by more (1.1-1.7 px)."""

    short_rule_ch: float = 8.0
    """Runs shorter than this many ch must be that straight too: a word of capitals whose
    top bars touch makes a straight-looking run of four to six ch; ruled paper's rules span
    the sheet, a comb field's edges a dozen ch."""

    gap_sw: float = 1.0
    """Gaps up to twice this many sw along a rule are bridged before runs are measured: a
    faint or thin rule binarizes as dashes."""

    core_run_sw: float = 3.0
    """Inside the slack band only pixels on a horizontal run of at least this many sw are the
    rule itself: a thin line tilted a few degrees still has such runs, a stroke crossing the
    line at an angle does not (on grid paper the bands cover most of the page)."""

    restore_reach_sw: float = 1.0
    """A removed pixel comes back when ink lies within this many sw plus the rule's own
    thickness on both sides of it across the rule: a stroke crossing the line. (More would
    also bring back grid lines between the close arms of a V.)"""

    heal_gap_sw: float = 1.0
    """Gaps up to this many sw along a rule between pixels given back to a stroke are given
    back too (a stroke along a rule passes the thickness test in pieces; letters written on
    one rule are further apart than this)."""

    box_edge_ch: float = 0.5
    """A vertical straight run at least this long (ch) joining two removed horizontal rules
    is the edge of a printed box (comb fields), when it is no thicker than..."""

    pen_over_rule: float = 1.2
    """When the pen is at least this many times darker than the rules' cores, rule pixels at
    least as dark as the geometric mean of the two are the pen's... (Judged on the darkness
    map where the pen stands out most; validation grid pages, 1.4 / 1.3 / 1.2 / 1.1: 15.4 /
    14.0 / 13.1 / 13.0% CER, lined 8.6 / 8.6 / 8.5 / 8.5%.)"""

    restore_max_ch: float = 1.2
    """...when they make pieces no longer than this many ch touching kept ink."""

    nearby_ratio: float = 2.0
    """A removed pixel (averaged over a stroke width along its rule) at least this many times
    as dark as its rule (averaged over ``nearby_along_ch``) is pen on the rule (0: off).
    Pen over print darkens it by the pen's own darkness (twice where the two are alike), but
    one line's pixels differ by up to 1.5 times across it (a 2 px line sampled off-centre),
    and lower ratios brought back pieces of such lines next to letters (validation grid
    pages: 1.4 34%, 1.7 17.8%, 2.0 17.5% CER; off 18.8%)."""

    nearby_along_ch: float = 4.0
    """Length (ch) along a rule over which its own darkness is averaged: lighting and print
    change slowly, and a letter's stroke along the rule is at most about one ch of it."""

    nearby_min_sw: float = 2.0
    """...in pieces at least this many sw long (grid crossings are doubled print on a spot
    the lines' thickness across)."""

    max_long_components: int = 150
    """A page with more components long enough to hold a rule than this is texture (wood
    grain, grass), not ruled paper (a ruled sheet has one per rule, a grid one in all); it
    is left to the sheet and clutter stages, at the cost of one labelling."""

    max_window_share: float = 1.0
    """Rules are looked for in the boxes of long components, longest first, until the boxes
    add up to this many times the page's area."""

    remnant_reach_sw: float = 0.5
    """Pixels within this many sw of a removed rule pixel are "on the rule"..."""

    remnant_share: float = 0.95
    """...and a component with at least this share of its pixels there..."""

    remnant_max_ch: float = 0.6
    """...no longer than this many ch is a remnant of the rule, removed with it (a letter
    touching a grid has most of its ink between the lines)."""

    remnant_pen_over_print: float = 1.0
    """When the kept ink's median darkness is at least this many times the removed print's
    (0: off), a small component's mean darkness says whether it is pen or print (the
    geometric mean of the two medians parts them; validation grid pages, 1.3 / 1.15 / 1.0:
    17.1 / 17.0 / 16.7% CER, 17.5% off)..."""

    remnant_loose_share: float = 0.2
    """...and a print-dark one goes with this share of its pixels by a removed rule (0.5 /
    0.3 / 0.2 with the above)."""

    max_thickness_ch: float = 0.25
    """A rule is at most this thick (ch): printed lines are hairlines next to the pen, while
    long dark things that are thick (a shadow's edge region, a desk beyond the sheet) are not
    rules and are left to the sheet and clutter stages."""

    grid_min_vertical: int = 5
    """With at least this many vertical rule segments in view the paper is a grid: its
    vertical lines are all long and found as rules, and box edges are not looked for (a
    letter written in a cell has stems running from one grid line to the next)."""

    box_edge_thickness: float = 1.3
    """...this many times the thickness of the rules it joins (handwritten stems are thicker
    than printed lines, and rarely run exactly from one line to the next)."""


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


def _runs_at_least(mask: BoolImage, length: int) -> BoolImage:
    """Pixels lying on a horizontal run of at least ``length`` True pixels (an opening by a
    1 x length line). Running sums: the cost is the same for any ``length``. An even window
    reaches one pixel further left than right, so the dilation is shifted back by one
    (origin -1) to cover the runs the erosion found, not the runs one pixel to the right."""
    m = mask.astype(np.float32)
    full = ndi.uniform_filter1d(m, length, axis=1, mode="constant") > (length - 0.5) / length
    back = -1 if length % 2 == 0 else 0
    grown = ndi.uniform_filter1d(
        full.astype(np.float32), length, axis=1, mode="constant", origin=back
    )
    return grown > 0.5 / length


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
        grown = ndi.maximum_filter1d(opened, join, axis=1)
        joined = ndi.minimum_filter1d(grown, join, axis=1) | opened
    labels, n = ndi.label(joined, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros_like(opened), 0
    pieces, n_pieces = ndi.label(opened, structure=np.ones((3, 3), bool))
    piece_width = np.zeros(n_pieces + 1, dtype=np.int64)
    for j, sl in enumerate(ndi.find_objects(pieces)):
        if sl is not None:
            piece_width[j + 1] = sl[1].stop - sl[1].start
    keep = np.zeros(n + 1, dtype=bool)
    for i, s in enumerate(ndi.find_objects(labels)):
        if s is None or s[1].stop - s[1].start < min_length:
            continue
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
    return keep[labels] & opened, int(keep.sum())


def _horizontal_rules(
    mask: BoolImage, scale: Scale, params: RuleParams
) -> tuple[BoolImage, int, float]:
    """Mask pixels on long, thin, nearly horizontal runs (for vertical rules pass mask.T)."""
    ch, sw = scale.char_height, scale.stroke_width
    slack = max(1, int(round(params.tilt_slack_sw * sw)))
    probe = max(3, int(round(params.probe_ch * ch)))
    bridge = max(1, int(round(params.gap_sw * sw)))
    grown = ndi.maximum_filter1d(mask, 2 * slack + 1, axis=0)
    grown = ndi.maximum_filter1d(grown, 2 * bridge + 1, axis=1)
    opened = _runs_at_least(grown, probe)
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
    dashes = ndi.minimum_filter1d(
        ndi.maximum_filter1d(mask, 2 * bridge + 1, axis=1), 2 * bridge + 1, axis=1
    )
    core = _runs_at_least(dashes | mask, max(3, int(round(params.core_run_sw * sw))))
    core = ndi.maximum_filter(core, size=3)
    rules = band & core & mask
    return rules, n, _thickness(rules)


def _reach_counts(keep: BoolImage, reach: int) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """For every pixel, how many ``keep`` pixels lie within ``reach`` above and below it in
    its column (cumulative sums: linear in the image)."""
    h = keep.shape[0]
    c = np.zeros((h + 1, keep.shape[1]), dtype=np.int32)
    np.cumsum(keep, axis=0, out=c[1:])
    y = np.arange(h)
    top = np.clip(y - reach, 0, h)
    bottom = np.clip(y + reach + 1, 0, h)
    above = c[y] - c[top]
    below = c[bottom] - c[np.minimum(y + 1, h)]
    return above, below


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
    wide = ndi.maximum_filter1d(kept, 3, axis=1)
    above, below = _reach_counts(wide, reach)
    crossing = (above > 0) & (below > 0)
    near = int(np.ceil(thick + sw))
    up, down = _reach_counts(mask, near)
    along = up + down + 1 >= thick + max(0.5 * sw, ALONG_MARGIN_PX)
    return rule & (crossing | along)


def _box_edges(
    mask: BoolImage, rules_h: BoolImage, thickness: float, scale: Scale, params: RuleParams
) -> tuple[BoolImage, int]:
    """Vertical straight runs joining two removed horizontal rules, as thin as the rules.
    ``mask`` is the page without any long rule (grid lines are no box edges to look at)."""
    if not rules_h.any():
        return np.zeros_like(mask), 0
    length = max(3, int(round(params.box_edge_ch * scale.char_height)))
    runs = _runs_at_least((mask & ~rules_h).T, length).T
    labels, n = ndi.label(runs, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros_like(mask), 0
    near_rule = ndi.binary_dilation(rules_h, iterations=2)
    limit = params.box_edge_thickness * max(1.0, thickness) + 1.0  # + a pixel of sampling
    area = np.bincount(labels.ravel(), minlength=n + 1)
    keep = np.zeros(n + 1, dtype=bool)
    last = mask.shape[0] - 1
    for i, s in enumerate(ndi.find_objects(labels)):
        if s is None:
            continue
        ys, xs = s
        width = area[i + 1] / (ys.stop - ys.start)
        if width > limit:
            continue
        top_hit = near_rule[max(0, ys.start - 1), xs].any()
        bottom_hit = near_rule[min(last, ys.stop), xs].any()
        keep[i + 1] = bool(top_hit and bottom_hit)
    return keep[labels] & mask, int(keep.sum())


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
    grown = ndi.maximum_filter1d(mask, gap + 1, axis=axis)
    return ndi.minimum_filter1d(grown, gap + 1, axis=axis)


def _remove_in(
    mask: BoolImage, scale: Scale, params: RuleParams
) -> tuple[BoolImage, int, int, int]:
    """Rule pixels to remove from one window of the mask, and the segment counts."""
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
        return np.zeros_like(mask), 0, 0, 0
    sw = scale.stroke_width
    reach_h = int(round(params.restore_reach_sw * sw + th))
    reach_v = int(round(params.restore_reach_sw * sw + tv))
    edges, nb = np.zeros_like(mask), 0
    if nv < params.grid_min_vertical:  # on a grid every printed line is long and found
        edges, nb = _box_edges(mask & ~v_rules, h_rules, th, scale, params)
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
    return rules & ~back, nh, nv, nb


def _longest_sides(labels: NDArray[np.int32], n: int) -> NDArray[np.intp]:
    """The longer side (px) of each labelled piece's box, indexed by label (0: 0)."""
    sides = np.zeros(n + 1, dtype=np.intp)
    for i, sl in enumerate(ndi.find_objects(labels)):
        if sl is not None:
            sides[i + 1] = max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start)
    return sides


def _band(lines: NDArray[np.bool_], reach: int) -> NDArray[np.intp]:
    """Indices of the ``lines`` that are True or within ``reach`` of one that is."""
    if reach > 0:
        lines = ndi.maximum_filter1d(lines.astype(np.uint8), 2 * reach + 1) > 0
    return np.flatnonzero(lines)


def _darker_than_nearby_rule(
    dark: FloatImage, removed: BoolImage, scale: Scale, params: RuleParams
) -> BoolImage:
    """Removed pixels clearly darker than the rule they lie on: pen laid over a printed line
    darkens it (ink and print both absorb), however dark the pen is next to the rule, so a
    bar or stem written along a grid line stands out from that line where the page-wide
    comparison of :func:`_darker_than_rules` cannot (a dark grey grid under a light pen).
    Each line is its own reference (the lines of one grid differ in darkness by their
    sampling), taken along it: rows for horizontal rules, columns for vertical ones."""
    ch, sw = scale.char_height, scale.stroke_width
    run = max(3, int(round(params.core_run_sw * sw)))
    long = max(3, int(round(params.nearby_along_ch * ch)))
    short = max(3, 2 * int(round(0.5 * sw)) + 1)
    across = 2 * int(np.ceil(sw)) + 1
    darker = np.zeros_like(removed)
    for axis in (1, 0):  # horizontal rules along rows, vertical ones along columns
        # Rules lying along rows, whichever axis: the filters then run on the rows holding
        # rule pixels and their neighbours only (a form or lined page is mostly rule-free).
        rem = removed if axis == 1 else removed.T
        on_all = _runs_at_least(rem, run)
        rows = _band(np.any(on_all, axis=1), across // 2)
        on = on_all[rows]
        w = np.where(on & rem[rows], (dark if axis == 1 else dark.T)[rows], np.float32(0))
        n = on.astype(np.float32)
        # Across the rule the reference reaches a stroke width each side: a stem written along
        # a line is rarely centred on it, and its pixels' own column holds no print. Rows
        # outside the band are no rule's neighbours, so skipping them changes no value on it.
        ref = ndi.uniform_filter(w, (across, long)) / np.maximum(
            ndi.uniform_filter(n, (across, long)), np.float32(1e-6)
        )
        local = ndi.uniform_filter1d(w, short, axis=1) / np.maximum(
            ndi.uniform_filter1d(n, short, axis=1), np.float32(1e-6)
        )
        found = np.zeros_like(on_all)
        found[rows] = on & (local >= params.nearby_ratio * ref)
        darker |= found if axis == 1 else found.T
    # Only pieces a stroke's length long: where grid lines cross, the print is doubled on a
    # spot the size of the lines' thickness.
    labels, n = ndi.label(darker, structure=np.ones((3, 3), bool))
    if n == 0:
        return darker
    keep = _longest_sides(labels, n) >= params.nearby_min_sw * sw
    keep[0] = False
    # With the stroke's blurred edges, half as dark as its core and no darker than the print.
    return ndi.maximum_filter(keep[labels], size=3) & removed


def _darker_than_rules(
    ink: FloatImage, mask: BoolImage, removed: BoolImage, scale: Scale, params: RuleParams
) -> BoolImage:
    """Removed pixels as dark as the pen: where a stroke crosses a printed rule (or lies on
    it) the ink is the pen's, and notebook rules are printed much lighter than pens write;
    and pixels darker than the rules near them (:func:`_darker_than_nearby_rule`)."""
    rule = float(np.percentile(ink[removed], RULE_PERCENTILE))
    kept = ink[mask & ~removed]
    if kept.size == 0 or rule <= 0.0:
        return np.zeros_like(removed)
    pen = float(np.percentile(kept, PEN_PERCENTILE))
    dark = np.zeros_like(removed)
    if pen >= params.pen_over_rule * rule:
        dark = removed & (ink >= np.sqrt(pen * rule))
    if params.nearby_ratio > 0:
        dark |= _darker_than_nearby_rule(ink, removed, scale, params)
    # Only short dark pieces touching kept ink: a rule printed darker in places (or a darker
    # family of grid lines) is long, a stroke's crossing is short and joins the stroke.
    labels, n = ndi.label(dark, structure=np.ones((3, 3), bool))
    if n == 0:
        return dark
    touching = np.zeros(n + 1, dtype=bool)
    touching[labels[ndi.maximum_filter(mask & ~removed, size=3) & dark]] = True
    touching[_longest_sides(labels, n) > params.restore_max_ch * scale.char_height] = False
    touching[0] = False
    return touching[labels]


def _remnants(
    rest: BoolImage,
    removed: BoolImage,
    scale: Scale,
    params: RuleParams,
    dark: FloatImage | None = None,
) -> BoolImage:
    """Leftover bits of removed rules: small components lying almost wholly within a few
    pixels of removed rule pixels (a faint rule binarizes as dashes and ragged edges, and on
    grid paper thousands of them would outnumber the letters). With the darkness known and
    the pen clearly darker than the print, a bit as dark as the pen stays (a full stop
    written on a grid line), and one as light as the print goes when only half of it lies
    by a removed rule (a dash of a rule too broken to be found there)."""
    reach = max(2, int(round(params.remnant_reach_sw * scale.stroke_width)))
    near = ndi.maximum_filter(removed, size=2 * reach + 1)
    labels, n = ndi.label(rest, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros_like(rest)
    total = np.bincount(labels.ravel(), minlength=n + 1)
    inside = np.bincount(labels[near & rest], minlength=n + 1)
    drop = inside >= params.remnant_share * total
    if dark is not None and params.remnant_pen_over_print > 0:
        pen = float(np.median(dark[rest]))
        printed = float(np.median(dark[removed]))
        if printed > 0 and pen >= params.remnant_pen_over_print * printed:
            summed = np.bincount(labels.ravel(), weights=dark.ravel(), minlength=n + 1)
            level = summed / np.maximum(total, 1)
            pen_like = level >= np.sqrt(pen * printed)
            loose = inside >= params.remnant_loose_share * total
            drop = (drop | loose) & ~pen_like
    drop[_longest_sides(labels, n) > params.remnant_max_ch * scale.char_height] = False
    drop[0] = False
    return drop[labels]


Darkness = Callable[[], Sequence[FloatImage]]
"""Darkness maps of the page to tell pen from print by (e.g. of its darkest and brightest
colour channels), computed only when asked: only ruled pages need them."""


def _most_telling(
    maps: Sequence[FloatImage], mask: BoolImage, removed: BoolImage
) -> FloatImage | None:
    """The map where the kept ink (the pen) is darkest next to the removed print, by their
    medians: a black pen on blue rules stands out in the brightest channel (the rules are
    bright there), a blue pen on grey rules in the darkest."""
    best, best_ratio = None, -1.0
    kept = mask & ~removed
    if not kept.any():
        return maps[0] if maps else None
    for m in maps:
        printed = float(np.median(m[removed]))
        ratio = float(np.median(m[kept])) / max(printed, 1e-3)
        if ratio > best_ratio:
            best, best_ratio = m, ratio
    return best


def remove_rules(
    ink: FloatImage,
    mask: BoolImage,
    scale: Scale,
    params: RuleParams = RuleParams(),
    comps: Components | None = None,
    dark: FloatImage | Darkness | None = None,
) -> RulesRemoved:
    """Remove horizontal and vertical printed rules and box edges from the ink map and mask,
    keeping the pixels where handwriting crosses them. ``comps``: the mask's components if
    known already; ``dark``: the unsaturated darkness (:attr:`PreparedPage.dark`), or a
    function giving such maps (asked only when rules were found): it tells pen from print
    where the ink map has both at its ceiling (else the ink map is used)."""
    comps = comps if comps is not None else find_components(mask)
    removed = np.zeros_like(mask)
    counts = np.zeros(3, dtype=np.int64)
    for win in _windows(comps, scale, params, mask.shape):
        gone, nh, nv, nb = _remove_in(mask[win] & ~removed[win], scale, params)
        removed[win] |= gone
        counts += (nh, nv, nb)
    if not removed.any():
        return RulesRemoved(ink, mask, removed, 0, 0, 0, comps)
    maps = [dark] if isinstance(dark, np.ndarray) else list(dark()) if dark is not None else []
    best = _most_telling(maps, mask, removed)
    darkness = ink if best is None else best
    removed &= ~_darker_than_rules(darkness, mask, removed, scale, params)
    removed |= _remnants(mask & ~removed, removed, scale, params, best)
    new_mask = mask & ~removed
    new_ink = np.where(new_mask, ink, np.float32(0.0)).astype(np.float32)
    nh, nv, nb = (int(c) for c in counts)
    return RulesRemoved(new_ink, new_mask, removed, nh, nv, nb, None)


SCALE_PROBE_CHARS: float = 40.0
"""Before the character height is known, rules are looked for as if characters were the
image's long side over this (a page of 15-25 lines): rules span far more than that, and the
strokes of letters far less."""


SHAPE_ONLY = RuleParams(nearby_ratio=0.0)
"""Rule removal on a mask alone: every pixel of a mask is equally dark, so the comparison of
a pixel with its own rule (:func:`_darker_than_nearby_rule`, the costliest step) finds
nothing there and is not made."""


def without_rules(mask: BoolImage, scale: Scale | None = None) -> BoolImage:
    """``mask`` without printed rules, to measure the writing's size on (see
    :func:`ocr.stages.binarize.prepare_page`); the same array when there are none."""
    if scale is None:
        ch = max(mask.shape) / SCALE_PROBE_CHARS
        scale = Scale(char_height=ch, stroke_width=max(1.0, ch / 10))
    out = remove_rules(mask.astype(np.float32), mask, scale, SHAPE_ONLY)
    return out.mask
