"""Printed form fields -> found, their lines removed from the ink, comb cells cut.

A form's printed frame is the straightest, longest thing on the sheet: horizontal rules far
longer than any stroke of a capital, and, in box rows, vertical edges that run exactly from
the row's top rule to its bottom rule, which handwriting almost never does. This stage finds

- **comb rows**: a top and a bottom rule joined by regularly spaced full-height dividers
  (one character per cell),
- **single boxes**: the same with dividers only at the two ends,
- **underline fields**: a rule with no partner (``NAME: ______``),

removes the printed pixels from the ink map while keeping the pixels where a handwritten
stroke crosses a rule (ink continues on both sides of it, or is much darker than a light
drop-out line), and gives each comb cell's own ink as one character crop. Rules are found on
the faint darkness map rather than on the ink mask, so light drop-out colours (red, blue,
grey), which binarization mostly leaves out, still frame their fields.

Every length is relative to the page's character height (ch) or stroke width (sw) of
:class:`ocr.stages.binarize.Scale`; coordinates are working-image pixels, boxes half-open.
(Issue 10's rule removal stage for lined paper was not on main when this was written; the
two share the idea and should be reconciled.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, FloatImage, Scale, estimate_background
from ocr.stages.fieldparams import DEFAULT_FIELD_PARAMS, FieldParams
from ocr.stages.segment import CharBox, Glyph

FieldKind = Literal["comb", "box", "underline"]


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

    def y_at(self, x: float) -> float:
        return self.y0 + self.slope * (x - self.x0)


@dataclass(frozen=True)
class FoundField:
    """One field in working pixels: its frame, and for combs the cells' x edges."""

    kind: FieldKind
    x0: int
    y0: int
    x1: int
    y1: int
    cells: tuple[int, ...] = ()
    """Comb divider x positions (cells + 1 of them)."""


@dataclass
class FieldsFound:
    fields: list[FoundField]
    ink: FloatImage
    mask: BoolImage
    """The page without its printed lines (and without the comb cells' ink, which is read
    from ``cell_glyphs``)."""
    cell_glyphs: dict[int, list[Glyph | None]] = field(default_factory=dict)
    """Per comb field (index into ``fields``): each cell's glyph, None for an empty cell."""
    removed: int = 0
    """Printed pixels removed from the mask."""


MIN_SIDE_PX: int = 16
"""Images with a shorter side have no room for a field and are left as they are."""

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
    d = (1.0 - grey / np.maximum(bg, np.float32(1e-3))).astype(np.float32)
    return np.clip(d, 0.0, 1.0, out=d)


