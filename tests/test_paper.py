"""Lined and grid paper and marker doodles composed onto synthetic pages, and the page
pipeline on them: rules never read as text, clutter is dropped, the truth is unchanged."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ocr.io.imageio import PageImage
from ocr.model.classes import CLASS_INDEX, NOT_CHAR_INDEX, NUM_OUTPUTS
from ocr.model.store import Recognizer, load_model
from ocr.pipeline import transcribe_page
from ocr.stages.binarize import Scale
from ocr.stages.prune import drop_clutter, drop_stray_marks, mark_line_commas
from ocr.stages.segment import CharBox, Layout, Line, SegmentParams, Word
from ocr.synth import SynthPage, SynthStyle, make_pages
from ocr.synth.paper import char_height, grid_paper, lined_paper, marker_shapes
from ocr.textdist import cer

STYLE = replace(SynthStyle(), lines=(4, 6), max_megapixels=1.5, shadow_chance=0.0)


@pytest.fixture(scope="module")
def pages() -> list[SynthPage]:
    return make_pages(4, writers=[1, 2, 3, 4], seed=5, style=STYLE, source="builtin")


def as_input(page: SynthPage) -> PageImage:
    h, w = page.image.shape[:2]
    return PageImage("paper.jpg", 0, 1, page.image, 1.0, (w, h), "0" * 64)


def crossings(page: SynthPage, out: SynthPage, axis: int) -> float:
    """Median number of darkened runs met walking down each column (axis 0) or along each
    row (axis 1): the printed lines crossed, whatever their tilt."""
    darker = page.image.astype(int).sum(axis=2) - out.image.astype(int).sum(axis=2) > 15
    d = darker if axis == 0 else darker.T
    starts = (d[1:] & ~d[:-1]).sum(axis=0)
    return float(np.median(starts))


def free_of_writing(page: SynthPage, pad: float) -> np.ndarray:
    """Mask of pixels at least ``pad`` character heights away from every character."""
    h = int(pad * char_height(page))
    free = np.ones(page.image.shape[:2], bool)
    for ln in page.lines:
        for c in ln.chars:
            free[max(0, c.box[1] - h) : c.box[3] + h, max(0, c.box[0] - h) : c.box[2] + h] = False
    return free


def test_lined_paper_draws_rules_across_the_sheet_and_keeps_the_truth(
    pages: list[SynthPage],
) -> None:
    page = pages[0]
    out = lined_paper(page, np.random.default_rng(0))
    assert out.text == page.text and out.lines == page.lines
    # Every column meets the rules at the line pitch, from the top of the sheet to its foot.
    pitch = np.median(np.diff([ln.box[3] for ln in page.lines]))
    assert crossings(page, out, 0) >= 0.7 * page.image.shape[0] / pitch
    assert crossings(page, out, 1) <= 1  # no vertical lines but a margin rule


def test_grid_paper_draws_lines_both_ways(pages: list[SynthPage]) -> None:
    page = pages[1]
    out = grid_paper(page, np.random.default_rng(1))
    assert crossings(page, out, 0) >= 5 and crossings(page, out, 1) >= 5


def test_marker_shapes_stay_clear_of_the_writing(pages: list[SynthPage]) -> None:
    page = pages[2]
    out = marker_shapes(page, np.random.default_rng(2))
    changed = np.abs(page.image.astype(int) - out.image.astype(int)).max(axis=2) > 40
    assert changed.sum() > 0
    assert not (changed & ~free_of_writing(page, 0.3)).any()


def test_drop_clutter_takes_boxes_whose_best_output_is_not_a_character() -> None:
    def box(x: int, kind: str = "char") -> CharBox:
        return CharBox(x, 0, x + 10, 20, kind, np.ones((20, 10), bool), "." if kind else "")

    a, b, c, dot = box(0), box(20), box(60), box(72, "mark")
    layout = Layout([Line([Word([a, b]), Word([c, dot])])], Scale(20.0, 2.0))
    p_char = np.zeros(NUM_OUTPUTS, np.float32)
    p_char[0] = 0.9
    p_char[NOT_CHAR_INDEX] = 0.1
    p_clutter = np.zeros(NUM_OUTPUTS, np.float32)
    p_clutter[NOT_CHAR_INDEX] = 0.6
    p_clutter[1] = 0.4
    kept, dropped = drop_clutter(layout, {id(a): p_char, id(b): p_clutter, id(c): p_clutter})
    assert dropped == 2
    # b goes from its word; c's word goes whole, with the full stop that followed it.
    assert [[ch for ch in w.chars] for ln in kept.lines for w in ln.words] == [[a]]


def test_a_dot_squeezed_between_letters_goes_between_digits_stays() -> None:
    def box(x: int, kind: str = "char") -> CharBox:
        w = 10 if kind == "char" else 3
        return CharBox(x, 0, x + w, 20, kind, np.ones((20, w), bool), "." if kind else "")

    e, dot, k = box(0), box(11, "mark"), box(14)
    layout = Layout([Line([Word([e, dot, k])])], Scale(20.0, 2.0))

    def reads(index: int) -> np.ndarray:
        p = np.zeros(NUM_OUTPUTS, np.float32)
        p[index] = 1.0
        return p

    letters = {id(e): reads(CLASS_INDEX["E"]), id(k): reads(CLASS_INDEX["K"])}
    digits = {id(e): reads(CLASS_INDEX["3"]), id(k): reads(CLASS_INDEX["5"])}
    params = SegmentParams()
    kept, chars_gone = drop_stray_marks(layout, letters, params)
    assert [c.kind for c in kept.lines[0].words[0].chars] == ["char", "char"]
    assert chars_gone == 0  # a dot is no character
    assert drop_stray_marks(layout, digits, params)[0].lines[0].words[0].chars == [e, dot, k]


def test_a_comma_ends_its_word_and_one_alone_joins_the_word_before() -> None:
    def box(x: int, y0: int = 0, y1: int = 40, w: int = 24) -> CharBox:
        return CharBox(x, y0, x + w, y1, "char", np.ones((y1 - y0, w), bool))

    h, i, tail, m, y = box(0), box(30), box(58, 26, 50, 10), box(74), box(104)
    params = SegmentParams()
    joined = Layout([Line([Word([h, i, tail, m, y])])], Scale(40.0, 4.0))
    words = mark_line_commas(joined, params).lines[0].words
    assert [[c.mark or "c" for c in w.chars] for w in words] == [["c", "c", ","], ["c", "c"]]
    alone = Layout([Line([Word([h, i]), Word([tail]), Word([m, y])])], Scale(40.0, 4.0))
    words = mark_line_commas(alone, params).lines[0].words
    assert [[c.mark or "c" for c in w.chars] for w in words] == [["c", "c", ","], ["c", "c"]]


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return load_model()


def test_rules_never_read_as_text_on_lined_paper(
    recognizer: Recognizer, pages: list[SynthPage]
) -> None:
    """No rule is read: as many lines as the truth and no extra characters (each rule kept
    would add a line of dashes or letters, hundreds of characters). Letters keep most of
    their strokes; the bar of an E or the foot of an L lying on a rule as dark as the pen
    goes with the rule (E reads F), hence the looser CER than on plain pages."""
    edits = total = extra = 0.0
    for i, page in enumerate(pages):
        ruled = lined_paper(page, np.random.default_rng(10 + i))
        result = transcribe_page(as_input(ruled), recognizer)
        assert result.timings_ms["rules"] >= 0
        assert len(result.lines) == len(page.lines)
        edits += cer(result.text, page.text) * len(page.text)
        total += len(page.text)
        extra += max(0, len(result.text) - len(page.text))
    assert extra <= 0.03 * total
    assert edits / total < 0.2


def test_marker_shapes_are_dropped_not_read(recognizer: Recognizer) -> None:
    """Pen writing beside marker doodles: the doodles add (almost) no characters. (Faint
    pencil beside a dark marker is a binarization limit, not this stage's: the ink level is
    set by the darkest ink on the page and light strokes fall under it; README.)"""
    pen = replace(STYLE, inks=("black", "blue"), ink_strength=(0.9, 1.0))
    pages = make_pages(4, writers=[1, 2, 3, 4], seed=5, style=pen, source="builtin")
    edits = total = extra = 0.0
    for i, page in enumerate(pages):
        drawn = marker_shapes(page, np.random.default_rng(20 + i))
        result = transcribe_page(as_input(drawn), recognizer)
        edits += cer(result.text, page.text) * len(page.text)
        total += len(page.text)
        extra += max(0, len(result.text) - len(page.text))
    assert edits / total < 0.1
    # Without the 37th class and the nested-shape stage doodles added 14% (model 2026.11.28);
    # what is left: thick-penned targets whose rings touch read as OO.
    assert extra <= 0.05 * total


def test_character_height_is_measured_without_the_grid(pages: list[SynthPage]) -> None:
    """On grid paper every letter touches the grid: measured on the raw mask, the 'character'
    is the page. Without the rules the size lands within the working tolerance of the truth,
    also when the grid is so faint that only the working resolution shows it (the reduced
    probe misses it) and when stripping it at the working resolution leaves dashes."""
    from ocr.stages.binarize import TARGET_TOLERANCE, prepare_page
    from ocr.stages.rules import without_rules

    for i, page in enumerate(pages):
        squared = grid_paper(page, np.random.default_rng(30 + i))
        raw = prepare_page(squared.image)
        truth = char_height(page)
        assert raw.scale.char_height / raw.factor > 10 * truth
        for contrast in (1.0, 0.5, 0.35):  # the grid's share of its printed darkness
            blend = page.image * (1 - contrast) + squared.image * contrast
            stripped = prepare_page(blend.astype(np.uint8), without_rules)
            ratio = stripped.scale.char_height / stripped.factor / truth
            assert 1 / TARGET_TOLERANCE < ratio < TARGET_TOLERANCE, (i, contrast, ratio)
        # Rules found on the probe: the scale measured on the coarse image stands, and the
        # working-resolution page is not stripped here (the rules stage does that once).
        scales: list[Scale | None] = []

        def counted(
            mask: np.ndarray, scale: Scale | None, seen: list[Scale | None] = scales
        ) -> np.ndarray:
            seen.append(scale)
            return without_rules(mask, scale)

        prepare_page(squared.image, counted)
        assert scales == [None, None], scales
