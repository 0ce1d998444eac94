"""Page benchmark: CER and speed on the sample photos and on synthetic pages of held-out
writers (Chars74K writers of the test split, never seen in training).

Run (one core, as the README reports it):
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/pages.py --pages 60

Synthetic pages are written once per seed to ``--cache`` by ``python -m ocr.synth`` in a
child process, so their generation counts neither in the timings nor in the peak memory.
Times are wall-clock per page from file bytes to PageResult (decode included, Python and
model start-up excluded); CER sums edits over all pages and divides by all truth characters.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ocr.datapath import data_root
from ocr.io.imageio import InputError, read_pages
from ocr.model.store import DEFAULT_MODEL_DIR, load_model
from ocr.pipeline import transcribe_page
from ocr.textdist import edit_distance, strip_spaces
from schemas.page import PageResult


def synthetic_dir(cache: Path, pages: int, seed: int, writers: str) -> Path:
    out = cache / f"{writers}-writers-seed{seed}-n{pages}"
    if len(list(out.glob("*.jpg"))) < pages:
        cmd = [
            sys.executable,
            "-m",
            "ocr.synth",
            "--out",
            str(out),
            "--pages",
            str(pages),
            "--writers",
            writers,
            "--seed",
            str(seed),
        ]
        subprocess.run(cmd, check=True)
    return out


def measure(files: list[Path], model_dir: Path) -> dict[str, object]:
    rec = load_model(model_dir)
    # Warm-up on the first page: imports, BLAS initialization, page-independent caches.
    transcribe_page(next(read_pages(files[0])), rec)
    edits = edits_ns = chars = chars_ns = 0
    per_page_ms: list[float] = []
    cpu_ms: list[float] = []
    megapixels: list[float] = []
    stages: dict[str, list[float]] = {}
    worst: list[tuple[float, str]] = []
    blank_pages = 0
    for f in files:
        truth = "\n".join(
            ln.strip() for ln in f.with_suffix(".txt").read_text().splitlines() if ln.strip()
        )
        start, cpu = time.perf_counter(), time.process_time()
        page = next(read_pages(f))
        decode_ms = (time.perf_counter() - start) * 1000
        try:
            result: PageResult | None = transcribe_page(page, rec)
        except InputError:  # "no handwriting": the page reads as empty text
            result = None
        per_page_ms.append((time.perf_counter() - start) * 1000)
        cpu_ms.append((time.process_time() - cpu) * 1000)
        megapixels.append(page.original_size[0] * page.original_size[1] / 1e6)
        stages.setdefault("decode", []).append(decode_ms)
        text = ""
        if result is not None:
            text = result.text
            for k, v in result.timings_ms.items():
                stages.setdefault(k, []).append(v)
        else:
            blank_pages += 1
        e = edit_distance(text, truth)
        edits += e
        chars += len(truth)
        edits_ns += edit_distance(strip_spaces(text), strip_spaces(truth))
        chars_ns += len(strip_spaces(truth))
        worst.append((e / max(1, len(truth)), f.name))
    return {
        "pages": len(files),
        "cer_percent": round(100 * edits / max(1, chars), 2),
        "cer_no_spaces_percent": round(100 * edits_ns / max(1, chars_ns), 2),
        "truth_characters": chars,
        "pages_read_as_blank": blank_pages,
        "median_ms_per_page": round(statistics.median(per_page_ms), 1),
        "p90_ms_per_page": round(sorted(per_page_ms)[int(0.9 * (len(per_page_ms) - 1))], 1),
        # CPU time of this process: what a page costs when other work shares the machine.
        "median_cpu_ms_per_page": round(statistics.median(cpu_ms), 1),
        "max_cpu_ms_per_page": round(max(cpu_ms), 1),
        "pages_per_second": round(len(files) / (sum(per_page_ms) / 1000), 2),
        "median_megapixels": round(statistics.median(megapixels), 2),
        "median_stage_ms": {k: round(statistics.median(v), 1) for k, v in stages.items()},
        "worst_pages": [f"{n} {100 * c:.1f}%" for c, n in sorted(worst, reverse=True)[:5]],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pages", type=int, default=60, help="synthetic held-out pages")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument(
        "--writers",
        choices=("test", "valid"),
        default="test",
        help="test: the figures we report; valid: for tuning constants without touching them",
    )
    ap.add_argument("--cache", type=Path, default=Path("runs/bench-pages"))
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    report: dict[str, object] = {"model": str(args.model), "writers": args.writers}
    samples = sorted((data_root() / "pages").glob("*.jpg"))
    if samples:
        report["sample_photos"] = measure(samples, args.model)
    else:
        report["sample_photos"] = f"skipped: no sample photos under {data_root()}"
    if args.pages > 0:
        folder = synthetic_dir(args.cache, args.pages, args.seed, args.writers)
        pages = sorted(folder.glob("*.jpg"))
        report["synthetic_held_out"] = measure(pages[: args.pages], args.model)
    write_report(report, args.json)


def write_report(report: dict[str, object], path: Path | None) -> None:
    """Add the peak memory, print the report as JSON, and also write it to ``path``."""
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    text = json.dumps(report, indent=2)
    print(text)
    if path:
        path.write_text(text + "\n")


if __name__ == "__main__":
    main()
