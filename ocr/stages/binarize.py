"""Page image -> working-resolution ink map.

Stages (each callable alone): :func:`to_grey` -> :func:`resample` (to the factor chosen by
:func:`working_resolution`) -> :func:`estimate_background` -> :func:`binarize` ->
:func:`estimate_scale`. :func:`prepare_page` chains them in two passes: a coarse pass that
discovers the character height, then (only if needed) a pass at the working resolution where
characters are about ``TARGET_CHAR_PX`` tall.

Polarity everywhere: ink = 1.0 on a 0.0 background. Sizes in docstrings are in pixels of the
image the function receives unless stated otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import ndimage as ndi

from ocr.stages.labels import label_boxes, select
from ocr.stages.shadow import follow_hard_shadows

FloatImage = NDArray[np.float32]
BoolImage = NDArray[np.bool_]

TARGET_CHAR_PX: float = 32.0
"""Character height (px) the working image is resampled to: enough for the 32x32 glyph
normalization (24 px glyph box) while keeping a page around 1 MP or less."""

TARGET_TOLERANCE: float = 1.5
"""A coarse-pass character height within [target / tol, target * tol] is used as is (ratio)."""

COARSE_LONG_SIDE: int = 1200
"""Long side (px) of the scale-discovery pass. Before the character height is known there is
no better unit than the image itself; this only sets how finely the scale is measured."""

PROBE_BLOCK: int = 2
"""The coarse pass measures the scale on the coarse image block-averaged by this factor..."""

PROBE_MIN_SIDE: int = 400
"""...when its short side has at least this many pixels (small crops are probed as they are)."""

COARSE_CELL_FRACTION: float = 1.0 / 48.0
"""Background cell side in the coarse pass, as a fraction of the image's long side."""

BG_CELL_CHARS: float = 0.6
"""Background cell side, in character heights: strokes (~ch/10, ~ch/5 for marker) leave most
of such a cell paper, and shadows vary over many characters. The stroke width is not used:
it is the noisier estimate, and an overestimate would grow cells past page edges."""

BG_PERCENTILE: float = 80.0
"""Per-cell percentile of brightness taken as paper: above the ink, below glare specks."""

BG_SAMPLE_STRIDE: int = 2
"""The background percentile of a cell reads every this-many-th row and column of it."""

BG_SMOOTH_CELLS: int = 3
"""Cells of the median clean-up of the cell grid: a cell mostly covered by ink (a thick
marker crossing) takes its neighbours' paper level. A max filter would also do that but
biases the paper level upwards wherever lighting has a gradient."""

NOISE_SIGMAS: float = 5.0
"""The high (seed) threshold is at least this many paper-noise sigmas above the paper."""

INK_FRACTION_HIGH: float = 0.45
"""...and at least this fraction of the typical ink darkness (rejects show-through and
half-erased whiteboard writing, which are much fainter than the current ink)."""

GHOST_MIN_SIZE: float = 0.3
"""Unseeded faint components at least this share of the median stroke's size count as ghost
strokes (smaller ones are paper texture)."""

GHOST_MASS_SHARE: float = 0.1
"""Ghost strokes must add up to this share of the page's ink before the low threshold moves."""

GHOST_LOW_MARGIN: float = 1.1
"""With ghosts on the page the low threshold rises to this factor over the darkest ghost."""

LOW_OVER_HIGH: float = 0.55
"""Hysteresis low threshold as a fraction of the high one: faint stroke ends are kept only
when they touch a strongly dark part."""

INK_PERCENTILE: float = 99.0
"""Percentile of darkness taken as the typical ink level (ink covers > 1 % of a text page)."""

MIN_INK_CONTRAST: float = 0.08
"""Darkness (fraction of the paper brightness) below which nothing counts as ink: a blank
page must give an empty mask instead of amplified noise."""

MIN_COMPONENT_PX: int = 4
"""Resolution floor (px) for scale estimation: smaller components carry no size information."""

