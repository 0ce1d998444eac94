"""Deskew: tilted pages are turned level, and boxes come back in input pixels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from ocr.io.imageio import PageImage
from ocr.model.store import load_model
from ocr.pipeline import transcribe_page
from ocr.stages.binarize import prepare_page
from ocr.stages.deskew import measure_tilt, rotate_page
from ocr.synth import SynthStyle, make_pages
from ocr.textdist import cer

STYLE = replace(SynthStyle(), lines=(4, 5), max_megapixels=1.2, rotation_deg=0.0)


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    return make_pages(1, writers=[2], seed=21, style=STYLE, source="builtin")[0]


def on_desk(image: np.ndarray, degrees: float) -> np.ndarray:
    """The page turned by ``degrees`` and laid on a dark desk bigger than it."""
    turned = Image.fromarray(image).rotate(degrees, expand=True, fillcolor=(45, 35, 28))
    desk = Image.new("RGB", (turned.width + 300, turned.height + 200), (45, 35, 28))
    desk.paste(turned, (150, 100))
    return np.asarray(desk)


@pytest.mark.parametrize("degrees", [-12.0, 9.0])
def test_tilt_is_measured(page, degrees: float) -> None:
    tilt = measure_tilt(prepare_page(on_desk(page.image, degrees)))
    # PIL turns counter-clockwise for positive angles: lines then rise to the right.
    assert tilt.degrees == pytest.approx(-degrees, abs=1.0)


def test_rotation_maps_points_back(page) -> None:
    prepared = prepare_page(on_desk(page.image, 10.0))
    tilt = measure_tilt(prepared)
    level, rot = rotate_page(prepared, tilt)
    ys, xs = np.nonzero(level.mask)
    xi, yi = rot.to_input(xs.astype(float), ys.astype(float))
    h, w = prepared.mask.shape
    inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    assert inside.mean() > 0.99
    # Ink on the level page comes from ink on the tilted one.
    hits = prepared.mask[
        np.clip(yi.round().astype(int), 0, h - 1), np.clip(xi.round().astype(int), 0, w - 1)
    ]
    assert hits.mean() > 0.8


def centres(result) -> np.ndarray:
    boxes = np.array([c.box for ln in result.lines for w in ln.words for c in w.characters])
    return np.column_stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2])


def test_tilted_page_on_a_desk_reads_like_the_flat_page(page) -> None:
    rec = load_model()
    h, w = page.image.shape[:2]
    flat = transcribe_page(PageImage("flat", 0, 1, page.image, 1.0, (w, h), "0" * 64), rec)
    degrees = 12.0
    desk = on_desk(page.image, degrees)
    dh, dw = desk.shape[:2]
    tilted = transcribe_page(PageImage("desk", 0, 1, desk, 1.0, (dw, dh), "0" * 64), rec)
    # The sheet stage finds the page on the dark desk and rectifies it (its four corners undo
    # the turn); without it, deskew turns the page level. Either way the boxes must come back.
    assert tilted.sheet is not None or "rotate" in tilted.timings_ms
    assert cer(tilted.text, page.text) <= cer(flat.text, page.text) + 0.03
    # Where each flat-page character must be on the desk photo: PIL's turn about the page
    # centre onto the expanded canvas, pasted at (150, 100).
    turned = Image.fromarray(page.image).rotate(degrees, expand=True)
    t = np.deg2rad(-degrees)
    c, s = np.cos(t), np.sin(t)
    p = centres(flat) - [w / 2, h / 2]
    expected = np.column_stack([c * p[:, 0] - s * p[:, 1], s * p[:, 0] + c * p[:, 1]])
    expected += [turned.width / 2 + 150, turned.height / 2 + 100]
    found = centres(tilted)
    dist = np.linalg.norm(expected[:, None, :] - found[None, :, :], axis=2).min(axis=1)
    char_h = np.median(
        [c.box[3] - c.box[1] for ln in flat.lines for wd in ln.words for c in wd.characters]
    )
    assert np.mean(dist < 0.3 * char_h) >= 0.9


def test_scattered_marks_are_not_a_tilted_page() -> None:
    """A few letters drawn apart (keys on a sheet) line up by chance at some angle; with no
    lines of writing there, the page is left as it is. Five layouts of eight letter-sized
    rings: each gets a tilt of 3 degrees or more from the projection search alone."""
    from ocr.stages.binarize import Scale
    from ocr.stages.deskew import MIN_DESKEW_DEG, lined_share
    from ocr.stages.segment import estimate_skew, filter_components, find_components

    rng = np.random.default_rng(5)
    tried = 0
    while tried < 5:
        mask = np.zeros((700, 900), dtype=bool)
        yy, xx = np.mgrid[:40, :30]
        ring = (((yy - 19.5) / 20) ** 2 + ((xx - 14.5) / 15) ** 2 <= 1) & (
            ((yy - 19.5) / 16) ** 2 + ((xx - 14.5) / 11) ** 2 > 1
        )
        for _ in range(8):
            y, x = int(rng.integers(0, 660)), int(rng.integers(0, 870))
            mask[y : y + 40, x : x + 30] |= ring
        ink = mask.astype(np.float32)
        page = replace(prepare_page(np.full((20, 20), 255, np.uint8)), mask=mask, ink=ink)
        page = replace(page, scale=Scale(char_height=40.0, stroke_width=4.0))
        parts = filter_components(find_components(mask), page.scale)
        radians = estimate_skew(parts, page.scale, max_deg=20.0)
        if abs(np.rad2deg(radians)) < MIN_DESKEW_DEG:
            continue  # the search itself found no tilt: nothing to test on this layout
        tried += 1
        assert lined_share(parts, radians, page.scale) < 0.6
        assert measure_tilt(page).degrees == 0.0
