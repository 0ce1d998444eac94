"""Nested outlines -> drawings, and frames drawn around writing, taken out before
segmentation.

A circle drawn inside a circle, a square in a square, a triangle in a triangle: people mark
keys, buttons and targets that way, and each outline on its own is an O, a D or a 0 to the
recognizer. No capital or digit holds another shape in its hole, so a component lying inside
the hole of another, and not much smaller than it, makes both a drawing. Specks inside an O
(dust, a dot of noise) are far smaller and do not count.

A box drawn around a word (a key's label, a boxed answer) is an outline far wider than a
letter holding several letter-sized components: segmentation would cut it into pieces read
as I, E and 3 beside the word and take the word's letters into them. The frame goes; what
it holds stays.

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

    frame_min_ch: float = 2.5
    """An outline at least this many ch wide or tall (wider than any capital)..."""

    frame_min_held: int = 2
    """...holding at least this many parts inside, each at least ``frame_held_ch`` tall
    (letters, not specks), is a frame drawn around writing."""

    frame_held_ch: float = 0.4
    """(in ch). Letters touching the frame's inside count: they are what is left of it
    inside its ring."""

    frame_hole_share: float = 0.3
    """A frame's hole (what its outline encloses, letters included) covers at least this
    share of its box: a frame is a thin line around a wide space."""

    frame_ring_sw: float = 2.0
    """A frame is its component's pixels within this many stroke widths of its outer edge:
    the drawn line and no more than the tips of letters touching it."""

    max_outlines: int = 100
    """At most this many of the largest components are looked at: a page holds far fewer
    drawings, and a photo of texture must not cost a hole filling per grain."""


@dataclass(frozen=True)
class ShapesRemoved:
    ink: FloatImage
    mask: BoolImage
    drawings: int
    """Nested groups taken out."""
    frames: int = 0
    """Frames around writing taken out (their contents kept)."""

    @property
    def changed(self) -> bool:
        return bool(self.drawings or self.frames)


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


def _frame_ring(
    own: BoolImage,
    labels: NDArray[np.int32],
    filled: BoolImage,
    hole: BoolImage,
    ring_px: int,
    letter_px: float,
    min_held: int,
) -> BoolImage | None:
    """The ring of a wide outline (its pixels within ``ring_px`` of its outer edge) when it
    frames writing: at least ``min_held`` letter-sized things (``letter_px`` tall) inside,
    apart or touching the ring; else None."""
    core = ndi.binary_erosion(filled, iterations=ring_px)
    ring = own & ~core
    inside = (hole & (labels > 0)) | (own & core)
    parts, n = ndi.label(inside, structure=np.ones((3, 3), bool))
    if n < min_held:
        return None
    tall = sum(
        1 for s in ndi.find_objects(parts) if s is not None and s[0].stop - s[0].start >= letter_px
    )
    return ring if tall >= min_held else None


def remove_nested_shapes(
    ink: FloatImage,
    mask: BoolImage,
    scale: Scale,
    comps: Components,
    params: ShapeParams = ShapeParams(),
) -> ShapesRemoved:
    """The page without outlines that hold another outline (and what they hold), and
    without frames drawn around writing (what they hold stays)."""
    ch = scale.char_height
    big, huge, wide = params.min_outer_ch * ch, params.max_outer_ch * ch, params.frame_min_ch * ch
    drop: set[int] = set()
    found = framed = 0
    # Any size from ``big`` up: frames are wider than ``huge``, nested drawings are not.
    outlines = [c for c in comps.items if big <= c.height and big <= c.width]
    outlines.sort(key=lambda c: c.area, reverse=True)
    if not outlines:
        return ShapesRemoved(ink, mask, 0)
    boxes = np.array([(b.x0, b.y0, b.x1, b.y1) for b in comps.items], dtype=np.int64)
    outlines = [
        c
        for c in outlines[: params.max_outlines]
        if max(c.height, c.width) >= wide or _holds_a_box(c, boxes, params)
    ]
    rings = np.zeros_like(mask)
    ring_px = max(1, int(np.ceil(params.frame_ring_sw * scale.stroke_width)))
    for c in outlines:
        box = (slice(c.y0, c.y1), slice(c.x0, c.x1))
        labels = comps.labels[box]
        own = np.isin(labels, c.labels)
        filled = ndi.binary_fill_holes(own)
        hole = filled & ~own
        if not hole.any():
            continue
        if max(c.height, c.width) >= wide and hole.sum() >= params.frame_hole_share * own.size:
            ring = _frame_ring(
                own, labels, filled, hole, ring_px, params.frame_held_ch * ch, params.frame_min_held
            )
            if ring is not None:
                rings[box] |= ring
                framed += 1
            continue
        if c.height > huge or c.width > huge:
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
    if not drop and not framed:
        return ShapesRemoved(ink, mask, 0)
    gone = np.isin(comps.labels, sorted(drop)) | rings
    new_mask = mask & ~gone
    return ShapesRemoved(np.where(gone, np.float32(0.0), ink), new_mask, found, framed)
