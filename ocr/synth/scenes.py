"""Synthetic photographed scenes: a written page as a phone sees it in real life.

Why: the page synthesizer draws pages that fill the picture; real photos show a sheet lying
on a desk (wood grain, fabric, a dark or a light top) in perspective with its edges in view,
a hand's or phone's hard shadow across it, coloured light, or a page stored sideways. Each
scene kind isolates one of these so a benchmark can say which one costs what. The page
itself comes from :func:`ocr.synth.render_page` (same writers, same truth text); the scene
is composed around it, and the truth boxes follow every transform.

Entry point: ``python -m ocr.synth.scenes --out DIR --kind desk --pages N --writers test``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from ocr.synth.layout import apply_homography, homography
from ocr.synth.paper import PAPER_SCENES
from ocr.synth.render import SynthChar, SynthLine, SynthPage, render_page, save_page
from ocr.synth.strokes import Glyphs, glyph_source, writer_split
from ocr.synth.style import SynthStyle

FloatImage = NDArray[np.float32]

SCENE_KINDS: tuple[str, ...] = (
    "desk",
    "shadow",
    "coloured-light",
    "rotated",
    "touching",
    *PAPER_SCENES,
)
"""What :func:`render_scene` can compose; helper scene kinds (ruled paper, markers) join
this tuple from their own module."""

DESKS: tuple[str, ...] = ("wood", "fabric", "dark", "light")
"""Desk surfaces a sheet may lie on."""

SCENE_MEGAPIXELS: float = 3.5
"""Scene pictures are about this size, like the page pictures (a phone photo's resolution
is fixed whatever lies in front of it)."""

SHEET_AREA: tuple[float, float] = (0.35, 0.7)
"""Share of the picture the sheet covers in desk scenes (its edges and the desk in view)."""

PERSPECTIVE: float = 0.07
"""Each sheet corner moves up to this share of the sheet's size (a phone held at an angle)."""

SHEET_TURN_DEG: float = 12.0
"""The sheet lies turned up to this many degrees on the desk."""

SHADOW_DARKNESS: tuple[float, float] = (0.2, 0.42)
"""Light a hard shadow removes (share): a hand or phone between a lamp and the page."""

SHADOW_EDGE_PX: tuple[float, float] = (0.6, 3.0)
"""Blur sigma (px) of the shadow's edge: hard, unlike the soft shadows of plain pages."""

LIGHT_COLOURS: tuple[tuple[float, float, float], ...] = (
    (1.0, 0.78, 0.5),  # warm bulb
    (0.55, 0.68, 1.0),  # cold blue screen / daylight
    (0.8, 0.5, 1.0),  # purple LED
    (0.6, 1.0, 0.65),  # green cast
    (1.0, 0.55, 0.75),  # pink LED
)
"""Per-channel light of coloured lamps (relative to white)."""


