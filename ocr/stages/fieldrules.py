"""Printed horizontal rules of a form -> found on the faint darkness map, fitted as lines.

A form's printed frame is the straightest, longest thing on the sheet: horizontal rules far
longer than any stroke of a capital. They are found on the faint darkness map rather than on
the ink mask, so light drop-out colours (red, blue, grey), which binarization mostly leaves
out, are still found. Split from :mod:`ocr.stages.fields`; lengths relative to the page's
:class:`ocr.stages.binarize.Scale`, coordinates in working pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, FloatImage, Scale, darkness_over, estimate_background
from ocr.stages.fieldparams import FieldParams
from ocr.stages.runs import max_filter1d, runs_at_least


@dataclass(frozen=True)
class Rule:
    """A horizontal printed line: ``y = y0 + slope * (x - x0)`` from ``x0`` to ``x1``."""

    x0: int
    x1: int
    y0: float
    slope: float
    thickness: float
    darkness: float
    """The 90th percentile of the line's darkness: blur makes a thin line uneven, and only
    ink darker than its darkest parts is ink over it."""

    sided: bool = False
    """Ink lines one side of it in most columns: the aligned feet or tops of a row of
    printed capitals, or the rule of a comb row whose letters sit on it. Such a rule counts
    only as an edge of a box row (its dividers are evidence no row of print gives)."""

    def y_at(self, x: float) -> float:
        return self.y0 + self.slope * (x - self.x0)


POOL: int = 2
"""Rules are searched on the faint map OR-pooled by this factor in both directions: a thin
line survives pooling, and the long-run search costs a quarter."""


def darkness(grey: FloatImage, scale: Scale, params: FieldParams) -> FloatImage:
    """1 - grey / paper. The paper level is estimated on a 4x block-averaged copy (it varies
    over many characters; a thin rule barely moves a block's mean) and upsampled."""
    k = 4
    h, w = grey.shape
    small = grey[: h // k * k, : w // k * k].reshape(h // k, k, w // k, k).mean(axis=(1, 3))
    bg_small = estimate_background(
        small.astype(np.float32), params.background_ch * scale.char_height / k
    )
    bg = np.asarray(
        Image.fromarray(bg_small, mode="F").resize((w, h), Image.Resampling.BILINEAR),
        dtype=np.float32,
    )
    d = darkness_over(grey, bg).astype(np.float32)
    return np.clip(d, 0.0, 1.0, out=d)


def _pool(m: BoolImage) -> BoolImage:
    h, w = m.shape
    p = POOL
    body = m[: h // p * p, : w // p * p]
    out = np.zeros((h // p, w // p), dtype=bool)
    for dy in range(p):  # p * p strided ORs: far cheaper than a reshape-any
        for dx in range(p):
            out |= body[dy::p, dx::p]
    return out


def find_rules(faint: BoolImage, dark: FloatImage, scale: Scale, params: FieldParams) -> list[Rule]:
    """Long thin horizontal lines, each fitted with a straight line through its pixels.

    Found on the pooled map; each line's own pixels are then the faint pixels of its band in
    columns no thicker than the line (a stroke crossing the line makes its column thick)."""
    ch, sw = scale.char_height, scale.stroke_width
    small = _pool(faint)
    slack = max(1, int(round(params.tilt_slack_sw * sw / POOL)))
    grown = max_filter1d(small, 2 * slack + 1, axis=0)
    bridge = max(1, int(round(params.bridge_ch * ch / POOL)))
    grown = max_filter1d(grown, bridge, axis=1)
    length = max(5, int(round(params.min_rule_ch * ch)))
    band = runs_at_least(grown, max(3, length // POOL), axis=1)
    labels, n = ndi.label(band, structure=np.ones((3, 3), bool))
    rules: list[Rule] = []
    h, w = faint.shape
    for i, s in enumerate(ndi.find_objects(labels)):
        if s is None or (s[1].stop - s[1].start) * POOL < length:
            continue
        ya, yb = s[0].start * POOL, min(h, s[0].stop * POOL)
        xa, xb = s[1].start * POOL, min(w, s[1].stop * POOL)
        own = (
            faint[ya:yb, xa:xb]
            & np.repeat(np.repeat(labels[s] == i + 1, POOL, axis=0), POOL, axis=1)[
                : yb - ya, : xb - xa
            ]
        )
        counts = own.sum(axis=0)
        filled = counts > 0
        if filled.sum() < length // 2:
            continue
        thickness = float(np.median(counts[filled]))
        if thickness > max(params.max_thickness_ch * ch, params.max_thickness_sw * sw):
            continue
        clean = filled & (counts <= 2 * thickness + 1)
        ys, xs = np.nonzero(own & clean[None, :])
        if len(xs) < length // 2:
            continue
        ys = ys + ya
        xs = xs + xa
        x0, x1 = int(xs.min()), int(xs.max()) + 1
        # Fitted and judged on the columns holding the line alone where there are enough:
        # letters sitting on a comb's rule or hanging from it put pixels off the line in
        # the columns they touch, which a row of print is made of but a rule is not.
        pure = (counts <= thickness + 1)[xs - xa]
        fit = pure if pure.sum() >= length // 2 else np.ones_like(pure)
        slope, icpt = np.polyfit(xs[fit].astype(np.float64), ys[fit].astype(np.float64), 1)
        near = np.abs(ys - (icpt + slope * xs)) <= thickness / 2 + 1
        cx = np.arange(x0, x1)
        cy = icpt + slope * cx
        # A column a stroke made thick still holds the line where the fit passes; a clean
        # column holds it when one of its pixels is near the fit.
        line_cols = faint[np.clip(np.round(cy).astype(np.intp), 0, h - 1), cx] & ~clean[cx - xa]
        line_cols[xs[near] - x0] = True
        if near[fit].mean() < params.straight_share or line_cols.mean() < params.straight_share:
            continue  # a row of printed letters: pixels off any one line, gaps between them
        off = int(np.ceil(thickness / 2)) + 2
        above = faint[np.clip(np.round(cy - off).astype(np.intp), 0, h - 1), cx].mean()
        # Below, a band from the same row on: the tops of a row of print run together into a
        # line (the top bars of EFERE in a narrow font) have the letters' bodies below them
        # in most columns, a little further off than the feet's stems; an underline has
        # paper below it. (The band's first row is the one just beside, so it covers both.)
        reach = max(1, int(round(params.below_band_ch * ch)))
        rows = np.round(cy + off).astype(np.intp)[None, :] + np.arange(reach)[:, None]
        below = faint[np.clip(rows, 0, h - 1), cx[None, :]].any(axis=0).mean()
        rules.append(
            Rule(
                x0,
                x1,
                float(icpt + slope * x0),
                float(slope),
                thickness,
                float(np.percentile(dark[ys, xs], 90)),
                max(above, below) > params.side_ink_share,
            )
        )
    return sorted(rules, key=lambda r: (r.y0, r.x0))


def join_pieces(
    rules: list[Rule], mask: BoolImage, scale: Scale, params: FieldParams
) -> list[Rule]:
    """Rules that continue one another across a short gap with no ink in it are one rule: a
    1 px light drop-out line loses contrast in places at the working resolution and is found
    in pieces (a label between two underlines on one row is ink in the gap). Across a gap of
    at most ``join_short_ch`` they join whatever is in it: a stroke written onto the line
    makes its columns thick, and cuts it there (no label is that short)."""
    ch = scale.char_height
    out = sorted(rules, key=lambda r: r.x0)
    joined = True
    while joined:
        joined = False
        for i, a in enumerate(out):
            for j, b in enumerate(out):
                if j == i or b.x0 < a.x0 or b.x0 - a.x1 > params.join_gap_ch * ch:
                    continue
                # Overlapping pieces (ends carried on by extend_ends) on one line are one.
                at = min(a.x1, b.x0)
                step = abs(a.y_at(at) - b.y_at(at))
                if step > max(2.0, a.thickness, b.thickness):
                    continue
                if b.x0 > a.x1:
                    y = int(round(a.y_at((a.x1 + b.x0) / 2)))
                    reach = max(1, int(round(0.5 * ch)))
                    gap = mask[max(0, y - reach) : y + reach + 1, a.x1 : b.x0]
                    short = b.x0 - a.x1 <= params.join_short_ch * ch
                    if not short and gap.any(axis=0).mean() > params.join_ink_share:
                        continue
                end = b if b.x1 >= a.x1 else a
                ya, yb = a.y_at(a.x0), end.y_at(end.x1 - 1)
                slope = (yb - ya) / max(1, end.x1 - 1 - a.x0)
                merged = Rule(
                    a.x0,
                    end.x1,
                    ya,
                    slope,
                    max(a.thickness, b.thickness),
                    max(a.darkness, b.darkness),
                    a.sided or b.sided,
                )
                out = [r for k, r in enumerate(out) if k not in (i, j)] + [merged]
                out.sort(key=lambda r: r.x0)
                joined = True
                break
            if joined:
                break
    return sorted(out, key=lambda r: (r.y0, r.x0))


def extend_ends(
    rules: list[Rule], line: BoolImage, mask: BoolImage, scale: Scale, params: FieldParams
) -> list[Rule]:
    """Each rule carried on along its fitted line over line pixels that are not ink, across
    gaps up to ``extend_gap_ch`` (ink counts as gap): a light drop-out underline loses its
    pixels next to the first letters written on it, and the piece before them is too short
    to be found as a rule, so the field would start inside its value. Printed letters next to
    a line are ink with paper between them, so the walk never runs into a label."""
    h, w = line.shape
    gap = max(2, int(round(params.extend_gap_ch * scale.char_height)))
    free = line & ~mask
    out = []
    for r in rules:
        ends = []
        for start, step in ((r.x0 - 1, -1), (r.x1, 1)):
            last, x = start - step, start
            while 0 <= x < w and abs(x - last) <= gap:
                y = int(round(r.y_at(x)))
                if free[max(0, y - 1) : min(h, y + 2), x].any():
                    last = x
                x += step
            ends.append(last)
        x0, x1 = ends[0], ends[1] + 1
        out.append(replace(r, x0=x0, x1=x1, y0=r.y_at(x0)) if (x0, x1) != (r.x0, r.x1) else r)
    return out
