"""Printed capitals and digits rendered from TrueType/OpenType fonts: ``fonts:DIR``.

Why: form labels and headings are printed, and a recognizer trained on handwriting alone
reads narrow or small print as strings of M's. Fonts are a training-time input only (Debian
``fonts-dejavu-core``, ``fonts-liberation``, installed by ``make fonts``); the runtime never
needs one. Every font file is one group, so the writer split keeps whole fonts out of
training and the test figures are on unseen fonts.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ocr.model.classes import CLASS_INDEX, CLASSES
from ocr.stages.normalize import normalize_batch
from ocr.training.datasets.base import Dataset, file_sha256

FONT_SUFFIXES = (".ttf", ".otf")

SKIP_NAME_PARTS = ("math", "symbol", "emoji", "dingbat")
"""Font files whose name says they are not for text."""

CAP_HEIGHTS_PX: tuple[int, ...] = (11, 15, 20, 28, 40)
"""Cap heights rendered, px: from labels smaller than the page's handwriting after
resampling (a third of the 32 px working character height) to headings."""

COPIES: int = 2
"""Renderings per font, character and size, each with its own blur, weight and noise."""

BLUR_SIGMA: tuple[float, float] = (0.0, 1.0)
"""Gaussian blur, fraction of the stroke (scan and photo softness)."""

NOISE_SIGMA: float = 0.06
"""Largest grey noise, fraction of the ink contrast."""

EMBOLDEN_SHARE: float = 0.3
"""Share of renderings thickened by a one-pixel outline (toner spread, heavy print)."""

SEED: int = 4051
"""Rendering randomness is seeded: the same fonts always give the same dataset."""


def font_files(root: Path) -> list[Path]:
    """Text fonts under ``root`` (a folder, walked recursively, or one font file), sorted."""
    root = Path(root)
    if root.is_file():
        return [root]
    return sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in FONT_SUFFIXES
        and not any(s in p.name.lower() for s in SKIP_NAME_PARTS)
    )


def render_char(
    font: ImageFont.FreeTypeFont, char: str, rng: np.random.Generator, bold: bool = False
) -> NDArray[np.float32]:
    """One character as ink = 1 on 0, a little blurred and noisy like a scanned label."""
    left, top, right, bottom = font.getbbox(char)
    pad = 4
    size = (int(right - left) + 2 * pad, int(bottom - top) + 2 * pad)
    img = Image.new("L", size, 0)
    ImageDraw.Draw(img).text(
        (pad - left, pad - top),
        char,
        fill=255,
        font=font,
        stroke_width=1 if bold else 0,
        stroke_fill=255,
    )
    sigma = float(rng.uniform(*BLUR_SIGMA)) * max(1.0, font.size / 12)
    if sigma > 0.1:
        img = img.filter(ImageFilter.GaussianBlur(sigma))
    ink = np.asarray(img, dtype=np.float32) / 255.0
    ink = ink + rng.standard_normal(ink.shape).astype(np.float32) * float(
        rng.uniform(0, NOISE_SIGMA)
    )
    return np.clip(ink, 0.0, 1.0)


def cap_font(path: Path | None, cap_height: int) -> ImageFont.FreeTypeFont:
    """The font at the point size whose capital H is ``cap_height`` px tall; ``path`` None is
    Pillow's own built-in sans font (needs no font files)."""

    def at(size: int) -> ImageFont.FreeTypeFont:
        if path is None:
            font = ImageFont.load_default(size)
            if not isinstance(font, ImageFont.FreeTypeFont):
                raise ValueError("Pillow was built without FreeType: no built-in font")
            return font
        return ImageFont.truetype(str(path), size)

    _, top, _, bottom = at(100).getbbox("H")
    return at(max(4, int(round(100 * cap_height / max(1, bottom - top)))))


def load_fonts(path: Path) -> Dataset:
    """Every class in every text font under ``path`` at every size of CAP_HEIGHTS_PX."""
    files = font_files(path)
    if not files:
        raise ValueError(
            f"{path}: no .ttf/.otf fonts found (install fonts-dejavu-core and "
            "fonts-liberation, e.g. `make fonts`)"
        )
    crops: list[NDArray[np.float32]] = []
    labels: list[int] = []
    groups: list[int] = []
    sha: dict[str, str] = {}
    for g, f in enumerate(files):
        rng = np.random.default_rng(
            [SEED, int(hashlib.sha256(f.name.encode()).hexdigest()[:8], 16)]
        )
        try:
            fonts = [cap_font(f, h) for h in CAP_HEIGHTS_PX]
        except OSError as e:
            raise ValueError(f"{f}: not a readable font ({e})") from e
        sha[str(f.relative_to(path)) if f != path else f.name] = file_sha256(f)
        for font in fonts:
            for char in CLASSES:
                for _ in range(COPIES):
                    crops.append(render_char(font, char, rng, bool(rng.random() < EMBOLDEN_SHARE)))
                    labels.append(CLASS_INDEX[char])
                    groups.append(g)
    return Dataset(
        name=f"fonts:{path.name}",
        images=normalize_batch(crops),
        labels=np.array(labels, dtype=np.int64),
        groups=np.array(groups, dtype=np.int64),
        sha256=sha,
    )
