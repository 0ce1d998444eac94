"""Deskew: tilted pages are turned level, and boxes come back in input pixels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from ocr.binarize import prepare_page
from ocr.deskew import measure_tilt, rotate_page
from ocr.imageio import PageImage
from ocr.model import load_model
from ocr.pipeline import transcribe_page
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


def test_tilted_page_on_a_desk_reads_like_the_flat_page(page) -> None:
    rec = load_model()
    flat = transcribe_page(
        PageImage("flat", 0, 1, page.image, 1.0, page.image.shape[1::-1], "0" * 64), rec
    )
    desk = on_desk(page.image, 12.0)
    tilted = transcribe_page(PageImage("desk", 0, 1, desk, 1.0, desk.shape[1::-1], "0" * 64), rec)
    assert "rotate" in tilted.timings_ms
    assert cer(tilted.text, page.text) <= cer(flat.text, page.text) + 0.03
    h, w = desk.shape[:2]
    grey = desk.min(axis=2)
    for line in tilted.lines:
        x0, y0, x1, y1 = line.box
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        for word in line.words:
            for c in word.characters:
                bx0, by0, bx1, by1 = c.box
                region = grey[by0:by1, bx0:bx1]
                # On the paper (bright) and over a pen stroke (dark), not on the desk.
                assert region.max() > 150 and region.min() < region.max() - 50, c