def _noise_field(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> FloatImage:
    """Smooth random field in about [-1, 1], ``cells`` random values across the long side."""
    h, w = shape
    gh = max(2, int(round(cells * h / max(h, w))))
    gw = max(2, int(round(cells * w / max(h, w))))
    lr = rng.standard_normal((gh, gw)).astype(np.float32)
    up = Image.fromarray(lr, mode="F").resize((w, h), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(up, dtype=np.float32) / 1.5, -1.0, 1.0)


def desk_texture(rng: np.random.Generator, shape: tuple[int, int], kind: str) -> FloatImage:
    """An H x W x 3 reflectance image (0..1) of a desk top of ``kind`` (see ``DESKS``)."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    unit = float(max(h, w))
    if kind == "wood":
        theta = rng.uniform(0, math.pi)
        along = (xx * math.cos(theta) + yy * math.sin(theta)) / unit
        across = (-xx * math.sin(theta) + yy * math.cos(theta)) / unit
        period = rng.uniform(0.01, 0.03)
        warp = 0.04 * _noise_field(rng, shape, 6) + 0.01 * np.sin(along * rng.uniform(5, 15))
        rings = np.sin(2 * math.pi * (across + warp) / period)
        fine = _noise_field(rng, shape, 300)
        grain = 0.55 + 0.25 * rings**3 + 0.08 * fine
        base = np.array(
            [(0.78, 0.58, 0.38), (0.55, 0.36, 0.2), (0.36, 0.22, 0.12)][int(rng.integers(0, 3))],
            dtype=np.float32,
        )
        out = base * (0.75 + 0.5 * grain[..., None])
    elif kind == "fabric":
        period = rng.uniform(4.0, 9.0)
        weave = np.sin(2 * math.pi * xx / period) * np.sin(2 * math.pi * yy / period)
        base = rng.uniform(0.15, 0.65, 3).astype(np.float32)
        mottle = _noise_field(rng, shape, 20)
        out = base * (0.85 + 0.15 * weave[..., None] + 0.08 * mottle[..., None])
    elif kind == "dark":
        base = rng.uniform(0.06, 0.2, 3).astype(np.float32)
        out = base * (1.0 + 0.15 * _noise_field(rng, shape, 12)[..., None])
    elif kind == "light":
        # A light stone or laminate top: bright, but speckled (granite, terrazzo).
        base = rng.uniform(0.55, 0.75) * np.array([1.0, 0.97, 0.92], dtype=np.float32)
        speck = rng.random((h, w), dtype=np.float32)
        specks = np.where(speck < 0.06, -0.35, np.where(speck > 0.97, 0.15, 0.0))
        out = base * (1.0 + specks[..., None] + 0.05 * _noise_field(rng, shape, 30)[..., None])
    else:
        raise ValueError(f"unknown desk {kind!r} (one of {', '.join(DESKS)})")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _transform_truth(
    page: SynthPage, fn: Callable[[NDArray[np.float64]], NDArray[np.float64]]
) -> list[SynthLine]:
    """Truth boxes after a point transform: the bounds of each box's four mapped corners."""

    def box(b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = b
        q = fn(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64))
        return (
            int(math.floor(q[:, 0].min())),
            int(math.floor(q[:, 1].min())),
            int(math.ceil(q[:, 0].max())),
            int(math.ceil(q[:, 1].max())),
        )

    return [
        SynthLine(ln.text, box(ln.box), [SynthChar(c.char, box(c.box)) for c in ln.chars])
        for ln in page.lines
    ]


def _finish(img: FloatImage, rng: np.random.Generator) -> NDArray[np.uint8]:
    """Camera: slight blur, sensor noise, 8 bits."""
    out = np.clip(img * 255.0, 0, 255).astype(np.uint8)
    blur = float(rng.uniform(0.3, 0.9))
    out = np.asarray(Image.fromarray(out).filter(ImageFilter.GaussianBlur(blur)))
    noise = rng.standard_normal(out.shape[:2], dtype=np.float32) * float(rng.uniform(1.0, 4.0))
    return np.clip(out + noise[..., None], 0, 255).astype(np.uint8)


def on_desk(page: SynthPage, rng: np.random.Generator, desk: str | None = None) -> SynthPage:
    """The page lying on a desk, photographed at an angle, its four edges in view."""
    ph, pw = page.image.shape[:2]
    share = rng.uniform(*SHEET_AREA)
    scale = math.sqrt(SCENE_MEGAPIXELS * 1e6 * share / (pw * ph))
    sw, sh = pw * scale, ph * scale
    aspect = rng.uniform(1.25, 1.45)
    area = sw * sh / share
    cw = int(math.sqrt(area * aspect)) if sw >= sh else int(math.sqrt(area / aspect))
    ch = int(area / cw)
    cw, ch = max(cw, int(sw * 1.15)), max(ch, int(sh * 1.15))
    angle = math.radians(rng.uniform(-SHEET_TURN_DEG, SHEET_TURN_DEG))
    c, s = math.cos(angle), math.sin(angle)
    rect = np.array([[-sw, -sh], [sw, -sh], [sw, sh], [-sw, sh]], dtype=np.float64) / 2
    corners = rect @ np.array([[c, s], [-s, c]]) + [cw / 2, ch / 2]
    corners += rng.uniform(-1, 1, (4, 2)) * PERSPECTIVE * np.array([sw, sh])
    # Keep the whole sheet in the picture (the desk shows on every side).
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    pad = 0.03 * np.array([cw, ch])
    corners += np.maximum(0, pad - lo) - np.maximum(0, hi - (np.array([cw, ch]) - pad))
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float64)
    to_scene = homography(src, corners)
    back = np.linalg.inv(to_scene)
    coeffs = tuple(float(v) for v in (back / back[2, 2]).ravel()[:8])
    warped = Image.fromarray(page.image).transform(
        (cw, ch), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    cover = Image.new("L", (pw, ph), 255).transform(
        (cw, ch), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    m = np.asarray(cover, dtype=np.float32)[..., None] / 255.0
    kind = desk if desk is not None else str(rng.choice(DESKS))
    # The desk under the same light as the page: the page image carries its exposure.
    light = float(np.percentile(page.image, 95)) / 255.0
    table = desk_texture(rng, (ch, cw), kind) * light
    img = table * (1 - m) + np.asarray(warped, dtype=np.float32) / 255.0 * m
    lines = _transform_truth(page, lambda q: apply_homography(q, to_scene))
    return replace(page, image=_finish(img, rng), lines=lines)


def hard_shadow(page: SynthPage, rng: np.random.Generator) -> SynthPage:
    """A hand's or phone's hard-edged shadow reaching in from one side of the picture."""
    h, w = page.image.shape[:2]
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    side = int(rng.integers(0, 4))
    reach = rng.uniform(0.25, 0.6)
    along = rng.uniform(0.2, 0.8)
    width = rng.uniform(0.15, 0.35)
    if rng.random() < 0.5:  # a phone: a rectangle at an angle
        length = reach * 2
        ang = rng.uniform(-0.5, 0.5)
        base = np.array(
            [
                [-width / 2, -1.0],
                [width / 2, -1.0],
                [width / 2, length - 1.0],
                [-width / 2, length - 1.0],
            ]
        )
        rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
        poly = base @ rot.T + [along * 2 - 1, 0.0]
    else:  # a hand: an arm from the edge ending in a broad palm
        poly = np.array(
            [
                [along * 2 - 1 - width / 2, -1.0],
                [along * 2 - 1 + width / 2, -1.0],
                [along * 2 - 1 + width * 0.8, -1.0 + reach * 2],
                [along * 2 - 1, -1.0 + reach * 2.3],
                [along * 2 - 1 - width * 0.8, -1.0 + reach * 2],
            ]
        )
    # Unit square [-1, 1]^2 with the shadow entering from the top; turn it to its side.
    for _ in range(side):
        poly = poly @ np.array([[0.0, -1.0], [1.0, 0.0]])
    pts = [(float((x + 1) / 2 * w), float((y + 1) / 2 * h)) for x, y in poly]
    draw.polygon(pts, fill=255)
    edge = float(rng.uniform(*SHADOW_EDGE_PX))
    soft = np.asarray(mask.filter(ImageFilter.GaussianBlur(edge)), dtype=np.float32) / 255.0
    light = 1.0 - float(rng.uniform(*SHADOW_DARKNESS)) * soft
    img = np.clip(page.image.astype(np.float32) * light[..., None], 0, 255).astype(np.uint8)
    return replace(page, image=img)


def coloured_light(page: SynthPage, rng: np.random.Generator) -> SynthPage:
    """Two coloured lamps, one on each side, blending across the page."""
    h, w = page.image.shape[:2]
    i, j = rng.choice(len(LIGHT_COLOURS), 2, replace=False)
    a = np.array(LIGHT_COLOURS[int(i)], dtype=np.float32)
    b = (
        np.array(LIGHT_COLOURS[int(j)], dtype=np.float32)
        if rng.random() < 0.7
        else np.ones(3, np.float32)
    )
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    t = ((xx / w - 0.5) * math.cos(theta) + (yy / h - 0.5) * math.sin(theta)) / rng.uniform(
        0.08, 0.3
    )
    mix = 1.0 / (1.0 + np.exp(-(t - rng.uniform(-0.5, 0.5))))
    light = a + (b - a) * mix[..., None]
    img = np.clip(page.image.astype(np.float32) * light, 0, 255).astype(np.uint8)
    return replace(page, image=img)


def quarter_turn(page: SynthPage, rng: np.random.Generator) -> SynthPage:
    """The picture stored turned by 90, 180 or 270 degrees (no EXIF tag says so)."""
    k = int(rng.integers(1, 4))  # np.rot90 turns counter-clockwise k times
    h, w = page.image.shape[:2]

    def turn(q: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = q[:, 0], q[:, 1]
        for m in range(k):
            size_w = w if m % 2 == 0 else h
            x, y = y, size_w - x
        return np.c_[x, y]

    img = np.ascontiguousarray(np.rot90(page.image, k))
    return replace(page, image=img, lines=_transform_truth(page, turn))


SCENE_STYLE = replace(SynthStyle(), shadow_chance=0.0, rotation_deg=1.0, perspective=0.0)
"""The page under a scene: a normal photographed page, without the soft shadows and keystone
that the scene adds its own way."""

TOUCHING_SPACING: tuple[float, float] = (-0.06, 0.1)
"""Letter gap of "touching" scenes, in character heights: most neighbours touch or overlap,
as in quick real handwriting (the plain pages keep a clear gap of 0.2-0.6)."""


def render_scene(
    glyphs: Glyphs, rng: np.random.Generator, kind: str, *, writer: int = -1, seed: int = -1
) -> SynthPage:
    """One scene of ``kind`` (see ``SCENE_KINDS``) in one writer's hand."""
    style = SCENE_STYLE
    if kind == "touching":
        style = replace(SCENE_STYLE, letter_spacing=TOUCHING_SPACING)
    page = render_page(glyphs, rng, style, writer=writer, seed=seed)
    if kind == "desk":
        return on_desk(page, rng)
    if kind == "shadow":
        return hard_shadow(page, rng)
    if kind == "coloured-light":
        return coloured_light(page, rng)
    if kind == "rotated":
        return quarter_turn(page, rng)
    if kind == "touching":  # the page as it is: its letters touch
        return page
    if kind in PAPER_SCENES:  # lined, grid, drawings (ocr/synth/paper.py)
        return PAPER_SCENES[kind](page, rng)
    raise ValueError(f"unknown scene kind {kind!r} (one of {', '.join(SCENE_KINDS)})")


def make_scenes(
    n: int, kind: str, writers: list[int], seed: int, source: str = "auto"
) -> list[SynthPage]:
    """``n`` scenes of one kind, writer ``writers[i % len(writers)]`` for scene i; the same
    arguments give the same scenes."""
    if not writers:
        raise ValueError("no writers")
    glyphs = glyph_source(source, writers)
    out = []
    for i in range(n):
        page_seed = int(np.random.SeedSequence([seed, i, len(kind)]).generate_state(1)[0])
        writer = writers[i % len(writers)]
        rng = np.random.default_rng(page_seed)
        out.append(render_scene(glyphs[writer], rng, kind, writer=writer, seed=page_seed))
    return out


def texture_photo(
    rng: np.random.Generator, size: tuple[int, int] = (4000, 3000), desk: str = "wood"
) -> NDArray[np.uint8]:
    """A photo of nothing but a desk top (``size`` = width, height): the worst case for the
    page stages, which must find no writing in it quickly."""
    w, h = size
    light = float(rng.uniform(0.6, 0.9))
    return _finish(desk_texture(rng, (h, w), desk) * light, rng)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ocr.synth.scenes", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--kind", choices=SCENE_KINDS, required=True)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--writers", choices=("test", "valid", "train", "all"), default="test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", choices=("auto", "chars74k", "builtin"), default="auto")
    args = parser.parse_args(argv)
    writers = writer_split()[args.writers]
    scenes = make_scenes(args.pages, args.kind, writers, args.seed, source=args.source)
    for i, page in enumerate(scenes):
        save_page(page, args.out, f"{args.kind}_{args.seed}_{i:04d}")
    print(f"wrote {len(scenes)} {args.kind} scenes to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
