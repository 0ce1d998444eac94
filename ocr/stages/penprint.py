"""Which pixels removed as printed rules are the pen's: where a stroke crosses a rule or lies
along it, or a full stop sits on it, the rule stage's geometry alone takes the pen's ink with
the print. Told by darkness: a pen is darker than light print, pen over print is darker than
the print beside it, and a small leftover bit as dark as the pen is the pen's.

Every function takes the removed pixels of :func:`ocr.stages.rules.remove_rules` and gives
back a mask of pixels to keep or drop; parameters are :class:`ocr.stages.ruleparams.RuleParams`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, FloatImage, Scale
from ocr.stages.ruleparams import RuleParams
from ocr.stages.runs import grow, longest_sides, runs_at_least

RULE_PERCENTILE: float = 90.0
"""Percentile of removed pixels' darkness taken as the rules' (their cores: the median would
be the blurred edges, and rule cores would pass for pen)."""

PEN_PERCENTILE: float = 75.0
"""Percentile of the kept ink's darkness taken as the pen's (strokes' cores, not edges)."""


def _band(lines: NDArray[np.bool_], reach: int) -> NDArray[np.intp]:
    """Indices of the ``lines`` that are True or within ``reach`` of one that is."""
    if reach > 0:
        lines = ndi.maximum_filter1d(lines.astype(np.uint8), 2 * reach + 1) > 0
    return np.flatnonzero(lines)


def darker_than_nearby_rule(
    dark: FloatImage, removed: BoolImage, scale: Scale, params: RuleParams
) -> BoolImage:
    """Removed pixels clearly darker than the rule they lie on: pen laid over a printed line
    darkens it (ink and print both absorb), however dark the pen is next to the rule, so a
    bar or stem written along a grid line stands out from that line where the page-wide
    comparison of :func:`pen_on_rules` cannot (a dark grey grid under a light pen).
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
        on_all = runs_at_least(rem, run)
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
    keep = longest_sides(labels, n) >= params.nearby_min_sw * sw
    keep[0] = False
    # With the stroke's blurred edges, half as dark as its core and no darker than the print.
    return grow(keep[labels], 1) & removed


def pen_on_rules(
    ink: FloatImage, mask: BoolImage, removed: BoolImage, scale: Scale, params: RuleParams
) -> BoolImage:
    """Removed pixels as dark as the pen: where a stroke crosses a printed rule (or lies on
    it) the ink is the pen's, and notebook rules are printed much lighter than pens write;
    and pixels darker than the rules near them (:func:`darker_than_nearby_rule`)."""
    rule = float(np.percentile(ink[removed], RULE_PERCENTILE))
    kept = ink[mask & ~removed]
    if kept.size == 0 or rule <= 0.0:
        return np.zeros_like(removed)
    pen = float(np.percentile(kept, PEN_PERCENTILE))
    dark = np.zeros_like(removed)
    if pen >= params.pen_over_rule * rule:
        dark = removed & (ink >= np.sqrt(pen * rule))
    if params.nearby_ratio > 0:
        dark |= darker_than_nearby_rule(ink, removed, scale, params)
    # Only short dark pieces touching kept ink: a rule printed darker in places (or a darker
    # family of grid lines) is long, a stroke's crossing is short and joins the stroke.
    labels, n = ndi.label(dark, structure=np.ones((3, 3), bool))
    if n == 0:
        return dark
    touching = np.zeros(n + 1, dtype=bool)
    touching[labels[grow(mask & ~removed, 1) & dark]] = True
    touching[longest_sides(labels, n) > params.restore_max_ch * scale.char_height] = False
    touching[0] = False
    return touching[labels]


def print_given_back(
    dark: FloatImage,
    mask: BoolImage,
    removed: BoolImage,
    given: BoolImage,
    scale: Scale,
    params: RuleParams,
) -> BoolImage:
    """Pixels the rules stage gave back by shape (``given``: a stroke crossing a rule or lying
    along it) that are print after all: on ``dark`` (the map telling pen from print) nearer
    the print's median than the pen's, in pieces at least ``print_back_min_sw`` long. On a
    dark grid a letter's strokes near a line make the line thick there, and the line came
    back through the letter (a P read B, an O read Q); where a stroke crosses a rule the two
    mix over a stroke's width only, and stay."""
    kept = mask & ~removed & ~given
    if not kept.any() or not removed.any() or not given.any():
        return np.zeros_like(mask)
    pen = float(np.median(dark[kept]))
    printed = float(np.median(dark[removed]))
    if pen < params.pen_over_rule * printed:
        return np.zeros_like(mask)  # the map does not part them clearly
    print_like = given & (dark < printed + params.print_back_share * (pen - printed))
    labels, n = ndi.label(print_like, structure=np.ones((3, 3), bool))
    if n == 0:
        return print_like
    keep = longest_sides(labels, n) >= params.print_back_min_sw * scale.stroke_width
    keep[0] = False
    return keep[labels]


def remnants(
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
    near = grow(removed, reach)
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
    drop[longest_sides(labels, n) > params.remnant_max_ch * scale.char_height] = False
    drop[0] = False
    return drop[labels]


Darkness = Callable[[], Sequence[FloatImage]]
"""Darkness maps of the page to tell pen from print by (e.g. of its darkest and brightest
colour channels), computed only when asked: only ruled pages need them."""


def pen_colour(
    channels: NDArray[np.float32], mask: BoolImage, removed: BoolImage, params: RuleParams
) -> FloatImage | None:
    """A darkness map along the colour that parts the pen from the print, when their colours
    differ (``RuleParams.pen_colour_shift``); else None. ``channels``: (H, W, 3) darkness per
    colour channel (:func:`ocr.stages.darkness.channel_darkness`). Each pixel's channel
    darkness is projected on the direction from the print's median to the pen's: pen high,
    print about 0, pen laid over print in between and high where the pen dominates."""
    kept = mask & ~removed
    if not kept.any() or not removed.any():
        return None
    pen = np.median(channels[kept], axis=0)
    printed = np.median(channels[removed], axis=0)
    shares = pen / max(float(pen.sum()), 1e-3) - printed / max(float(printed.sum()), 1e-3)
    if float(np.abs(shares).max()) < params.pen_colour_shift:
        return None
    towards = (pen - printed) / max(float(np.linalg.norm(pen - printed)), 1e-6)
    # The print's own darkness plus each pixel's step from the print's colour towards the
    # pen's: print stays as dark as it is (so the ratios of the darkness tests keep their
    # meaning), pen stands out by the distance between the two colours.
    step = (channels - printed.astype(np.float32)) @ towards.astype(np.float32)
    along = np.float32(printed.max()) + step
    return np.where(mask, np.maximum(along, np.float32(0.0)), np.float32(0.0)).astype(np.float32)


def most_telling(
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
