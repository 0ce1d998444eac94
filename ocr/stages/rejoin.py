"""A W cut into two Vs, joined again.

Many writers make a W's middle apex short, or draw it as two Vs meeting at the top: the
segmentation scorer then likes the cut between them, each half a V read at 0.99, better than
the whole read as a W at 0.9 (the product of sure pieces beats one less sure reading). Two
touching boxes of one word both read V (a pair that hardly occurs in words) are read once
more together, and become one box when the union's best reading is W. After recognition;
input: the layout, each box's probabilities (keyed by box identity, like ``drop_clutter``),
the working ink map and the recognizer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import CLASS_INDEX, NUM_CLASSES
from ocr.stages.binarize import FloatImage
from ocr.stages.segment import CharBox, Layout, Line, Word, crop_char

Reader = Callable[[list[FloatImage]], NDArray[np.float32]]
"""The recognizer's probabilities (every class and "not a character") for each crop."""

TOUCH_PX: int = 1
"""Boxes at most this many px apart (working resolution) touch: pieces of one cut share the
cut column, so their gap is 0."""


def _reads(p: NDArray[np.float32], ch: str) -> bool:
    return int(p[:NUM_CLASSES].argmax()) == CLASS_INDEX[ch]


def union(a: CharBox, b: CharBox) -> CharBox:
    """One character box covering both, with both boxes' own pixels."""
    x0, y0, x1, y1 = min(a.x0, b.x0), min(a.y0, b.y0), max(a.x1, b.x1), max(a.y1, b.y1)
    mask = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    for c in (a, b):
        mask[c.y0 - y0 : c.y1 - y0, c.x0 - x0 : c.x1 - x0] |= c.mask
    return CharBox(x0, y0, x1, y1, "char", mask)


def join_split_w(
    layout: Layout, probs: dict[int, NDArray[np.float32]], ink: FloatImage, read: Reader
) -> tuple[Layout, dict[int, NDArray[np.float32]]]:
    """The layout with each touching V-V pair whose union reads W as one box, and the joined
    boxes' probabilities keyed by box identity (``probs`` is not changed)."""
    pairs: list[tuple[CharBox, CharBox]] = []
    for line in layout.lines:
        for word in line.words:
            chars = [c for c in word.chars if c.kind == "char" and id(c) in probs]
            for a, b in zip(chars, chars[1:], strict=False):
                if (
                    _reads(probs[id(a)], "V")
                    and _reads(probs[id(b)], "V")
                    and b.x0 - a.x1 <= TOUCH_PX
                    and not (pairs and pairs[-1][1] is a)
                ):
                    pairs.append((a, b))
    if not pairs:
        return layout, {}
    joined = [union(a, b) for a, b in pairs]
    rows = read([crop_char(ink, j) for j in joined])
    first: dict[int, CharBox] = {}  # the pair's first box stands for the joined one...
    second: set[int] = set()  # ...and its second goes
    kept: dict[int, NDArray[np.float32]] = {}
    for (a, b), j, p in zip(pairs, joined, rows, strict=True):
        if _reads(p, "W"):
            first[id(a)], kept[id(j)] = j, p
            second.add(id(b))
    if not kept:
        return layout, {}

    def word_chars(word: Word) -> list[CharBox]:
        return [first.get(id(c), c) for c in word.chars if id(c) not in second]

    lines = [Line([Word(word_chars(w)) for w in line.words]) for line in layout.lines]
    return replace(layout, lines=lines), kept
