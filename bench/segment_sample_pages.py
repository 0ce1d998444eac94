"""Segment the sample photos and compare line / word / char counts with the truth text.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/segment_sample_pages.py [--save DIR]
Prints per-stage milliseconds (best of REPEATS) and found vs. truth counts per page; with
--save it writes an overlay PNG per page (lines in colour, marks in red) for inspection.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image, ImageDraw

from ocr.stages import binarize as bz
from ocr.stages import segment as sg

T = TypeVar("T")
REPEATS = 3


def timed(fn: Callable[..., T], *args: object) -> tuple[T, float]:
    """Result of ``fn(*args)`` and its best-of-REPEATS wall time in ms."""
    best = np.inf
    result: T | None = None
    for _ in range(REPEATS):
        t = time.perf_counter()
        result = fn(*args)
        best = min(best, (time.perf_counter() - t) * 1000)
    assert result is not None
    return result, best


def truth_counts(text: str) -> tuple[int, list[int], int]:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    words = [len(ln.split()) for ln in lines]
    chars = sum(ch.isalnum() for ln in lines for ch in ln)
    return len(lines), words, chars


def overlay(page: bz.PreparedPage, layout: sg.Layout, path: Path) -> None:
    img = Image.fromarray((page.grey * 255).astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(img)
    colours = [(0, 120, 255), (0, 170, 0), (200, 120, 0), (160, 0, 200)]
    for i, line in enumerate(layout.lines):
        for word in line.words:
            xs0 = min(c.x0 for c in word.chars)
            xs1 = max(c.x1 for c in word.chars)
            ys0 = min(c.y0 for c in word.chars)
            ys1 = max(c.y1 for c in word.chars)
            draw.rectangle((xs0 - 3, ys0 - 3, xs1 + 2, ys1 + 2), outline=(180, 180, 180))
            for c in word.chars:
                col = (255, 0, 0) if c.kind == "mark" else colours[i % len(colours)]
                draw.rectangle((c.x0, c.y0, c.x1 - 1, c.y1 - 1), outline=col)
    img.save(path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--save", type=Path, default=None)
    args = ap.parse_args()
    root = Path(os.environ.get("SCANSCRIBE_DATA", "../shared/data")) / "pages"
    if not root.exists():
        root = Path("/work/shared/data/pages")
    if not root.exists():
        print(f"no sample pages at {root}; set SCANSCRIBE_DATA")
        return
    for jpg in sorted(root.glob("*.jpg")):
        rgb = np.asarray(Image.open(jpg).convert("RGB"))
        page, t_total = timed(bz.prepare_page, rgb)
        f0 = bz.working_resolution(rgb.shape)
        _, t_grey = timed(bz.grey_at, rgb, f0)
        _, t_bin = timed(bz.binarize, page.grey, page.scale)
        _, t_scale = timed(bz.estimate_scale, page.mask)
        layout, t_seg = timed(sg.segment, page.mask, page.ink, page.scale)
        _, t_crop = timed(sg.crop_chars, page.ink, layout)
        n_lines, n_words, n_chars = truth_counts(jpg.with_suffix(".txt").read_text())
        found_words = [len(line.words) for line in layout.lines]
        boxes = sg.chars_in_order(layout)
        found_chars = sum(c.kind == "char" for c in boxes)
        found_marks = sum(c.kind == "mark" for c in boxes)
        mp = rgb.shape[0] * rgb.shape[1] / 1e6
        print(
            f"{jpg.name}: {rgb.shape[1]}x{rgb.shape[0]} ({mp:.1f} MP) -> working "
            f"{page.grey.shape[1]}x{page.grey.shape[0]}, factor {page.factor:.3f}, "
            f"char height {page.scale.char_height:.1f} px, stroke {page.scale.stroke_width:.2f} px"
        )
        print(
            f"  ms: prepare_page {t_total:.0f} (grey+resample {t_grey:.0f}, one binarize "
            f"{t_bin:.0f}, one estimate_scale {t_scale:.0f}); segment {t_seg:.0f}; "
            f"crop_chars {t_crop:.0f}; total {t_total + t_seg + t_crop:.0f}"
        )
        print(f"  lines {len(layout.lines)} / truth {n_lines}")
        print(f"  words per line {found_words} / truth {n_words}")
        print(f"  chars {found_chars} / truth {n_chars} (+ {found_marks} marks)")
        if args.save:
            args.save.mkdir(parents=True, exist_ok=True)
            overlay(page, layout, args.save / f"{jpg.stem}_layout.png")


if __name__ == "__main__":
    main()
