"""Straight runs and piece sizes on masks: the measures the rules stage and its pen-or-print
judgement share."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage


def runs_at_least(mask: BoolImage, length: int, axis: int = 1) -> BoolImage:
    """Pixels lying on a run of at least ``length`` True pixels along ``axis`` (1: rows, an
    opening by a 1 x length line). Running sums: the cost is the same for any ``length``. An
    even window reaches one pixel further back than forward, so the dilation is shifted by one
    (origin -1) to cover the runs the erosion found, not the runs one pixel further on."""
    m = mask.astype(np.float32)
    full = ndi.uniform_filter1d(m, length, axis=axis, mode="constant") > (length - 0.5) / length
    back = -1 if length % 2 == 0 else 0
    grown = ndi.uniform_filter1d(
        full.astype(np.float32), length, axis=axis, mode="constant", origin=back
    )
    return grown > 0.5 / length


def longest_sides(labels: NDArray[np.int32], n: int) -> NDArray[np.intp]:
    """The longer side (px) of each labelled piece's box, indexed by label (0: 0)."""
    sides = np.zeros(n + 1, dtype=np.intp)
    for i, sl in enumerate(ndi.find_objects(labels)):
        if sl is not None:
            sides[i + 1] = max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start)
    return sides


def grow(m: BoolImage, r: int) -> BoolImage:
    """``m`` dilated by a (2r+1)-square, as shifted ORs (a bool maximum filter of the same
    size costs five times more on a page)."""
    out = m.copy()
    for d in range(1, r + 1):
        out[d:] |= m[:-d]
        out[:-d] |= m[d:]
    rows = out.copy()
    for d in range(1, r + 1):
        out[:, d:] |= rows[:, :-d]
        out[:, :-d] |= rows[:, d:]
    return out
