"""The one normalization: shape, range, aspect, centred mass, and indifference to scale."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ocr.stages.normalize import (
    GLYPH_BOX,
    SIZE,
    normalize_batch,
    normalize_glyph,
    resize_bilinear,
)


def bar(h: int, w: int, top: int, left: int, bh: int, bw: int) -> np.ndarray:
    img = np.zeros((h, w), dtype=np.float32)
    img[top : top + bh, left : left + bw] = 1.0
    return img


def mass_centre(img: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(img.shape)
    return float((ys * img).sum() / img.sum()), float((xs * img).sum() / img.sum())


@settings(max_examples=60, deadline=None)
@given(
    h=st.integers(8, 200),
    w=st.integers(8, 200),
    frac_h=st.floats(0.1, 1.0),
    frac_w=st.floats(0.1, 1.0),
    scale=st.floats(0.2, 255.0),
)
def test_shape_range_box_and_centre(
    h: int, w: int, frac_h: float, frac_w: float, scale: float
) -> None:
    bh, bw = max(2, int(h * frac_h)), max(2, int(w * frac_w))
    img = bar(h, w, (h - bh) // 3, (w - bw) // 2, bh, bw) * scale
    out = normalize_glyph(img)
    assert out.shape == (SIZE, SIZE) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.max() > 0.5
    rows = np.flatnonzero(out.max(axis=1) > 0.2)
    cols = np.flatnonzero(out.max(axis=0) > 0.2)
    longest = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    assert GLYPH_BOX - 2 <= longest <= GLYPH_BOX + 1
    cy, cx = mass_centre(out)
    assert abs(cy - (SIZE - 1) / 2) <= 1.0 and abs(cx - (SIZE - 1) / 2) <= 1.0


def test_keeps_aspect_ratio() -> None:
    tall = normalize_glyph(bar(100, 100, 10, 40, 80, 20))
    rows = np.flatnonzero(tall.max(axis=1) > 0.5)
    cols = np.flatnonzero(tall.max(axis=0) > 0.5)
    ratio = (rows[-1] - rows[0] + 1) / (cols[-1] - cols[0] + 1)
    assert 3.0 <= ratio <= 5.0  # 80:20 = 4


def test_same_glyph_at_two_scales_normalizes_alike() -> None:
    small = np.zeros((40, 40), dtype=np.float32)
    small[5:35, 8:12] = 1
    small[5:9, 8:30] = 1
    big = np.kron(small, np.ones((4, 4), dtype=np.float32))
    a, b = normalize_glyph(small), normalize_glyph(big)
    assert np.abs(a - b).mean() < 0.03


def test_blank_gives_zeros_and_batch_matches() -> None:
    assert not normalize_glyph(np.zeros((10, 10))).any()
    imgs = [bar(30, 20, 2, 2, 20, 5), bar(50, 60, 10, 10, 5, 40)]
    batch = normalize_batch(imgs)
    assert batch.shape == (2, SIZE, SIZE)
    np.testing.assert_array_equal(batch[1], normalize_glyph(imgs[1]))


@settings(max_examples=300, deadline=None)
@given(
    h=st.integers(1, 160),
    w=st.integers(1, 160),
    nh=st.integers(2, GLYPH_BOX),
    nw=st.integers(2, GLYPH_BOX),
    seed=st.integers(0, 2**31),
)
def test_resize_is_pillows_bilinear(h: int, w: int, nh: int, nw: int, seed: int) -> None:
    """The shipped model was trained on glyphs Pillow resized; the matrix resize that replaced
    it must give the same pixels (shrinking with antialiasing and enlarging alike)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    img = (rng.random((h, w)) * (rng.random((h, w)) > 0.4)).astype(np.float32)
    want = np.asarray(
        Image.fromarray(img, mode="F").resize((nw, nh), Image.Resampling.BILINEAR),
        dtype=np.float32,
    )
    np.testing.assert_allclose(resize_bilinear(img, nh, nw), want, rtol=0, atol=1e-6)
