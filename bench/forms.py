"""Form benchmark: synthetic filled-in A4 forms (200 dpi) in the hands of held-out writers.

Run (one core, as the README reports it):
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/forms.py --forms 40

Forms are written once per seed to ``--cache`` by ``python -m ocr.synth.forms`` in a child
process. Each truth field is matched to the found field whose box overlaps it most (IoU at
least MATCH_IOU); a truth field without a match counts all its characters as errors, a found
field without a truth field counts its value's characters as errors.

- CER: edits over labels and values (with spaces) / truth characters of labels and values;
- value exact: share of truth fields whose value is read exactly (empty fields included);
- label exact: share of truth fields whose label is read exactly; label found: non-empty;
- ms/page: file bytes to PageResult (decode included, model start-up excluded).

Tune on ``--writers valid``; report ``--writers test``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ocr.forms import iou
from ocr.io.imageio import read_pages
from ocr.model.store import DEFAULT_MODEL_DIR, load_model
from ocr.pipeline import PipelineOptions, transcribe_page
from ocr.textdist import edit_distance
from schemas.page import FormField

MATCH_IOU: float = 0.3
"""Least overlap (IoU) of a found field's box with a truth field's box to be that field."""

FIELDS = PipelineOptions(fields=True)
"""The fields stage is off by default (plain pages); forms ask for it."""


def forms_dir(cache: Path, forms: int, seed: int, writers: str) -> Path:
    out = cache / f"{writers}-writers-seed{seed}-n{forms}"
    if len(list(out.glob("*.jpg"))) < forms:
        cmd = [sys.executable, "-m", "ocr.synth.forms", "--out", str(out), "--forms", str(forms)]
        subprocess.run([*cmd, "--writers", writers, "--seed", str(seed)], check=True)
    return out


def score_form(truth: list[dict], found: list[FormField]) -> dict[str, int]:
    """Edits, truth characters and exact counts of one form (see the module docstring)."""
    s = {"edits": 0, "chars": 0, "fields": 0, "value_exact": 0, "label_exact": 0, "found": 0}
    s["label_found"] = s["missed"] = s["extra"] = 0
    s["value_edits"] = s["value_chars"] = s["label_edits"] = s["label_chars"] = 0
    for kind in ("comb", "box", "underline"):
        s[f"{kind}_fields"] = s[f"{kind}_exact"] = 0
    used: set[int] = set()
    for t in truth:
        s["fields"] += 1
        s["chars"] += len(t["label"]) + len(t["value"])
        s["value_chars"] += len(t["value"])
        s["label_chars"] += len(t["label"])
        s[f"{t['kind']}_fields"] += 1
        cands = [(iou(t["box"], f.box), i) for i, f in enumerate(found) if i not in used]
        best, i = max(cands, default=(0.0, -1))
        if best < MATCH_IOU:
            s["edits"] += len(t["label"]) + len(t["value"])
            s["value_edits"] += len(t["value"])
            s["label_edits"] += len(t["label"])
            s["missed"] += 1
            continue
        used.add(i)
        f = found[i]
        s["found"] += 1
        value_edits = edit_distance(f.value, t["value"])
        label_edits = edit_distance(f.label, t["label"])
        s["edits"] += label_edits + value_edits
        s["value_edits"] += value_edits
        s["label_edits"] += label_edits
        s["value_exact"] += f.value == t["value"]
        s[f"{t['kind']}_exact"] += f.value == t["value"]
        s["label_exact"] += f.label == t["label"]
        s["label_found"] += bool(f.label)
    for i, f in enumerate(found):
        if i not in used:
            s["extra"] += 1
            s["edits"] += len(f.value)
    return s


def measure(files: list[Path], model_dir: Path, show: int = 0) -> dict[str, object]:
    rec = load_model(model_dir)
    transcribe_page(next(read_pages(files[0])), rec, FIELDS)  # warm-up: imports, BLAS, caches
    total: dict[str, int] = {}
    ms: list[float] = []
    stages: dict[str, list[float]] = {}
    worst: list[tuple[float, str]] = []
    by_font: dict[str, list[int]] = {}
    for n, f in enumerate(files):
        truth_file = json.loads(f.with_suffix(".truth.json").read_text())
        truth = truth_file["fields"]
        start = time.perf_counter()
        result = transcribe_page(next(read_pages(f)), rec, FIELDS)
        ms.append((time.perf_counter() - start) * 1000)
        for k, v in result.timings_ms.items():
            stages.setdefault(k, []).append(v)
        s = score_form(truth, result.fields)
        for k, v in s.items():
            total[k] = total.get(k, 0) + v
        worst.append((s["edits"] / max(1, s["chars"]), f.name))
        font = by_font.setdefault(Path(truth_file.get("font", "unknown")).stem, [0, 0, 0])
        font[0] += s["label_edits"]
        font[1] += s["label_chars"]
        font[2] += 1
        if n < show:
            for t in truth:
                print(f"  truth {t['kind']:9} {t['label']!r:18} {t['value']!r}")
            for fd in result.fields:
                print(f"  found {fd.kind:9} {fd.label!r:18} {fd.value!r}")
    n = max(1, total["fields"])
    return {
        "forms": len(files),
        "truth_fields": total["fields"],
        "cer_percent": round(100 * total["edits"] / max(1, total["chars"]), 2),
        "value_cer_percent": round(100 * total["value_edits"] / max(1, total["value_chars"]), 2),
        "label_cer_percent": round(100 * total["label_edits"] / max(1, total["label_chars"]), 2),
        "value_exact_percent": round(100 * total["value_exact"] / n, 1),
        "value_exact_by_kind_percent": {
            k: round(100 * total[f"{k}_exact"] / max(1, total[f"{k}_fields"]), 1)
            for k in ("comb", "box", "underline")
        },
        "label_exact_percent": round(100 * total["label_exact"] / n, 1),
        "label_found_percent": round(100 * total["label_found"] / n, 1),
        "fields_found_percent": round(100 * total["found"] / n, 1),
        "extra_fields": total["extra"],
        "median_ms_per_page": round(statistics.median(ms), 1),
        "p90_ms_per_page": round(sorted(ms)[int(0.9 * (len(ms) - 1))], 1),
        "median_stage_ms": {k: round(statistics.median(v), 1) for k, v in stages.items()},
        "label_cer_by_font_percent": {
            name: f"{100 * e / max(1, c):.1f} ({k} forms)"
            for name, (e, c, k) in sorted(
                by_font.items(), key=lambda kv: -kv[1][0] / max(1, kv[1][1])
            )
        },
        "worst_forms": [f"{name} {100 * c:.1f}%" for c, name in sorted(worst, reverse=True)[:5]],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--forms", type=int, default=40)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--writers", choices=("test", "valid"), default="test")
    ap.add_argument("--cache", type=Path, default=Path("runs/bench-forms"))
    ap.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    ap.add_argument("--show", type=int, default=0, help="print truth and found fields of N forms")
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    folder = forms_dir(args.cache, args.forms, args.seed, args.writers)
    files = sorted(folder.glob("*.jpg"))[: args.forms]
    report = {"model": str(args.model), "writers": args.writers, "seed": args.seed}
    report.update(measure(files, args.model, args.show))
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