WEIGHT_CAP_PERCENTILE: float = 90.0
"""Component areas are capped at this percentile of all areas when weighting heights."""

SCALE_MAX_EXTENT: float = 0.5
"""Components spanning at least this share of the image's long side take no part in the
scale, while at least ``SCALE_MIN_LEFT`` others remain: the sides of a page outline or of
the band where a sheet meets a brighter surround (a photo turned in an editor on a white
canvas) are few but large, and outweighed ten digits (scale 387 px, then everything was
read at 3 px a character)."""

SCALE_MIN_LEFT: int = 3
"""...(else a close crop of a word or two, whose letters can be that big, is measured whole)."""

CHAR_HEIGHT_BAND: tuple[float, float] = (0.4, 2.5)
"""Components kept for the refined character-height median, in units of the first guess."""


@dataclass(frozen=True)
class Scale:
    """Robust size estimate of the handwriting, in pixels of the image it was measured on."""

    char_height: float
    stroke_width: float

    def scaled(self, factor: float) -> Scale:
        """The same handwriting after resampling the image by ``factor``."""
        return Scale(self.char_height * factor, self.stroke_width * factor)


@dataclass(frozen=True)
class Binarized:
    """Ink map (float, ink = 1) and its boolean mask, same shape as the input grey image."""

    ink: FloatImage
    mask: BoolImage
    hard_shadow: bool = False
    """The paper level had to follow a hard shadow's edge (see ``ocr.stages.shadow``)."""
    dark: FloatImage | None = None
    """Darkness over the paper (1 - grey / paper level) on the mask, 0 elsewhere: not scaled
    by the ink level, so not saturated. The ink map reaches 1 at the page's ink level, where
    a dark rule and the pen both sit, and rules can no longer be told from strokes on it."""


@dataclass(frozen=True)
class PreparedPage:
    """A page at working resolution; ``factor`` = working px per input px."""

    grey: FloatImage
    ink: FloatImage
    mask: BoolImage
    scale: Scale
    factor: float
    hard_shadow: bool = False
    """A hard cast shadow's edge crosses the page (binarization followed it)."""
    dark: FloatImage | None = None
    """Unsaturated darkness on the mask (:attr:`Binarized.dark`); None once the page has
    been turned or rotated (only the rules stage, before those, reads it)."""


