"""Robustness benchmark: the real photos as people also send them -- turned, halved, dimmed,
blurred, recompressed, flattened, tilted on an editor's white canvas, or in grey.

Run (one core):
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/robustness.py

Every sample photo (``pages/``) and development photo (``photos/``) is read as it is and as
each variant below; the report gives the CER (with spaces) of every photo under every
variant, and the error type where the page was refused. A sanity check of what the stages
assume about a picture (its brightness, resolution, orientation, surround), never a set to
tune constants on: the photos are too few, and each variant of one photo is the same writing.
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from ocr.datapath import data_root
from ocr.io.imageio import InputError, read_pages
from ocr.model.store import DEFAULT_MODEL_DIR, Recognizer, load_model
from ocr.pipeline import transcribe_page
from ocr.textdist import edit_distance

Variant = Callable[[Image.Image], Image.Image]


def _jpeg(im: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


VARIANTS: dict[str, Variant] = {
    "as-is": lambda im: im,
    "turned-90": lambda im: im.rotate(90, expand=True),
    "turned-180": lambda im: im.rotate(180, expand=True),
    "half-size": lambda im: im.resize((im.width // 2, im.height // 2), Image.Resampling.LANCZOS),
    "jpeg-q20": lambda im: _jpeg(im, 20),
    # A blur of 1.5 px on a 2000 px picture, scaled with the picture.
    "blurred": lambda im: im.filter(ImageFilter.GaussianBlur(1.5 * max(im.size) / 2000)),
    "dim-0.45": lambda im: ImageEnhance.Brightness(im).enhance(0.45),
    "contrast-0.4": lambda im: ImageEnhance.Contrast(im).enhance(0.4),
    "canvas-tilt-7": lambda im: im.rotate(7, expand=True, fillcolor=(255, 255, 255)),
    "grey": lambda im: im.convert("L"),
}
"""How a photo may reach us besides as taken (name -> transform of the RGB picture)."""


def read(path: Path, rec: Recognizer) -> str:
    """The text of the file's first page as the command line reads it, or the error type
    when the page is refused."""
    try:
        return transcribe_page(next(read_pages(path)), rec).text
    except InputError as e:
        return f"<{e.error_type}>"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated names")
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    rec = load_model(args.model)
    root = data_root()
    photos = sorted((root / "pages").glob("*.jpg")) + sorted(
        p for p in (root / "photos").glob("*") if p.suffix.lower() in (".jpg", ".jpeg")
    )
    if not photos:
        raise SystemExit(f"no photos under {root} (set SCANSCRIBE_DATA)")
    names = [v for v in args.variants.split(",") if v]
    report: dict[str, dict[str, object]] = {}
    for photo in photos:
        truth = "\n".join(
            ln.strip() for ln in photo.with_suffix(".txt").read_text().splitlines() if ln.strip()
        )
        original = Image.open(photo).convert("RGB")
        row: dict[str, object] = {}
        for name in names:
            if name == "as-is":
                text = read(photo, rec)  # the file itself, decoded as the CLI decodes it
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / f"{photo.stem}-{name}.png"  # lossless: only the variant
                    VARIANTS[name](original).save(path)
                    text = read(path, rec)
            if text.startswith("<"):
                row[name] = text.strip("<>")
            else:
                row[name] = round(100 * edit_distance(text, truth) / max(1, len(truth)), 1)
        report[photo.name] = row
        print(photo.name, " | ".join(f"{k} {v}" for k, v in row.items()), flush=True)
    cers = {name: [v for r in report.values() if isinstance(v := r[name], float)] for name in names}
    refused = {name: sum(isinstance(r[name], str) for r in report.values()) for name in names}
    summary = {
        name: {
            "mean_cer_percent": round(float(np.mean(cers[name])), 1) if cers[name] else None,
            "refused": refused[name],
        }
        for name in names
    }
    out = {"photos": report, "by_variant": summary}
    text = json.dumps(out, indent=2)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