def _runs_at_least(m: BoolImage, length: int, axis: int) -> BoolImage:
    """Pixels on a run of at least ``length`` True pixels along ``axis`` (an opening by a
    line; running sums, so the cost does not grow with the length)."""
    f = ndi.uniform_filter1d(m.astype(np.float32), length, axis=axis, mode="constant")
    full = f > (length - 0.5) / length
    g = ndi.uniform_filter1d(full.astype(np.float32), length, axis=axis, mode="constant")
    return g > 0.5 / length


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
    grown = ndi.maximum_filter1d(small, 2 * slack + 1, axis=0)
    bridge = max(1, int(round(params.bridge_ch * ch / POOL)))
    grown = ndi.maximum_filter1d(grown, bridge, axis=1)
    length = max(5, int(round(params.min_rule_ch * ch)))
    band = _runs_at_least(grown, max(3, length // POOL), axis=1)
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
        slope, icpt = np.polyfit(xs.astype(np.float64), ys.astype(np.float64), 1)
        near = np.abs(ys - (icpt + slope * xs)) <= thickness / 2 + 1
        line_cols = np.zeros(x1 - x0, dtype=bool)
        line_cols[xs[near] - x0] = True
        if near.mean() < params.straight_share or line_cols.mean() < params.straight_share:
            continue  # a row of printed letters: pixels off any one line, gaps between them
        cx = np.arange(x0, x1)
        cy = icpt + slope * cx
        off = int(np.ceil(thickness / 2)) + 2
        above = faint[np.clip(np.round(cy - off).astype(np.intp), 0, h - 1), cx].mean()
        below = faint[np.clip(np.round(cy + off).astype(np.intp), 0, h - 1), cx].mean()
        if max(above, below) > params.side_ink_share:
            continue  # the aligned feet or tops of a row of printed capitals
        rules.append(
            Rule(
                x0,
                x1,
                float(icpt + slope * x0),
                float(slope),
                thickness,
                float(np.percentile(dark[ys, xs], 90)),
            )
        )
    return sorted(rules, key=lambda r: (r.y0, r.x0))


def join_pieces(
    rules: list[Rule], mask: BoolImage, scale: Scale, params: FieldParams
) -> list[Rule]:
    """Rules that continue one another across a short gap with no ink in it are one rule: a
    1 px light drop-out line loses contrast in places at the working resolution and is found
    in pieces (a label between two underlines on one row is ink in the gap)."""
    ch = scale.char_height
    out = sorted(rules, key=lambda r: r.x0)
    joined = True
    while joined:
        joined = False
        for i, a in enumerate(out):
            for j, b in enumerate(out):
                if j == i or b.x0 <= a.x1 or b.x0 - a.x1 > params.join_gap_ch * ch:
                    continue
                step = abs(a.y_at(a.x1) - b.y_at(b.x0))
                if step > max(2.0, a.thickness, b.thickness):
                    continue
                y = int(round(a.y_at((a.x1 + b.x0) / 2)))
                reach = max(1, int(round(0.5 * ch)))
                gap = mask[max(0, y - reach) : y + reach + 1, a.x1 : b.x0]
                if gap.any(axis=0).mean() > params.join_ink_share:
                    continue
                ya, yb = a.y_at(a.x0), b.y_at(b.x1 - 1)
                slope = (yb - ya) / max(1, b.x1 - 1 - a.x0)
                merged = Rule(
                    a.x0,
                    b.x1,
                    ya,
                    slope,
                    max(a.thickness, b.thickness),
                    max(a.darkness, b.darkness),
                )
                out = [r for k, r in enumerate(out) if k not in (i, j)] + [merged]
                out.sort(key=lambda r: r.x0)
                joined = True
                break
            if joined:
                break
    return sorted(out, key=lambda r: (r.y0, r.x0))


def _column_fill(
    faint: BoolImage, top: Rule, bottom: Rule, x0: int, x1: int
) -> NDArray[np.float64]:
    """Share of line-dark pixels in each column strictly between the two rules (cumulative
    sums over the pair's own rows only)."""
    xs = np.arange(x0, x1)
    ya = np.ceil(top.y0 + top.slope * (xs - top.x0) + top.thickness / 2 + 1).astype(np.intp)
    yb = np.floor(bottom.y0 + bottom.slope * (xs - bottom.x0) - bottom.thickness / 2 - 1)
    h = faint.shape[0]
    ya = np.clip(ya, 0, h)
    yb = np.clip(np.maximum(yb.astype(np.intp), ya), 0, h)
    r0, r1 = int(ya.min()), int(yb.max())
    csum = np.zeros((r1 - r0 + 1, x1 - x0), dtype=np.int32)
    np.cumsum(faint[r0:r1, x0:x1], axis=0, out=csum[1:])
    cols = xs - x0
    n = csum[yb - r0, cols] - csum[ya - r0, cols]
    return np.where(yb > ya, n / np.maximum(yb - ya, 1), 0.0)


def _dividers(fill: NDArray[np.float64], x0: int, params: FieldParams, ch: float) -> list[int]:
    """Centres of runs of full columns; runs closer than ``min_cell_ch`` are one edge."""
    full = fill >= params.divider_fill
    out: list[int] = []
    xs = np.flatnonzero(full)
    if not len(xs):
        return out
    start = prev = int(xs[0])
    for x in [*xs[1:].tolist(), None]:
        if x is not None and x - prev <= max(2, params.min_cell_ch * ch):
            prev = x
            continue
        out.append(x0 + (start + prev) // 2)
        if x is not None:
            start = prev = x
    return out


def _merge_halves(edges: list[int], params: FieldParams) -> list[int]:
    """Drop a divider that splits one cell into two narrow intervals (a handwritten stem)."""
    if len(edges) < 4:
        return edges
    med = float(np.median(np.diff(edges)))
    out = list(edges)
    changed = True
    while changed and len(out) > 3:
        changed = False
        widths = np.diff(out)
        for k in range(1, len(out) - 1):
            if min(widths[k - 1], widths[k]) < params.cell_merge * med and (
                widths[k - 1] + widths[k] < 1.4 * med
            ):
                del out[k]
                changed = True
                break
    return out


def pair_boxes(
    rules: list[Rule], faint: BoolImage, scale: Scale, params: FieldParams
) -> tuple[list[FoundField], set[int]]:
    """Box rows (comb or single) from pairs of rules joined by vertical edges at both ends;
    returns them and the indices of the rules they used."""
    ch = scale.char_height
    used: set[int] = set()
    found: list[FoundField] = []
    lo, hi = params.box_height_ch
    for i, top in enumerate(rules):
        if i in used:
            continue
        for j in range(i + 1, len(rules)):
            bottom = rules[j]
            if j in used:
                continue
            xa, xb = max(top.x0, bottom.x0), min(top.x1, bottom.x1)
            if xb - xa < 0.8 * min(top.x1 - top.x0, bottom.x1 - bottom.x0):
                continue
            gap = bottom.y_at((xa + xb) / 2) - top.y_at((xa + xb) / 2)
            if gap < lo * ch:
                continue
            if gap > hi * ch:
                break
            pad = int(round(0.3 * ch))
            fx0, fx1 = max(0, xa - pad), min(faint.shape[1], xb + pad)
            fill = _column_fill(faint, top, bottom, fx0, fx1)
            edges = _dividers(fill, fx0, params, ch)
            if len(edges) < 2 or edges[0] > xa + pad or edges[-1] < xb - pad:
                continue  # no edges at both ends: two rules of neighbouring rows
            edges = _merge_halves(edges, params)
            y0 = int(np.floor(min(top.y_at(xa), top.y_at(xb)) - top.thickness / 2))
            y1 = int(np.ceil(max(bottom.y_at(xa), bottom.y_at(xb)) + bottom.thickness / 2)) + 1
            kind: FieldKind = "comb" if len(edges) > 2 else "box"
            found.append(
                FoundField(
                    kind, edges[0], y0, edges[-1] + 1, y1, tuple(edges) if kind == "comb" else ()
                )
            )
            used.update((i, j))
            break
    return found, used


def _sides(
    mask: BoolImage,
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
    lo: NDArray[np.intp],
    hi: NDArray[np.intp],
    reach: int,
    axis: int,
) -> NDArray[np.bool_]:
    """For each position, is there ink within ``reach`` before ``lo`` and after ``hi`` along
    ``axis`` (0: in its column, 1: in its row)? One vectorized look per offset."""
    h, w = mask.shape
    before = np.zeros(len(lo), dtype=bool)
    after = np.zeros(len(lo), dtype=bool)
    for d in range(1, reach + 1):
        if axis == 0:
            before |= mask[np.clip(lo - d, 0, h - 1), cols]
            after |= mask[np.clip(hi + d, 0, h - 1), cols]
        else:
            before |= mask[rows, np.clip(lo - d, 0, w - 1)]
            after |= mask[rows, np.clip(hi + d, 0, w - 1)]
    return before & after


def printed_to_remove(
    faint: BoolImage,
    mask: BoolImage,
    dark: FloatImage,
    rules: list[Rule],
    fields: list[FoundField],
    scale: Scale,
    params: FieldParams,
) -> BoolImage:
    """The pixels of the rules and box edges (comb dividers, box ends), less those that are
    really ink: a stroke continues beyond the line on both sides (above and below a rule,
    left and right of an edge), or the pixel is far darker than the line (ink across a light
    drop-out line)."""
    h, w = faint.shape
    out = np.zeros_like(faint)
    reach = max(2, int(round(params.cross_reach_sw * scale.stroke_width)))
    line_dark = max((r.darkness for r in rules), default=1.0)
    too_dark = dark > line_dark + params.darker_than_line
    for r in rules:
        half = r.thickness / 2 + 1.0
        ext = 2 * POOL + 1  # the pooled search may stop a pixel or two short of the ends
        xs = np.arange(max(0, r.x0 - ext), min(w, r.x1 + ext))
        yc = r.y0 + r.slope * (xs - r.x0)
        ya = np.clip(np.floor(yc - half).astype(np.intp), 0, h - 1)
        yb = np.clip(np.ceil(yc + half).astype(np.intp), 0, h - 1)
        crossed = _sides(mask, xs, xs, ya, yb, reach, axis=0)
        for y in range(int(np.floor(-half)), int(np.ceil(half)) + 1):
            ys = np.clip(np.round(yc + y).astype(np.intp), 0, h - 1)
            hit = faint[ys, xs] & ~crossed & ~too_dark[ys, xs]
            out[ys[hit], xs[hit]] = True
    half_w = max(1, int(round(0.6 * scale.stroke_width)))
    for f in fields:
        edges = f.cells if f.kind == "comb" else (f.x0, f.x1 - 1)
        ys = np.arange(f.y0, min(h, f.y1))
        for x in edges:
            xa, xb = max(0, x - half_w - 1), min(w - 1, x + half_w + 1)
            for xx in range(xa, xb + 1):
                # No crossing test here: two letters touching a divider from both sides
                # would pass it and join through it; a stroke really crossing it is cut,
                # and each piece goes to the cell holding most of its letter.
                hit = faint[ys, xx] & ~too_dark[ys, xx]
                out[ys[hit], xx] = True
    return out


def read_cells(
    f: FoundField, mask: BoolImage, ink: FloatImage, scale: Scale, params: FieldParams
) -> tuple[list[Glyph | None], BoolImage]:
    """Each cell's own ink as a glyph (None when empty), and the pixels taken from the page.

    An ink component goes whole to the cell holding most of it when that is at least
    ``whole_share`` of it, so a letter whose tail crosses into the next cell stays one letter
    of its own cell; a component spread over cells (two letters touching across a divider)
    is cut at the dividers. Ink up to half a cell beyond the row's ends belongs to the end
    cells."""
    pad = int(round(0.5 * scale.char_height))
    h, w = mask.shape
    ya, yb = max(0, f.y0 - pad), min(h, f.y1 + pad)
    xa, xb = max(0, f.x0 - pad), min(w, f.x1 + pad)
    local = mask[ya:yb, xa:xb]
    labels, n = ndi.label(local, structure=np.ones((3, 3), bool))
    taken = np.zeros_like(mask)
    n_cells = len(f.cells) - 1
    out: list[Glyph | None] = [None] * n_cells
    if not n:
        return out, taken
    edges = np.asarray(f.cells) - xa
    col_cell = np.clip(np.searchsorted(edges, np.arange(xb - xa), side="right") - 1, 0, n_cells - 1)
    ys, xs = np.nonzero(local)
    lab = labels[ys, xs]
    cell = col_cell[xs]
    counts = np.zeros((n + 1, n_cells), dtype=np.int64)
    np.add.at(counts, (lab, cell), 1)
    centre_y = np.bincount(lab, weights=ys, minlength=n + 1) / np.maximum(counts.sum(1), 1) + ya
    inside = (centre_y >= f.y0) & (centre_y < f.y1)
    best = counts.argmax(axis=1)
    whole = counts.max(axis=1) >= params.whole_share * np.maximum(counts.sum(axis=1), 1)
    owner = np.where(whole[lab], best[lab], cell)
    keep = inside[lab]
    min_px = params.min_cell_ink_sw2 * scale.stroke_width**2
    for c in range(n_cells):
        sel = keep & (owner == c)
        if sel.sum() < min_px:
            continue
        py, px = ys[sel], xs[sel]
        y0, y1, x0, x1 = py.min(), py.max() + 1, px.min(), px.max() + 1
        left, right = edges[c], edges[c + 1]
        width = right - left
        centre = (x0 + x1) / 2
        if (
            x1 - x0 <= params.edge_residue * width
            and min(centre - left, right - centre) <= params.edge_residue * width
        ):
            continue  # a thin bar hugging a divider: what is left of the printed edge
        m = np.zeros((y1 - y0, x1 - x0), dtype=bool)
        m[py - y0, px - x0] = True
        box = CharBox(int(x0 + xa), int(y0 + ya), int(x1 + xa), int(y1 + ya), "char", m)
        window = ink[box.y0 : box.y1, box.x0 : box.x1]
        out[c] = Glyph(box, np.where(m, window, np.float32(0)).astype(np.float32))
        taken[py + ya, px + xa] = True
    return out, taken


def ruled_paper(rules: list[Rule], scale: Scale, params: FieldParams) -> set[int]:
    """Indices of rules that are lined paper rather than underline fields: at least
    ``ruled_min_lines`` in a stack, starting and ending within ``ruled_align_ch`` of each
    other at steady spacing. They are still removed from the ink, but frame no field."""
    tol = params.ruled_align_ch * scale.char_height
    out: set[int] = set()
    order = sorted(range(len(rules)), key=lambda i: rules[i].y0)
    stack: list[int] = []

    def close() -> None:
        if len(stack) >= params.ruled_min_lines:
            steps = np.diff([rules[i].y0 for i in stack])
            if steps.std() <= params.ruled_step_spread * steps.mean():
                out.update(stack)

    for i in order:
        r = rules[i]
        if stack and (
            abs(r.x0 - rules[stack[-1]].x0) > tol or abs(r.x1 - rules[stack[-1]].x1) > tol
        ):
            close()
            stack = []
        stack.append(i)
    close()
    return out


def find_fields(
    grey: FloatImage,
    ink: FloatImage,
    mask: BoolImage,
    scale: Scale,
    params: FieldParams = DEFAULT_FIELD_PARAMS,
) -> FieldsFound:
    """Find every printed field, remove the printed lines, cut the comb cells."""
    if min(grey.shape) < MIN_SIDE_PX or max(grey.shape) < params.min_rule_ch * scale.char_height:
        return FieldsFound([], ink, mask)  # too small to hold a rule (a 1 x 1 picture)
    dark = darkness(grey, scale, params)
    faint = (dark > params.faint_dark) | mask
    rules = join_pieces(find_rules(faint, dark, scale, params), mask, scale, params)
    if not rules:
        return FieldsFound([], ink, mask)
    boxes, used = pair_boxes(rules, faint, scale, params)
    fields = list(boxes)
    room = params.underline_room_ch * scale.char_height
    free = [i for i in range(len(rules)) if i not in used]
    ruled = ruled_paper([rules[i] for i in free], scale, params)
    for k, i in enumerate(free):
        r = rules[i]
        if k not in ruled:
            y = r.y_at((r.x0 + r.x1) / 2)
            fields.append(FoundField("underline", r.x0, max(0, int(y - room)), r.x1, int(y) + 1))
    remove = printed_to_remove(faint, mask, dark, rules, boxes, scale, params)
    new_mask = mask & ~remove
    new_ink = np.where(remove, np.float32(0), ink).astype(np.float32)
    fields.sort(key=lambda f: (f.y0, f.x0))
    cell_glyphs: dict[int, list[Glyph | None]] = {}
    for k, f in enumerate(fields):
        if f.kind == "comb":
            glyphs, taken = read_cells(f, new_mask, new_ink, scale, params)
            cell_glyphs[k] = glyphs
            new_mask &= ~taken
    new_ink = np.where(new_mask, new_ink, np.float32(0)).astype(np.float32)
    return FieldsFound(fields, new_ink, new_mask, cell_glyphs, int((mask & remove).sum()))
