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
Rules are found in :mod:`ocr.stages.fieldrules`, box rows and comb cells in
:mod:`ocr.stages.combs`. (Issue 10's rule removal stage for lined paper runs before this one
on the ink mask; this stage also sees the faint lines it leaves.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ocr.model.classes import NUM_CLASSES
from ocr.stages.binarize import BoolImage, FloatImage, Scale
from ocr.stages.combs import FieldKind, FoundField, pair_boxes, read_cells
from ocr.stages.fieldparams import DEFAULT_FIELD_PARAMS, FieldParams
from ocr.stages.fieldrules import POOL, Rule, darkness, extend_ends, find_rules, join_pieces
from ocr.stages.runs import grow
from ocr.stages.segment import Glyph, Layout

__all__ = [
    "FieldKind",
    "FieldsFound",
    "FoundField",
    "Rule",
    "find_fields",
    "keep_in_fields",
    "outside_frames",
]


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


DIVIDER_REF_PERCENTILE: float = 20.0
"""A divider column's own darkness is this percentile along the cell: a letter's side may
lie along it for most of the cell's height, and the median would be the pen's (validation
forms, 10 / 20 / 35 / 50: 6.49 / 6.53 / 6.46 / 6.58% CER, values exact 73.7 / 73.7 / 73.0 /
73.3%)."""

MIN_SIDE_PX: int = 16
"""Images with a shorter side have no room for a field and are left as they are."""


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
    line_or_ink = faint | mask
    along = params.along_extra_sw * scale.stroke_width
    for r in rules:
        half = r.thickness / 2 + 1.0
        ext = 2 * POOL + 1  # the pooled search may stop a pixel or two short of the ends
        xs = np.arange(max(0, r.x0 - ext), min(w, r.x1 + ext))
        yc = r.y0 + r.slope * (xs - r.x0)
        ya = np.clip(np.floor(yc - half).astype(np.intp), 0, h - 1)
        yb = np.clip(np.ceil(yc + half).astype(np.intp), 0, h - 1)
        crossed = _sides(mask, xs, xs, ya, yb, reach, axis=0)
        crossed |= thicker_than_line(line_or_ink, xs, yc, r.thickness, along)
        for y in range(int(np.floor(-half)), int(np.ceil(half)) + 1):
            ys = np.clip(np.floor(yc + y + 0.5).astype(np.intp), 0, h - 1)  # no half-even gaps
            on_line = faint[ys, xs]
            hit = on_line & ~crossed & ~too_dark[ys, xs]
            if params.pen_over_rule > 0 and on_line.any():  # pen lying on the rule: darker
                row = dark[ys, xs]  # than the rule's own pixels along this row of it
                hit &= row < np.median(row[on_line]) + params.pen_over_rule
            out[ys[hit], xs[hit]] = True
    for f in fields:
        edges = f.cells if f.kind == "comb" else (f.x0, f.x1 - 1)
        ys = np.arange(f.y0, min(h, f.y1))
        pitch = (edges[-1] - edges[0]) / max(1, len(edges) - 1)
        reach = max(2, int(round(params.divider_search * pitch)))
        rim = int(np.ceil(f.line)) + 2  # the rule and the row beside it (_beside looks +-1)
        for x in edges:
            xa, xb = divider_columns(faint, f, x, reach, params)
            beside = _beside(mask, ys, xa, xb)
            inner = (ys >= f.y0 + rim) & (ys < f.y1 - rim)
            beside[~inner] = False  # the rules adjoin it there
            keep = too_dark[ys, xa : xb + 1] & beside[:, None]
            if f.kind == "comb" and params.pen_over_divider > 0 and inner.any():
                # Pen over a divider's column is darker than that column is along the cell
                # (a letter's side running down the divider's blurred edge); its core, as
                # dark as the pen, stays removed. Combs only: letters fill their cells, but
                # stay clear of a long box's ends, where a darker stretch kept is a bar
                # read as 1, 7 or J (validation box fields 77.6 -> 72.4% exact).
                # And only within a few rows of ink adjoining the divider: a divider's core
                # printed unevenly darker, with no letter beside it, is no pen.
                band = dark[ys, xa : xb + 1]
                own = np.percentile(band[inner], DIVIDER_REF_PERCENTILE, axis=0)
                rows = int(round(params.pen_divider_reach_ch * scale.char_height))
                near = ndi.maximum_filter1d(beside.astype(np.uint8), 2 * rows + 1) > 0
                keep |= (band >= own + params.pen_over_divider) & (inner & near)[:, None]
            for xx in range(xa, xb + 1):
                # No crossing test here: two letters touching a divider from both sides
                # would pass it and join through it; a stroke really crossing it is cut,
                # and each piece goes to the cell holding most of its letter.
                hit = faint[ys, xx] & ~keep[:, xx - xa]
                out[ys[hit], xx] = True
    return out


def _beside(mask: BoolImage, ys: NDArray[np.intp], xa: int, xb: int) -> NDArray[np.bool_]:
    """Rows (of ``ys``) where ink adjoins the columns ``xa..xb`` from the left or the right,
    within a row up or down. Only there is a pixel of a divider that is darker than the
    rules ink over it: the core of a blurred 3-4 px divider is darker than a rule's darkest
    tenth, and kept alone it is a dotted bar beside the letter (read as I or 1, or as V
    between two such bars in an empty cell)."""
    h, w = mask.shape
    side = mask[ys, max(0, xa - 1)] | mask[ys, min(w - 1, xb + 1)]
    out = side.copy()
    out[1:] |= side[:-1]
    out[:-1] |= side[1:]
    return out


def thicker_than_line(
    dark: BoolImage, xs: NDArray[np.intp], yc: NDArray[np.float64], thickness: float, extra: float
) -> NDArray[np.bool_]:
    """Columns where the dark run through the rule is ``extra`` px thicker than the rule: a
    pen stroke lying along it (an E's or Z's bar on a cell's bottom rule), which has no ink
    beyond both sides to pass the crossing test."""
    h = dark.shape[0]
    y = np.clip(np.round(yc).astype(np.intp), 0, h - 1)
    up = dark[y, xs].copy()
    down = up.copy()
    run = up.astype(np.int32)
    for d in range(1, int(np.ceil(thickness + extra)) + 1):
        up &= dark[np.clip(y - d, 0, h - 1), xs]
        down &= dark[np.clip(y + d, 0, h - 1), xs]
        run += up
        run += down
    return np.asarray(run >= thickness + extra)


def divider_columns(
    faint: BoolImage, f: FoundField, x: int, reach: int, params: FieldParams
) -> tuple[int, int]:
    """The first and last column (inclusive) to remove for the divider near ``x``: the run
    of full columns (``divider_fill``) through the fullest column within ``reach`` of it, at
    most its row's line thickness wide, plus ``divider_margin_px`` of blur. Without a full
    column (a faint divider put back on the comb's grid), the line's width around ``x``: a
    letter touching a divider keeps its side, and a divider found a pixel or two off (a
    run's centre, a grid position) leaves no bar beside the letter."""
    h, w = faint.shape
    t = int(np.ceil(f.line)) + 1
    ya, yb = min(h, f.y0 + t), max(0, min(h, f.y1 - t))
    margin = params.divider_margin_px
    half = f.line / 2 + margin
    xa, xb = max(0, x - reach), min(w, x + reach + 1)
    if yb - ya < 3 or xb <= xa:
        return max(0, int(np.floor(x - half))), min(w - 1, int(np.ceil(x + half)))
    fill = faint[ya:yb, xa:xb].mean(axis=0)
    top = float(fill.max())
    if top < params.divider_fill:
        return max(0, int(np.floor(x - half))), min(w - 1, int(np.ceil(x + half)))
    cols = np.flatnonzero(fill >= top - 1e-6)
    best = int(cols[np.argmin(np.abs(cols + xa - x))])
    lo = hi = best
    while lo > 0 and fill[lo - 1] >= params.divider_fill and best - lo < f.line:
        lo -= 1
    while hi < len(fill) - 1 and fill[hi + 1] >= params.divider_fill and hi - best < f.line:
        hi += 1
    m = int(np.ceil(margin))
    return max(0, xa + lo - m), min(w - 1, xa + hi + m)


def _along(r: Rule, others: list[Rule], boxes: Sequence[FoundField] = ()) -> bool:
    """Does ``r`` lie on one of ``others`` (a second piece of a box's rule, found apart
    from the piece the box used), or on the top or bottom edge of a box row? Then it frames
    no underline of its own."""
    for o in others:
        xa, xb = max(r.x0, o.x0), min(r.x1, o.x1)
        if xb <= xa:
            continue
        x = (xa + xb) / 2
        if abs(r.y_at(x) - o.y_at(x)) <= max(r.thickness, o.thickness) + 2:
            return True
    for f in boxes:
        xa, xb = max(r.x0, f.x0), min(r.x1, f.x1)
        if xb <= xa:
            continue
        y = r.y_at((xa + xb) / 2)
        if min(abs(y - f.y0), abs(y - f.y1)) <= 2 * r.thickness + 2:
            return True
    return False


def _within(r: Rule, boxes: Sequence[FoundField]) -> bool:
    """Does ``r`` lie inside a box row, clear of its top and bottom rules? Then it is the
    writing's (crossed 7s in neighbouring cells): no underline, and not removed."""
    for f in boxes:
        xa, xb = max(r.x0, f.x0), min(r.x1, f.x1)
        if xb - xa < 0.5 * (r.x1 - r.x0):
            continue
        y = r.y_at((xa + xb) / 2)
        margin = 2 * r.thickness + 2
        if f.y0 + margin < y < f.y1 - margin:
            return True
    return False


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
    # Lines are looked for on the darkness averaged along them: a light 1 px drop-out line
    # at the working resolution is barely above paper noise pixel by pixel, and comes apart.
    # Only for pixels off paper and away from the ink (within ``run`` // 2 px of it the
    # average would spread print and writing into the gaps between their letters).
    run = params.line_mean_px
    some = (dark > params.line_pixel_dark) & ~grow(mask, run // 2)
    along = some & (ndi.uniform_filter1d(dark, run, axis=1) > params.line_dark)
    across = some & (ndi.uniform_filter1d(dark, run, axis=0) > params.line_dark)
    found = find_rules(faint | along, dark, scale, params)
    found = extend_ends(found, faint | along, mask, scale, params)
    rules = join_pieces(found, mask, scale, params)
    if not rules:
        return FieldsFound([], ink, mask)
    boxes, used = pair_boxes(rules, faint | across, scale, params)
    fields = list(boxes)
    room = params.underline_room_ch * scale.char_height
    inner = {i for i, r in enumerate(rules) if i not in used and _within(r, boxes)}
    free = [
        i
        for i, r in enumerate(rules)
        if i not in used | inner and not r.sided and not _along(r, [rules[k] for k in used], boxes)
    ]
    ruled = ruled_paper([rules[i] for i in free], scale, params)
    for k, i in enumerate(free):
        r = rules[i]
        if k not in ruled:
            y = r.y_at((r.x0 + r.x1) / 2)
            fields.append(FoundField("underline", r.x0, max(0, int(y - room)), r.x1, int(y) + 1))
    lines = [r for i, r in enumerate(rules) if i in used or not (r.sided or i in inner)]
    remove = printed_to_remove(faint, mask, dark, lines, boxes, scale, params)
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


def outside_frames(found: FieldsFound, drawings: BoolImage | None) -> tuple[FloatImage, BoolImage]:
    """The page after the fields stage (``ink``, ``mask``), less the drawings' pixels
    (nested outlines) outside every field's frame. Inside a frame they stay the fields':
    a comb's cells are nested outlines, and letters touching its frame went with it (the
    first three letters of a surname read as nothing)."""
    if drawings is None:
        return found.ink, found.mask
    out = drawings.copy()
    for f in found.fields:
        out[f.y0 : f.y1, f.x0 : f.x1] = False
    return np.where(out, np.float32(0), found.ink).astype(np.float32), found.mask & ~out


KEEP_IN_FIELD_MIN: float = 0.1
"""Inside a box or underline field, a character box whose best output is "not a character"
is still read when its best character has at least this probability: the field's frame
and its neighbours' ink are gone, so what is left there is the value (an odd hand's A,
taken for clutter, left SANTWANI as S NTW NI)."""


def keep_in_fields(
    layout: Layout, fields: Sequence[FoundField], probs: dict[int, NDArray[np.float32]]
) -> frozenset[int]:
    """Identities of the character boxes inside a box or underline field (working pixels)
    whose best character has at least ``KEEP_IN_FIELD_MIN``."""
    frames = [f for f in fields if f.kind != "comb"]
    if not frames:
        return frozenset()
    out = set()
    for line in layout.lines:
        for word in line.words:
            for c in word.chars:
                p = probs.get(id(c))
                if (
                    c.kind != "char"
                    or p is None
                    or float(p[:NUM_CLASSES].max()) < KEEP_IN_FIELD_MIN
                ):
                    continue
                cx, cy = (c.x0 + c.x1) / 2, (c.y0 + c.y1) / 2
                if any(f.x0 <= cx < f.x1 and f.y0 <= cy < f.y1 for f in frames):
                    out.add(id(c))
    return frozenset(out)
