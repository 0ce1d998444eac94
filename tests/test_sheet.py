"""Sheet search: a sheet on a desk is found and rectified; scans and shadows are left whole."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from ocr.stages.sheet import apply_homography, find_sheet, rectify

W, H = 1200, 900


def paper_with_writing(w: int, h: int, seed: int = 0) -> Image.Image:
    """A light sheet with a few lines of dark strokes (stand-ins for handwriting)."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (w, h), (228, 226, 220))
    d = ImageDraw.Draw(img)
    for row in range(4):
        y = int(h * (0.2 + 0.15 * row))
        for col in range(8):
            x = int(w * (0.1 + 0.1 * col))
            pts = [(x + float(rng.uniform(0, 30)), y + float(rng.uniform(0, 40))) for _ in range(4)]
            d.line(pts, fill=(30, 30, 40), width=3)
    return img


def wood(w: int, h: int, seed: int = 1) -> np.ndarray:
    """Orange-brown stripes with noise: a wooden desk top."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    stripes = np.sin(2 * np.pi * (yy + 8 * np.sin(xx / 90)) / 23.0)
    grain = 0.8 + 0.2 * stripes + 0.06 * rng.standard_normal((h, w)).astype(np.float32)
    return np.clip(np.array([150, 100, 60], np.float32) * grain[..., None], 0, 255)


def sheet_on_desk(corners: np.ndarray) -> np.ndarray:
    """``paper_with_writing`` warped onto ``corners`` of a wooden desk picture."""
    from ocr.stages.sheet import homography

    pw, ph = 800, 600
    paper = paper_with_writing(pw, ph)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float64)
    back = np.linalg.inv(homography(src, corners))
    coeffs = tuple(float(v) for v in (back / back[2, 2]).ravel()[:8])
    warped = paper.transform((W, H), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
    cover = Image.new("L", (pw, ph), 255).transform(
        (W, H), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    m = np.asarray(cover, np.float32)[..., None] / 255
    out = wood(W, H) * (1 - m) + np.asarray(warped, np.float32) * m
    return out.astype(np.uint8)


CORNERS = np.array([[260, 140], [980, 190], [940, 760], [200, 700]], dtype=np.float64)


def test_sheet_on_a_wooden_desk_is_found_with_its_corners() -> None:
    search = find_sheet(sheet_on_desk(CORNERS))
    assert search.sheet is not None, search.reason
    assert not search.sheet.partly_outside
    # Within 2 % of the picture's long side (the thumbnail is 320 px: ~4 px of 1200).
    assert np.abs(search.sheet.corners - CORNERS).max() < 0.02 * W


def test_rectified_sheet_maps_back_to_its_corners() -> None:
    image = sheet_on_desk(CORNERS)
    sheet = find_sheet(image).sheet
    assert sheet is not None
    rect = rectify(image, sheet)
    w, h = sheet.size
    assert rect.pixels.shape[:2] == (h, w)
    assert rect.inside.mean() > 0.95  # a clean rectangle: (nearly) all of it is sheet
    # The rectified picture is paper (bright) nearly everywhere: no desk was pulled in.
    assert np.median(rect.pixels.max(axis=2)) > 200
    back = apply_homography(np.array([[0.0, 0.0], [w, h]]), sheet.homography())
    assert np.abs(back - CORNERS[[0, 2]]).max() < 0.02 * W
    x0, y0, x1, y1 = sheet.box_to_input((0.0, 0.0, float(w), float(h)))
    assert (x0, y0) == pytest.approx(tuple(sheet.corners[:, :].min(axis=0)), abs=1.0)
    assert (x1, y1) == pytest.approx(tuple(sheet.corners[:, :].max(axis=0)), abs=1.0)


def test_a_page_that_fills_the_picture_is_read_whole() -> None:
    search = find_sheet(np.asarray(paper_with_writing(W, H)))
    assert search.sheet is None
    assert not search.background_seen


def test_a_hand_shadow_reaching_the_border_is_not_a_desk() -> None:
    """Paper filling the frame, a third of it in a hard shadow (35 % darker) from the left
    edge: the sheet must not be cut at the shadow's edge."""
    img = np.asarray(paper_with_writing(W, H), dtype=np.float32)
    light = np.ones((H, W), np.float32)
    light[:, : W // 3] = 0.65
    search = find_sheet((img * light[..., None]).astype(np.uint8))
    assert search.sheet is None


def test_a_sheet_running_out_of_the_picture_is_flagged() -> None:
    corners = np.array([[300, 120], [1300, 100], [1300, 800], [320, 780]], dtype=np.float64)
    search = find_sheet(sheet_on_desk(corners))
    assert search.sheet is not None, search.reason
    assert search.sheet.partly_outside


def test_a_bare_desk_has_no_sheet() -> None:
    search = find_sheet(wood(W, H).astype(np.uint8))
    assert search.sheet is None


def test_ink_outside_the_sheet_and_along_its_outline_is_cleared() -> None:
    from ocr.stages.binarize import PreparedPage, Scale
    from ocr.stages.sheet import SheetParams, clear_outside

    mask = np.ones((200, 300), dtype=bool)
    page = PreparedPage(
        np.zeros((200, 300), np.float32),
        mask.astype(np.float32),
        mask,
        Scale(char_height=20.0, stroke_width=2.0),
        1.0,
    )
    inside = np.ones((50, 75), dtype=bool)  # the sheet's own pixels, at another resolution
    inside[:, 50:] = False  # a torn-off right third: desk
    out = clear_outside(page, inside, SheetParams(edge_clear_ch=0.3))
    assert not out.mask[:, 200:].any() and not out.ink[:, 200:].any()
    band = int(round(0.3 * 20))
    assert not out.mask[:, 200 - band : 200].any()  # the outline's own band
    assert out.mask[band + 1 : -band - 1, band + 1 : 200 - band - 1].all()  # the sheet stays


def test_the_pipeline_reads_the_sheet_and_reports_its_corners_in_original_pixels() -> None:
    """A written page on the desk, decoded at half size: the result's sheet corners and
    character boxes are in the ORIGINAL picture's pixels."""
    from dataclasses import replace

    from ocr.io.imageio import PageImage
    from ocr.model.store import load_model
    from ocr.pipeline import transcribe_page
    from ocr.stages.sheet import homography
    from ocr.synth import SynthStyle, make_pages
    from ocr.textdist import cer

    style = replace(SynthStyle.clean(), lines=(3, 4), max_megapixels=0.5)
    page = make_pages(1, writers=[4], seed=3, style=style, source="builtin")[0]
    ph, pw = page.image.shape[:2]
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float64)
    back = np.linalg.inv(homography(src, CORNERS))
    coeffs = tuple(float(v) for v in (back / back[2, 2]).ravel()[:8])
    paper = Image.fromarray(page.image)
    warped = paper.transform((W, H), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR)
    cover = Image.new("L", (pw, ph), 255).transform(
        (W, H), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR
    )
    m = np.asarray(cover, np.float32)[..., None] / 255
    scene = (wood(W, H) * (1 - m) + np.asarray(warped, np.float32) * m).astype(np.uint8)
    rec = load_model()
    result = transcribe_page(PageImage("desk.jpg", 0, 1, scene, 0.5, (2 * W, 2 * H), "0" * 64), rec)
    flat = transcribe_page(PageImage("flat.jpg", 0, 1, page.image, 1.0, (pw, ph), "0" * 64), rec)
    assert result.sheet is not None
    assert np.abs(np.array(result.sheet) - 2 * CORNERS).max() < 0.02 * 2 * W
    assert result.warnings == []
    # The sheet fills a third of the picture, so its writing is smaller than on the flat page.
    assert cer(result.text, page.text) <= cer(flat.text, page.text) + 0.12
    inside = Image.new("L", (2 * W, 2 * H), 0)
    ImageDraw.Draw(inside).polygon([(float(x), float(y)) for x, y in 2 * CORNERS], fill=1)
    on_sheet = np.asarray(inside, dtype=bool)
    for ln in result.lines:
        for wd in ln.words:
            for c in wd.characters:
                x0, y0, x1, y1 = c.box
                assert on_sheet[(y0 + y1) // 2, (x0 + x1) // 2]


def ruled_page_half_under_a_blue_lamp() -> np.ndarray:
    """A ruled page filling the photo, its right 40 % lit by a blue lamp, the desk's edge
    in view along the top (so the search looks for a sheet at all)."""
    img = paper_with_writing(W, H)
    d = ImageDraw.Draw(img)
    for y in range(40, H, 36):
        d.line([(0, y), (W, y + 6)], fill=(150, 160, 190), width=2)
    a = np.asarray(img, np.float32)
    lit = np.clip((np.arange(W, dtype=np.float32) - 0.6 * W) / (0.1 * W), 0, 1)[None, :, None]
    a = a * (1 - lit) + a * np.array([0.55, 0.6, 1.0], np.float32) * lit
    a[: int(0.06 * H)] *= 0.35
    return np.asarray(
        Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.5))
    )


def test_a_page_half_under_a_coloured_lamp_is_not_cut_at_the_lamps_edge() -> None:
    """The lamp-lit part looks like grain only along its rules (their colour is off the
    paper's there): the basin stopped at the lamp's edge, and the page lost its right part."""
    search = find_sheet(ruled_page_half_under_a_blue_lamp())
    if search.sheet is not None:
        xs = search.sheet.corners[:, 0]
        assert xs.max() - xs.min() >= 0.95 * W, search.sheet.corners
