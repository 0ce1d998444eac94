"""Lines of print read again at their own scale, and the box maps that take what they read
back to the page's pixels.

Labels are often half the writing's height: at the handwriting's working resolution a dozen
pixels tall, too few to read. Each line found by :func:`ocr.stages.smallprint.split_print` is
cut from the image the page was prepared from and prepared again, so its letters reach the
working character height. Split from :mod:`ocr.pipeline`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage as ndi

from ocr.stages.binarize import BoolImage, prepare_page
from ocr.stages.segment import Glyph, Layout, SegmentParams, cut_glyphs, segment
from ocr.stages.smallprint import PrintLine


class BoxMap(Protocol):
    """One geometric step of the pipeline, undone: a box on the step's output -> the axis-
    aligned bounds of its corners on the step's input (deskew, quarter turn, rectified sheet,
    resampling)."""

    def box_to_input(self, box: tuple[float, float, float, float]) -> tuple[float, ...]: ...


@dataclass(frozen=True)
class Resampled:
    """Undoes a resampling by ``per_px`` output px per input px."""

    per_px: float

    def box_to_input(self, box: tuple[float, float, float, float]) -> tuple[float, ...]:
        return tuple(v / self.per_px for v in box)


@dataclass(frozen=True)
class Shifted:
    """Undoes a crop: a box on the crop -> the same box on the image it was cut from."""

    dx: float
    dy: float

    def box_to_input(self, box: tuple[float, float, float, float]) -> tuple[float, ...]:
        x0, y0, x1, y1 = box
        return (x0 + self.dx, y0 + self.dy, x1 + self.dx, y1 + self.dy)


PRINT_PAD: float = 0.4
"""A line of print is cut from the page with this many print heights around it."""

PRINT_STEM_GAP_SW: float = -1.0
"""``SegmentParams.stem_gap_sw`` for print, in stroke widths. A printed letter is one
component (no stem drawn apart from its bowl), and a narrow font sets its letters closer than
a stroke width: the handwriting's value (1.0) joined an I to its neighbour (SIGNED read
SGNED, ID read D). At -1 only a stem overlapping its neighbour by a stroke width joins it."""

PRINT_SCORED_MERGE_GAP_SW: float = -1.0
"""``SegmentParams.scored_merge_gap_sw`` for print, in stroke widths: likewise no
neighbouring letters offered to the scorer as one (it liked CI as a G). With both, labels of
the validation forms: CER 6.11 -> 4.80%, read exactly 82.9 -> 87.9%."""

OWN_GROW_PX: int = 2
"""The line's own print (page working px) is grown by this much before it selects the
crop's components: the crop is binarized again and its strokes are a little wider."""


@dataclass
class PrintRead:
    """One line of small print segmented again from the page at its own scale."""

    layout: Layout
    glyphs: list[Glyph]
    maps: list[BoxMap]
    """From the crop's working pixels back to the image it was cut from, last step first."""


def _own_components(mask: BoolImage, own: BoolImage) -> BoolImage:
    """The components of ``mask`` that touch ``own`` (same shape)."""
    labels, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    keep = np.zeros(n + 1, dtype=bool)
    keep[np.unique(labels[own & mask])] = True
    keep[0] = False
    return keep[labels]


def print_params(params: SegmentParams) -> SegmentParams:
    """Segmentation constants for a line of print: the page's, without the merges of
    separate parts that handwriting needs (see ``PRINT_STEM_GAP_SW``)."""
    return replace(
        params, stem_gap_sw=PRINT_STEM_GAP_SW, scored_merge_gap_sw=PRINT_SCORED_MERGE_GAP_SW
    )


def read_print(
    pixels: NDArray[np.uint8],
    lines: list[PrintLine],
    height: float,
    factor: float,
    score: Callable[[list[NDArray[np.float32]]], NDArray[np.float32]] | None,
    params: SegmentParams,
) -> list[PrintRead]:
    """Each line of print (working-px boxes, letters ``height`` px tall there) cut from
    the image the page was prepared from and prepared again; only the components of the crop
    that are the line's own print are read (a crop's margin may hold a neighbouring line or
    the value beside a label)."""
    out: list[PrintRead] = []
    hgt, wid = pixels.shape[:2]
    pad = PRINT_PAD * height
    for line in lines:
        x0, y0, x1, y1 = line.box
        a = max(0, int((x0 - pad) / factor))
        b = max(0, int((y0 - pad) / factor))
        c = min(wid, int(np.ceil((x1 + pad) / factor)))
        d = min(hgt, int(np.ceil((y1 + pad) / factor)))
        if c - a < 4 or d - b < 4:
            continue
        crop = prepare_page(pixels[b:d, a:c])
        # The line's own print on the crop's working grid: placed on the page's working grid
        # over the crop's extent, grown a little, resized.
        ox, oy = int(round(a * factor)), int(round(b * factor))
        ow, oh = max(1, int(round(c * factor)) - ox), max(1, int(round(d * factor)) - oy)
        own = np.zeros((oh, ow), dtype=bool)
        sy, sx = slice(max(0, y0 - oy), y1 - oy), slice(max(0, x0 - ox), x1 - ox)
        part = line.own[max(0, oy - y0) :, max(0, ox - x0) :]
        own[sy, sx] = part[: own[sy, sx].shape[0], : own[sy, sx].shape[1]]
        own = ndi.binary_dilation(own, iterations=OWN_GROW_PX)
        hh, ww = crop.mask.shape
        own_big = np.asarray(Image.fromarray(own).resize((ww, hh), Image.Resampling.NEAREST))
        mask = _own_components(crop.mask, own_big)
        ink = np.where(mask, crop.ink, np.float32(0)).astype(np.float32)
        crop = replace(crop, mask=mask, ink=ink)
        layout = segment(crop.mask, crop.ink, crop.scale, score, params=print_params(params))
        maps: list[BoxMap] = [Resampled(crop.factor), Shifted(a, b)]
        out.append(PrintRead(layout, cut_glyphs(crop.ink, layout), maps))
    return out
