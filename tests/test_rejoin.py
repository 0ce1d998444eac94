"""A W cut into two Vs is joined again when the two halves together read W."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import CLASS_INDEX, NUM_OUTPUTS
from ocr.stages.binarize import FloatImage, Scale
from ocr.stages.rejoin import Reader, join_split_w, union
from ocr.stages.segment import CharBox, Layout, Line, Word


def reads(ch: str) -> NDArray[np.float32]:
    p = np.zeros(NUM_OUTPUTS, np.float32)
    p[CLASS_INDEX[ch]] = 1.0
    return p


def box(x0: int, x1: int) -> CharBox:
    return CharBox(x0, 0, x1, 40, "char", np.ones((40, x1 - x0), bool))


def test_touching_vs_whose_union_reads_w_become_one_box() -> None:
    ink = np.ones((40, 200), np.float32)
    a, v1, v2, e = box(0, 20), box(30, 50), box(50, 70), box(80, 100)
    layout = Layout([Line([Word([a, v1, v2, e])])], Scale(40.0, 4.0))
    probs = {id(a): reads("A"), id(v1): reads("V"), id(v2): reads("V"), id(e): reads("E")}
    seen: list[tuple[int, ...]] = []

    def says(ch: str) -> Reader:  # a fake recognizer reading every crop as ``ch``
        def read(crops: list[FloatImage]) -> NDArray[np.float32]:
            seen.extend(c.shape for c in crops)
            return np.stack([reads(ch) for _ in crops])

        return read

    joined, new = join_split_w(layout, probs, ink, says("W"))
    assert seen == [(40, 40)]  # the pair, read once, as one crop
    chars = joined.lines[0].words[0].chars
    assert [(c.x0, c.x1) for c in chars] == [(0, 20), (30, 70), (80, 100)]
    assert int(new[id(chars[1])].argmax()) == CLASS_INDEX["W"]
    # Read together as anything else, the Vs stay.
    assert join_split_w(layout, probs, ink, says("V"))[0] is layout
    # Apart (a gap between them), they are two letters and are not even read again.
    far = box(60, 80)
    spaced = Layout([Line([Word([v1, far])])], Scale(40.0, 4.0))
    seen.clear()
    out = join_split_w(spaced, {id(v1): reads("V"), id(far): reads("V")}, ink, says("W"))
    assert out[0] is spaced and seen == []


def test_the_union_keeps_each_box_s_own_pixels() -> None:
    a = CharBox(0, 2, 3, 5, "char", np.eye(3, dtype=bool))
    b = CharBox(3, 0, 5, 2, "char", np.ones((2, 2), bool))
    u = union(a, b)
    assert (u.x0, u.y0, u.x1, u.y1) == (0, 0, 5, 5)
    assert u.mask.sum() == 3 + 4 and u.mask[2, 0] and u.mask[0, 4] and not u.mask[0, 0]
