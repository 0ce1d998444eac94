"""A flat white canvas around the picture -> filled with the colour of the picture's edge.

Why: a photo turned in an editor is saved on a larger canvas whose corners are filled flat
white, and a scanner's lid around a small photo is white too. When the photographed paper is
greyer than that white, the background estimate of binarization takes the canvas's level
near the edge, the paper along the whole edge comes out as ink (a thick frame), and that
frame outweighs the writing everywhere after: the character height was measured at the
frame's, and a line of ten digits read as nothing. The sheet search cannot help: the canvas
is brighter than the paper, as unshadowed paper is beside a hand's shadow.

How: on a thumbnail, the flat (no sensor noise or paper grain) near-white regions touching
the picture's border are the canvas, when what they leave is most of the picture and
darker. Each canvas pixel takes the paper colour (writing and rules closed away) of the
nearest picture pixel, so the picture's edge meets no step. The picture keeps its size and
pixel grid: boxes need no mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage as ndi

from ocr.stages.sheet import thumbnail

THUMB_LONG_SIDE: int = 320
"""Long side (px) of the thumbnail the canvas is found on (as the sheet search's)."""

CANVAS_LEVEL: int = 247
"""A canvas pixel is at least this bright (0-255) in every channel: a white fill, after
JPEG's rounding."""

CANVAS_FLATNESS: float = 1.5
"""...and its 3 x 3 neighbourhood varies by at most this (0-255 standard deviation): paper
has grain and a camera noise, a fill has neither."""

MIN_CANVAS_SHARE: float = 0.01
"""The canvas (regions touching the border) covers at least this share of the thumbnail..."""

MIN_PICTURE_SHARE: float = 0.4
"""...and what it leaves, holes filled, at least this share: on a white scan the "canvas" is
the page itself and what it leaves is only the writing."""

MAX_PAPER_LEVEL: float = 0.92
"""...and the picture's edge is darker than the canvas: its median brightness at most this
share of the canvas's (else the canvas is paper-white already and harmless)."""

GROW_PX: int = 2
"""Thumbnail px the canvas is grown by before filling, so the picture's anti-aliased
outermost pixels (a blend of paper and white) are filled too."""

PAPER_CLOSE_PX: int = 7
"""Thumbnail px of the grey closing that takes the writing and printed rules off the
picture's edge before its colour is carried out over the canvas (a stroke or rule at
thumbnail scale is a pixel or two wide)."""


@dataclass(frozen=True)
class CanvasFill:
    """The picture with its canvas filled, and the canvas's share of the picture."""

    pixels: NDArray[np.uint8]
    share: float
    """0 when no canvas was found (``pixels`` is then the input itself)."""


def canvas_mask(rgb: NDArray[np.uint8]) -> NDArray[np.bool_]:
    """Flat near-white pixels of a (thumbnail) picture that are connected to its border."""
    low = rgb.min(axis=2) if rgb.ndim == 3 else rgb
    grey = low.astype(np.float32)
    mean = ndi.uniform_filter(grey, 3)
    spread = np.sqrt(np.maximum(ndi.uniform_filter(grey * grey, 3) - mean * mean, 0.0))
    flat_white = (low >= CANVAS_LEVEL) & (spread <= CANVAS_FLATNESS)
    labels, n = ndi.label(flat_white)
    if n == 0:
        return np.zeros_like(flat_white)
    border = np.unique(
        np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]).astype(np.intp)
    )
    keep = np.zeros(n + 1, dtype=bool)
    keep[border] = True
    keep[0] = False
    return np.asarray(keep[labels])


def fill_canvas(image: NDArray[np.uint8]) -> CanvasFill:
    """``image`` (H x W x 3 or H x W, uint8) with a white canvas around the picture filled
    with the colour of the picture's nearest edge pixel; unchanged without one."""
    thumb, _ = thumbnail(image, THUMB_LONG_SIDE)
    canvas = canvas_mask(thumb)
    share = float(canvas.mean())
    if share < MIN_CANVAS_SHARE:
        return CanvasFill(image, 0.0)
    picture = ndi.binary_fill_holes(~canvas)
    if float(picture.mean()) < MIN_PICTURE_SHARE:
        return CanvasFill(image, 0.0)
    grown = ndi.binary_dilation(canvas, iterations=GROW_PX)
    edge = ~grown & ndi.binary_dilation(grown, iterations=GROW_PX)
    low = thumb.min(axis=2) if thumb.ndim == 3 else thumb
    if not edge.any() or float(np.median(low[edge])) > MAX_PAPER_LEVEL * float(
        np.median(low[canvas])
    ):
        return CanvasFill(image, 0.0)
    # Every canvas pixel takes the paper colour of its nearest picture pixel (on the
    # thumbnail, writing and rules closed away: they must not run on as streaks), then the
    # filled thumbnail is scaled up over the canvas of the full picture.
    # (Taken from pixels beyond the closing's reach of the canvas, whose white it would take.)
    size = (PAPER_CLOSE_PX,) * 2 + ((1,) if thumb.ndim == 3 else ())
    paper = ndi.grey_closing(thumb, size=size)
    near = ndi.binary_dilation(grown, iterations=PAPER_CLOSE_PX)
    _, (iy, ix) = ndi.distance_transform_edt(near, return_indices=True)
    filled = paper[iy, ix]
    h, w = image.shape[:2]
    up = np.asarray(Image.fromarray(filled).resize((w, h), Image.Resampling.BILINEAR))
    where = np.asarray(Image.fromarray(grown).resize((w, h), Image.Resampling.NEAREST))
    out = np.array(image, copy=True)
    if out.ndim == 3:
        colour = out[..., : up.shape[2] if up.ndim == 3 else 1]  # a view (RGB of RGBA)
        colour[where] = up.reshape(h, w, -1)[where]
    else:
        out[where] = up[where]
    return CanvasFill(out, share)
