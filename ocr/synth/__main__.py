"""Synthetic photographed pages of handwritten block capitals, with exact ground truth.

``python -m ocr.synth --out DIR --pages N --writers test --seed S`` writes ``synth_S_0000.jpg``
with its ``.txt`` and ``.truth.json`` beside it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ocr.synth.render import make_pages, save_page
from ocr.synth.strokes import writer_split
from ocr.synth.style import SynthStyle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ocr.synth", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--writers", choices=("test", "valid", "train", "all"), default="test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", choices=("auto", "chars74k", "builtin"), default="auto")
    parser.add_argument("--clean", action="store_true", help="no photo defects")
    args = parser.parse_args(argv)
    writers = writer_split()[args.writers]
    style = SynthStyle.clean() if args.clean else SynthStyle()
    pages = make_pages(args.pages, writers, args.seed, style, source=args.source)
    for i, page in enumerate(pages):
        save_page(page, args.out, f"synth_{args.seed}_{i:04d}")
    print(f"wrote {len(pages)} pages to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
