"""Generated "not a character" crops: the recognizer's 37th class.

On real photos the segmenter hands the recognizer crops that are no character at all: wood
grain and fabric, shadow edges, specks, pieces of drawings, fragments of a letter cut at the
wrong column, two letters fused, leftovers of ruled and grid paper, printed box corners.
Without a class for them the softmax must call each one some letter. This module draws such
crops the way the page pipeline would see them (ink = 1 on 0, one connected piece or a
fragment of one) and normalizes them with the same :func:`ocr.stages.normalize.normalize_batch` as
real glyphs.

Sizes are in pixels of a crop whose character-sized things are about ``CROP_PX`` tall, like
the working resolution of the page pipeline (characters about 32 px).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from ocr.model.classes import NOT_CHAR_INDEX
from ocr.stages.normalize import ink_box, normalize_batch
from ocr.training.datasets.base import Dataset

FloatImage = NDArray[np.float32]
Rng = np.random.Generator

CROP_PX: int = 32
"""Character height (px) of the scene a negative is cut from: the pipeline's working scale."""

TEXTURES: tuple[str, ...] = ("brick", "grass", "gravel", "camera", "coffee", "rocket", "chelsea")
"""scikit-image sample pictures (shipped with the package, no download): three textures the
issue names and natural photos with wood, fur, metal and foliage."""

TEXTURE_PATCH_CH: tuple[float, float] = (0.6, 3.0)
"""Side of a texture patch, in character heights: from a letter-sized piece of grain to the
largest thing segmentation still takes for a character."""

TEXTURE_ZOOM: tuple[float, float] = (0.25, 1.0)
"""Scale the texture picture is seen at (a desk far away is finer grained)."""

TEXTURE_DARKNESS: tuple[float, float] = (0.08, 0.35)
"""Darkness threshold (1 - grey / paper) of texture ink: from faint grain to only the
darkest cracks, the range binarization meets on desks and fabric."""

MIN_PIECE_PX: int = 12
"""A texture component smaller than this (px) is a speck the segmenter drops anyway."""

FRAGMENT_KEEP: tuple[float, float] = (0.2, 0.4)
"""Share of a glyph's ink box width a fragment keeps (a wrong cut through a letter); more
would leave letters that still read (the bottom of an A is an A)."""

STEM_ASPECT: float = 0.35
"""A fragment narrower than this share of its height (or flatter than this share of its
width) is a bare stem or bar: an I, a 1 or a dash may look just like it, so it is not used."""

FUSED_OVERLAP: tuple[float, float] = (-0.05, 0.2)
"""Horizontal overlap of two fused glyphs, as a share of a glyph's width (slightly apart to
overlapping: touching letters)."""

PRINTED_LINE_PX: tuple[float, float] = (1.0, 3.0)
"""Printed rule and box line width (px at CROP_PX character height)."""

HAND_PEN_PX: tuple[float, float] = (2.0, 5.0)
"""Pen width of scribbles and hatching (px at CROP_PX character height)."""


@dataclass(frozen=True)
class NegativeMix:
    """Share of each kind of negative (normalized to sum 1)."""

    texture: float = 0.35
    fragment: float = 0.1
    fused: float = 0.15
    blob: float = 0.1
    printed: float = 0.15
    """Rule and grid pieces, crossings and printed box corners."""
    scribble: float = 0.15
    """Hatching, zigzags and tangles of drawings (no closed round shapes: an O is a letter)."""


@functools.cache
def texture_sources() -> tuple[FloatImage, ...]:
    """Grey [0, 1] pictures of :data:`TEXTURES` (colour reduced by the channel minimum, as
    :func:`ocr.stages.binarize.to_grey` does)."""
    from skimage import data

    out = []
    for name in TEXTURES:
        a = np.asarray(getattr(data, name)())
        if a.ndim == 3:
            a = a[..., :3].min(axis=2)
        out.append(a.astype(np.float32) / 255.0)
    return tuple(out)


def _darkness(patch: FloatImage) -> FloatImage:
    """1 - grey / paper, with the paper taken as a high percentile of the patch."""
    paper = max(float(np.percentile(patch, 90)), 1e-3)
    return np.clip(1.0 - patch / paper, 0.0, 1.0).astype(np.float32)


def texture(rng: Rng, glyphs: FloatImage) -> FloatImage:
    """One connected dark piece of a texture or photo patch, as binarization would cut it."""
    del glyphs
    src = texture_sources()[int(rng.integers(len(texture_sources())))]
    zoom = float(rng.uniform(*TEXTURE_ZOOM))
    side = int(CROP_PX * rng.uniform(*TEXTURE_PATCH_CH) / zoom)
    side = min(side, min(src.shape) - 1)
    y, x = (int(rng.integers(0, s - side)) for s in src.shape)
    patch = src[y : y + side, x : x + side]
    if zoom < 0.99:
        size = max(8, round(side * zoom))
        patch = np.asarray(Image.fromarray(patch, mode="F").resize((size, size)), np.float32)
    dark = _darkness(patch)
    mask = dark > rng.uniform(*TEXTURE_DARKNESS)
    labels, n = ndi.label(mask, structure=np.ones((3, 3), bool))
    if n == 0:
        return dark
    areas = np.bincount(labels.ravel())[1:]
    ok = np.flatnonzero(areas >= MIN_PIECE_PX)
    if ok.size == 0:
        return np.where(mask, dark, 0.0).astype(np.float32)
    pick = int(rng.choice(ok)) + 1
    return np.where(labels == pick, dark, 0.0).astype(np.float32)


