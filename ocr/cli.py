"""The ``scanscribe`` command line."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_FAILED = 1
"""Some input failed (the rest was still processed)."""
EXIT_USAGE = 2


def _int_tuple(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of sizes") from e


def add_train(sub: argparse._SubParsersAction) -> None:
    from ocr.model.mlp import ACTIVATIONS
    from ocr.training.recipe import Recipe

    d = Recipe()
    p = sub.add_parser(
        "train",
        help="train a recognizer and write a model directory",
        description="Train the MLP recognizer on one or more datasets and write OUT/model.npz, "
        "OUT/manifest.json and OUT/report/ (learning curves, weights, confusion matrix, "
        "model card). Each dataset is split into train/valid/test (by writer where known).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="KIND:PATH",
        help="dataset; KIND is mat, emnist, chars74k, folder, npz or fonts (repeatable)",
    )
    p.add_argument("--out", required=True, type=Path, help="model directory to write")
    p.add_argument("--hidden", type=_int_tuple, default=d.arch.hidden, help="hidden sizes")
    p.add_argument("--activation", choices=ACTIVATIONS, default=d.arch.activation)
    p.add_argument("--dropout", type=float, default=d.arch.dropout)
    p.add_argument("--members", type=int, default=d.members, help="networks to average")
    p.add_argument("--epochs", type=int, default=d.train.epochs)
    p.add_argument("--batch-size", type=int, default=d.train.batch_size)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default=d.train.optimizer)
    p.add_argument("--lr", type=float, default=d.train.lr)
    p.add_argument("--momentum", type=float, default=d.train.momentum, help="for sgd")
    p.add_argument("--weight-decay", type=float, default=d.train.weight_decay)
    p.add_argument("--schedule", choices=("cosine", "step", "constant"), default=d.train.schedule)
    p.add_argument("--patience", type=int, default=d.train.patience, help="early stopping")
    p.add_argument("--seed", type=int, default=d.train.seed)
    p.add_argument(
        "--stroke-copies", type=int, default=d.stroke_copies, help="renderings per stroke glyph"
    )
    p.add_argument(
        "--negative-share",
        type=float,
        default=d.negative_share,
        help='generated "not a character" crops per glyph of each split (0: none)',
    )
    p.add_argument("--no-augment", action="store_true", help="train on the data as it is")
    p.add_argument("--name", default="scanscribe-mlp")
    p.add_argument("--version", default=None, help="model version (default: a UTC timestamp)")
    p.set_defaults(func=cmd_train)


def check_data_specs(command: str, specs: Sequence[str]) -> bool:
    """Print why a --data spec cannot be used (unknown KIND, missing path); True when all
    can. Catches what a user mistypes before a run loads anything."""
    from ocr.training.datasets import parse_spec

    ok = True
    for spec in specs:
        try:
            kind, path = parse_spec(spec)
        except ValueError as e:
            print(f"scanscribe {command}: --data: {e}", file=sys.stderr)
            ok = False
            continue
        if not path.exists():
            print(f"scanscribe {command}: --data {spec}: no such file or folder", file=sys.stderr)
            ok = False
    return ok


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ocr.training.recipe import Recipe, run
    from schemas.manifest import EpochMetrics

    if not check_data_specs("train", args.data):
        return EXIT_USAGE
    recipe = Recipe().with_overrides(
        augment=not args.no_augment,
        hidden=args.hidden,
        activation=args.activation,
        dropout=args.dropout,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        patience=args.patience,
        seed=args.seed,
        members=args.members,
        stroke_copies=args.stroke_copies,
        negative_share=args.negative_share,
    )
    bar: tqdm | None = None

    def on_batch(i: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="batch", leave=False, file=sys.stderr)
        bar.update(1)

    def on_epoch(member: int, r: EpochMetrics) -> None:
        nonlocal bar
        if bar is not None:
            bar.close()
            bar = None
        print(
            f"net {member + 1} epoch {r.epoch:3d}  loss {r.train_loss:.4f}  "
            f"train {100 * r.train_acc:6.2f}%  valid loss {r.valid_loss:.4f}  "
            f"valid {100 * r.valid_acc:6.2f}%  lr {r.lr:.2e}  {r.seconds:5.1f}s",
            flush=True,
        )

    command = "scanscribe " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else None
    result = run(
        args.data,
        args.out,
        recipe,
        name=args.name,
        version=args.version,
        command=command,
        on_epoch=on_epoch,
        on_batch=on_batch,
    )
    print(f"wrote {args.out} (version {result.recognizer.version})")
    for key, m in result.recognizer.manifest.metrics.items():
        print(f"  {key:40s} {m.samples:6d} samples  {100 * m.accuracy:6.2f}%")
    return EXIT_OK


def add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure a model on a dataset",
        description="Accuracy, per-class accuracy and top confusions of a model on a dataset.",
    )
    p.add_argument(
        "--model", type=Path, default=None, metavar="DIR", help="model directory (default: shipped)"
    )
    p.add_argument(
        "--data",
        required=True,
        metavar="KIND:PATH",
        action="append",
        help="dataset; KIND is mat, emnist, chars74k, folder, npz or fonts (repeatable)",
    )
    p.add_argument(
        "--split",
        choices=("all", "train", "valid", "test"),
        default="all",
        help="evaluate on this part of the deterministic split (test = unseen at training)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ocr.model.store import DEFAULT_MODEL_DIR, ModelError, load_model
    from ocr.training.datasets import Dataset, load
    from ocr.training.evaluate import evaluate_predictions
    from ocr.training.split import split

    try:
        rec = load_model(args.model or DEFAULT_MODEL_DIR)
    except ModelError as e:
        print(f"scanscribe evaluate: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not check_data_specs("evaluate", args.data):
        return EXIT_USAGE
    parts: list[Dataset] = []
    for spec in args.data:
        try:
            ds = load(spec)
        except (OSError, ValueError) as e:  # the loaders' "this is not a KIND dataset"
            print(f"scanscribe evaluate: --data {spec}: {e}", file=sys.stderr)
            return EXIT_USAGE
        if args.split != "all":
            ds = dict(zip(("train", "valid", "test"), split(ds), strict=True))[args.split]
        parts.append(ds)
    ds = Dataset.concat(parts, "+".join(args.data))
    ev = evaluate_predictions(ds.labels, rec.predict_proba(ds.images))
    if args.json:
        out = {
            "model": rec.version,
            "data": args.data,
            "split": args.split,
            "samples": ev.samples,
            "accuracy": ev.accuracy,
            "accuracy_merged": ev.accuracy_merged,
            "per_class": ev.per_class,
            "top_confusions": [c.__dict__ for c in ev.top_confusions],
        }
        print(json.dumps(out, indent=2))
        return EXIT_OK
    print(f"model {rec.manifest.name} {rec.version} on {', '.join(args.data)} ({args.split})")
    print(f"samples   {ev.samples}")
    print(
        f"accuracy  {100 * ev.accuracy:.2f}%   (O=0, I=1 merged: {100 * ev.accuracy_merged:.2f}%)"
    )
    worst = sorted(ev.per_class.items(), key=lambda kv: kv[1])[:8]
    print("weakest classes  " + "  ".join(f"{c} {100 * a:.1f}%" for c, a in worst))
    print("top confusions (true -> predicted)")
    for c in ev.top_confusions:
        print(f"  {c.true} -> {c.predicted}  {c.count:5d}  ({100 * c.rate:.1f}% of {c.true})")
    return EXIT_OK


def add_transcribe(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe images, TIFFs and PDFs",
        description="Transcribe handwritten block-capital pages. PATH may be files or folders "
        "(searched recursively for JPEG, PNG, TIFF, WebP, BMP and PDF). With --out, each page "
        "IMG gives DIR/IMG.json (PageResult) and DIR/IMG.txt, or DIR/IMG.error.json when it "
        "cannot be read; without --out the text goes to stdout. Exit code 0 when every page "
        "succeeded, 1 when some failed, 2 on a usage error.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder")
    p.add_argument(
        "--format",
        choices=("text", "json", "hocr"),
        default="text",
        help="stdout format without --out; with --out, hocr adds IMG.hocr (default: text)",
    )
    p.add_argument("--overlay", action="store_true", help="with --out: also IMG.overlay.png")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="processes (default: 1)")
    p.add_argument(
        "--model", type=Path, default=None, metavar="DIR", help="model directory (default: shipped)"
    )
    p.add_argument("--no-context", action="store_true", help="no letter/digit word context")
    p.add_argument(
        "--fields",
        action="store_true",
        help="read printed form fields (comb cells, boxes, underlines) into each result's "
        "fields; implied by --template and --fields-csv",
    )
    p.add_argument(
        "--template",
        type=Path,
        default=None,
        metavar="FILE",
        help="form template (JSON, see `scanscribe template`): every page gets its fields",
    )
    p.add_argument(
        "--fields-csv",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the pages' form fields as CSV: a row per page, a column per label",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=cmd_transcribe)


def cmd_transcribe(args: argparse.Namespace) -> int:
    from ocr.batch import (
        BatchOptions,
        NameClash,
        UnsafeName,
        check_outputs_unique,
        collect_inputs,
        run_batch,
    )
    from ocr.forms import TemplateField, load_template
    from ocr.io.export import to_hocr
    from ocr.io.fieldtable import FieldRow, field_row, write_fields_csv
    from ocr.model.store import DEFAULT_MODEL_DIR, ModelError, read_manifest
    from ocr.pipeline import PipelineOptions

    if args.overlay and args.out is None:
        print("scanscribe transcribe: --overlay needs --out", file=sys.stderr)
        return EXIT_USAGE
    if args.jobs < 1:
        print("scanscribe transcribe: --jobs must be >= 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        read_manifest(args.model or DEFAULT_MODEL_DIR)
    except ModelError as e:
        print(f"scanscribe transcribe: {e}", file=sys.stderr)
        return EXIT_USAGE
    missing = [p for p in args.paths if not p.exists()]
    items = collect_inputs([p for p in args.paths if p.exists()])
    try:
        if args.out is not None:
            check_outputs_unique(items)
    except (NameClash, UnsafeName) as e:
        print(f"scanscribe transcribe: {e}", file=sys.stderr)
        return EXIT_USAGE
    for p in missing:
        print(f"scanscribe transcribe: {p}: no such file or folder", file=sys.stderr)
    if not items:
        print("scanscribe transcribe: no input files found", file=sys.stderr)
        return EXIT_USAGE
    template: tuple[TemplateField, ...] = ()
    if args.template is not None:
        try:
            template = tuple(load_template(args.template))
        except ValueError as e:
            print(f"scanscribe transcribe: {e}", file=sys.stderr)
            return EXIT_USAGE
    opts = BatchOptions(
        out_dir=args.out,
        fmt=args.format,
        overlay=args.overlay,
        model_dir=args.model,
        pipeline=PipelineOptions(
            context=not args.no_context,
            template=template,
            fields=args.fields or args.fields_csv is not None,  # a template implies it too
        ),
    )
    table: list[FieldRow] = []
    show = not args.quiet and len(items) > 1
    from tqdm import tqdm

    bar = tqdm(total=len(items), unit="file", file=sys.stderr, disable=not show)
    pages = chars = flagged = failed = 0
    start = time.perf_counter()
    for outcome in run_batch(items, opts, jobs=args.jobs):
        bar.update(1)
        for page in outcome.pages:
            pages += 1
            if page.error is not None:
                failed += 1
                bar.write(f"error: {page.error.message} [{page.error.error_type}]", file=sys.stderr)
                continue
            r = page.result
            assert r is not None
            chars += r.stats.characters
            flagged += r.stats.flagged
            if args.fields_csv is not None:
                table.append(field_row(r))
            if args.out is None:
                if args.format == "json":
                    print(r.model_dump_json())
                elif args.format == "hocr":
                    print(to_hocr(r))
                else:
                    if len(items) > 1 or r.source.page_count > 1:
                        print(f"==> {r.source.path_or_uri} page {r.source.page_index + 1} <==")
                    print(r.text)
    bar.close()
    if args.fields_csv is not None:
        write_fields_csv(args.fields_csv, table)
    seconds = time.perf_counter() - start
    if not args.quiet:
        print(
            f"pages {pages}, characters {chars}, flagged {flagged}, failed {failed}, "
            f"{pages / seconds:.2f} pages/s ({seconds:.2f} s, {args.jobs} job(s))",
            file=sys.stderr,
        )
    return EXIT_OK if failed == 0 else EXIT_FAILED


def add_template(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "template",
        help="write a starting form template from one filled or blank form",
        description="Find the printed fields of PAGE (its first page) and write a template: "
        "each field's label as read and its box as fractions (0..1) of the sheet. Edit the "
        "labels, drop or add fields, then pass it to `scanscribe transcribe --template`.",
    )
    p.add_argument("page", type=Path, metavar="PAGE")
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="default: stdout")
    p.add_argument(
        "--model", type=Path, default=None, metavar="DIR", help="model directory (default: shipped)"
    )
    p.set_defaults(func=cmd_template)


def cmd_template(args: argparse.Namespace) -> int:
    from ocr.forms import template_from
    from ocr.io.imageio import InputError, read_pages
    from ocr.model.store import DEFAULT_MODEL_DIR, ModelError, load_model
    from ocr.pipeline import PipelineOptions, transcribe_page

    try:
        recognizer = load_model(args.model or DEFAULT_MODEL_DIR)
        page = next(read_pages(args.page))
        result = transcribe_page(page, recognizer, PipelineOptions(fields=True))
    except (ModelError, InputError, OSError) as e:
        print(f"scanscribe template: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not result.fields:
        print(f"scanscribe template: {args.page}: no printed fields found", file=sys.stderr)
        return EXIT_FAILED
    text = json.dumps(template_from(result.fields, page.original_size), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(args.out)
    return EXIT_OK


def add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="transcribe the sample pages with the shipped model",
        description="Transcribe the two sample photos from $SCANSCRIBE_DATA/pages (default "
        "../shared/data) with the shipped model, or, where that folder is absent, three "
        "synthetic pages; writes results and overlays to --out and prints the text beside "
        "the truth with its character error rate.",
    )
    p.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from ocr.batch import BatchOptions, collect_inputs, run_batch
    from ocr.datapath import data_root
    from ocr.textdist import cer

    pages_dir = data_root() / "pages"
    if sorted(pages_dir.glob("*.jpg")):
        inputs = sorted(pages_dir.glob("*.jpg"))
        print(f"sample photos from {pages_dir}")
    else:
        from ocr.synth import make_pages, save_page

        synth_dir = args.out / "synthetic-input"
        print(f"no sample photos under {data_root()}: using synthetic pages in {synth_dir}")
        inputs = [
            save_page(page, synth_dir, f"synthetic_{i}")
            for i, page in enumerate(make_pages(3, writers=[1, 2, 3], seed=7, source="builtin"))
        ]
    opts = BatchOptions(out_dir=args.out, overlay=True)
    failed = 0
    for outcome in run_batch(collect_inputs(inputs), opts):
        for page in outcome.pages:
            if page.error is not None:
                failed += 1
                print(f"error: {page.error.message}")
                continue
            r = page.result
            assert r is not None
            truth_file = Path(outcome.source).with_suffix(".txt")
            print(f"\n=== {outcome.source}  ({r.timings_ms['total']:.0f} ms)")
            print(r.text)
            if truth_file.is_file():
                truth = "\n".join(
                    ln.strip() for ln in truth_file.read_text().splitlines() if ln.strip()
                )
                print(
                    f"--- CER {100 * cer(r.text, truth):.2f}% "
                    f"(without spaces {100 * cer(r.text, truth, spaces=False):.2f}%), "
                    f"{r.stats.characters} characters, {r.stats.flagged} flagged"
                )
    print(f"\nresults, text and overlays in {args.out}/")
    return EXIT_OK if failed == 0 else EXIT_FAILED


def build_parser(
    extra: Callable[[argparse._SubParsersAction], None] | None = None,
) -> argparse.ArgumentParser:
    """The local commands; ``extra`` adds more (the worker package's, see worker.cli)."""
    parser = argparse.ArgumentParser(
        prog="scanscribe",
        description="OCR for photos and scans of handwritten block capitals (A-Z, 0-9).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_train(sub)
    add_evaluate(sub)
    add_transcribe(sub)
    add_template(sub)
    add_demo(sub)
    if extra is not None:
        extra(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
