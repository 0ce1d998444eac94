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
    # slower.
    flat = np.flatnonzero(labels.ravel() > 0)
    ys, xs = np.divmod(flat, labels.shape[1])
    lab = labels.ravel()[flat]
    # Pixels come in raster order; a stable sort by label keeps each label's rows ascending,
    # so its first and last pixel give its top and bottom.
    order = np.argsort(lab, kind="stable")
    lab, ys, xs = lab[order], ys[order], xs[order]
    starts = np.flatnonzero(np.concatenate(([True], lab[1:] != lab[:-1]))) if lab.size else lab
    if len(starts) != n:
        raise ValueError(f"labels 1..{n} expected, {len(starts)} present")
    ends = np.append(starts[1:], lab.size) - 1
    empty = np.zeros(0, dtype=np.intp)
    if n == 0:
        return LabelBoxes(empty, empty, empty, empty, empty)
    return LabelBoxes(
        y0=ys[starts].astype(np.intp),
        y1=ys[ends].astype(np.intp) + 1,
        x0=np.minimum.reduceat(xs, starts).astype(np.intp),
        x1=np.maximum.reduceat(xs, starts).astype(np.intp) + 1,
        area=(ends - starts + 1).astype(np.intp),
    )


def select(labels: NDArray[np.integer], keep: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """``keep[labels]`` (``keep`` indexed by label, ``keep[0]`` False), looked up at the
    labelled pixels only."""
    out = np.zeros(labels.size, dtype=bool)
    flat = np.flatnonzero(labels.ravel() > 0)
    out[flat] = keep[labels.ravel()[flat]]
    return out.reshape(labels.shape)
