"""Coloured marks: a short vivid word on a page written in a grey or black pen goes."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ocr.stages.binarize import Scale
from ocr.stages.colour import ColourParams, coloured_marks, ink_saturation
from ocr.stages.printread import Resampled
from ocr.stages.segment import CharBox, Layout, Line, Word

PAPER = (235, 232, 226)
BLACK = (40, 40, 45)
BLUE = (30, 50, 130)
RED = (205, 40, 45)


def letter(img: NDArray[np.uint8], x: int, y: int, colour: tuple[int, int, int]) -> CharBox:
    """A 20 x 40 px box holding an outline drawn 4 px thick (about a letter's ink share)."""
    img[y : y + 40, x : x + 4] = colour
    img[y : y + 40, x + 16 : x + 20] = colour
    img[y : y + 4, x : x + 20] = colour
    return CharBox(x, y, x + 20, y + 40, "char", np.ones((40, 20), bool))


def page(pen: tuple[int, int, int], mark: tuple[int, int, int]) -> tuple[NDArray, Layout]:
    img = np.empty((200, 400, 3), np.uint8)
    img[:] = PAPER
    words = [Word([letter(img, 10 + 30 * i, 20, pen) for i in range(4)])]
    words += [Word([letter(img, 160 + 30 * i, 20, pen) for i in range(3)])]
    shape = Line([Word([letter(img, 300, 120, mark)])])
    return img, Layout([Line(words), shape], Scale(40.0, 4.0))


def test_ink_saturation_tells_a_marker_from_a_black_pen() -> None:
    img, layout = page(BLACK, RED)
    params = ColourParams()
    black = ink_saturation(img, [10, 20, 30, 60], params)
    red = ink_saturation(img, [300, 120, 320, 160], params)
    assert black < 0.2 < 0.6 < red
    assert ink_saturation(img[..., 0], [300, 120, 320, 160], params) == 0.0


def test_a_red_shape_on_its_own_line_goes_a_black_or_blue_page_keeps_the_rest() -> None:
    img, layout = page(BLACK, RED)
    gone = coloured_marks(layout, img, [Resampled(1.0)])
    assert gone == {id(layout.lines[1].words[0].chars[0])}
    # The same shape in the page's own pen stays, and on a page in blue ink nothing is judged.
    img, layout = page(BLACK, BLACK)
    assert coloured_marks(layout, img, [Resampled(1.0)]) == set()
    img, layout = page(BLUE, RED)
    assert coloured_marks(layout, img, [Resampled(1.0)]) == set()


def test_a_word_in_a_second_colour_stays() -> None:
    img, layout = page(BLACK, RED)
    red_word = Line([Word([letter(img, 200 + 30 * i, 120, RED) for i in range(3)])])
    layout = Layout([layout.lines[0], red_word], layout.scale)
    assert coloured_marks(layout, img, [Resampled(1.0)]) == set()


def test_red_shapes_level_with_the_writing_go_as_words_of_its_line() -> None:
    """A circle each side of SPACE, on its line: the shapes are words of their own there."""
    img = np.empty((120, 500, 3), np.uint8)
    img[:] = PAPER
    left = Word([letter(img, 10, 40, RED)])
    space = Word([letter(img, 80 + 30 * i, 40, BLACK) for i in range(5)])
    right = Word([letter(img, 300, 40, RED)])
    touching = Word([letter(img, 360, 40, BLACK), letter(img, 384, 40, RED)])
    layout = Layout([Line([left, space, right, touching])], Scale(40.0, 4.0))
    gone = coloured_marks(layout, img, [Resampled(1.0)])
    # (A red letter inside a word of the pen's is no shape: the word's median is the pen's.)
    assert gone == {id(left.chars[0]), id(right.chars[0])}
