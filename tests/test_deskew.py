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
