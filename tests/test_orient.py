"""Orientation: pages stored turned by quarter turns are found out and read upright."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ocr.io.imageio import PageImage
from ocr.model.store import Recognizer, load_model
from ocr.pipeline import transcribe_page
from ocr.stages.binarize import prepare_page
from ocr.stages.orient import (
    Orientation,
    OrientParams,
    QuarterTurn,
    find_orientation,
    turn_page,
)
from ocr.synth import SynthPage, SynthStyle, make_pages
from ocr.textdist import cer

STYLE = replace(SynthStyle(), lines=(4, 6), max_megapixels=1.2)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return load_model()


@pytest.fixture(scope="module")
def pages() -> list[SynthPage]:
    return make_pages(3, writers=[1, 5, 9], seed=33, style=STYLE, source="builtin")


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_box_on_the_turned_page_maps_back_exactly(k: int) -> None:
    a = np.zeros((5, 7), dtype=bool)
    a[1, 4] = True  # the pixel box (4, 1, 5, 2)
    ys, xs = np.nonzero(np.rot90(a, k))
    box = (float(xs[0]), float(ys[0]), float(xs[0] + 1), float(ys[0] + 1))
    assert QuarterTurn(k, (5, 7)).box_to_input(box) == (4.0, 1.0, 5.0, 2.0)


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_every_quarter_turn_is_found(pages, recognizer, k: int) -> None:
    for page in pages:
        prepared = prepare_page(np.ascontiguousarray(np.rot90(page.image, k)))
        found = find_orientation(prepared, recognizer)
        assert (found.quarter_turns + k) % 4 == 0, found.scores
        assert found.glyphs >= 10


def test_turn_page_is_a_pure_permutation(pages) -> None:
    prepared = prepare_page(pages[0].image)
    turned, turn = turn_page(prepared, Orientation(1, (), 0))
    assert turned.mask.shape == prepared.mask.shape[::-1]
    assert turned.mask.sum() == prepared.mask.sum()
    assert turn.shape_in == prepared.mask.shape


def test_a_sideways_page_reads_like_the_upright_one(pages, recognizer) -> None:
    page = pages[1]
    h, w = page.image.shape[:2]
    upright = transcribe_page(PageImage("up", 0, 1, page.image, 1.0, (w, h), "0" * 64), recognizer)
    side = np.ascontiguousarray(np.rot90(page.image, -1))  # stored turned clockwise
    result = transcribe_page(PageImage("side", 0, 1, side, 1.0, (h, w), "0" * 64), recognizer)
    assert result.rotation == 270  # turned back counter-clockwise = 270 clockwise
    assert [x.code for x in result.warnings] == ["rotated"]
    assert cer(result.text, page.text) <= cer(upright.text, page.text) + 0.02
    # Boxes are in the sideways picture's pixels: the upright box (x0, y0, x1, y1) of an
    # h-tall page lies at (h - y1, x0, h - y0, x1) after a clockwise quarter turn.
    up = [c.box for ln in upright.lines for wd in ln.words for c in wd.characters]
    got = [c.box for ln in result.lines for wd in ln.words for c in wd.characters]
    expected = [[h - b[3], b[0], h - b[1], b[2]] for b in up]
    hits = [min(np.abs(np.subtract(e, g)).max() for g in got) <= 3 for e in expected]
    assert np.mean(hits) >= 0.9
    assert upright.rotation == 0 and upright.warnings == []


def test_line_direction_follows_the_text_lines(pages) -> None:
    from ocr.stages.orient import glyph_components, line_direction
    from ocr.stages.segment import find_components

    for k, want in ((0, "horizontal"), (1, "vertical"), (2, "horizontal")):
        prepared = prepare_page(np.ascontiguousarray(np.rot90(pages[0].image, k)))
        comps = find_components(prepared.mask)
        assert line_direction(glyph_components(prepared, comps)) == want


def test_rule_pieces_do_not_vote_the_page_sideways(pages, recognizer) -> None:
    """Short bars the length of a letter (pieces of a form's cell edges and rules) read as
    confident 1s turned a quarter: they are left out, and the upright page stays upright."""
    from ocr.stages.orient import glyph_components
    from ocr.stages.segment import find_components

    image = np.array(pages[1].image, copy=True)
    prepared = prepare_page(np.ascontiguousarray(pages[1].image))
    ch = int(prepared.scale.char_height / prepared.factor)
    sw = max(2, int(prepared.scale.stroke_width / prepared.factor))
    h, w = image.shape[:2]
    rows = range(int(0.05 * h), int(0.95 * h), 2 * ch)
    for i, y in enumerate(rows):  # two bars per text row, left and right margins
        for x in (int(0.01 * w) + (i % 2) * ch, int(0.99 * w) - 2 * ch):
            image[y : y + sw, x : x + ch] = 0
    prepared = prepare_page(np.ascontiguousarray(image))
    comps = find_components(prepared.mask)
    parts = glyph_components(prepared, comps)
    bar = 2 * prepared.scale.stroke_width
    assert parts and not any(
        min(c.width, c.height) <= bar and c.width >= 3 * c.height for c in parts
    )
    assert find_orientation(prepared, recognizer, comps).quarter_turns == 0


def test_a_quarter_turn_measures_the_scale_on_the_upright_letters() -> None:
    """On the sideways page a letter's "height" is its width: after the turn the scale is
    the upright letters' own (word gaps are judged in it)."""
    mask = np.zeros((600, 400), dtype=bool)
    for i in range(8):  # sideways: 28 px "tall" (their widths), 40 px wide
        y = 40 + 60 * i
        mask[y : y + 28, 100:104] = True
        mask[y : y + 4, 100:140] = True
        mask[y + 24 : y + 28, 100:140] = True
    grey = np.where(mask, 0.2, 0.9).astype(np.float32)
    page = prepare_page((grey * 255).astype(np.uint8))
    sideways = replace(page, mask=mask, ink=mask.astype(np.float32), grey=grey)
    turned, _ = turn_page(sideways, Orientation(1, (0.0, 1.0, 0.0, 0.0), 8))
    assert abs(turned.scale.char_height - 40) <= 2


def test_a_clearly_upright_page_is_settled_on_the_probe_glyphs(pages, recognizer) -> None:
    """Most pages stop after the first glyphs; the same page turned upside down never does
    (a turn is applied only after all glyphs are read)."""
    prepared = prepare_page(pages[0].image)
    params = OrientParams()
    upright = find_orientation(prepared, recognizer, params=params)
    assert upright.quarter_turns == 0
    assert upright.glyphs == params.probe_glyphs, upright.scores
    assert upright.scores[0] - max(upright.scores[1:]) >= params.probe_margin
    flipped = prepare_page(np.ascontiguousarray(np.rot90(pages[0].image, 2)))
    found = find_orientation(flipped, recognizer, params=params)
    assert found.quarter_turns == 2
    assert found.glyphs > params.probe_glyphs
