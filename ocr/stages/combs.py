"""Box rows of a form -> found from pairs of printed rules, comb cells cut into glyphs.

A box row is two rules (top and bottom) joined by vertical edges that run exactly from one to
the other, which handwriting almost never does: a comb has evenly spaced edges (one character
per cell), a single box edges at its two ends only. Split from :mod:`ocr.stages.fields`, which
finds the rules and removes the printed lines; lengths in character heights (ch) of the page's
:class:`ocr.stages.binarize.Scale`, coordinates in working pixels, boxes half-open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, FloatImage, Scale
from ocr.stages.fieldparams import FieldParams
from ocr.stages.fieldrules import Rule
from ocr.stages.segment import CharBox, Glyph

FieldKind = Literal["comb", "box", "underline"]


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
    line: float = 0.0
    """Thickness (px) of its printed lines: how much to remove around a divider."""


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


def regular_cells(edges: list[int], height: float, params: FieldParams) -> list[int]:
    """A comb's dividers on an even grid, else only the two ends (a single box in which
    full-height handwritten strokes passed for dividers).

    The grid spans the two ends in n cells, n the whole number nearest the row's length over
    the median interval or one either side of it (a handwritten stem taken for a divider
    halfway between two lost ones skews the median), whichever has the most grid positions
    with a divider found within ``cell_spread`` cells; it is a comb's when its cells are no
    wider than ``max_cell_aspect`` row heights and at least ``grid_share`` of its inner
    positions have a divider found. Each divider is then the one found there, or the grid's
    position where none was (a faint divider lost, or one merged with a stroke touching it,
    which moves the run's centre)."""
    if len(edges) < 3:
        return edges
    first, last = edges[0], edges[-1]
    median = float(np.median(np.diff(np.asarray(edges, dtype=np.float64))))
    n0 = int(round((last - first) / max(median, 1.0)))
    found = np.asarray(edges[1:-1], dtype=np.float64)
    best: tuple[float, int] | None = None
    for n in (n0, n0 - 1, n0 + 1):  # the median's own count first: it wins ties
        pitch = (last - first) / max(n, 1)
        if n < 2 or pitch > params.max_cell_aspect * height:
            continue
        grid = first + pitch * np.arange(1, n)
        share = (
            float(
                np.mean(
                    np.abs(grid[:, None] - found[None, :]).min(axis=1) <= params.cell_spread * pitch
                )
            )
            if len(found)
            else 0.0
        )
        if best is None or share > best[0]:
            best = (share, n)
    if best is None or best[0] < params.grid_share:
        return [first, last]
    n = best[1]
    pitch = (last - first) / n
    grid = first + pitch * np.arange(1, n)
    dist = np.abs(grid[:, None] - found[None, :]) if len(found) else np.full((n - 1, 1), np.inf)
    near = dist.min(axis=1) <= params.cell_spread * pitch
    inner = np.where(near, found[dist.argmin(axis=1)] if len(found) else grid, grid)
    return [first, *np.round(inner).astype(int).tolist(), last]


def _box_row(
    top: Rule,
    bottom: Rule,
    xa: int,
    xb: int,
    gap: float,
    faint: BoolImage,
    scale: Scale,
    params: FieldParams,
) -> FoundField | None:
    """The comb or single box that two rules close, or None when no edges join them at
    both ends of their common stretch ``xa..xb``."""
    ch = scale.char_height
    pad = int(round(0.3 * ch))
    # Edges are looked for over both rules' whole length: a rule cut where letters touch
    # it near a row's end is found shorter than its partner.
    ua, ub = min(top.x0, bottom.x0), max(top.x1, bottom.x1)
    fx0, fx1 = max(0, ua - pad), min(faint.shape[1], ub + pad)
    fill = _column_fill(faint, top, bottom, fx0, fx1)
    edges = _dividers(fill, fx0, params, ch)
    if len(edges) < 2 or edges[0] > xa + pad or edges[-1] < xb - pad:
        return None  # no edges at both ends: two rules of neighbouring rows
    edges = regular_cells(_merge_halves(edges, params), gap, params)
    y0 = int(np.floor(min(top.y_at(xa), top.y_at(xb)) - top.thickness / 2))
    y1 = int(np.ceil(max(bottom.y_at(xa), bottom.y_at(xb)) + bottom.thickness / 2)) + 1
    kind: FieldKind = "comb" if len(edges) > 2 else "box"
    return FoundField(
        kind,
        edges[0],
        y0,
        edges[-1] + 1,
        y1,
        tuple(edges) if kind == "comb" else (),
        max(top.thickness, bottom.thickness),
    )


def pair_boxes(
    rules: list[Rule], faint: BoolImage, scale: Scale, params: FieldParams
) -> tuple[list[FoundField], set[int]]:
    """Box rows (comb or single) from pairs of rules joined by vertical edges at both ends;
    returns them and the indices of the rules they used."""
    ch = scale.char_height
    used: set[int] = set()
    found: list[FoundField] = []
    lo, hi = params.box_height_ch
    # Longest rules first, each with the rule below at a box row's height that closes a row
    # with it along most of it: a run of letters' bars inside a comb (7777 crossed) is a
    # short rule between its two real ones, and would close a row of its upper half; the
    # aligned feet of a label printed just above a comb would close it from above.
    for i in sorted(range(len(rules)), key=lambda k: rules[k].x0 - rules[k].x1):
        top = rules[i]
        if i in used:
            continue
        best: tuple[int, int, FoundField] | None = None
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
            row = _box_row(top, bottom, xa, xb, gap, faint, scale, params)
            if row is not None and (best is None or xb - xa > best[0]):
                best = (xb - xa, j, row)
        if best is not None:
            found.append(best[2])
            used.update((i, best[1]))
    return found, used


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