def fragment(rng: Rng, glyphs: FloatImage) -> FloatImage:
    """A left or right part or a corner of a glyph: what a wrong cut leaves. (Segmentation
    cuts columns, and the top or bottom of many letters is another letter: X -> V.)"""
    for _ in range(8):
        g = glyphs[int(rng.integers(len(glyphs)))]
        box = ink_box(g)
        if box is None:
            continue
        r0, r1, c0, c1 = box
        h, w = r1 - r0, c1 - c0
        keep = rng.uniform(*FRAGMENT_KEEP)
        kind = int(rng.integers(3))
        if kind == 0:
            r0, r1, c0, c1 = r0, r1, c0, c0 + max(1, round(w * keep))
        elif kind == 1:
            r0, r1, c0, c1 = r0, r1, c1 - max(1, round(w * keep)), c1
        else:
            q = keep + 0.15  # a corner: (0.35-0.55 of each side; more is a C of an O)
            y = r0 if rng.random() < 0.5 else r1 - round(h * q)
            x = c0 if rng.random() < 0.5 else c1 - round(w * q)
            r0, r1, c0, c1 = y, y + max(1, round(h * q)), x, x + max(1, round(w * q))
        piece = np.zeros_like(g)
        piece[r0:r1, c0:c1] = g[r0:r1, c0:c1]
        pbox = ink_box(piece)
        if pbox is None:
            continue
        ph, pw = pbox[1] - pbox[0], pbox[3] - pbox[2]
        if pw >= STEM_ASPECT * ph and ph >= STEM_ASPECT * pw:
            return piece
    return blob(rng, glyphs)


def fused(rng: Rng, glyphs: FloatImage) -> FloatImage:
    """Two glyphs touching side by side (or, rarely, one over the other)."""
    a = glyphs[int(rng.integers(len(glyphs)))]
    b = glyphs[int(rng.integers(len(glyphs)))]
    ba, bb = ink_box(a), ink_box(b)
    if ba is None or bb is None:
        return blob(rng, glyphs)
    a = a[ba[0] : ba[1], ba[2] : ba[3]]
    b = b[bb[0] : bb[1], bb[2] : bb[3]]
    vertical = rng.random() < 0.2
    if vertical:
        a, b = a.T, b.T
    h = max(a.shape[0], b.shape[0])
    ov = int(round(rng.uniform(*FUSED_OVERLAP) * min(a.shape[1], b.shape[1])))
    w = a.shape[1] + b.shape[1] - ov
    out = np.zeros((h, max(w, a.shape[1], b.shape[1])), np.float32)
    ya, yb = (int(rng.integers(0, h - s.shape[0] + 1)) for s in (a, b))
    out[ya : ya + a.shape[0], : a.shape[1]] = a
    xb = a.shape[1] - ov
    region = out[yb : yb + b.shape[0], xb : xb + b.shape[1]]
    np.maximum(region, b[:, : region.shape[1]], out=region)
    return out.T if vertical else out


def blob(rng: Rng, glyphs: FloatImage) -> FloatImage:
    """A filled irregular blob (a thumb, a marker shape, a shadow's corner) or a cluster of
    specks: smooth noise thresholded."""
    del glyphs
    h, w = (int(CROP_PX * rng.uniform(0.4, 1.5)) for _ in range(2))
    field = ndi.gaussian_filter(rng.standard_normal((h, w)), rng.uniform(1.5, 6.0))
    yy, xx = np.mgrid[:h, :w]
    if rng.random() < 0.7:  # one solid shape: bias the field up in the middle
        r = np.hypot((yy - h / 2) / (h / 2), (xx - w / 2) / (w / 2))
        field = field / (field.std() + 1e-6) + 2.5 * (1.0 - r)
        level = rng.uniform(0.8, 1.6)
    else:  # specks
        field = field / (field.std() + 1e-6)
        level = rng.uniform(1.0, 2.0)
    mask = field > level
    return np.where(mask, rng.uniform(0.6, 1.0), 0.0).astype(np.float32)


