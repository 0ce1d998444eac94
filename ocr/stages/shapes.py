"""Nested outlines -> drawings, taken out before segmentation.

A circle drawn inside a circle, a square in a square, a triangle in a triangle: people mark
keys, buttons and targets that way, and each outline on its own is an O, a D or a 0 to the
recognizer. No capital or digit holds another shape in its hole, so a component lying inside
the hole of another, and not much smaller than it, makes both a drawing. Specks inside an O
(dust, a dot of noise) are far smaller and do not count.

Input: the working-resolution mask and its components; sizes are relative to the outer
outline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, FloatImage, Scale
from ocr.stages.segment import Component, Components


@dataclass(frozen=True)
class ShapeParams:
    min_outer_ch: float = 0.8
    """Only outlines at least this many ch tall and wide are looked at (smaller holes are
    the counters of letters)."""

    min_inner_share: float = 0.25
    """The inner component spans at least this share of the outer one's height or width."""

    max_outer_ch: float = 4.0
    """...and at most this many ch (a drawing beside the text, not a desk's grain or a
    shadow's outline)."""

    max_outlines: int = 100
    """At most this many of the largest components are looked at: a page holds far fewer
    drawings, and a photo of texture must not cost a hole filling per grain."""


@dataclass(frozen=True)
class ShapesRemoved:
    ink: FloatImage
    mask: BoolImage
    drawings: int
    """Nested groups taken out."""


def _holds_a_box(c: Component, boxes: NDArray[np.int64], params: ShapeParams) -> bool:
    """Whether another component's box (``boxes``: x0, y0, x1, y1 rows), not much smaller,
    lies strictly inside ``c``'s box: the cheap test that spares a hole filling for almost
    every letter of a page."""
    inside = (
        (boxes[:, 0] > c.x0)
        & (boxes[:, 1] > c.y0)
        & (boxes[:, 2] < c.x1)
        & (boxes[:, 3] < c.y1)
        & (
            np.maximum(
                (boxes[:, 3] - boxes[:, 1]) / c.height, (boxes[:, 2] - boxes[:, 0]) / c.width
            )
            >= params.min_inner_share
        )
    )
    return bool(inside.any())


def remove_nested_shapes(
    ink: FloatImage,
    mask: BoolImage,
    scale: Scale,
    comps: Components,
    params: ShapeParams = ShapeParams(),
) -> ShapesRemoved:
    """The page without outlines that hold another outline (and what they hold)."""
    big = params.min_outer_ch * scale.char_height
    drop: set[int] = set()
    found = 0
    huge = params.max_outer_ch * scale.char_height
    outlines = [c for c in comps.items if big <= c.height <= huge and big <= c.width <= huge]
    outlines.sort(key=lambda c: c.area, reverse=True)
    if not outlines:
        return ShapesRemoved(ink, mask, 0)
    boxes = np.array([(b.x0, b.y0, b.x1, b.y1) for b in comps.items], dtype=np.int64)
    outlines = [c for c in outlines[: params.max_outlines] if _holds_a_box(c, boxes, params)]
    for c in outlines:
        box = (slice(c.y0, c.y1), slice(c.x0, c.x1))
        labels = comps.labels[box]
        own = np.isin(labels, c.labels)
        hole = ndi.binary_fill_holes(own) & ~own
        if not hole.any():
            continue
        inside = np.unique(labels[hole])
        inside = inside[inside > 0]
        group = []
        for label in inside.tolist():
            ys, xs = np.nonzero(labels == label)
            if not hole[ys, xs].all():
                continue  # not wholly inside the hole: a neighbour reaching in
            h, w = int(np.ptp(ys)) + 1, int(np.ptp(xs)) + 1
            if max(h / c.height, w / c.width) >= params.min_inner_share:
                group.append(label)
        if group:
            drop.update(c.labels)
            drop.update(group)
            found += 1
    if not drop:
        return ShapesRemoved(ink, mask, 0)
    gone = np.isin(comps.labels, sorted(drop))
    new_mask = mask & ~gone
    return ShapesRemoved(np.where(gone, np.float32(0.0), ink), new_mask, found)
