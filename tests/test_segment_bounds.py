"""Segmentation's cost is bounded whatever the picture: a page of clutter keeps at most
``max_parts`` parts and asks the recognizer for at most its scoring budget (plus one request)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from numpy.typing import NDArray

from ocr.stages import segment as sg
from ocr.stages.binarize import FloatImage, Scale
from ocr.stages.segment import DEFAULT_PARAMS
from ocr.stages.segment.components import Component, cap_parts

SCALE = Scale(char_height=20.0, stroke_width=3.0)


def grain(seed: int, shape: tuple[int, int] = (900, 1200), streaks: int = 3000) -> np.ndarray:
    """Wood-grain-like clutter: short horizontal and slanted dark streaks of letter size."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, dtype=bool)
    h, w = shape
    for _ in range(streaks):
        y, x = int(rng.integers(0, h - 20)), int(rng.integers(0, w - 40))
        length, thick = int(rng.integers(6, 30)), int(rng.integers(3, 5))
        rise = int(rng.integers(0, 12))
        for k in range(length):
            yy = y + (rise * k) // max(length, 1)
            mask[yy : yy + thick, x + k] = True
    return mask


class CountingScorer:
    """A scorer that likes every crop a little and counts what it was asked."""

    def __init__(self) -> None:
        self.crops = 0
        self.calls: list[int] = []

    def __call__(self, crops: list[FloatImage]) -> NDArray[np.floating]:
        self.crops += len(crops)
        self.calls.append(len(crops))
        return np.full(len(crops), 0.5)


@pytest.fixture(scope="module")
def clutter() -> np.ndarray:
    return grain(3)


def test_clutter_keeps_at_most_max_parts(clutter: np.ndarray) -> None:
    params = replace(DEFAULT_PARAMS, max_parts=300)
    ink = clutter.astype(np.float32)
    layout = sg.segment(clutter, ink, SCALE, None, params=params)
    kept = sum(len(w.chars) for line in layout.lines for w in line.words)
    assert layout.parts_dropped > 0
    # Splitting may cut a kept part into pieces, never beyond a few per part.
    assert kept <= 3 * params.max_parts
    full = sg.segment(clutter, ink, SCALE, None)
    assert full.parts_dropped == 0
    assert sum(len(w.chars) for line in full.lines for w in line.words) > kept


def test_cap_keeps_the_largest_parts_in_order() -> None:
    parts = [Component(i, 0, i + 1, 1, (i + 1,), area) for i, area in enumerate([5, 1, 9, 3, 7])]
    kept = cap_parts(parts, 3)
    assert [p.area for p in kept] == [5, 9, 7]
    assert cap_parts(parts, 10) is parts


def test_scoring_stops_at_the_page_budget(clutter: np.ndarray) -> None:
    params = replace(DEFAULT_PARAMS, score_budget_min=50, score_budget_per_part=0.0)
    scorer = CountingScorer()
    layout = sg.segment(clutter, clutter.astype(np.float32), SCALE, scorer, params=params)
    assert scorer.crops > 0
    assert scorer.crops - max(scorer.calls) < params.score_budget_min
    assert layout.unscored_passes > 0
    generous = CountingScorer()
    sg.segment(clutter, clutter.astype(np.float32), SCALE, generous)
    assert generous.crops > scorer.crops


def test_budget_object_refuses_after_limit() -> None:
    scorer = CountingScorer()
    budget = sg.ScoreBudget(scorer, limit=4)
    first = budget.scorer()
    assert first is not None
    first([np.zeros((2, 2), np.float32)] * 5)
    assert budget.scorer() is None and budget.refused == 1
    assert sg.ScoreBudget(None, limit=4).scorer() is None
