"""Faint marks (a sheet's edge read as 1) are dropped after recognition; faint letters read
surely and dark doubtful ones stay."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from ocr.io.imageio import PageImage
from ocr.model.classes import CLASSES
from ocr.model.store import Recognizer, load_model
from ocr.pipeline import transcribe_page
from ocr.stages import segment as sg
from ocr.stages.binarize import Scale
from ocr.stages.faint import FaintParams, box_darkness, faint_chars, percentile
from ocr.stages.printread import Resampled
from ocr.stages.prune import drop_boxes
from ocr.synth import SynthStyle, make_pages
from ocr.textdist import cer

PEN, EDGE = 30, 170
"""Grey levels on paper of 230: the pen's strokes, and a faint edge (a third as dark)."""


def reading(sure: float) -> NDArray[np.float32]:
    p = np.full(len(CLASSES) + 1, (1.0 - sure) / len(CLASSES), dtype=np.float32)
    p[0] = sure
    return p


def page(
    edge_grey: int, edge_sure: float, dark_sure: float = 0.99
) -> tuple[sg.Layout, dict[int, NDArray[np.float32]], NDArray[np.uint8], sg.CharBox]:
    """Ten 20 px characters of pen (the first read with ``dark_sure``) on a line, and a tall
    thin stroke of grey ``edge_grey`` on a line of its own read with ``edge_sure``; the
    picture is twice the working size (boxes map back through a resampling)."""
    img = np.full((400, 800, 3), 230, np.uint8)
    text = []
    for i in range(10):
        img[20:60, 60 * i + 40 : 60 * i + 60] = PEN
        box = sg.CharBox(30 * i + 20, 10, 30 * i + 30, 30, "char", np.ones((20, 10), bool))
        text.append(box)
    img[120:240, 10:16] = edge_grey
    edge = sg.CharBox(5, 60, 8, 120, "char", np.ones((60, 3), bool))
    lines = [sg.Line([sg.Word(text)]), sg.Line([sg.Word([edge])])]
    probs = {id(c): reading(0.99) for c in text[1:]}
    probs |= {id(text[0]): reading(dark_sure), id(edge): reading(edge_sure)}
    return sg.Layout(lines, Scale(20.0, 2.0)), probs, img, edge


def test_darkness_is_the_strokes_over_the_paper_around_them() -> None:
    _, _, img, _ = page(EDGE, 0.5)
    assert box_darkness(img, (40, 20, 60, 60), FaintParams()) == pytest.approx(1 - PEN / 230)
    assert box_darkness(img, (10, 120, 16, 240), FaintParams()) == pytest.approx(1 - EDGE / 230)


def test_a_faint_doubtful_stroke_goes_with_its_line() -> None:
    layout, probs, img, edge = page(EDGE, edge_sure=0.5)
    maps = [Resampled(0.5)]
    assert faint_chars(layout, probs, img, maps) == {id(edge)}
    kept, dropped = drop_boxes(layout, faint_chars(layout, probs, img, maps))
    assert dropped == 1 and len(kept.lines) == 1 and len(kept.lines[0].words[0].chars) == 10


def test_a_faint_letter_read_surely_stays() -> None:
    layout, probs, img, _ = page(EDGE, edge_sure=0.95)
    assert faint_chars(layout, probs, img, [Resampled(0.5)]) == set()


def test_a_doubtful_letter_as_dark_as_the_pen_stays() -> None:
    layout, probs, img, _ = page(PEN + 20, edge_sure=0.5, dark_sure=0.4)
    assert faint_chars(layout, probs, img, [Resampled(0.5)]) == set()


def test_no_median_from_a_handful_of_characters() -> None:
    layout, probs, img, edge = page(EDGE, edge_sure=0.5)
    maps = [Resampled(0.5)]
    assert faint_chars(layout, probs, img, maps, FaintParams(min_page_chars=12)) == set()
    assert faint_chars(layout, probs, img, maps, FaintParams(min_page_chars=11)) == {id(edge)}


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return load_model()


def torn_edge(image: NDArray[np.uint8], seed: int) -> NDArray[np.uint8]:
    """``image`` lying on a grey desk with its left edge torn: the desk left of a wandering
    edge, and the edge's thin shadow in pieces, a third as dark as the pen."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    xs = (0.03 * w + np.cumsum(rng.normal(0, 0.6, h))).astype(int).clip(2, w // 8)
    shadow = np.zeros(h, bool)
    y = 0
    while y < h:
        n = int(rng.integers(50, 110))
        shadow[y : y + n] = True
        y += n + int(rng.integers(15, 40))
    out = image.copy()
    for y in range(h):
        out[y, : xs[y]] = 200
        if shadow[y]:
            out[y, xs[y] : xs[y] + 3] = 255 - 0.35 * 230
    return out


def test_a_torn_sheet_edge_is_not_read(recognizer: Recognizer, tmp_path: Path) -> None:
    """Read as a 1 before this stage (seed 32 of the synthetic pages)."""
    style = replace(SynthStyle.clean(), lines=(4, 5), max_megapixels=1.2)
    (synth,) = make_pages(1, writers=[2], seed=32, style=style, source="builtin")
    h, w = synth.image.shape[:2]
    clean = transcribe_page(PageImage("c", 0, 1, synth.image, 1.0, (w, h), "0" * 64), recognizer)
    torn = torn_edge(synth.image, 32)
    result = transcribe_page(PageImage("t", 0, 1, torn, 1.0, (w, h), "0" * 64), recognizer)
    assert len(result.lines) == len(clean.lines)
    assert cer(result.text, synth.text) <= cer(clean.text, synth.text)


def test_percentile_equals_numpys_on_pixels() -> None:
    rng = np.random.default_rng(4)
    for _ in range(500):
        window = rng.integers(0, 256, size=(int(rng.integers(1, 40)), 7), dtype=np.uint8)
        for q in (0.0, 2.0, 50.0, 90.0, 100.0, float(rng.random() * 100)):
            assert percentile(window, q) == float(np.percentile(window, q))
