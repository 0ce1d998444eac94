"""Synthetic pages: determinism, truth boxes that match the ink, text shape, file output."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ocr.datapath import DATA_ENV
from ocr.synth import (
    DOT_CHAR,
    SynthPage,
    SynthStyle,
    builtin_glyphs,
    make_pages,
    normalize_text,
    random_text,
    render_page,
    save_page,
    writer_split,
)

SMALL = replace(SynthStyle(), char_height_px=(30.0, 40.0))
"""Default photo defects at a small writing size, so each test page renders fast."""

CLEAN = replace(SynthStyle.clean(), char_height_px=(30.0, 40.0))


def _ink_mask(page: SynthPage) -> np.ndarray:
    """Pixels darker than the paper by a third of the paper-to-ink contrast."""
    grey = page.image.astype(np.float64).mean(axis=2)
    paper = float(np.median(grey))
    darkest = float(grey.min())
    return grey < paper - (paper - darkest) / 3


def test_same_seed_same_page_and_other_seed_differs() -> None:
    a = make_pages(2, [0, 1], seed=3, style=SMALL, source="builtin")
    b = make_pages(2, [0, 1], seed=3, style=SMALL, source="builtin")
    c = make_pages(1, [0], seed=4, style=SMALL, source="builtin")
    for pa, pb in zip(a, b, strict=True):
        assert pa.text == pb.text and pa.seed == pb.seed
        np.testing.assert_array_equal(pa.image, pb.image)
    assert [p.writer for p in a] == [0, 1]
    assert a[0].text != c[0].text or a[0].image.shape != c[0].image.shape


def test_page_seed_redraws_the_page() -> None:
    page = make_pages(1, [5], seed=8, style=SMALL, source="builtin")[0]
    again = render_page(builtin_glyphs(5), np.random.default_rng(page.seed), SMALL)
    np.testing.assert_array_equal(page.image, again.image)


def test_boxes_hold_the_ink_and_nothing_else_is_ink() -> None:
    for page in make_pages(2, [2, 7], seed=11, style=CLEAN, source="builtin"):
        ink = _ink_mask(page)
        inside = np.zeros_like(ink)
        h, w = ink.shape
        for line in page.lines:
            assert line.chars
            for ch in line.chars:
                x0, y0, x1, y1 = ch.box
                assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
                assert ink[y0:y1, x0:x1].any(), f"no ink in the box of {ch.char!r}"
                inside[y0:y1, x0:x1] = True
                lx0, ly0, lx1, ly1 = line.box
                assert lx0 <= x0 and ly0 <= y0 and x1 <= lx1 and y1 <= ly1
        assert (ink & ~inside).sum() <= 0.001 * ink.sum()


def test_boxes_are_tight() -> None:
    """Every box edge row / column touches ink (within a pixel of antialiasing)."""
    page = make_pages(1, [3], seed=2, style=CLEAN, source="builtin")[0]
    grey = page.image.astype(np.float64).mean(axis=2)
    paper = float(np.median(grey))
    faint = grey < paper - 10
    for line in page.lines:
        for ch in line.chars:
            x0, y0, x1, y1 = ch.box
            crop = faint[y0:y1, x0:x1]
            assert crop[:2].any() and crop[-2:].any() and crop[:, :2].any() and crop[:, -2:].any()


@pytest.mark.parametrize("lines", [1, 2, 5, 12])
def test_random_text_has_the_requested_lines(lines: int) -> None:
    for seed in range(20):
        text = random_text(np.random.default_rng(seed), lines)
        rows = text.split("\n")
        assert len(rows) == lines
        assert text == normalize_text(text)
        for word in text.split():
            assert 1 <= len(word) <= 10
            assert all(c.isdigit() or "A" <= c <= "Z" or c == DOT_CHAR for c in word)


def test_page_text_matches_lines_and_chars() -> None:
    text = "to do list\n1. buy  milk\n\n2. call mom 2024\nA B C"
    page = render_page(builtin_glyphs(0), np.random.default_rng(0), CLEAN, text)
    assert page.text == "TO DO LIST\n1. BUY MILK\n2. CALL MOM 2024\nA B C"
    assert [line.text for line in page.lines] == page.text.split("\n")
    for line in page.lines:
        assert "".join(c.char for c in line.chars) == line.text.replace(" ", "")
        xs = [c.box[0] for c in line.chars]
        assert xs == sorted(xs)
    dot = page.lines[1].chars[1]
    assert dot.char == DOT_CHAR
    assert (dot.box[2] - dot.box[0]) < 0.5 * (page.lines[1].box[3] - page.lines[1].box[1])


def test_unknown_character_is_refused() -> None:
    with pytest.raises(ValueError, match="no glyph"):
        render_page(builtin_glyphs(0), np.random.default_rng(0), CLEAN, "HELLO!")


def test_builtin_font_without_the_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "missing"))
    split = writer_split()
    assert sorted(split["train"] + split["valid"] + split["test"]) == list(range(40))
    page = make_pages(1, split["test"], seed=0, style=SMALL)[0]
    assert page.image.dtype == np.uint8 and page.image.ndim == 3 and page.image.shape[2] == 3
    assert page.writer == split["test"][0]
    assert _ink_mask(page).any()


def test_save_page_writes_image_text_and_truth(tmp_path: Path) -> None:
    page = make_pages(1, [1], seed=1, style=SMALL, source="builtin")[0]
    image_path = save_page(page, tmp_path / "out", "p0")
    assert image_path.name == "p0.jpg" and image_path.stat().st_size > 0
    assert (tmp_path / "out" / "p0.txt").read_text() == page.text + "\n"
    truth = json.loads((tmp_path / "out" / "p0.truth.json").read_text())
    assert truth["text"] == page.text
    assert [tuple(c["box"]) for c in truth["lines"][0]["chars"]] == [
        c.box for c in page.lines[0].chars
    ]


def test_a_test_writer_page_from_the_real_strokes(shared_data: Path) -> None:
    split = writer_split()  # ocr.training.split.split of the loaded Chars74K strokes
    test_writers = split["test"]
    assert len(test_writers) == 10 and not set(test_writers) & set(split["train"] + split["valid"])
    page = make_pages(1, test_writers, seed=0, style=CLEAN, source="chars74k")[0]
    assert page.writer == test_writers[0]
    ink = _ink_mask(page)
    for line in page.lines:
        for ch in line.chars:
            x0, y0, x1, y1 = ch.box
            assert ink[y0:y1, x0:x1].any()
