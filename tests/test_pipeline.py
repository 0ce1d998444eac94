"""The whole page pipeline with the shipped model, on synthetic pages with known truth."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ocr.io.imageio import InputError, PageImage
from ocr.model.store import Recognizer, load_model
from ocr.pipeline import PipelineOptions, transcribe_page
from ocr.synth import SynthPage, SynthStyle, make_pages
from ocr.textdist import cer
from schemas.page import PageResult

STYLE = replace(SynthStyle(), lines=(4, 6), max_megapixels=1.5)


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return load_model()


@pytest.fixture(scope="module")
def pages() -> list[SynthPage]:
    """Pages in the built-in stroke font (so the test does not need ../shared/data)."""
    return make_pages(6, writers=[1, 2, 3, 4, 11, 18], seed=11, style=STYLE, source="builtin")


def as_input(page: SynthPage, name: str = "synthetic.jpg") -> PageImage:
    h, w = page.image.shape[:2]
    return PageImage(name, 0, 1, page.image, 1.0, (w, h), "0" * 64)


def iou(a: list[int] | tuple[int, ...], b: list[int] | tuple[int, ...]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def test_synthetic_pages_read_with_low_cer(recognizer: Recognizer, pages: list[SynthPage]) -> None:
    edits = total = 0.0
    for page in pages:
        result = transcribe_page(as_input(page), recognizer)
        PageResult.model_validate_json(result.model_dump_json())
        assert len(result.lines) == len(page.lines)
        edits += cer(result.text, page.text) * len(page.text)
        total += len(page.text)
    assert edits / total < 0.08


def test_boxes_land_on_the_true_characters(recognizer: Recognizer, pages: list[SynthPage]) -> None:
    page = pages[0]
    result = transcribe_page(as_input(page), recognizer)
    truth = [c.box for ln in page.lines for c in ln.chars]
    found = [c.box for ln in result.lines for w in ln.words for c in w.characters]
    matched = sum(max(iou(t, f) for f in found) > 0.5 for t in truth)
    assert matched >= 0.9 * len(truth)


def test_boxes_are_in_original_pixels_when_decoded_smaller(
    recognizer: Recognizer, pages: list[SynthPage]
) -> None:
    page = pages[1]
    full = transcribe_page(as_input(page), recognizer)
    h, w = page.image.shape[:2]
    half = page.image[::2, ::2]
    reduced = transcribe_page(PageImage("p", 0, 1, half, 0.5, (w, h), "0" * 64), recognizer)
    a = [c.box for ln in full.lines for wd in ln.words for c in wd.characters]
    b = [c.box for ln in reduced.lines for wd in ln.words for c in wd.characters]
    assert abs(len(a) - len(b)) <= 0.05 * len(a)
    # The same characters, at the same original-pixel places (not at half of them).
    same = sum(max(iou(box, other) for other in b) > 0.7 for box in a)
    assert same >= 0.9 * len(a)


def test_stats_timings_and_flags_are_consistent(
    recognizer: Recognizer, pages: list[SynthPage]
) -> None:
    result = transcribe_page(as_input(pages[2]), recognizer)
    chars = [c for ln in result.lines for w in ln.words for c in w.characters if c.text != "."]
    assert result.stats.characters == len(chars)
    assert result.stats.flagged == sum(c.flag is not None for c in chars)
    assert result.text == "\n".join(ln.text for ln in result.lines)
    assert {"binarize", "segment", "recognize", "total"} <= set(result.timings_ms)
    for c in chars:
        assert len(c.alternatives) == 3 and c.alternatives[0].char == c.text or c.flag
        if c.flag is not None:
            assert c.text in c.flag.readings


def test_context_off_keeps_raw_classifier_readings(
    recognizer: Recognizer, pages: list[SynthPage]
) -> None:
    result = transcribe_page(as_input(pages[3]), recognizer, PipelineOptions(context=False))
    for ln in result.lines:
        for w in ln.words:
            for c in w.characters:
                assert c.flag is None or c.flag.reason == "low-margin"


def test_blank_and_black_pages_are_errors(recognizer: Recognizer) -> None:
    paper = np.full((900, 1200, 3), 235, dtype=np.uint8)
    paper += np.random.default_rng(0).integers(0, 6, paper.shape, dtype=np.uint8)
    with pytest.raises(InputError) as blank:
        transcribe_page(PageImage("blank.png", 0, 1, paper, 1.0, (1200, 900), "0" * 64), recognizer)
    assert blank.value.error_type == "blank-page"
    black = np.full((900, 1200, 3), 8, dtype=np.uint8)
    with pytest.raises(InputError) as dark:
        transcribe_page(PageImage("black.png", 0, 1, black, 1.0, (1200, 900), "0" * 64), recognizer)
    assert dark.value.error_type == "all-black-page"


def test_a_dim_photo_of_a_page_is_read_not_called_black(
    recognizer: Recognizer, pages: list[SynthPage]
) -> None:
    """Paper at a sixth of white (an evening photo): most of the page is one grey, but its
    writing is there, so it is read as well as the page itself is."""
    page = pages[0]
    dim = (page.image.astype(np.float32) * 0.2).astype(np.uint8)
    assert np.median(dim.min(axis=2)) / 255 < 0.2  # as dim as the black-page test's limit
    bright = transcribe_page(as_input(page), recognizer)
    result = transcribe_page(as_input(SynthPage(**{**vars(page), "image": dim})), recognizer)
    assert cer(result.text, page.text) <= cer(bright.text, page.text) + 0.02


@pytest.mark.data
def test_sample_photos_within_target(recognizer: Recognizer, shared_data: Path) -> None:
    from ocr.io.imageio import read_pages

    edits = total = 0.0
    for photo in sorted((shared_data / "pages").glob("*.jpg")):
        truth = photo.with_suffix(".txt").read_text().strip()
        result = transcribe_page(next(read_pages(photo)), recognizer)
        edits += cer(result.text, truth) * len(truth)
        total += len(truth)
    assert edits / total <= 0.03


def test_half_erased_writing_behind_the_text_is_ignored(recognizer: Recognizer) -> None:
    """A whiteboard: today's marker over fainter, half-erased writing that crosses it."""
    style = replace(SynthStyle.clean(), lines=(4, 5), pen_width=(0.1, 0.14), max_megapixels=1.2)
    today, erased = make_pages(2, writers=[1, 2], seed=31, style=style, source="builtin")
    h = min(today.image.shape[0], erased.image.shape[0])
    w = min(today.image.shape[1], erased.image.shape[1])
    ghost = 255 - (255 - erased.image[:h, :w].astype(np.float64)) * 0.4
    board = np.minimum(today.image[:h, :w], ghost).astype(np.uint8)
    clean = transcribe_page(as_input(today), recognizer)
    result = transcribe_page(PageImage("board", 0, 1, board, 1.0, (w, h), "0" * 64), recognizer)
    assert len(result.lines) == len(clean.lines)
    assert cer(result.text, today.text) <= cer(clean.text, today.text) + 0.02


