"""Touching letters read as "not a character" are cut again instead of dropped."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import CLASS_INDEX, NOT_CHAR_INDEX, OUTPUTS
from ocr.stages import segment as sg
from ocr.stages.binarize import Scale
from ocr.stages.fused import FusedParams, split_fused

SCALE = Scale(char_height=40.0, stroke_width=4.0)


def reading(best: int, p: float) -> NDArray[np.float32]:
    out = np.full(len(OUTPUTS), (1.0 - p) / (len(OUTPUTS) - 1), dtype=np.float32)
    out[best] = p
    return out


def letter(x: int, ink: np.ndarray) -> sg.CharBox:
    """A 24 x 40 letter-like block (an outline) drawn into ``ink`` at column ``x``."""
    m = np.zeros((40, 24), bool)
    m[:, :4] = m[:, -4:] = m[:4] = m[-4:] = True
    ink[10:50, x : x + 24] = np.maximum(ink[10:50, x : x + 24], m)
    return sg.CharBox(x, 10, x + 24, 50, "char", m)


def fused_pair(x: int, ink: np.ndarray) -> sg.CharBox:
    """Two such letters joined by a short bar: one part 52 px wide."""
    m = np.zeros((40, 52), bool)
    for a in (0, 28):
        m[:, a : a + 4] = m[:, a + 20 : a + 24] = True
        m[:4, a : a + 24] = m[-4:, a : a + 24] = True
    m[18:22, 24:28] = True  # where they touch
    ink[10:50, x : x + 52] = np.maximum(ink[10:50, x : x + 52], m)
    return sg.CharBox(x, 10, x + 52, 50, "char", m)


def narrow_is_sure(crops: list[np.ndarray]) -> np.ndarray:
    """A scorer: a crop about a letter wide is a letter."""
    return np.array([0.95 if c.shape[1] <= 30 else 0.3 for c in crops], dtype=np.float32)


def reader(p: float) -> Callable[[list[np.ndarray]], np.ndarray]:
    def read(crops: list[np.ndarray]) -> np.ndarray:
        return np.stack([reading(CLASS_INDEX["O"], p) for _ in crops])

    return read


def page() -> tuple[sg.Layout, dict[int, np.ndarray], np.ndarray, sg.CharBox]:
    ink = np.zeros((60, 200), np.float32)
    first, pair = letter(10, ink), fused_pair(60, ink)
    layout = sg.Layout([sg.Line([sg.Word([first]), sg.Word([pair])])], SCALE)
    probs = {id(first): reading(CLASS_INDEX["H"], 0.97), id(pair): reading(NOT_CHAR_INDEX, 0.8)}
    return layout, probs, ink, pair


def test_a_fused_pair_read_as_clutter_is_cut_into_two_sure_letters() -> None:
    layout, probs, ink, pair = page()
    out, pieces = split_fused(layout, probs, ink, narrow_is_sure, reader(0.95))
    words = out.lines[0].words
    assert len(words) == 2 and len(words[1].chars) == 2
    left, right = words[1].chars
    assert left.x0 == pair.x0 and right.x1 == pair.x1
    assert 20 <= left.x1 - pair.x0 <= 32 and right.x0 == left.x1  # cut where they touch
    assert set(pieces) == {id(left), id(right)} and id(pair) in probs


def test_a_cut_whose_pieces_read_doubtfully_is_not_made() -> None:
    layout, probs, ink, _ = page()
    out, pieces = split_fused(layout, probs, ink, narrow_is_sure, reader(0.6))
    assert out is layout and pieces == {}
    sure = split_fused(
        layout, probs, ink, narrow_is_sure, reader(0.6), FusedParams(min_confidence=0.5)
    )
    assert len(sure[0].lines[0].words[1].chars) == 2


def test_a_letter_cut_free_of_clutter_stays_and_the_clutter_piece_goes_with_the_clutter() -> None:
    layout, probs, ink, _ = page()

    def left_clutter(crops: list[np.ndarray]) -> np.ndarray:
        return np.stack([reading(NOT_CHAR_INDEX, 0.9), reading(CLASS_INDEX["E"], 0.97)])

    out, pieces = split_fused(layout, probs, ink, narrow_is_sure, left_clutter)
    left, right = out.lines[0].words[1].chars
    assert int(pieces[id(left)].argmax()) == NOT_CHAR_INDEX
    assert int(pieces[id(right)].argmax()) == CLASS_INDEX["E"]

    def all_clutter(crops: list[np.ndarray]) -> np.ndarray:
        return np.stack([reading(NOT_CHAR_INDEX, 0.9) for _ in crops])

    assert split_fused(layout, probs, ink, narrow_is_sure, all_clutter)[1] == {}


def test_a_cut_leaving_a_short_fragment_beside_a_letter_is_not_made() -> None:
    """A wide A's bar and arm cut off its legs read 7 and 4, each surely: the 7 is a
    fragment, far shorter than the piece beside it."""
    layout, probs, ink, pair = page()
    pair.mask[:20, :28] = False  # the left letter is only its lower half
    ink[10:30, 60:88] = 0
    assert split_fused(layout, probs, ink, narrow_is_sure, reader(0.95))[1] == {}


def test_clutter_alone_on_its_line_or_not_letter_shaped_is_left_to_the_clutter_stage() -> None:
    layout, probs, ink, pair = page()
    alone = sg.Layout([sg.Line([sg.Word([pair])])], SCALE)
    assert split_fused(alone, probs, ink, narrow_is_sure, reader(0.95))[1] == {}
    tall = FusedParams(height_ch=(1.2, 2.0))  # the pair is 1 ch tall: not in range
    assert split_fused(layout, probs, ink, narrow_is_sure, reader(0.95), tall)[1] == {}
    none = FusedParams(max_boxes=0)
    assert split_fused(layout, probs, ink, narrow_is_sure, reader(0.95), none)[1] == {}
