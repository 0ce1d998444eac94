"""Binarization and scale estimation on synthetic images with known ink."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ocr.stages import binarize as bz
from ocr.stages import darkness as dk


def bars_page(
    h: int = 400, w: int = 600, bar_h: int = 40, stroke: int = 4, pitch: int = 30
) -> NDArray[np.bool_]:
    """Truth ink: rows of vertical bars (character-like strokes)."""
    ink = np.zeros((h, w), dtype=bool)
    for y in range(40, h - bar_h - 20, 2 * bar_h):
        for x in range(30, w - 30, pitch):
            ink[y : y + bar_h, x : x + stroke] = True
    return ink


def iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum()) / max(1, float((a | b).sum()))


def test_to_grey_keeps_blue_and_black_ink_dark() -> None:
    rgb = np.full((10, 30, 3), 245, dtype=np.uint8)
    rgb[:, :10] = (20, 20, 20)  # black pen
    rgb[:, 10:20] = (30, 40, 200)  # blue ballpoint
    g = bz.to_grey(rgb)
    assert g.dtype == np.float32 and g.shape == (10, 30)
    assert g[:, :20].max() < 0.2 < 0.9 < g[:, 20:].min()


def test_to_grey_block_average() -> None:
    grey = np.zeros((9, 8), dtype=np.uint8)
    grey[:4, :4] = 255
    g = bz.to_grey(grey, block=4)
    assert g.shape == (2, 2)
    assert g[0, 0] == 1.0 and g[1, 1] == 0.0


def test_gradient_and_shadow_still_binarize() -> None:
    truth = bars_page()
    h, w = truth.shape
    yy, xx = np.mgrid[0:h, 0:w]
    paper = 0.95 - 0.55 * xx / w  # strong left-to-right lighting gradient
    paper = paper * (1 - 0.4 * np.exp(-(((xx - 420) ** 2 + (yy - 200) ** 2) / 90.0**2)))
    grey = (paper * np.where(truth, 0.4, 1.0)).astype(np.float32)
    grey += np.random.default_rng(0).normal(0, 0.01, grey.shape).astype(np.float32)
    result = bz.binarize(grey, bz.Scale(char_height=40, stroke_width=4))
    assert iou(result.mask, truth) > 0.8
    assert result.mask[~truth].mean() < 0.005
    assert result.ink.dtype == np.float32 and 0.0 <= result.ink.min() <= result.ink.max() <= 1.0
    assert (result.ink[~result.mask] == 0).all()


def test_unknown_scale_binarizes_too() -> None:
    truth = bars_page()
    grey = np.where(truth, 0.3, 0.85).astype(np.float32)
    assert iou(bz.binarize(grey).mask, truth) > 0.9


def test_faint_show_through_is_rejected() -> None:
    truth = bars_page()
    ghost = np.roll(truth, 15, axis=1) & ~truth  # writing from the back of the sheet
    grey = np.full(truth.shape, 0.9, dtype=np.float32)
    grey[truth] = 0.35
    grey[ghost] = 0.8
    mask = bz.binarize(grey).mask
    assert mask[ghost].mean() < 0.02
    assert iou(mask, truth) > 0.9


def test_blank_page_has_no_ink() -> None:
    grey = 0.8 + np.random.default_rng(1).normal(0, 0.01, (300, 400)).astype(np.float32)
    assert bz.binarize(grey).mask.sum() == 0


def test_estimate_scale_ignores_specks_and_borders() -> None:
    mask = bars_page(bar_h=40, stroke=4)
    rng = np.random.default_rng(2)
    mask[rng.integers(0, 400, 300), rng.integers(0, 600, 300)] = True  # noise specks
    mask[:, :6] = True  # a page edge
    s = bz.estimate_scale(mask)
    assert abs(s.char_height - 40) <= 4
    assert abs(s.stroke_width - 4) <= 1.2


def test_estimate_scale_ignores_the_few_long_sides_of_a_frame_beside_few_letters() -> None:
    """Ten 35 px digits inside a thick frame in three pieces (where a grey sheet meets a white
    canvas): the frame's pieces are few but weigh more than all the digits together."""
    mask = np.zeros((480, 600), dtype=bool)
    for i in range(10):
        x = 60 + 50 * i
        mask[220:255, x : x + 4] = True  # a stem ...
        mask[220:224, x : x + 20] = True  # ... and a bar: a 7-ish digit
    mask[20:40, 2:540] = True  # top side ...
    mask[40:400, 2:18] = True  # ... joined to the left side
    mask[50:420, 565:598] = True  # right side
    for x in range(60, 540):  # bottom side, slanted: a turned photo's
        y = 300 + (x - 60) * 120 // 480
        mask[y : y + 8, x] = True
    s = bz.estimate_scale(mask)
    assert abs(s.char_height - 35) <= 3


def test_working_resolution() -> None:
    assert bz.working_resolution((3000, 4000, 3)) == bz.COARSE_LONG_SIDE / 4000
    assert bz.working_resolution((300, 200)) == 1.0
    assert bz.working_resolution((3000, 4000), char_height=128.0) == bz.TARGET_CHAR_PX / 128.0
    assert bz.working_resolution((100, 200), char_height=8.0) == 2.0


