"""The generated "not a character" crops: every kind, normalized like glyphs, reproducible."""

from __future__ import annotations

import numpy as np

from ocr.model.classes import NOT_CHAR_INDEX
from ocr.stages.normalize import SIZE, ink_box
from ocr.training.negatives import (
    KINDS,
    STEM_ASPECT,
    fragment,
    fused,
    make_negatives,
    negatives_dataset,
)


def glyph_stock(n: int = 20) -> np.ndarray:
    """Box-shaped 'glyphs' (an O-like ring) in the normalized 32x32 frame."""
    g = np.zeros((n, SIZE, SIZE), np.float32)
    g[:, 4:28, 6:26] = 1.0
    g[:, 8:24, 10:22] = 0.0
    return g


def test_every_kind_is_made_normalized_and_inked() -> None:
    images, kinds = make_negatives(300, np.random.default_rng(0), glyph_stock())
    assert images.shape == (300, SIZE, SIZE) and images.dtype == np.float32
    assert set(kinds) == set(KINDS)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert all(ink_box(im) is not None for im in images)
    # Normalization puts the longest side of the ink at the glyph box, as for real glyphs.
    sides = [max(b[1] - b[0], b[3] - b[2]) for b in (ink_box(im) for im in images) if b]
    assert np.median(sides) >= 20


def test_same_seed_same_negatives() -> None:
    a = negatives_dataset(50, 7, glyph_stock(), "n")
    b = negatives_dataset(50, 7, glyph_stock(), "n")
    np.testing.assert_array_equal(a.images, b.images)
    assert np.all(a.labels == NOT_CHAR_INDEX)


def test_fragments_are_never_bare_stems_and_fusions_are_wide() -> None:
    rng = np.random.default_rng(1)
    stock = glyph_stock()
    for _ in range(100):
        box = ink_box(fragment(rng, stock))
        assert box is not None
        h, w = box[1] - box[0], box[3] - box[2]
        assert w >= STEM_ASPECT * h and h >= STEM_ASPECT * w
    wide = 0
    for _ in range(100):
        f = fused(rng, stock)
        wide += f.shape[1] > 1.5 * f.shape[0]
    assert wide >= 60  # side by side (the rest one over the other)
