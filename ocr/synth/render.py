"""Whole pages: layout, rasterizing and photo effects in one call, batches of pages in
the writer split, and the files a page is saved as."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from ocr.synth.degrade import illumination, show_through_field
from ocr.synth.layout import (
    apply_homography,
    extent,
    homography,
    layout_lines,
    sample_params,
    transform_marks,
    union_box,
)
from ocr.synth.raster import draw_mark
from ocr.synth.strokes import Glyphs, glyph_source
from ocr.synth.style import Box, SynthStyle
from ocr.synth.text import normalize_text, random_text


@dataclass
class SynthChar:
    char: str
    box: Box
    """(x0, y0, x1, y1) in page pixels, exclusive ends: the tight ink box."""


@dataclass
class SynthLine:
    text: str
    box: Box
    chars: list[SynthChar]


@dataclass
class SynthPage:
    image: NDArray[np.uint8]
    """H x W x 3 RGB, before JPEG compression (``save_page`` applies ``jpeg_quality``)."""
    text: str
    """Lines joined by newlines, words by single spaces."""
    lines: list[SynthLine]
    writer: int
    seed: int
    """The page seed: ``render_page(glyphs, np.random.default_rng(seed), style)`` redraws it."""
    jpeg_quality: int = 90


def render_page(
    writer_glyphs: Glyphs,
    rng: np.random.Generator,
    style: SynthStyle = SynthStyle(),
    text: str | None = None,
    *,
    writer: int = -1,
    seed: int = -1,
) -> SynthPage:
    """Render one page in one writer's hand.

    ``writer_glyphs`` maps each char to that writer's glyph(s); every occurrence is varied by
    a random affine jitter and a smooth warp. ``text`` (normalized with
    :func:`normalize_text`) defaults to :func:`random_text`. ``writer`` and ``seed`` are only
    recorded in the result.
    """
    p = sample_params(style, rng)
    if text is None:
        text = random_text(rng, int(rng.integers(style.lines[0], style.lines[1] + 1)))
    text = normalize_text(text)
    lines = text.split("\n") if text else []
    marks = layout_lines(lines, writer_glyphs, p, style, rng)
    pen_pad = p.pen + 2
    if any(marks):
        lo, hi = extent(marks)
    else:
        lo, hi = np.zeros(2), np.array([10 * p.h, 2 * p.h])
    block = hi - lo
    margin = np.array([rng.uniform(*style.margin), rng.uniform(*style.margin)]) * max(block)
    margin = np.maximum(margin, 0.5 * p.h)
    size = (block + 2 * margin) * (1.0 + rng.uniform(*style.extra_space, 2))
    aspect = float(rng.uniform(*style.aspect))
    if size[0] / size[1] > aspect:
        size[1] = size[0] / aspect  # more paper below the text
    else:
        size[0] = size[1] * aspect  # more paper right of the text
    area = float(size[0] * size[1]) / 1e6
    if area > style.max_megapixels:
        # Too big for a phone photo at this char height: shrink the writing (pen included).
        k = math.sqrt(style.max_megapixels / area)
        transform_marks(marks, lambda q: q * k)
        for m in (m for line in marks for m in line):
            m.radius *= k
        p.h, p.pen, p.line_step = p.h * k, p.pen * k, p.line_step * k
        lo, margin, size = lo * k, margin * k, size * k
    wid, hgt = int(math.ceil(size[0])), int(math.ceil(size[1]))
    shift = margin - lo

    # Page rotation about the centre and keystone, applied to the points.
    angle = math.radians(rng.uniform(-style.rotation_deg, style.rotation_deg))
    c, s = math.cos(angle), math.sin(angle)
    ctr = np.array([wid / 2, hgt / 2])
    rot = np.array([[c, -s], [s, c]])
    corners = np.array([[0, 0], [wid, 0], [wid, hgt], [0, hgt]], dtype=np.float64)
    moved = corners + rng.uniform(-1, 1, (4, 2)) * style.perspective * np.array([wid, hgt])
    hmat = homography(corners, moved)
    transform_marks(marks, lambda q: apply_homography((q + shift - ctr) @ rot.T + ctr, hmat))
    if any(marks):
        lo, hi = extent(marks)
        grow_lo = np.maximum(0.0, pen_pad - lo)
        if grow_lo.any():
            transform_marks(marks, lambda q: q + grow_lo)
            hi = hi + grow_lo
        wid = max(wid + int(math.ceil(grow_lo[0])), int(math.ceil(hi[0] + pen_pad)))
        hgt = max(hgt + int(math.ceil(grow_lo[1])), int(math.ceil(hi[1] + pen_pad)))

    cov = np.zeros((hgt, wid), dtype=np.float32)
    out_lines: list[SynthLine] = []
    for text_line, line_marks in zip(lines, marks, strict=True):
        chars = []
        for m in line_marks:
            box = draw_mark(m, cov, rng)
            if box is not None:
                chars.append(SynthChar(m.char, box))
        box = union_box([ch.box for ch in chars]) if chars else (0, 0, 0, 0)
        out_lines.append(SynthLine(text_line, box, chars))

    # Reflectance (paper blended towards ink by coverage), then light, blur, noise.
    paper = np.asarray(p.paper, dtype=np.float32)
    ink = np.asarray(p.ink, dtype=np.float32)
    ghost = float(rng.uniform(*style.show_through))
    if ghost > 0:
        back = show_through_field(writer_glyphs, p, style, rng, wid, hgt)
        paper_map = paper * (1.0 - ghost * back)[..., None]
        refl = paper_map + cov[..., None] * (ink - paper_map)
    else:
        refl = paper + cov[..., None] * (ink - paper)
    light = illumination(style, rng, wid, hgt) * (255.0 * float(rng.uniform(*style.exposure)))
    img = np.clip(refl * light[..., None], 0, 255).astype(np.uint8)
    blur = float(rng.uniform(*style.blur_px))
    if blur > 0.05:
        img = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(blur)))
    sigma = float(rng.uniform(*style.noise))
    if sigma > 0:
        noise = rng.standard_normal((hgt, wid), dtype=np.float32) * sigma
        img = np.clip(img + noise[..., None], 0, 255).astype(np.uint8)
    quality = int(rng.integers(style.jpeg_quality[0], style.jpeg_quality[1] + 1))
    return SynthPage(np.ascontiguousarray(img), text, out_lines, writer, seed, quality)


def make_pages(
    n: int,
    writers: list[int],
    seed: int,
    style: SynthStyle = SynthStyle(),
    source: str = "auto",
) -> list[SynthPage]:
    """``n`` pages, writer ``writers[i % len(writers)]`` for page i; the same arguments give
    the same pages. ``source``: "chars74k", "builtin" (the module's stroke font), or "auto"
    (Chars74K when the data is present)."""
    if not writers:
        raise ValueError("no writers")
    glyphs = glyph_source(source, writers)
    pages = []
    for i in range(n):
        page_seed = int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
        writer = writers[i % len(writers)]
        rng = np.random.default_rng(page_seed)
        pages.append(render_page(glyphs[writer], rng, style, writer=writer, seed=page_seed))
    return pages


def truth_dict(page: SynthPage) -> dict[str, object]:
    """The page's ground truth as JSON-ready data (what ``stem.truth.json`` holds)."""
    return {
        "text": page.text,
        "writer": page.writer,
        "seed": page.seed,
        "width": int(page.image.shape[1]),
        "height": int(page.image.shape[0]),
        "lines": [
            {
                "text": line.text,
                "box": list(line.box),
                "chars": [{"char": c.char, "box": list(c.box)} for c in line.chars],
            }
            for line in page.lines
        ],
    }


def save_page(page: SynthPage, directory: Path, stem: str) -> Path:
    """Write ``stem.jpg`` (at the page's JPEG quality), ``stem.txt`` (truth text, one line per
    text line, like the sample photos' files) and ``stem.truth.json``; return the image path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    image_path = directory / f"{stem}.jpg"
    Image.fromarray(page.image).save(image_path, quality=page.jpeg_quality)
    (directory / f"{stem}.txt").write_text(page.text + "\n")
    (directory / f"{stem}.truth.json").write_text(
        json.dumps(truth_dict(page), separators=(",", ":")) + "\n"
    )
    return image_path
