"""Hard shadows: the paper level follows a shadow's sharp edge, so the edge is not ink and
the writing inside the shadow still is."""

from __future__ import annotations

import numpy as np

from ocr.stages.binarize import Scale, binarize, estimate_background
from ocr.stages.shadow import ShadowParams, follow_hard_shadows, hard_edge_cells


def test_a_step_in_the_paper_level_is_a_hard_edge_and_a_gradient_is_not() -> None:
    step = np.ones((10, 12), np.float32)
    step[:, 6:] = 0.6
    ramp = np.tile(np.linspace(1.0, 0.6, 12, dtype=np.float32), (10, 1))  # 4 % per cell
    edges = hard_edge_cells(step)
    assert edges[:, 5:7].all() and edges.sum() == 20
    assert not hard_edge_cells(ramp).any()
    # A sheet's edge against a dark desk (95 % darker) is no shadow.
    desk = step.copy()
    desk[:, 6:] = 0.05
    assert not hard_edge_cells(desk, ShadowParams()).any()


def page_with_shadow() -> tuple[np.ndarray, np.ndarray]:
    """Paper (0.8) with strokes (0.2 x paper) on a grid; the right part in a 40 % shadow whose
    edge is a vertical line between stroke columns. Returns the grey image and the ink truth."""
    h, w = 400, 600
    ink = np.zeros((h, w), bool)
    for y in range(40, h - 40, 60):
        for x in range(30, w - 30, 45):
            ink[y : y + 32, x : x + 3] = True  # a vertical stroke
            ink[y : y + 3, x : x + 20] = True  # a bar
    light = np.ones((h, w), np.float32)
    light[:, 310:] = 0.6
    grey = 0.8 * light * np.where(ink, 0.2, 1.0).astype(np.float32)
    return grey, ink


def test_no_ink_along_the_shadow_edge_and_ink_inside_the_shadow() -> None:
    grey, truth = page_with_shadow()
    scale = Scale(char_height=32.0, stroke_width=3.0)
    # Without the correction, the cells straddling the edge take the lit level: the shadowed
    # band beside the edge is darker than its background and reads as ink.
    plain = estimate_background(grey, 0.6 * 32)
    dark = 1.0 - grey / plain
    assert (dark[:, 311:320] > 0.2).mean() > 0.5
    out = binarize(grey, scale)
    assert out.hard_shadow
    band = np.zeros_like(truth)
    band[:, 300:322] = True
    assert (out.mask & band & ~truth).sum() == 0  # nothing false along the edge
    shadowed = truth.copy()
    shadowed[:, :322] = False
    assert (out.mask & shadowed).sum() >= 0.9 * shadowed.sum()  # ink in the shadow reads


def test_pages_without_a_hard_edge_keep_their_background() -> None:
    grey, _ = page_with_shadow()
    lit = np.where(grey > 0.3, np.float32(0.8), grey)  # the same page, no shadow
    bg = estimate_background(lit, 19.2)
    out = follow_hard_shadows(lit, bg, 19.2, 3.0, 32.0)
    assert not out.hard_edge
    assert out.background is bg
