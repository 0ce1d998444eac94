"""Deskew: rotate a binarized page whose text lines are tilted (a page lying askew on a desk)
so that segmentation and the classifier see upright writing.

Segmentation tolerates a few degrees by itself; beyond that, lines interleave and every glyph
is rotated further than training augmentation covered. The rotation is kept as a
:class:`Rotation` so boxes found on the upright page map back to the input's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ocr.stages.binarize import BoolImage, PreparedPage, Scale
from ocr.stages.segment import (
    DEFAULT_PARAMS,
    Component,
    Components,
    SegmentParams,
    cap_parts,
    estimate_skew,
    filter_components,
    find_components,
)

MAX_DESKEW_DEG: float = 20.0
"""Largest page tilt searched, in degrees."""

MIN_DESKEW_DEG: float = 3.0
"""Tilts below this (degrees) are left to segmentation's own skew handling: no resampling."""

MIN_LINED_SHARE: float = 0.6
"""A tilt is only applied when at least this share of the parts lie in lines of
``LINE_MIN_PARTS`` or more at that tilt. Scattered marks (a few keys drawn on a sheet) line
up by chance at some angle: of 300 random scatters of 6-20 letter-sized parts, 61-76% found
a tilt of 3 degrees or more, with at most 0.67-0.85 of their parts in such lines (90th
percentile 0.5-0.6); pages of writing, tilted desk scenes of the validation writers among
them, have 0.9-1.0."""

LINE_MIN_PARTS: int = 3
"""Parts a line needs to count as one for ``MIN_LINED_SHARE``."""

LINE_CHAIN_CH: float = 0.5
"""Parts whose tilt-corrected centres lie within this many ch of each other (in height) chain
into one line for ``MIN_LINED_SHARE``."""


@dataclass(frozen=True)
class Rotation:
    """Maps upright-page pixels (x, y) back to the input page: p_in = R (p - c_out) + c_in,
    with R the rotation by ``degrees`` (PIL's ``Image.rotate`` convention, expand=True)."""

    degrees: float
    centre_in: tuple[float, float]
    centre_out: tuple[float, float]

    def to_input(
        self, xs: NDArray[np.floating], ys: NDArray[np.floating]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        t = np.deg2rad(self.degrees)
        c, s = np.cos(t), np.sin(t)
        dx = np.asarray(xs, float) - self.centre_out[0]
        dy = np.asarray(ys, float) - self.centre_out[1]
        return c * dx - s * dy + self.centre_in[0], s * dx + c * dy + self.centre_in[1]

    def box_to_input(self, box: tuple[float, float, float, float]) -> tuple[float, ...]:
        """Axis-aligned bounds, in input pixels, of an upright-page box's four corners."""
        x0, y0, x1, y1 = box
        xs, ys = self.to_input(np.array([x0, x1, x0, x1]), np.array([y0, y0, y1, y1]))
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


@dataclass(frozen=True)
class Tilt:
    """Measured tilt of the text lines and the components that count as writing."""

    degrees: float
    """Positive: lines fall to the right (y grows with x)."""
    writing: BoolImage
    """Mask of the kept components: page edges, desk and specks are not rotated along."""
    components: Components
    """All components of the mask, for segmentation to reuse when the page stays as it is."""


def measure_tilt(
    page: PreparedPage, comps: Components | None = None, params: SegmentParams = DEFAULT_PARAMS
) -> Tilt:
    """``comps``: the page's components when an earlier stage already found them; ``params``:
    the segmentation constants the page is segmented with (filter and part cap)."""
    comps = comps if comps is not None else find_components(page.mask)
    parts = cap_parts(filter_components(comps, page.scale, params=params), params.max_parts)
    radians = estimate_skew(parts, page.scale, max_deg=MAX_DESKEW_DEG)
    degrees = float(np.rad2deg(radians))
    if abs(degrees) >= MIN_DESKEW_DEG and lined_share(parts, radians, page.scale) < MIN_LINED_SHARE:
        degrees = 0.0  # no lines of writing at that angle: a chance alignment of scattered marks
    labels = np.fromiter((label for p in parts for label in p.labels), dtype=np.int32)
    return Tilt(degrees, np.isin(comps.labels, labels), comps)


def lined_share(parts: list[Component], radians: float, scale: Scale) -> float:
    """Share of ``parts`` lying in lines of at least ``LINE_MIN_PARTS`` once the page is
    turned by ``radians``: the parts' corrected centre heights, sorted, chain into one line
    while consecutive ones are within ``LINE_CHAIN_CH`` ch."""
    if not parts:
        return 0.0
    ys = np.sort([p.cy - p.cx * np.tan(radians) for p in parts])
    breaks = np.flatnonzero(np.diff(ys) > LINE_CHAIN_CH * scale.char_height)
    sizes = np.diff(np.concatenate([[0], breaks + 1, [len(ys)]]))
    return float(sizes[sizes >= LINE_MIN_PARTS].sum() / len(ys))


def rotate_page(page: PreparedPage, tilt: Tilt) -> tuple[PreparedPage, Rotation]:
    """The page's writing turned so its lines run level, on a canvas that holds it all.

    Only the writing is turned (rejected components would come back as new shapes once
    they no longer touch the border). PIL's rotate on 8-bit images keeps this to a few ms.
    """
    ink = np.where(tilt.writing, page.ink, np.float32(0.0))
    ink8 = Image.fromarray(np.round(ink * 255).astype(np.uint8))
    mask8 = Image.fromarray((page.mask & tilt.writing).astype(np.uint8) * 255)
    turned_ink = ink8.rotate(tilt.degrees, Image.Resampling.BILINEAR, expand=True, fillcolor=0)
    turned_mask = mask8.rotate(tilt.degrees, Image.Resampling.NEAREST, expand=True, fillcolor=0)
    h, w = page.mask.shape
    out_w, out_h = turned_ink.size
    rot = Rotation(tilt.degrees, (w / 2, h / 2), (out_w / 2, out_h / 2))
    ink_out = np.asarray(turned_ink, dtype=np.float32) / 255.0
    mask_out = np.asarray(turned_mask) > 127
    return PreparedPage(1.0 - ink_out, ink_out, mask_out, page.scale, page.factor), rot
