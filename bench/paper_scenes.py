"""Paper scene benchmark: CER with spaces and ms/page on lined paper, grid paper and pages
with marker shapes beside the writing (``ocr.synth.paper``), next to the same pages without
them, in held-out writers' hands.

Run (one core, as the README reports it):
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/paper_scenes.py --pages 20

Tune on ``--writers valid``; report ``--writers test``. The scenes are composed onto the
pages of ``ocr.synth.make_pages`` (seed ``--seed``) and written once to ``--cache``, so their
generation is not timed. (When the scenes benchmark of issue 10, ``bench/scenes.py``, is on
the branch, these kinds belong in its table: ``ocr.synth.paper.PAPER_SCENES`` is the hook.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from ocr.io.imageio import InputError, read_pages
from ocr.model.store import DEFAULT_MODEL_DIR, load_model
from ocr.pipeline import transcribe_page
from ocr.synth import make_pages, save_page, writer_split
from ocr.synth.paper import PAPER_SCENES
from ocr.textdist import edit_distance

KINDS = ("plain", *PAPER_SCENES)
"""``plain``: the pages as ``ocr.synth`` draws them, the baseline of every other kind."""


def scene_dir(cache: Path, kind: str, pages: int, seed: int, writers: str) -> Path:
    out = cache / f"{kind}-{writers}-writers-seed{seed}-n{pages}"
    if len(list(out.glob("*.jpg"))) < pages:
        for i, page in enumerate(make_pages(pages, writer_split()[writers], seed)):
            if kind != "plain":
                page = PAPER_SCENES[kind](page, np.random.default_rng([seed, i, len(kind)]))
            save_page(page, out, f"{kind}_{seed}_{i:04d}")
    return out


def measure(files: list[Path], model_dir: Path) -> dict[str, object]:
    rec = load_model(model_dir)
    transcribe_page(next(read_pages(files[0])), rec)  # warm-up
    edits = chars = warned = 0
    times: list[float] = []
    for f in files:
        truth = f.with_suffix(".txt").read_text().strip()
        start = time.perf_counter()
        try:
            result = transcribe_page(next(read_pages(f)), rec)
            text, warned = result.text, warned + bool(result.warnings)
        except InputError:
            text = ""
        times.append((time.perf_counter() - start) * 1000)
        edits += edit_distance(text, truth)
        chars += len(truth)
    return {
        "pages": len(files),
        "cer_percent": round(100 * edits / chars, 2),
        "median_ms": round(statistics.median(times)),
        "max_ms": round(max(times)),
        "pages_warned": warned,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--writers", choices=("test", "valid"), default="test")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--cache", type=Path, default=Path("out/bench-paper"))
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    args = parser.parse_args()
    report = {}
    for kind in args.kinds.split(","):
        d = scene_dir(args.cache, kind, args.pages, args.seed, args.writers)
        report[kind] = measure(sorted(d.glob("*.jpg"))[: args.pages], args.model)
        print(kind, json.dumps(report[kind]), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
