"""Darkness maps of a binarized page beyond its own: asked for by the rules stage only, and
only once rules are found, to tell a pen from the print it crosses or lies on.

Each map is at the page's working resolution (:class:`ocr.stages.binarize.PreparedPage`),
darkness meaning 1 - brightness / paper level as in :mod:`ocr.stages.binarize`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from ocr.stages.binarize import (
    MIN_INK_CONTRAST,
    BoolImage,
    FloatImage,
    PreparedPage,
    background_cell,
    darkness_over,
    estimate_background,
    paper_noise,
)


def brightest_channel_darkness(image: NDArray[np.generic], page: PreparedPage) -> FloatImage | None:
    """Darkness of ``image`` in its brightest colour channel, over that channel's own paper
    level, at ``page``'s working resolution and on its mask; None for a one-channel (or
    unusual depth) image, whose only channel is the page's own darkness already. Coloured
    print (blue or red rules) is bright in one channel where a black or grey pen is dark in
    all three: where the darkest channel (the page's ink map) has pen and print alike, this
    one parts them."""
    a = np.asarray(image)
    if not (a.ndim == 3 and a.shape[2] >= 3 and a.dtype == np.uint8):
        return None
    h, w = page.mask.shape
    top = np.maximum(np.maximum(a[..., 0], a[..., 1]), a[..., 2])
    if top.shape != (h, w):
        top = np.asarray(Image.fromarray(top).resize((w, h), Image.Resampling.BILINEAR))
    g = top.astype(np.float32) * np.float32(1.0 / 255.0)
    dark = darkness_over(g, estimate_background(g, background_cell(page.scale, g.shape)))
    return np.where(page.mask, np.clip(dark, 0.0, 1.0), np.float32(0.0)).astype(np.float32)


def channel_darkness(image: NDArray[np.generic], page: PreparedPage) -> NDArray[np.float32] | None:
    """Darkness of ``image`` in each of its three colour channels over that channel's own
    paper level, (H, W, 3) at ``page``'s working resolution, on its mask (0 elsewhere); None
    for a one-channel (or unusual depth) image. A blue pen on grey print is as dark as the
    print in the darkest channel and lighter in the brightest, but the two differ in colour:
    the rules stage tells them apart along that difference
    (``ocr.stages.penprint.pen_colour``). The three channels are resized in one call (PIL
    resizes each band as it would alone), and darkness is worked out at the mask's pixels
    only."""
    a = np.asarray(image)
    if not (a.ndim == 3 and a.shape[2] >= 3 and a.dtype == np.uint8):
        return None
    h, w = page.mask.shape
    rgb = np.ascontiguousarray(a[..., :3])
    if rgb.shape[:2] != (h, w):
        rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.BILINEAR))
    flat = np.flatnonzero(page.mask.ravel())
    cell = background_cell(page.scale, (h, w))
    out = np.zeros((h, w, 3), dtype=np.float32)
    for c in range(3):
        g = rgb[..., c].astype(np.float32) * np.float32(1.0 / 255.0)
        paper = estimate_background(g, cell).ravel()[flat]
        dark = np.float32(1.0) - g.ravel()[flat] / np.maximum(paper, np.float32(1e-3))
        out.reshape(-1, 3)[flat, c] = np.clip(dark, 0.0, 1.0)
    return out


FAINT_SIGMAS: float = 3.0
"""A pixel of :func:`faint_mask` is this many paper-noise sigmas darker than the paper: a
notebook's faint rules, which the page's own thresholds keep only where they pass dark
writing (a piece under each word, joined to its letters), show there along their length."""


def faint_mask(page: PreparedPage) -> BoolImage:
    """Everything darker than the paper's noise on ``page`` (working resolution): where the
    rules stage looks for rules too faint to binarize whole (asked only on ruled pages).
    Paper grain and the pen show too; only long thin straight runs are taken from it."""
    g = page.grey
    dark = darkness_over(g, estimate_background(g, background_cell(page.scale, g.shape)))
    med, sigma, _ = paper_noise(dark)
    level = max(med + FAINT_SIGMAS * sigma, 0.5 * MIN_INK_CONTRAST)
    return np.asarray(dark > level)