def to_grey(rgb_or_grey: NDArray[np.generic], block: int = 1) -> FloatImage:
    """Grey float32 in [0, 1] where ink is dark, optionally block-averaged by ``block``.

    Colour images use the minimum over channels: a pen of any hue (blue, red, green marker) is
    dark in at least one channel while white paper is bright in all, so the minimum keeps the
    most ink contrast (luminance weighs blue 0.11 and loses blue ink). Averaging ``block`` x
    ``block`` pixels happens on the integer image before the float conversion, because on a
    12 MP photo the conversion alone costs more than the whole working-resolution pipeline.
    """
    a = np.asarray(rgb_or_grey)
    if a.ndim == 3:
        a = (
            np.minimum(np.minimum(a[..., 0], a[..., 1]), a[..., 2])
            if a.shape[2] >= 3
            else a[..., 0]
        )
    if a.dtype == np.uint8:
        full = 255.0
    elif a.dtype == np.uint16:
        full = 65535.0
    else:
        a = a.astype(np.float32)
        full = max(1.0, float(a.max()) if a.size else 1.0)
    k = max(1, int(block))
    if k > 1:
        h, w = (a.shape[0] // k) * k, (a.shape[1] // k) * k
        small_ints = a.dtype == np.uint8 and k <= 16  # 16 * 16 * 255 fits in uint16
        acc_type = np.float32 if a.dtype.kind == "f" else (np.uint16 if small_ints else np.uint32)
        acc = np.zeros((h // k, w // k), dtype=acc_type)
        for dy in range(k):  # k*k strided adds: much faster than a reshape-mean
            for dx in range(k):
                acc += a[dy:h:k, dx:w:k]
        a = acc
        full *= k * k
    out = a.astype(np.float32) * np.float32(1.0 / full)
    return np.clip(out, 0.0, 1.0, out=out)


def working_resolution(
    shape: tuple[int, ...],
    char_height: float | None = None,
    target_char_px: float = TARGET_CHAR_PX,
) -> float:
    """Resampling factor (<= 1 when no scale is known) for an image of ``shape``.

    With a known character height (px of this image) the factor brings characters to
    ``target_char_px``; small writing is upsampled at most 2x (more invents no detail).
    Without it, the factor brings the long side to ``COARSE_LONG_SIDE`` for scale discovery.
    """
    if char_height is not None and char_height > 0:
        return float(min(target_char_px / char_height, 2.0))
    long_side = max(shape[0], shape[1])
    return float(min(1.0, COARSE_LONG_SIDE / max(long_side, 1)))


def resample(grey: FloatImage, factor: float) -> FloatImage:
    """Area-averaged resampling: integer block means first (cheap, anti-aliased), then a
    bilinear zoom for the remaining factor, which is then between 0.5 and 2."""
    g = np.asarray(grey, dtype=np.float32)
    if abs(factor - 1.0) < 0.02:
        return g
    if factor < 1.0:
        k = int(np.floor(1.0 / factor))
        if k >= 2:
            g = to_grey(g, block=k)
            factor *= k
    if abs(factor - 1.0) < 0.02:
        return g
    out_shape = (max(1, round(g.shape[0] * factor)), max(1, round(g.shape[1] * factor)))
    # PIL's bilinear resize on a float image: the same interpolation as ndimage.zoom(order=1)
    # (with area averaging when shrinking) at a fraction of the cost.
    img = Image.fromarray(g, mode="F").resize(
        (out_shape[1], out_shape[0]), Image.Resampling.BILINEAR
    )
    return np.asarray(img, dtype=np.float32)


def estimate_background(grey: FloatImage, cell_px: float) -> FloatImage:
    """Paper brightness at every pixel: a high percentile per cell of ``cell_px`` (ink covers
    a minority of any cell), cleaned with a cell-grid max then median (a cell filled by ink
    takes its neighbours' paper level), then bilinearly upsampled. Shadows, gradients and
    tinted paper vary slowly, so they live in this estimate and divide out."""
    h, w = grey.shape
    c = int(max(2, round(cell_px)))
    gh, gw = max(1, h // c), max(1, w // c)
    cell_h, cell_w = h // gh, w // gw
    body = grey[: gh * cell_h, : gw * cell_w]
    # Every BG_SAMPLE_STRIDE-th row and column of a cell: the percentile of a cell's paper
    # does not need all its pixels, and the partition is the costliest step of binarization.
    st = BG_SAMPLE_STRIDE if min(cell_h, cell_w) >= 4 * BG_SAMPLE_STRIDE else 1
    blocks = body.reshape(gh, cell_h, gw, cell_w)[:, ::st, :, ::st]
    blocks = blocks.swapaxes(1, 2).reshape(gh, gw, -1)
    grid = np.percentile(blocks, BG_PERCENTILE, axis=2).astype(np.float32)
    grid = ndi.median_filter(grid, size=BG_SMOOTH_CELLS, mode="nearest")
    # Bilinear upsampling of the cell grid onto the pixels (cell centres at (i + 0.5) * cell;
    # PIL's bilinear resize maps pixel centres the same way and is several times faster than
    # gathering the four neighbours with numpy).
    up = Image.fromarray(grid, mode="F").resize(
        (gw * cell_w, gh * cell_h), Image.Resampling.BILINEAR
    )
    bg = np.asarray(up, dtype=np.float32)
    if bg.shape != (h, w):  # the few rows/columns past the last whole cell repeat the edge
        bg = np.pad(bg, ((0, h - bg.shape[0]), (0, w - bg.shape[1])), mode="edge")
    return bg


def background_cell(scale: Scale | None, shape: tuple[int, ...]) -> float:
    """Background cell side (px): from the character height when known, else a fixed
    fraction of the image (coarse pass)."""
    if scale is None:
        return max(shape[0], shape[1]) * COARSE_CELL_FRACTION
    return BG_CELL_CHARS * scale.char_height


def darkness_over(grey: FloatImage, background: FloatImage) -> FloatImage:
    """1 - grey / paper level: 0 on paper, towards 1 on ink (negative where brighter)."""
    return cast(FloatImage, np.float32(1.0) - grey / np.maximum(background, np.float32(1e-3)))


def paper_noise(dark: FloatImage) -> tuple[float, float, FloatImage]:
    """The paper's darkness level and noise (median and MAD sigma, robust to the ink
    minority) from a subsample of ``dark``, and that subsample."""
    sample = dark[::4, ::4].ravel() if dark.size > 4096 else dark.ravel()
    med = float(np.median(sample))
    sigma = 1.4826 * float(np.median(np.abs(sample - med))) + 1e-4
    return med, sigma, sample


def binarize(grey: FloatImage, scale: Scale | None = None) -> Binarized:
    """Normalize by the background, then hysteresis-threshold the darkness.

    Darkness d = 1 - grey / background (0 on paper, ~0.3-0.9 on ink). The high threshold sits
    above the paper noise (robust sigma) and above a fraction of the typical ink darkness; the
    ink map is d scaled by that ink level, zero outside the mask.
    """
    g = np.asarray(grey, dtype=np.float32)
    cell = background_cell(scale, g.shape)
    bg = estimate_background(g, cell)
    hard = False
    if scale is not None:  # the final pass: stroke width known, the closing can be sized
        shadowed = follow_hard_shadows(g, bg, cell, scale.stroke_width, scale.char_height)
        bg, hard = shadowed.background, shadowed.hard_edge
    dark = darkness_over(g, bg)
    np.clip(dark, 0.0, 1.0, out=dark)
    med, sigma, sample = paper_noise(dark)
    ink_level = float(np.percentile(sample, INK_PERCENTILE))
    high = max(med + NOISE_SIGMAS * sigma, INK_FRACTION_HIGH * ink_level, MIN_INK_CONTRAST)
    low = max(med + 0.5 * NOISE_SIGMAS * sigma, LOW_OVER_HIGH * high)
    mask = hysteresis(dark, low, high)
    ink = np.clip(dark / max(ink_level, high), 0.0, 1.0)
    ink[~mask] = 0.0
    dark[~mask] = 0.0
    return Binarized(
        ink=ink.astype(np.float32, copy=False),
        mask=mask,
        hard_shadow=hard,
        dark=dark.astype(np.float32, copy=False),
    )


def hysteresis(dark: NDArray[np.floating], low: float, high: float) -> BoolImage:
    """Pixels above ``low`` that are connected (8-neighbours) to a pixel above ``high``:
    faint stroke ends stay attached to their stroke, faint paper texture does not.

    Half-erased writing (a whiteboard) and show-through never reach ``high``, but where their
    strokes cross today's they would join them above ``low``. When such faint strokes make a
    real share of the page's ink, ``low`` rises just above their level and the strokes are
    grown again.
    """
    eight = np.ones((3, 3), dtype=bool)
    faint = dark > low
    labels, n = ndi.label(faint, structure=eight)
    seeds = np.flatnonzero((dark > high).ravel())
    keep = _seeded(labels, n, seeds)
    # Every faint pixel is labelled: counting labels there is the components' sizes.
    size = np.bincount(labels.ravel()[np.flatnonzero(faint.ravel())], minlength=n + 1)
    kept_mass = int(size[keep].sum())
    if kept_mass == 0:
        return select(labels, keep)
    typical = float(np.median(size[keep]))
    ghosts = ~keep & (size >= GHOST_MIN_SIZE * typical)
    ghosts[0] = False
    if size[ghosts].sum() < GHOST_MASS_SHARE * kept_mass:
        return select(labels, keep)
    peak = np.zeros(n + 1, dtype=np.float32)
    np.maximum.at(peak, labels[faint], dark[faint])
    ghost_level = float(np.max(peak[ghosts]))
    low2 = min(high, ghost_level * GHOST_LOW_MARGIN)
    labels, n = ndi.label(dark > low2, structure=eight)
    return select(labels, _seeded(labels, n, seeds))


def _seeded(labels: NDArray[np.int32], n: int, seeds: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Per label 0..n: whether any of the ``seeds`` (flat pixel indices) lies on it (label 0,
    the background, never)."""
    keep = np.zeros(n + 1, dtype=bool)
    keep[labels.ravel()[seeds]] = True
    keep[0] = False
    return keep


def boundary_pixels(mask: BoolImage) -> int:
    """Pixels of ``mask`` with a 4-neighbour off it (or off the image): what remains after
    subtracting the erosion by a cross, counted with four shifted ANDs of the padded mask
    (a third of ``binary_erosion``'s time at a page's size; only the count is needed)."""
    p = np.pad(mask, 1)
    inner = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    return int(np.count_nonzero(mask)) - int(np.count_nonzero(inner))


def estimate_scale(mask: BoolImage) -> Scale:
    """Character height = median height of character-sized components; stroke width =
    2 * area / boundary length over those components (exact for long strokes of any width).

    The first height guess is a median weighted by capped area, so a cloud of noise specks
    cannot drag it down and a few huge components (page outline) cannot drag it up.
    """
    labels, n = ndi.label(mask)
    if n == 0:
        return Scale(char_height=TARGET_CHAR_PX, stroke_width=TARGET_CHAR_PX / 10.0)
    boxes = label_boxes(labels, n)
    heights = boxes.heights.astype(np.float64)
    areas = boxes.area.astype(np.float64)
    ok = (areas >= MIN_COMPONENT_PX) & (heights >= 2)
    widths = boxes.widths.astype(np.float64)
    small = np.maximum(heights, widths) < SCALE_MAX_EXTENT * max(mask.shape)
    if int(np.count_nonzero(ok & small)) >= SCALE_MIN_LEFT:
        ok &= small
    if not ok.any():
        ok = areas > 0
    h_ok, a_ok = heights[ok], areas[ok]
    # Weight by area capped at a high percentile: specks weigh little, and a single huge
    # component (page outline, desk edge) weighs no more than one big letter.
    w_ok = np.minimum(a_ok, np.percentile(a_ok, WEIGHT_CAP_PERCENTILE))
    order = np.argsort(h_ok)
    cum = np.cumsum(w_ok[order])
    guess = float(h_ok[order][np.searchsorted(cum, cum[-1] / 2)])
    lo, hi = CHAR_HEIGHT_BAND
    band = ok & (heights >= lo * guess) & (heights <= hi * guess)
    char_height = float(np.median(heights[band])) if band.any() else guess
    keep = np.zeros(n + 1, dtype=bool)
    keep[1:] = band if band.any() else ok
    chars = select(labels, keep)
    b = boundary_pixels(chars)
    stroke = 2.0 * float(chars.sum()) / b if b else 1.0
    return Scale(char_height=char_height, stroke_width=max(1.0, stroke))


def grey_at(image: NDArray[np.generic], factor: float) -> FloatImage:
    """Grey image resampled by ``factor``. 8-bit input is reduced to one channel and resized
    by PIL while still 8-bit (area-averaged when shrinking), before any float conversion:
    on a 3-12 MP photo that conversion costs more than the rest of the stage."""
    a = np.asarray(image)
    if a.dtype == np.uint8:
        if a.ndim == 3:
            a = (
                np.minimum(np.minimum(a[..., 0], a[..., 1]), a[..., 2])
                if a.shape[2] >= 3
                else a[..., 0]
            )
        h, w = a.shape
        size = (max(1, round(w * factor)), max(1, round(h * factor)))
        if size != (w, h):
            a = np.asarray(Image.fromarray(a).resize(size, Image.Resampling.BILINEAR))
        return a.astype(np.float32) * np.float32(1.0 / 255.0)
    k = int(np.floor(1.0 / factor)) if factor < 1.0 else 1
    grey = to_grey(image, block=k)
    return resample(grey, factor * k)


RULED_SHARE: float = 0.1
"""Printed rules make at least this share of a ruled page's ink on the probe (a sheet's
edge or a desk's long streaks make less, and need no second look)."""

StripRules = Callable[[BoolImage, Scale | None], BoolImage]
"""A mask without its printed rules (``ocr.stages.rules.without_rules``), given the scale
when known; the very same array when there are none."""


def prepare_page(image: NDArray[np.generic], strip: StripRules | None = None) -> PreparedPage:
    """Image (RGB or grey, any size) -> binarized page at the working resolution.

    A coarse pass at ``COARSE_LONG_SIDE`` measures the scale; the page is then binarized
    again with scale-relative background cells, after resampling (from the source when more
    detail is needed) if characters are far from ``TARGET_CHAR_PX``. ``strip`` takes printed
    rules out of the masks the scale is measured on: on grid paper every letter touches the
    grid, and the one component it makes is as tall as the page.
    """
    shape = np.shape(image)
    f0 = working_resolution(shape)
    grey = grey_at(image, f0)
    f0 = grey.shape[1] / shape[1]  # the factor actually achieved
    # Scale discovery on a 2x-reduced copy: half the cost, and a character height of a few
    # pixels is still measurable there (MIN_COMPONENT_PX).
    k = PROBE_BLOCK if min(grey.shape) >= PROBE_MIN_SIDE else 1
    probe = to_grey(grey, block=k)
    probe_mask = binarize(probe).mask
    ruled = False
    if strip is not None:
        stripped = strip(probe_mask, None)
        ink_px = max(1, int(probe_mask.sum()))
        ruled = stripped is not probe_mask and ink_px - int(stripped.sum()) >= RULED_SHARE * ink_px
    if strip is not None and ruled:
        # Rules in view: measure on the coarse image, where hairlines and thin strokes are
        # still whole (on the reduced probe both break into dashes that outnumber letters).
        scale = estimate_scale(strip(binarize(grey).mask, None))
    else:
        scale = estimate_scale(probe_mask).scaled(k)
    f1 = working_resolution(grey.shape, scale.char_height)
    factor = f0
    if not 1.0 / TARGET_TOLERANCE <= f1 <= TARGET_TOLERANCE:
        if f1 > 1.0 and f0 < 1.0:
            grey = grey_at(image, min(f0 * f1, 2.0))
        else:
            grey = resample(grey, f1)
        factor = grey.shape[1] / shape[1]
    work_scale = scale.scaled(factor / f0)
    final = binarize(grey, work_scale)
    if ruled:
        # The scale measured on the whole hairlines stands: rules stripped at the working
        # resolution can leave dashes or cut letters that outnumber the letters, and the rules
        # stage strips them again anyway (measuring here too cost a ruled page a third of its
        # time, 1.8 -> 1.4 s on grid scenes, for a scale the rules stage re-measures).
        final_scale = work_scale
    else:
        final_scale = estimate_scale(final.mask)
        if strip is not None and not within(final_scale, work_scale):
            # Rules too faint for the reduced probe show at the working resolution: the
            # grid's cells (or the whole grid) would be measured as the writing.
            measured = estimate_scale(strip(final.mask, work_scale))
            final_scale = measured if within(measured, work_scale) else final_scale
    return PreparedPage(
        grey, final.ink, final.mask, final_scale, factor, final.hard_shadow, final.dark
    )


def within(scale: Scale, expected: Scale) -> bool:
    """The character height is within ``TARGET_TOLERANCE`` times the expected one."""
    ratio = scale.char_height / max(expected.char_height, 1e-6)
    return 1.0 / TARGET_TOLERANCE <= ratio <= TARGET_TOLERANCE
