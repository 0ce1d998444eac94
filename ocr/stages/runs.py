"""Straight runs and piece sizes on masks: the measures the rules stage and its pen-or-print
judgement share."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ocr.stages.binarize import BoolImage
from ocr.stages.labels import label_boxes


def runs_at_least(mask: BoolImage, length: int, axis: int = 1) -> BoolImage:
    """Pixels lying on a run of at least ``length`` True pixels along ``axis`` (1: rows, an
    opening by a 1 x length line, by doubling: the cost grows with log2 of ``length``). An
    even window reaches one pixel further back than forward, so the dilation is shifted by one
    (origin -1) to cover the runs the erosion found, not the runs one pixel further on."""
    full = min_filter1d(mask, length, axis=axis, mode="constant")
    back = -1 if length % 2 == 0 else 0
    return max_filter1d(full, length, axis=axis, origin=back, mode="constant")


def longest_sides(labels: NDArray[np.int32], n: int) -> NDArray[np.intp]:
    """The longer side (px) of each labelled piece's box, indexed by label (0: 0)."""
    sides = np.zeros(n + 1, dtype=np.intp)
    boxes = label_boxes(labels, n)
    sides[1:] = np.maximum(boxes.heights, boxes.widths)
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


def _window_reduce(
    mask: BoolImage, size: int, axis: int, origin: int, mode: str, op: np.ufunc
) -> BoolImage:
    """``op`` (OR or AND) over a window of ``size`` along ``axis``, placed as scipy.ndimage
    places it for ``origin``, the edges extended as its ``mode`` ("reflect" or "constant"
    with False): by doubling, log2(size) whole-image passes."""
    lo = -(size // 2) - origin
    hi = (size - 1) // 2 - origin
    axis = axis % mask.ndim
    if mask.ndim == 1:
        return _window_reduce(mask[None], size, 1, origin, mode, op)[0]
    if mask.ndim != 2:
        raise ValueError("bool window filters take 1-D or 2-D masks")
    if mode not in ("reflect", "constant"):
        raise ValueError(f"edge mode {mode!r}: 'reflect' or 'constant' (False beyond the edge)")
    if mask.flags.f_contiguous and not mask.flags.c_contiguous:  # a transposed page
        return _window_reduce(mask.T, size, 1 - axis, origin, mode, op).T
    # Rows for axis 0, columns for axis 1: slicing the array as it lies (a transposed copy
    # in and out costs more than the filter).
    x = mask if axis == 0 else mask.T
    n = x.shape[0]
    before, after = max(0, -lo), max(0, hi)
    if mode == "reflect" and (before > n or after > n):
        f = np.pad(x, [(before, after), (0, 0)], mode="symmetric")
    else:
        f = np.empty((n + before + after, x.shape[1]), dtype=bool, order="C" if axis == 0 else "F")
        f[before : before + n] = x
        if mode == "reflect":
            f[:before] = x[:before][::-1]
            f[before + n :] = x[n - after :][::-1]
        else:
            f[:before] = False
            f[before + n :] = False
    # f[j] = op over the input's [j, j + span) along the axis, span doubling up to size.
    length = f.shape[0]
    span = 1
    while span * 2 <= size:
        op(f[: length - span], f[span:], out=f[: length - span])
        span *= 2
    if span < size:
        rest = size - span
        op(f[: length - rest], f[rest:], out=f[: length - rest])
    start = lo + before
    out = f[start : start + n]
    return np.ascontiguousarray(out if axis == 0 else out.T)


def max_filter1d(
    mask: BoolImage, size: int, axis: int = -1, origin: int = 0, mode: str = "reflect"
) -> BoolImage:
    """``scipy.ndimage.maximum_filter1d`` of a bool mask, the same pixels at a fifth of the
    cost (the rules stage runs dozens on a ruled page: a third of its time)."""
    return _window_reduce(mask, size, axis, origin, mode, np.logical_or)


def min_filter1d(
    mask: BoolImage, size: int, axis: int = -1, origin: int = 0, mode: str = "reflect"
) -> BoolImage:
    """``scipy.ndimage.minimum_filter1d`` of a bool mask (see :func:`max_filter1d`)."""
    return _window_reduce(mask, size, axis, origin, mode, np.logical_and)