def test_segment_params_travel_through_the_pipeline(
    recognizer: Recognizer, pages: list[SynthPage]
) -> None:
    """PipelineOptions.segment reaches segmentation: a word-gap rule that calls every gap a
    space changes the words, the default does not."""
    from ocr.stages.segment import DEFAULT_PARAMS

    page = as_input(pages[0])
    default = transcribe_page(page, recognizer)
    every_gap = replace(
        DEFAULT_PARAMS, space_range_ch=(0.0, 0.0), uniform_space_ch=0.0, letter_gap_ch=0.0
    )
    spaced = transcribe_page(page, recognizer, PipelineOptions(segment=every_gap))
    words = lambda r: sum(len(ln.words) for ln in r.lines)  # noqa: E731
    assert words(spaced) > words(default)
    assert default.text == transcribe_page(page, recognizer, PipelineOptions()).text


def test_readings_follow_their_boxes_not_list_positions(
    recognizer: Recognizer, pages: list[SynthPage]
) -> None:
    """decode takes each box's own probabilities: a glyph list in another order gives the same
    page, and a probability table of the wrong length is refused."""
    from ocr.results import ReadOptions, decode, probs_by_box
    from ocr.stages.binarize import prepare_page
    from ocr.stages.recognize import classify
    from ocr.stages.segment import cut_glyphs, segment

    prepared = prepare_page(pages[1].image)
    layout = segment(prepared.mask, prepared.ink, prepared.scale)
    glyphs = cut_glyphs(prepared.ink, layout)
    probs = classify([g.crop for g in glyphs], recognizer)
    size = (pages[1].image.shape[1], pages[1].image.shape[0])
    opts = ReadOptions()
    forward = decode(layout, probs_by_box(glyphs, probs), recognizer, [], size, opts)
    backward = decode(layout, probs_by_box(glyphs[::-1], probs[::-1]), recognizer, [], size, opts)
    assert [ln.text for ln in forward] == [ln.text for ln in backward]
    with pytest.raises(ValueError, match="glyphs but"):
        probs_by_box(glyphs, probs[:-1])
