"""Connected ink components and the filter that drops what cannot be handwriting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, FloatImage, Scale
from ocr.stages.labels import label_boxes
from ocr.stages.segment.params import DEFAULT_PARAMS, SegmentParams


@dataclass(frozen=True)
class Component:
    """One connected ink component (or a merged group): box and the labels it owns."""

    x0: int
    y0: int
    x1: int
    y1: int
    labels: tuple[int, ...]
    area: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class Components:
    """Label image and its components."""

    labels: NDArray[np.int32]
    items: list[Component]


def find_components(mask: BoolImage) -> Components:
    """8-connected components of the ink mask with their boxes and pixel counts."""
    labels, n = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    labels = labels.astype(np.int32, copy=False)
    b = label_boxes(labels, n)
    items = [
        Component(x0, y0, x1, y1, (i + 1,), area)
        for i, (x0, y0, x1, y1, area) in enumerate(
            zip(
                b.x0.tolist(),
                b.y0.tolist(),
                b.x1.tolist(),
                b.y1.tolist(),
                b.area.tolist(),
                strict=True,
            )
        )
    ]
    return Components(labels, items)


def filter_components(
    comps: Components, scale: Scale, params: SegmentParams = DEFAULT_PARAMS
) -> list[Component]:
    """Drop noise specks and non-character things (page/desk edges, rules, filled blobs)."""
    ch, sw = scale.char_height, scale.stroke_width
    h_img, w_img = comps.labels.shape
    kept: list[Component] = []
    for c in comps.items:
        if c.area < params.speck_area_sw2 * sw * sw:
            continue
        if c.height > params.huge_height_ch * ch or c.width > params.huge_width_ch * ch:
            continue
        on_border = c.x0 == 0 or c.y0 == 0 or c.x1 == w_img or c.y1 == h_img
        if on_border and max(c.width, c.height) > params.border_long_ch * ch:
            continue
        if min(c.width, c.height) > ch and c.area > params.blob_fill * c.width * c.height:
            continue
        kept.append(c)
    return kept


def union(parts: Sequence[Component]) -> Component:
    """One component covering all ``parts``."""
    return Component(
        min(p.x0 for p in parts),
        min(p.y0 for p in parts),
        max(p.x1 for p in parts),
        max(p.y1 for p in parts),
        tuple(sorted(label for p in parts for label in p.labels)),
        sum(p.area for p in parts),
    )


def own_ink(c: Component, labels: NDArray[np.int32], ink: FloatImage) -> FloatImage:
    own = np.isin(labels[c.y0 : c.y1, c.x0 : c.x1], c.labels)
    return np.where(own, ink[c.y0 : c.y1, c.x0 : c.x1], np.float32(0.0)).astype(np.float32)


def cap_parts(parts: list[Component], limit: int) -> list[Component]:
    """At most ``limit`` parts: the largest by pixel count, in their original order (specks
    of texture go first). Bounds the cost of every later stage."""
    if len(parts) <= limit:
        return parts
    keep = set(np.argsort([-p.area for p in parts], kind="stable")[:limit].tolist())
    return [p for i, p in enumerate(parts) if i in keep]
