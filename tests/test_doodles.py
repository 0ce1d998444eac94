"""Doodle lines (outsized, few, doubtful characters) are dropped after recognition."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import CLASSES
from ocr.stages import segment as sg
from ocr.stages.binarize import Scale
from ocr.stages.doodles import DoodleParams, drop_doodles


def box(x: int, y: int, h: int, stroke: int = 2) -> sg.CharBox:
    """A character-sized outline drawn ``stroke`` px wide (the pages here write 2 px)."""
    m = np.zeros((h, h // 2), dtype=bool)
    m[:stroke], m[-stroke:], m[:, :stroke], m[:, -stroke:] = True, True, True, True
    return sg.CharBox(x, y, x + h // 2, y + h, "char", m)


def reading(sure: float) -> NDArray[np.float32]:
    p = np.full(len(CLASSES) + 1, (1.0 - sure) / len(CLASSES), dtype=np.float32)
    p[0] = sure
    return p


def page(big_sure: float, writing: int = 10) -> tuple[sg.Layout, dict[int, NDArray[np.float32]]]:
    """A line of ``writing`` 20 px characters read surely, and a line of two 40 px ones read
    with ``big_sure``."""
    text = [box(30 * i, 0, 20) for i in range(writing)]
    big = [box(0, 100, 40), box(60, 100, 40)]
    layout = sg.Layout([sg.Line([sg.Word(text)]), sg.Line([sg.Word(big)])], Scale(20.0, 2.0))
    probs = {id(c): reading(0.99) for c in text} | {id(c): reading(big_sure) for c in big}
    return layout, probs


def test_a_doubtful_outsized_pair_is_a_doodle() -> None:
    layout, probs = page(big_sure=0.5)
    kept, dropped = drop_doodles(layout, probs)
    assert dropped == 2 and len(kept.lines) == 1 and len(kept.lines[0].words[0].chars) == 10


def test_big_letters_read_surely_stay() -> None:
    layout, probs = page(big_sure=0.95)
    kept, dropped = drop_doodles(layout, probs)
    assert dropped == 0 and kept.lines == layout.lines


def test_no_median_from_a_handful_of_characters() -> None:
    layout, probs = page(big_sure=0.5, writing=3)
    assert drop_doodles(layout, probs)[1] == 0
    # ...and the size rule is what decides: with a lower bar the same doodle goes.
    assert drop_doodles(layout, probs, DoodleParams(min_page_chars=4))[1] == 2


def lonely_page(
    sure: float, at: tuple[int, int], same_line: bool = False
) -> tuple[sg.Layout, dict[int, NDArray[np.float32]]]:
    """A line of ten 20 px characters read surely, and one more 20 px character at ``at``
    read with ``sure``: on a line of its own, or as a last word of the text's line."""
    text = [box(30 * i, 0, 20) for i in range(10)]
    odd = box(at[0], at[1], 20)
    if same_line:
        lines = [sg.Line([sg.Word(text), sg.Word([odd])])]
    else:
        lines = [sg.Line([sg.Word(text)]), sg.Line([sg.Word([odd])])]
    probs = {id(c): reading(0.99) for c in text} | {id(odd): reading(sure)}
    return sg.Layout(lines, Scale(20.0, 2.0)), probs


def test_a_small_doubtful_mark_far_from_the_writing_is_a_doodle() -> None:
    """A star's arm read J with doubt, eight character heights below the text."""
    kept, dropped = drop_doodles(*lonely_page(0.45, (100, 180)))
    assert dropped == 1 and len(kept.lines) == 1


def test_a_lone_character_read_surely_or_near_the_text_stays() -> None:
    assert drop_doodles(*lonely_page(0.95, (100, 180)))[1] == 0  # a page number
    assert drop_doodles(*lonely_page(0.45, (100, 50)))[1] == 0  # doubtful, but by the text


def test_a_doubtful_group_far_along_the_text_line_goes_and_the_line_stays() -> None:
    """A house drawn at the end of a heading's line, read 6 with doubt, 10 ch to the right."""
    layout, probs = lonely_page(0.3, (500, 0), same_line=True)
    kept, dropped = drop_doodles(layout, probs)
    assert dropped == 1 and len(kept.lines) == 1 and len(kept.lines[0].words) == 1
    near_layout, near_probs = lonely_page(0.3, (320, 0), same_line=True)
    assert drop_doodles(near_layout, near_probs)[1] == 0  # the next word along: writing


def test_a_doubtful_pair_drawn_far_thicker_than_the_writing_is_a_marker_drawing() -> None:
    """Beside a line of text and no taller than it, two shapes drawn with a marker (6 px
    strokes where the page writes 2 px) read at 0.7, too sure for the lonely rule, go; read
    surely, or drawn with the page's pen, they stay."""
    text = [box(30 * i, 0, 20) for i in range(10)]
    for stroke, sure, gone in ((6, 0.7, 2), (6, 0.99, 0), (2, 0.7, 0)):
        pair = [box(360, 0, 20, stroke), box(390, 0, 20, stroke)]  # 4 ch on
        line = sg.Line([sg.Word(text), sg.Word(pair)])
        layout = sg.Layout([line], Scale(20.0, 2.0))
        probs = {id(c): reading(0.99) for c in text} | {id(c): reading(sure) for c in pair}
        kept, dropped = drop_doodles(layout, probs)
        assert dropped == gone, (stroke, sure)
        assert len(kept.lines[0].words) == (1 if gone else 2)