def test_prepare_page_brings_large_and_small_writing_to_target() -> None:
    big = bars_page(h=2000, w=3000, bar_h=160, stroke=14, pitch=100)
    small = bars_page(h=200, w=300, bar_h=18, stroke=2, pitch=12)
    for truth in (big, small):
        grey = np.where(truth, 60, 230).astype(np.uint8)
        page = bz.prepare_page(np.dstack([grey] * 3))
        lo, hi = bz.TARGET_CHAR_PX / bz.TARGET_TOLERANCE, bz.TARGET_CHAR_PX * bz.TARGET_TOLERANCE
        assert lo <= page.scale.char_height <= hi, page.scale
        assert page.mask.shape == page.grey.shape == page.ink.shape
        expected = np.array(truth.shape) * page.factor
        assert np.all(np.abs(np.array(page.mask.shape) - expected) <= 2)


def test_brightest_channel_parts_blue_print_from_black_pen() -> None:
    """In the darkest channel (the ink map) a blue rule and a black stroke are both dark; in
    the brightest the blue rule is almost paper and the black stroke still dark."""
    rgb = np.full((300, 400, 3), 235, dtype=np.uint8)
    rgb[100:103, :] = (110, 150, 225)  # a blue rule across
    rgb[150:200, 200:204] = (25, 25, 30)  # a black stroke
    page = bz.prepare_page(rgb)
    dark = dk.brightest_channel_darkness(rgb, page)
    assert dark is not None and dark.shape == page.mask.shape and dark.dtype == np.float32
    f = page.factor
    rule = dark[int(101 * f), int(50 * f) : int(350 * f)]
    stroke = dark[int(175 * f), int(200 * f) : int(204 * f)]
    assert page.dark is not None
    darkest_rule = page.dark[int(101 * f), int(50 * f) : int(350 * f)]
    assert float(np.max(darkest_rule)) > 0.4  # the rule is ink in the darkest channel
    assert float(np.max(rule)) < 0.15 and float(np.max(stroke)) > 0.7
    assert not dark[~page.mask].any()


def test_boundary_count_is_the_erosions() -> None:
    """The stroke width's boundary count equals mask minus its erosion by a cross (pixels on
    the image's edge count as boundary), on random blobs of every size down to one pixel."""
    from scipy import ndimage as ndi

    rng = np.random.default_rng(0)
    for _ in range(40):
        shape = (int(rng.integers(1, 50)), int(rng.integers(1, 50)))
        m = ndi.binary_dilation(rng.random(shape) > 0.8)
        assert bz.boundary_pixels(m) == int((m & ~ndi.binary_erosion(m)).sum())


def test_a_grey_image_has_no_brighter_channel_to_read() -> None:
    grey = np.full((300, 400), 235, dtype=np.uint8)
    grey[150:200, 200:204] = 25
    assert dk.brightest_channel_darkness(grey, bz.prepare_page(grey)) is None


def test_faint_mask_shows_a_rule_the_page_mask_leaves_out() -> None:
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.004, (400, 600)).astype(np.float32)
    grey = np.full((400, 600), 0.9, np.float32) + noise
    grey[198:202, :] -= 0.06  # a faint printed rule
    grey[100:160, 300:306] = 0.2  # a pen stroke, so the page has ink
    grey[100:106, 280:330] = 0.2
    page = bz.prepare_page(grey)
    f = page.factor
    row = int(200 * f)
    assert page.mask[row - 1 : row + 2].any(axis=0).mean() < 0.5
    assert dk.faint_mask(page)[row - 1 : row + 2].any(axis=0).mean() > 0.9
    assert dk.faint_mask(page).mean() < 0.05  # paper noise stays out


def test_channel_darkness_shows_a_blue_pen_and_grey_print_apart() -> None:
    """Per channel, over each channel's own paper: a blue pen is dark in red and green and
    light in blue, grey print equally dark in all three; off the mask every value is 0."""
    rgb = np.full((240, 400, 3), (230, 228, 222), dtype=np.uint8)
    rgb[100:104, 20:380] = (120, 120, 120)  # a grey rule
    rgb[60:160, 200:206] = (40, 60, 170)  # a blue stroke across it
    for y in range(10, 230, 40):  # a few more strokes so the scale is a writing's
        rgb[y : y + 28, 40:44] = (40, 60, 170)
    page = bz.prepare_page(rgb)
    channels = dk.channel_darkness(rgb, page)
    assert channels is not None and channels.shape == (*page.mask.shape, 3)
    assert not channels[~page.mask].any()
    f = page.factor
    pen = channels[int(70 * f), int(203 * f)]
    rule = channels[int(102 * f), int(100 * f)]
    assert pen[0] > 0.6 and pen[2] < 0.4  # dark in red, light in blue
    assert abs(float(rule[0]) - float(rule[2])) < 0.08  # grey: alike in every channel
    assert dk.channel_darkness(rgb[..., 0], page) is None
