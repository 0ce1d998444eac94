"""How much the review queue asks, and how many of the recognizer's errors it catches.

On synthetic pages in the hands of held-out writers (the pages of ``bench/pages.py``: Chars74K
test writers, seed 2026), every recognized character is matched to the truth character whose
box overlaps it most (intersection over union). A character is WRONG when its reading differs
from that truth character, or when no truth character overlaps it enough (a spurious box:
its right decision is "not a character"). The queue ASKS about a character when it is flagged
or its confidence is below the threshold. Truth characters that no box found cannot be asked
about at all; they are counted apart.

    .venv/bin/python bench/review_coverage.py --pages 60

Target (issue 12): catch >= 80% of the errors while asking about <= 15% of the characters.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from pages import synthetic_dir

from ocr.io.imageio import read_pages
from ocr.model.store import DEFAULT_MODEL_DIR, load_model
from ocr.pipeline import transcribe_page
from review.queue import PUNCTUATION

MATCH_IOU: float = 0.3
"""A recognized box and a truth box are the same character above this overlap: tight truth
boxes against boxes of broken or touching strokes rarely overlap more than ~0.5."""

THRESHOLDS = (0.0, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98)
"""0.0 = flags alone."""

TARGET_CAUGHT, TARGET_ASKED = 0.80, 0.15


@dataclass(frozen=True)
class Seen:
    confidence: float
    flagged: bool
    wrong: bool


def _iou(a: list[int], b: list[int]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def page_characters(image: Path, rec: object) -> tuple[list[Seen], int]:
    """Every recognized character of the page, and how many truth characters no box found."""
    truth = json.loads(image.with_suffix(".truth.json").read_text())
    truth_chars = [(c["char"], c["box"]) for ln in truth["lines"] for c in ln["chars"]]
    result = transcribe_page(next(read_pages(image)), rec)  # type: ignore[arg-type]
    seen, found = [], set()
    for line in result.lines:
        for word in line.words:
            for c in word.characters:
                best, best_iou = None, MATCH_IOU
                for i, (_, box) in enumerate(truth_chars):
                    iou = _iou(c.box, box)
                    if iou >= best_iou:
                        best, best_iou = i, iou
                if best is not None:
                    found.add(best)
                if c.text == PUNCTUATION and not c.alternatives:
                    continue  # found by shape, never asked about: neither asked nor counted
                wrong = best is None or truth_chars[best][0] != c.text
                seen.append(Seen(c.confidence, c.flag is not None, wrong))
    missed = sum(1 for i, (ch, _) in enumerate(truth_chars) if i not in found and ch != PUNCTUATION)
    return seen, missed


def sweep(chars: list[Seen], missed: int) -> list[dict[str, float]]:
    wrong = sum(c.wrong for c in chars)
    rows = []
    for t in THRESHOLDS:
        asked = [c for c in chars if c.flagged or c.confidence < t]
        caught = sum(c.wrong for c in asked)
        rows.append(
            {
                "threshold": t,
                "asked": len(asked),
                "asked_share": len(asked) / len(chars),
                "caught": caught,
                "caught_share": caught / wrong if wrong else 1.0,
                "caught_share_with_missed": caught / (wrong + missed) if wrong + missed else 1.0,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--writers", choices=("test", "valid"), default="test")
    ap.add_argument("--cache", type=Path, default=Path("runs/bench-pages"))
    ap.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = ap.parse_args()
    folder = synthetic_dir(args.cache, args.pages, args.seed, args.writers)
    rec = load_model(DEFAULT_MODEL_DIR)
    chars: list[Seen] = []
    missed = 0
    pages = sorted(folder.glob("*.jpg"))[: args.pages]
    for image in pages:
        seen, lost = page_characters(image, rec)
        chars += seen
        missed += lost
    wrong = sum(c.wrong for c in chars)
    rows = sweep(chars, missed)
    print(
        f"{len(pages)} pages ({args.writers} writers, seed {args.seed}): {len(chars)} characters "
        f"recognized ({len(chars) / len(pages):.1f} a page), {wrong} wrong "
        f"({100 * wrong / len(chars):.2f}%), {missed} truth characters found by no box"
    )
    print("threshold  asked/page  asked    caught of wrong   (with missed ones)")
    for r in rows:
        label = "flags only" if r["threshold"] == 0 else f"{r['threshold']:.2f}"
        ok = r["caught_share"] >= TARGET_CAUGHT and r["asked_share"] <= TARGET_ASKED
        print(
            f"{label:>10}  {r['asked'] / len(pages):10.1f}  {100 * r['asked_share']:5.1f}%  "
            f"{int(r['caught']):4d} = {100 * r['caught_share']:5.1f}%   "
            f"({100 * r['caught_share_with_missed']:5.1f}%){'  meets the target' if ok else ''}"
        )
    if args.json:
        report = {
            "pages": len(pages),
            "characters": len(chars),
            "wrong": wrong,
            "missed_truth_characters": missed,
            "sweep": rows,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