def printed(rng: Rng, glyphs: FloatImage) -> FloatImage:
    """Pieces of ruled, grid and boxed paper: a long rule, a grid patch, a crossing, a box
    corner or T-junction, a rule with a stub of handwriting hanging on it."""
    del glyphs
    s = int(CROP_PX * rng.uniform(1.0, 2.0))
    img = Image.new("L", (s, s), 0)
    d = ImageDraw.Draw(img)
    lw = max(1, round(rng.uniform(*PRINTED_LINE_PX)))
    kind = int(rng.integers(5))
    m = s // 2
    if kind == 0:  # a long rule (a segment of it)
        y = m + int(rng.integers(-2, 3))
        d.line([(0, y), (s - 1, y + int(rng.integers(-2, 3)))], fill=255, width=lw)
        img = img.crop((0, m - 6, s, m + 7))
    elif kind == 1:  # grid patch
        step = int(CROP_PX * rng.uniform(0.3, 0.8))
        off = int(rng.integers(step))
        for v in range(off, s, step):
            d.line([(v, 0), (v, s - 1)], fill=255, width=lw)
            d.line([(0, v), (s - 1, v)], fill=255, width=lw)
    elif kind == 2:  # a box's top-left or bottom-right corner: long equal arms, thin (the
        # other two corners are an L and a 7, which real letters must keep)
        arm = int(s * rng.uniform(0.7, 0.95))
        d.line([(0, 0), (arm, 0)], fill=255, width=lw)
        d.line([(0, 0), (0, arm)], fill=255, width=lw)
        if rng.random() < 0.5:
            img = img.transpose(Image.Transpose.ROTATE_180)
    elif kind == 3:  # a crossing of grid lines (a T-junction would be a T)
        d.line([(0, m), (s - 1, m)], fill=255, width=lw)
        d.line([(m, 0), (m, s - 1)], fill=255, width=lw)
    else:  # rule with a short hand-drawn stub on it
        d.line([(0, m), (s - 1, m)], fill=255, width=lw)
        x = int(rng.integers(s // 4, 3 * s // 4))
        pen = max(1, round(rng.uniform(*HAND_PEN_PX)))
        d.line([(x, m), (x + int(rng.integers(-4, 5)), m - int(s * 0.2))], fill=255, width=pen)
    return np.asarray(img, np.float32) / 255.0


def scribble(rng: Rng, glyphs: FloatImage) -> FloatImage:
    """Hatching or a tangle of many turns: the inside of a drawing or a crossed-out word."""
    del glyphs
    s = int(CROP_PX * rng.uniform(0.8, 2.0))
    img = Image.new("L", (s, s), 0)
    d = ImageDraw.Draw(img)
    pen = max(1, round(rng.uniform(*HAND_PEN_PX)))
    if rng.random() < 0.4:  # hatching: parallel strokes joined at alternate ends (at least
        # eight: four or five strokes are a W, an M or a Z)
        n = int(rng.integers(8, 13))
        ys = np.linspace(0.1 * s, 0.9 * s, n)
        pts = [(0.1 * s if k % 2 == 0 else 0.9 * s, float(y)) for k, y in enumerate(ys)]
        pts = [(x + rng.normal(0, 1.5), y + rng.normal(0, 1.5)) for x, y in pts]
        if rng.random() < 0.5:
            pts = [(y, x) for x, y in pts]
    else:  # a random tangle of 8-14 turns
        n = int(rng.integers(8, 15))
        pts = [tuple(rng.uniform(0.05 * s, 0.95 * s, 2)) for _ in range(n)]
    d.line([(float(x), float(y)) for x, y in pts], fill=255, width=pen, joint="curve")
    return np.asarray(img, np.float32) / 255.0


KINDS: dict[str, Callable[[Rng, FloatImage], FloatImage]] = {
    "texture": texture,
    "fragment": fragment,
    "fused": fused,
    "blob": blob,
    "printed": printed,
    "scribble": scribble,
}


def make_negatives(
    n: int, rng: Rng, glyphs: FloatImage, mix: NegativeMix = NegativeMix()
) -> tuple[FloatImage, list[str]]:
    """``n`` normalized (N, 32, 32) negatives and the kind of each. ``glyphs``: normalized
    real glyphs that fragments and fusions are made of (use the same split's glyphs, so valid
    and test negatives share no writer's glyph with training)."""
    shares = np.array([getattr(mix, k) for k in KINDS], dtype=np.float64)
    kinds = list(KINDS)
    picks = rng.choice(len(kinds), size=n, p=shares / shares.sum())
    raw = [_inked(KINDS[kinds[k]], rng, glyphs) for k in picks]
    return normalize_batch(raw), [kinds[k] for k in picks]


def _inked(
    make: Callable[[Rng, FloatImage], FloatImage], rng: Rng, glyphs: FloatImage
) -> FloatImage:
    """A crop with some ink (a faint texture patch or a speckle field can come out empty;
    segmentation never hands the recognizer an empty crop)."""
    for _ in range(8):
        crop = make(rng, glyphs)
        if crop.size and float(crop.max()) > 0.0:
            return crop
    crop = np.zeros((CROP_PX, CROP_PX), np.float32)
    crop[8:24, 8:24] = 1.0
    return crop


def negatives_dataset(n: int, seed: int, glyphs: FloatImage, name: str) -> Dataset:
    """A dataset of ``n`` negatives labelled :data:`ocr.model.classes.NOT_CHAR_INDEX`."""
    images, _ = make_negatives(n, np.random.default_rng(seed), glyphs)
    return Dataset(name, images, np.full(n, NOT_CHAR_INDEX, dtype=np.int64))
