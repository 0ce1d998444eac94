"""Characters per second of a model's batched float32 forward pass.

Run on one core (the figure the README reports):
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/recognizer_speed.py
Measures normalized crops -> probabilities (what a page's recognize stage does), and
separately the normalization of raw crops, best of REPEATS.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ocr.model.store import DEFAULT_MODEL_DIR, load_model
from ocr.stages.normalize import normalize_batch

REPEATS = 5


def best_seconds(fn: object, repeats: int = REPEATS) -> float:
    assert callable(fn)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--batch", type=int, default=4096, help="crops per forward pass")
    args = ap.parse_args()
    rec = load_model(args.model)
    rng = np.random.default_rng(0)
    glyphs = (rng.random((args.batch, 32, 32)) < 0.2).astype(np.float32)
    rec.predict_proba(glyphs[:64])  # warm-up
    forward = best_seconds(lambda: rec.predict_proba(glyphs))
    page = glyphs[:120]
    page_forward = best_seconds(lambda: rec.predict_proba(page))
    raw = [
        (rng.random((int(h), int(w))) < 0.3).astype(np.float32)
        for h, w in rng.integers(20, 60, size=(1000, 2))
    ]
    norm = best_seconds(lambda: normalize_batch(raw), repeats=3)
    out = {
        "model": f"{rec.manifest.name} {rec.version}",
        "architecture": rec.manifest.architecture.model_dump(),
        "batch": args.batch,
        "chars_per_second": round(args.batch / forward),
        "page_of_120_chars_ms": round(page_forward * 1000, 2),
        "normalize_per_char_us": round(norm / len(raw) * 1e6, 1),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
