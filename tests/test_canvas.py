"""A photo turned on a white canvas: the canvas takes the picture's edge colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ocr.io.imageio import PageImage
from ocr.model.store import load_model
from ocr.pipeline import transcribe_page
from ocr.stages.canvas import canvas_mask, fill_canvas
from ocr.textdist import cer


def grey_photo(w: int = 1000, h: int = 760, level: int = 180) -> Image.Image:
    """Grey paper (an evening photo) with a row of dark digit-sized strokes."""
    rng = np.random.default_rng(0)
    paper = np.clip(level + rng.normal(0, 3, (h, w, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(paper)
    d = ImageDraw.Draw(img)
    for i in range(10):
        x = 100 + 80 * i
        d.line([(x, 340), (x + 30, 340), (x + 12, 400)], fill=(30, 30, 35), width=6)
    return img


def test_the_white_corners_of_a_turned_photo_are_the_canvas_and_take_the_paper_colour() -> None:
    turned = grey_photo().rotate(7, expand=True, fillcolor=(255, 255, 255))
    image = np.asarray(turned)
    filled = fill_canvas(image)
    assert 0.05 < filled.share < 0.3
    corner = filled.pixels[:20, :20].astype(float)
    assert abs(corner.mean() - 180) < 12  # the paper's grey, not white
    # The picture itself is untouched.
    h, w = image.shape[:2]
    centre = np.s_[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3]
    assert (filled.pixels[centre] == image[centre]).all()


@pytest.mark.data
def test_a_real_photo_turned_on_a_white_canvas_reads_as_the_photo(shared_data: Path) -> None:
    """niraj's digits on grey paper, turned 7 degrees on a white canvas: unfilled, the paper
    along the canvas binarized as a thick frame and the page read as nothing at all."""
    photo = Image.open(shared_data / "photos" / "niraj-dudani_wild1.jpeg").convert("RGB")
    truth = (shared_data / "photos" / "niraj-dudani_wild1.txt").read_text().strip()
    turned = np.asarray(photo.rotate(7, expand=True, fillcolor=(255, 255, 255)))
    h, w = turned.shape[:2]
    page = PageImage("turned.png", 0, 1, turned, 1.0, (w, h), "0" * 64)
    result = transcribe_page(page, load_model())
    assert cer(result.text, truth) <= 0.1


def test_a_white_scan_and_a_photo_without_canvas_are_left_alone() -> None:
    scan = np.full((600, 800, 3), 255, dtype=np.uint8)
    scan[200:260, 100:700:40] = 20  # writing on pure white paper touching nothing
    assert fill_canvas(scan).share == 0.0
    assert fill_canvas(scan).pixels is scan
    photo = np.asarray(grey_photo())
    assert fill_canvas(photo).share == 0.0


def test_the_canvas_is_only_flat_white_connected_to_the_border() -> None:
    rgb = np.full((100, 100, 3), 150, dtype=np.uint8)
    rgb += np.random.default_rng(1).integers(0, 8, rgb.shape, dtype=np.uint8)
    rgb[:, :10] = 255  # a canvas strip on the left
    rgb[40:60, 40:60] = 255  # a white patch inside the picture (a label)
    mask = canvas_mask(rgb)
    assert mask[:, :9].all()
    assert not mask[45:55, 45:55].any()
    assert not mask[:, 20:].any()
