"""Worst-case page cost: 12 MP photos of a written sheet lying on textured desks.

Run (one core, as the README reports it):
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/worst_case.py

Each scene is a synthetic page (held-out writer) pasted on a 4000 x 3000 desk: wood grain
(thousands of short dark streaks of letter size), and scikit-image's grass and gravel
textures tiled. Scenes are written once to ``--cache``. Reported per scene: wall and CPU
seconds from file bytes to result, ms per stage, characters returned; and the peak RSS of
this process. What such pages *read* is the page-photo work's job; this measures
that no picture can stall a worker.
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ocr.io.imageio import InputError, read_pages
from ocr.model.store import load_model
from ocr.pipeline import transcribe_page
from ocr.synth import SynthStyle, make_pages, writer_split

SIZE = (4000, 3000)
"""Width, height of the scenes: a 12 MP phone photo."""


def wood(rng: np.random.Generator) -> np.ndarray:
    img = Image.new("RGB", SIZE, (140, 97, 56))
    draw = ImageDraw.Draw(img)
    for _ in range(9000):
        x, y = rng.uniform(0, SIZE[0]), rng.uniform(0, SIZE[1])
        length = rng.uniform(20, 300)
        c = int(rng.uniform(40, 110))
        end = (x + length, y + rng.normal(0, 0.05) * length)
        draw.line(
            [(x, y), end], fill=(c, int(c * 0.7), int(c * 0.45)), width=int(rng.uniform(2, 7))
        )
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float32)
    return arr + rng.normal(0, 6, (SIZE[1], SIZE[0], 1)).astype(np.float32)


def tiled(texture: np.ndarray) -> np.ndarray:
    t = texture.astype(np.float32)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    reps = (SIZE[1] // t.shape[0] + 1, SIZE[0] // t.shape[1] + 1)
    big = np.tile(t, reps)[: SIZE[1], : SIZE[0]]
    return np.stack([big * 200 + 30, big * 170 + 25, big * 140 + 20], axis=-1)


def scenes(cache: Path) -> list[Path]:
    from skimage import data

    cache.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(12)
    writer = writer_split()["test"][0]
    style = replace(SynthStyle(), max_megapixels=4.0, shadow_chance=0.0)
    sheet = make_pages(1, [writer], seed=4, style=style)[0].image
    out = []
    for name, make in (
        ("wood", lambda: wood(rng)),
        ("grass", lambda: tiled(data.grass())),
        ("gravel", lambda: tiled(data.gravel())),
    ):
        path = cache / f"desk-{name}.jpg"
        if not path.exists():
            desk = make()
            h, w = sheet.shape[:2]
            y0, x0 = (SIZE[1] - h) // 2, (SIZE[0] - w) // 2
            desk[y0 : y0 + h, x0 : x0 + w] = sheet
            Image.fromarray(np.clip(desk, 0, 255).astype(np.uint8)).save(path, quality=90)
        out.append(path)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", type=Path, default=Path("runs/bench/worst-case"))
    args = ap.parse_args()
    files = scenes(args.cache)
    rec = load_model()
    print(f"{'scene':<18}{'wall s':>8}{'cpu s':>7}{'chars':>7}  stages ms")
    for f in files:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            page = next(read_pages(f))
            result = transcribe_page(page, rec)
            chars = str(result.stats.characters)
            stages = {k: round(v) for k, v in result.timings_ms.items() if k != "total"}
        except InputError as e:
            chars, stages = e.error_type, {}
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{f.name:<18}{wall:>8.2f}{cpu:>7.2f}{chars:>7}  {stages}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
