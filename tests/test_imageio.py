"""Reading inputs: formats, reduced decoding, orientation, and every refusal."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from badfiles import forged_png, two_page_pdf
from PIL import Image, ImageDraw, JpegImagePlugin

from ocr.io.imageio import (
    DEFAULT_MAX_SIDE,
    MAX_PIXELS,
    InputError,
    PageImage,
    read_pages,
    read_pages_from_bytes,
)


def page_image(width: int = 300, height: int = 200) -> Image.Image:
    """White paper with a black block in the top-left quarter (to check orientation)."""
    img = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(img).rectangle([0, 0, width // 2 - 1, height // 2 - 1], fill="black")
    return img


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def only_page(path: Path, max_side: int = DEFAULT_MAX_SIDE) -> PageImage:
    pages = list(read_pages(path, max_side))
    assert len(pages) == 1
    return pages[0]


def refusal(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        list(read_pages(path))
    err = info.value
    assert str(path) in err.message, "the message must name the file"
    return err


# --- formats ------------------------------------------------------------------------------


def test_png(tmp_path: Path) -> None:
    data = encode(page_image(), "PNG")
    page = only_page(write(tmp_path, "page.png", data))
    assert page.pixels.shape == (200, 300, 3) and page.pixels.dtype == np.uint8
    assert page.scale == 1.0 and page.original_size == (300, 200)
    assert (page.page_index, page.page_count) == (0, 1)
    assert page.sha256 == hashlib.sha256(data).hexdigest()
    assert page.pixels[10, 10].tolist() == [0, 0, 0] and page.pixels[150, 250].tolist() == [255] * 3


def test_jpeg(tmp_path: Path) -> None:
    page = only_page(write(tmp_path, "page.jpg", encode(page_image(), "JPEG", quality=90)))
    assert page.pixels.shape == (200, 300, 3) and page.scale == 1.0
    assert page.pixels[10, 10].max() < 40 and page.pixels[150, 250].min() > 215


@pytest.mark.parametrize("fmt, ext", [("WEBP", "webp"), ("BMP", "bmp")])
def test_other_formats(tmp_path: Path, fmt: str, ext: str) -> None:
    page = only_page(write(tmp_path, f"page.{ext}", encode(page_image(), fmt)))
    assert page.pixels.shape == (200, 300, 3)


def test_read_pages_from_bytes_names_the_source() -> None:
    pages = list(read_pages_from_bytes(encode(page_image(), "PNG"), "s3://bucket/a.png"))
    assert pages[0].source == "s3://bucket/a.png"
    with pytest.raises(InputError, match="s3://bucket/empty.png"):
        list(read_pages_from_bytes(b"", "s3://bucket/empty.png"))


def test_three_page_tiff(tmp_path: Path) -> None:
    frames = [page_image(300 + 10 * k, 200) for k in range(3)]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    pages = list(read_pages(write(tmp_path, "doc.tif", data)))
    assert [p.page_index for p in pages] == [0, 1, 2]
    assert all(p.page_count == 3 for p in pages)
    assert [p.original_size for p in pages] == [(300, 200), (310, 200), (320, 200)]


def test_tiff_with_a_damaged_last_page_yields_the_earlier_pages(tmp_path: Path) -> None:
    frames = [page_image(), page_image(), page_image(400, 400)]
    data = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    last = Image.open(io.BytesIO(data))
    last.seek(2)
    strip_start = last.tile[0][2]  # file offset of page 3's pixel data
    path = write(tmp_path, "cut.tif", data[: strip_start + 1000] + data[strip_start + 400_000 :])
    read: list[int] = []
    with pytest.raises(InputError) as info:
        for page in read_pages(path):
            read.append(page.page_index)
    assert read == [0, 1]
    assert info.value.page_index == 2 and "page 3 of 3" in info.value.message


def test_two_page_pdf(tmp_path: Path) -> None:
    pages = list(read_pages(write(tmp_path, "doc.pdf", two_page_pdf()), max_side=400))
    assert [(p.page_index, p.page_count) for p in pages] == [(0, 2), (1, 2)]
    for page in pages:
        assert page.pixels.shape == (200, 400, 3)
        # 200 x 100 pt at the 300 dpi reference = 833 x 417 original pixels
        assert page.original_size == (833, 417)
        assert page.scale == pytest.approx(400 / 833)
        assert page.pixels[190, 10].max() < 40, "the block is drawn at the bottom-left"
        assert page.pixels[10, 390].min() > 215


# --- reduced decoding and orientation -----------------------------------------------------


def test_big_jpeg_is_decoded_reduced(tmp_path: Path) -> None:
    path = write(tmp_path, "big.jpg", encode(page_image(4000, 3000), "JPEG", quality=80))
    page = only_page(path)
    height, width = page.pixels.shape[:2]
    assert max(height, width) <= DEFAULT_MAX_SIDE
    assert max(height, width) >= 0.95 * DEFAULT_MAX_SIDE
    assert page.original_size == (4000, 3000)
    assert page.scale == pytest.approx(width / 4000) and page.scale < 1


def test_big_jpeg_uses_the_dct_draft(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    drafts: list[object] = []
    real_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self: JpegImagePlugin.JpegImageFile, mode: str | None, size: object) -> object:
        result = real_draft(self, mode, size)  # type: ignore[arg-type]
        drafts.append(result)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    path = write(tmp_path, "big.jpg", encode(page_image(4000, 3000), "JPEG", quality=80))
    page = only_page(path, max_side=1000)
    assert drafts and drafts[0] is not None, "the JPEG decoder was not asked to reduce"
    assert page.pixels.shape[:2] == (750, 1000) and page.scale == 0.25


def test_big_png_is_downscaled(tmp_path: Path) -> None:
    page = only_page(write(tmp_path, "big.png", encode(page_image(1200, 600), "PNG")), 500)
    assert page.pixels.shape[:2] == (250, 500)
    assert page.scale == pytest.approx(500 / 1200)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways; display rotated 90 degrees clockwise
    data = encode(page_image(300, 200), "JPEG", quality=90, exif=exif)
    page = only_page(write(tmp_path, "phone.jpg", data))
    assert page.pixels.shape[:2] == (300, 200)
    assert page.original_size == (200, 300)
    # The stored top-left block ends up at the top-right after a clockwise quarter turn.
    assert page.pixels[10, 190].max() < 40 and page.pixels[10, 10].min() > 215


@pytest.mark.parametrize(
    "make, expected_ndim",
    [
        (lambda: page_image().convert("P"), 3),
        (lambda: page_image().convert("L"), 2),
        (lambda: page_image().convert("1"), 2),
        (lambda: page_image().convert("LA"), 2),
        (lambda: page_image().convert("RGBA"), 3),
    ],
    ids=["P", "L", "1", "LA", "RGBA"],
)
def test_modes_become_rgb_or_grey(tmp_path: Path, make: object, expected_ndim: int) -> None:
    img = make()  # type: ignore[operator]
    page = only_page(write(tmp_path, "m.png", encode(img, "PNG")))
    assert page.pixels.dtype == np.uint8 and page.pixels.ndim == expected_ndim
    assert page.pixels[10, 10].max() < 40 and page.pixels[150, 250].min() > 215


def test_sixteen_bit_grey_keeps_its_range(tmp_path: Path) -> None:
    ramp = np.linspace(0, 65535, 256, dtype=np.uint16)[None, :].repeat(4, axis=0)
    page = only_page(write(tmp_path, "ramp.png", encode(Image.fromarray(ramp), "PNG")))
    assert page.pixels.ndim == 2
    assert page.pixels[0, 0] == 0 and page.pixels[0, -1] == 255


def test_transparent_background_becomes_white_paper(tmp_path: Path) -> None:
    img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    ImageDraw.Draw(img).rectangle([0, 0, 9, 9], fill=(0, 0, 0, 255))
    page = only_page(write(tmp_path, "alpha.png", encode(img, "PNG")))
    assert page.pixels[5, 5].tolist() == [0, 0, 0]
    assert page.pixels[40, 40].tolist() == [255, 255, 255]


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    page = only_page(write(tmp_path, "cmyk.jpg", encode(page_image().convert("CMYK"), "JPEG")))
    assert page.pixels.shape == (200, 300, 3)
    assert page.pixels[10, 10].max() < 60 and page.pixels[150, 250].min() > 200


# --- refusals -----------------------------------------------------------------------------


def test_zero_bytes(tmp_path: Path) -> None:
    assert refusal(write(tmp_path, "empty.jpg", b"")).error_type == "empty-file"


def test_text_file_named_jpg(tmp_path: Path) -> None:
    err = refusal(write(tmp_path, "notes.jpg", b"shopping list: eggs, milk\n"))
    assert err.error_type == "not-an-image"


def test_unsupported_format_is_not_opened(tmp_path: Path) -> None:
    err = refusal(write(tmp_path, "anim.gif", encode(page_image(), "GIF")))
    assert err.error_type == "not-an-image"


def test_truncated_jpeg(tmp_path: Path) -> None:
    data = encode(page_image(), "JPEG", quality=90)
    err = refusal(write(tmp_path, "half.jpg", data[: len(data) // 2]))
    assert err.error_type == "truncated-image"


def test_truncated_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 256, (200, 300, 3), dtype=np.uint8))
    data = encode(noisy, "PNG")
    err = refusal(write(tmp_path, "half.png", data[: len(data) // 2]))
    assert err.error_type == "truncated-image"


@pytest.mark.parametrize(
    "width, height",
    [
        (100_000, 100_000),  # past Pillow's own decompression-bomb error
        (12_000, 12_000),  # past MAX_PIXELS but below Pillow's error threshold
    ],
)
def test_forged_huge_png_is_refused_before_decoding(
    tmp_path: Path, width: int, height: int
) -> None:
    assert width * height > MAX_PIXELS
    path = write(tmp_path, "bomb.png", forged_png(width, height))
    start = time.perf_counter()
    err = refusal(path)
    assert time.perf_counter() - start < 0.5
    assert err.error_type == "too-large"


def test_pdf_with_no_pages(tmp_path: Path) -> None:
    buf = io.BytesIO()
    pdfium.PdfDocument.new().save(buf)
    assert refusal(write(tmp_path, "none.pdf", buf.getvalue())).error_type == "no-pages"


def test_corrupt_pdf(tmp_path: Path) -> None:
    data = two_page_pdf()
    err = refusal(write(tmp_path, "bad.pdf", data[:40] + b"\x00garbage" * 10))
    assert err.error_type == "truncated-image"


def test_missing_file(tmp_path: Path) -> None:
    assert refusal(tmp_path / "nope.png").error_type == "unreadable-file"


def half_transparent_page(width: int, height: int) -> Image.Image:
    """page_image in RGBA with its right half transparent (becomes white paper)."""
    img = page_image(width, height).convert("RGBA")
    alpha = np.full((height, width), 255, np.uint8)
    alpha[:, width * 3 // 4 :] = 0
    img.putalpha(Image.fromarray(alpha))
    return img


@pytest.mark.parametrize("mode", ["RGBA", "LA", "I;16"])
def test_big_pages_are_reduced_before_mode_conversion_and_read_the_same(
    tmp_path: Path, mode: str
) -> None:
    """A page over twice max_side takes the strip-wise reduction; it must give what
    converting first and then resizing gives (to within rounding)."""
    big = half_transparent_page(1800, 1200)
    if mode == "I;16":
        grey = np.asarray(big.convert("L"), dtype=np.uint16) * 257
        big = Image.fromarray(grey)
    elif mode == "LA":
        big = big.convert("LA")
    page = only_page(write(tmp_path, "big.png", encode(big, "PNG")), max_side=400)
    small = only_page(write(tmp_path, "conv.png", encode(big.convert("RGBA"), "PNG")), 10_000)
    expected = np.asarray(
        Image.fromarray(small.pixels).resize(page.pixels.shape[1::-1], Image.Resampling.BOX)
    )
    if expected.ndim == 3 and page.pixels.ndim == 2:
        expected = np.asarray(Image.fromarray(expected).convert("L"))
    assert max(page.pixels.shape[:2]) == 400
    assert abs(page.pixels.astype(int) - expected.astype(int)).mean() < 2.0
    assert page.pixels[:, -10:].min() > 250  # the transparent strip is white paper
    assert page.scale == pytest.approx(400 / 1800, rel=0.01)


def test_full_resolution_decodes_are_capped_by_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ocr.io.imageio

    monkeypatch.setattr(ocr.io.imageio, "MAX_FULL_DECODE_BYTES", 300 * 200 * 4 - 1)
    with pytest.raises(InputError) as info:
        only_page(write(tmp_path, "rgb.png", encode(page_image(), "PNG")))
    assert info.value.error_type == "too-large" and "MiB" in info.value.message
    # JPEG is decoded reduced, so the byte cap does not apply to it.
    only_page(write(tmp_path, "rgb.jpg", encode(page_image(), "JPEG")))


PEAK_RSS_SCRIPT = """
import sys
from pathlib import Path
from ocr.io.imageio import read_pages

def peak_kb():  # VmHWM, not ru_maxrss: that one keeps the forking parent's peak across exec
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if "VmHWM" in x)
    return int(line.split()[1])

before = peak_kb()
page = next(read_pages(sys.argv[1]))
print((peak_kb() - before) // 1024)
"""


@pytest.mark.slow
def test_a_12_megapixel_rgba_png_decodes_in_little_more_than_its_pixels(tmp_path: Path) -> None:
    """Peak memory of decoding, measured in a fresh process: about twice the loaded RGBA
    image (46 MB; measured 96 MB), where converting at full size first took five times it
    (234 MB)."""
    import subprocess
    import sys

    width, height = 4200, 2900
    path = write(tmp_path, "big.png", encode(half_transparent_page(width, height), "PNG"))
    run = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    grown_mb = int(run.stdout.strip())
    loaded_mb = width * height * 4 / 2**20
    print(f"\n12 MP RGBA PNG: peak RSS grew {grown_mb} MB (loaded image {loaded_mb:.0f} MB)")
    assert grown_mb < 2.5 * loaded_mb
