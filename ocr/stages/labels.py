"""Connected components' boxes and pixel counts, read at their own pixels only.

scipy's ``find_objects`` and a ``bincount`` over a label image walk every pixel of it, and
so does indexing a per-label table with the whole image. Ink covers a few percent of a page,
so the same boxes, counts and masks read at the labelled pixels alone cost a fraction as
much (a 1.4 MP page at 1 % ink: ~11 ms -> ~2 ms for boxes and counts). Exact: the results
are equal to scipy's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class LabelBoxes:
    """Per label 1..n (index ``label - 1``): box as half-open pixel ranges, and pixel count."""

    y0: NDArray[np.intp]
    y1: NDArray[np.intp]
    x0: NDArray[np.intp]
    x1: NDArray[np.intp]
    area: NDArray[np.intp]

    @property
    def heights(self) -> NDArray[np.intp]:
        return self.y1 - self.y0

    @property
    def widths(self) -> NDArray[np.intp]:
        return self.x1 - self.x0


def label_boxes(labels: NDArray[np.integer], n: int) -> LabelBoxes:
    """Boxes and pixel counts of labels 1..``n`` of ``labels`` (as ``scipy.ndimage.label``
    numbers them: every label in 1..n is present)."""
    # flatnonzero of a boolean image, then divmod: np.nonzero on a 2-D image is ten times
    # slower. Unbuffered min/max per label (ufunc.at, fast since numpy 1.25) need no sort.
    flat = np.flatnonzero(labels.ravel() > 0)
    ys, xs = np.divmod(flat, labels.shape[1])
    lab = labels.ravel()[flat]
    area = np.bincount(lab, minlength=n + 1)
    if len(area) != n + 1 or (n and not area[1:].all()):
        raise ValueError(f"labels 1..{n} expected, {int(np.count_nonzero(area[1:]))} present")
    far = np.iinfo(np.intp).max
    y0, x0 = np.full(n + 1, far, dtype=np.intp), np.full(n + 1, far, dtype=np.intp)
    y1, x1 = np.full(n + 1, -1, dtype=np.intp), np.full(n + 1, -1, dtype=np.intp)
    np.minimum.at(y0, lab, ys)
    np.minimum.at(x0, lab, xs)
    np.maximum.at(y1, lab, ys)
    np.maximum.at(x1, lab, xs)
    return LabelBoxes(y0[1:], y1[1:] + 1, x0[1:], x1[1:] + 1, area[1:].astype(np.intp))


def select(labels: NDArray[np.integer], keep: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """``keep[labels]`` (``keep`` indexed by label, ``keep[0]`` False), looked up at the
    labelled pixels only."""
    out = np.zeros(labels.size, dtype=bool)
    flat = np.flatnonzero(labels.ravel() > 0)
    out[flat] = keep[labels.ravel()[flat]]
    return out.reshape(labels.shape)
