"""Hard cast shadows: a paper background that follows a shadow's sharp edge.

Why: binarization divides the picture by a paper level estimated per cell of about half a
character and smoothed over neighbouring cells. A soft shadow or a lighting gradient lives
in that estimate and divides out; a hand's or phone's hard-edged shadow does not: cells that
straddle the edge take the lit side's level, so a band of shadowed paper along the edge looks
dark, and its outline is read as strokes ("shadow edges read as characters").

How: a hard edge shows in the cell grid as a jump between neighbouring cells far larger than
any lighting gradient makes. Only where such jumps exist is the background replaced, near
them, by a grey closing of the picture (dilate, then erode, by a few stroke widths): a closing
removes dark strokes narrower than its window but keeps a step edge exactly where it is.
Pages without a hard edge pay one comparison of the cell grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

FloatImage = NDArray[np.float32]
BoolImage = NDArray[np.bool_]


@dataclass(frozen=True)
class ShadowParams:
    """Hard-shadow parameters; lengths in background cells or stroke widths as named."""

    edge_ratio: float = 1.15
    """Neighbouring cells whose paper levels differ by this factor straddle a hard edge: a
    lighting gradient changes the level by ~1 % per cell, a hand's shadow by 20-60 % at once."""
    min_edge_cells: int = 3
    """Fewer jumping cell pairs than this are a stray blot, not a shadow's edge."""
    zone_cells: int = 1
    """The corrected zone reaches this many cells beyond each jump (the smoothing of the grid
    spreads an edge's error over about one cell either way)."""
    window_strokes: float = 3.0
    """Closing window, in stroke widths, ..."""
    window_chars: float = 0.4
    """... or in character heights, whichever is wider: wider than any pen stroke (a marker's
    is ~0.2 character heights), so ink is closed away; the window's size does not blur the
    edge, which a closing keeps where it is."""
    max_darkening: float = 0.75
    """A jump counts only when the darker side keeps at least 1 - this of the lighter side's
    level: a deeper step is a sheet's edge against a dark desk, not a shadow."""


@dataclass(frozen=True)
class ShadowedBackground:
    background: FloatImage
    hard_edge: bool
    """A hard shadow edge was found (and the background follows it)."""


def hard_edge_cells(grid: FloatImage, params: ShadowParams = ShadowParams()) -> BoolImage:
    """Cells of a paper-level grid that sit on a jump to a neighbour (both cells marked)."""
    g = np.maximum(np.asarray(grid, dtype=np.float32), np.float32(1e-3))
    out = np.zeros(g.shape, dtype=bool)
    deepest = 1.0 / (1.0 - params.max_darkening)
    across = np.maximum(g[:, 1:] / g[:, :-1], g[:, :-1] / g[:, 1:])
    down = np.maximum(g[1:, :] / g[:-1, :], g[:-1, :] / g[1:, :])
    jump_x = (across >= params.edge_ratio) & (across <= deepest)
    jump_y = (down >= params.edge_ratio) & (down <= deepest)
    out[:, 1:] |= jump_x
    out[:, :-1] |= jump_x
    out[1:, :] |= jump_y
    out[:-1, :] |= jump_y
    return out


def follow_hard_shadows(
    grey: FloatImage,
    background: FloatImage,
    cell_px: float,
    stroke_px: float,
    char_px: float,
    params: ShadowParams = ShadowParams(),
) -> ShadowedBackground:
    """``background`` (a per-cell estimate, see ``estimate_background``) corrected near hard
    shadow edges of ``grey``; unchanged when there are none."""
    h, w = grey.shape
    c = max(2, int(round(cell_px)))
    grid = background[c // 2 :: c, c // 2 :: c]
    edges = hard_edge_cells(grid, params)
    if int(edges.sum()) < params.min_edge_cells:
        return ShadowedBackground(background, False)
    zone_grid = ndi.binary_dilation(edges, iterations=params.zone_cells)
    zone = np.repeat(np.repeat(zone_grid, c, axis=0), c, axis=1)
    zone = np.pad(
        zone, ((0, max(0, h - zone.shape[0])), (0, max(0, w - zone.shape[1]))), mode="edge"
    )
    zone = zone[:h, :w]
    ys, xs = np.nonzero(zone_grid)
    y0, y1 = max(0, ys.min() * c - c), min(h, (ys.max() + 1) * c + c)
    x0, x1 = max(0, xs.min() * c - c), min(w, (xs.max() + 1) * c + c)
    window = max(params.window_strokes * stroke_px, params.window_chars * char_px)
    size = max(3, int(round(window)) | 1)
    closed = ndi.grey_closing(grey[y0:y1, x0:x1], size=size)
    out = background.copy()
    part = out[y0:y1, x0:x1]
    z = zone[y0:y1, x0:x1]
    part[z] = closed[z]
    return ShadowedBackground(out, True)
