"""Scene benchmark: CER and speed on photographed scenes (sheet on a desk, hard shadow,
coloured light, quarter turns, ...), per scene kind, in held-out writers' hands; the real
development photos one by one; and the worst case, a 12 MP photo of nothing but a desk.

Run (one core, as the README reports it):
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/scenes.py --pages 20

Scenes are written once per kind and seed to ``--cache`` by ``python -m ocr.synth.scenes`` in
a child process, so their generation counts in neither the timings nor the memory. Tune on
``--writers valid``; the figures to report are ``--writers test``. The development photos are
a sanity check, never a tuning set.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# bench/ is the script's folder, so its sibling module imports directly.
from pages import measure, write_report
from PIL import Image

from ocr.datapath import data_root
from ocr.io.imageio import InputError, read_pages
from ocr.model.store import DEFAULT_MODEL_DIR, load_model
from ocr.pipeline import transcribe_page
from ocr.synth.scenes import SCENE_KINDS, texture_photo
from ocr.textdist import edit_distance

TEXTURE_SIZE = (4000, 3000)
"""The worst case's picture: a 12 MP phone photo."""

TEXTURE_DESKS = ("wood", "fabric", "light")
"""Desk tops photographed with nothing on them."""


def scene_dir(cache: Path, kind: str, pages: int, seed: int, writers: str) -> Path:
    out = cache / f"{kind}-{writers}-writers-seed{seed}-n{pages}"
    if len(list(out.glob("*.jpg"))) < pages:
        cmd = [sys.executable, "-m", "ocr.synth.scenes", "--out", str(out), "--kind", kind]
        cmd += ["--pages", str(pages), "--writers", writers, "--seed", str(seed)]
        subprocess.run(cmd, check=True)
    return out


def photos_one_by_one(model_dir: Path) -> dict[str, object]:
    """Each development photo: CER with spaces, time, and what the page stages decided."""
    files = sorted(p for p in (data_root() / "photos").glob("*") if p.suffix in (".jpg", ".jpeg"))
    if not files:
        return {"skipped": f"no photos under {data_root() / 'photos'}"}
    rec = load_model(model_dir)
    transcribe_page(next(read_pages(files[0])), rec)  # warm-up
    out: dict[str, object] = {}
    for f in files:
        truth = "\n".join(
            ln.strip() for ln in f.with_suffix(".txt").read_text().splitlines() if ln.strip()
        )
        start, cpu = time.perf_counter(), time.process_time()
        result = transcribe_page(next(read_pages(f)), rec)
        ms = (time.perf_counter() - start) * 1000
        out[f.name] = {
            "cer_percent": round(100 * edit_distance(result.text, truth) / len(truth), 1),
            "ms": round(ms),
            "cpu_ms": round((time.process_time() - cpu) * 1000),
            "sheet": result.sheet is not None,
            "rotation": result.rotation,
            "warnings": [w.code for w in result.warnings],
        }
    return out


def worst_case(cache: Path, model_dir: Path) -> dict[str, object]:
    """12 MP photos of bare desk tops: time from file bytes to result, and what was read."""
    rec = load_model(model_dir)
    out: dict[str, object] = {}
    for i, desk in enumerate(TEXTURE_DESKS):
        path = cache / f"texture-{desk}-{TEXTURE_SIZE[0]}x{TEXTURE_SIZE[1]}.jpg"
        if not path.is_file():
            cache.mkdir(parents=True, exist_ok=True)
            pixels = texture_photo(np.random.default_rng(i), TEXTURE_SIZE, desk)
            Image.fromarray(pixels).save(path, quality=90)
        start, cpu = time.perf_counter(), time.process_time()
        try:
            result = transcribe_page(next(read_pages(path)), rec)
            read = f"{result.stats.characters} characters"
            stages = result.timings_ms
        except InputError as e:
            read, stages = e.error_type, {}
        out[desk] = {
            "ms": round((time.perf_counter() - start) * 1000),
            "cpu_ms": round((time.process_time() - cpu) * 1000),
            "read": read,
            "slowest_stages_ms": dict(sorted(stages.items(), key=lambda kv: -kv[1])[1:4]),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pages", type=int, default=20, help="scenes per kind")
    ap.add_argument("--kinds", default=",".join(SCENE_KINDS), help="comma-separated kinds")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--writers", choices=("test", "valid"), default="test")
    ap.add_argument("--cache", type=Path, default=Path("runs/bench-scenes"))
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--no-photos", action="store_true", help="skip the development photos")
    ap.add_argument("--no-worst", action="store_true", help="skip the 12 MP desk photos")
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    report: dict[str, object] = {"model": str(args.model), "writers": args.writers}
    kinds: dict[str, object] = {}
    for kind in args.kinds.split(",") if args.pages > 0 else []:
        folder = scene_dir(args.cache, kind, args.pages, args.seed, args.writers)
        kinds[kind] = measure(sorted(folder.glob("*.jpg"))[: args.pages], args.model)
    report["scenes"] = kinds
    if not args.no_photos:
        report["development_photos"] = photos_one_by_one(args.model)
    if not args.no_worst:
        report["worst_case_12mp_desk"] = worst_case(args.cache, args.model)
    write_report(report, args.json)


if __name__ == "__main__":
    main()
