"""Local batch transcription: files and folders in, one result (or error) file per page out.

A file is the unit of work (a multi-page TIFF or PDF is read once); with ``jobs > 1`` files
go to a process pool, each process loading the model once. Results are written by the
process that made them, under names that depend only on the input, so ``--jobs`` never
changes what is written.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ocr.io.export import error_to_json, to_hocr, to_json, to_text
from ocr.io.imageio import InputError, PageImage, read_pages
from ocr.model.store import DEFAULT_MODEL_DIR, Recognizer, load_model
from ocr.pipeline import PipelineOptions, transcribe_page
from schemas.page import PageError, PageResult

INPUT_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".pdf"}
"""Files a folder walk picks up (a file named explicitly is always tried)."""

FORMATS = ("text", "json", "hocr")


@dataclass(frozen=True)
class InputFile:
    path: Path
    rel_stem: Path
    """Output name without suffix, relative to the output folder (mirrors input sub-folders)."""


@dataclass(frozen=True)
class BatchOptions:
    out_dir: Path | None = None
    fmt: str = "text"
    overlay: bool = False
    model_dir: Path | None = None
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)


@dataclass
class PageOutcome:
    source: str
    page_index: int | None
    result: PageResult | None = None
    error: PageError | None = None


@dataclass
class FileOutcome:
    source: str
    pages: list[PageOutcome]
    seconds: float


def collect_inputs(paths: Sequence[Path]) -> list[InputFile]:
    """Files as given, folders walked recursively (sorted, so runs are reproducible)."""
    out: list[InputFile] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(q for q in p.rglob("*") if q.is_file()):
                if f.suffix.lower() in INPUT_SUFFIXES:
                    out.append(InputFile(f, f.relative_to(p).with_suffix("")))
        else:
            out.append(InputFile(p, Path(p.stem)))
    return out


def output_stem(item: InputFile, page_index: int | None, multi_page: bool) -> Path:
    """``stem`` for a single-page file or a whole-file error, ``stem.p001`` for pages."""
    if page_index is None or not multi_page:
        return item.rel_stem
    return item.rel_stem.with_name(f"{item.rel_stem.name}.p{page_index + 1:03d}")


def page_error(source: str, page_index: int | None, error_type: str, message: str) -> PageError:
    return PageError(
        source=source,
        page_index=page_index,
        error_type=error_type,
        message=message,
        created_at=datetime.now(UTC),
    )


def iter_outcomes(
    path: Path, recognizer: Recognizer, options: PipelineOptions
) -> Iterator[tuple[PageOutcome, PageImage | None, bool]]:
    """Every page of one file as an outcome, with its decoded image and whether the file has
    several pages. A file that cannot be read at all is one error with page_index None."""
    source = str(path)
    pages = read_pages(path)
    while True:
        try:
            page = next(pages)
        except StopIteration:
            return
        except InputError as e:
            err = page_error(source, e.page_index, e.error_type, e.message)
            yield PageOutcome(source, e.page_index, error=err), None, e.page_index is not None
            return
        index, multi = page.page_index, page.page_count > 1
        try:
            result = transcribe_page(page, recognizer, options)
            yield PageOutcome(source, index, result=result), page, multi
        except InputError as e:
            err = page_error(source, index, e.error_type, e.message)
            yield PageOutcome(source, index, error=err), page, multi
        except Exception as e:  # noqa: BLE001 - one bad page must not stop the batch
            err = page_error(
                source, index, "internal", f"{source}: page {index + 1}: {type(e).__name__}: {e}"
            )
            yield PageOutcome(source, index, error=err), page, multi


def write_outputs(
    item: InputFile, outcome: PageOutcome, page: PageImage | None, multi: bool, opts: BatchOptions
) -> None:
    assert opts.out_dir is not None
    stem = opts.out_dir / output_stem(item, outcome.page_index, multi)
    stem.parent.mkdir(parents=True, exist_ok=True)
    if outcome.error is not None:
        stem.with_name(stem.name + ".error.json").write_text(error_to_json(outcome.error))
        return
    assert outcome.result is not None
    stem.with_name(stem.name + ".json").write_text(to_json(outcome.result))
    stem.with_name(stem.name + ".txt").write_text(to_text(outcome.result))
    if opts.fmt == "hocr":
        stem.with_name(stem.name + ".hocr").write_text(to_hocr(outcome.result))
    if opts.overlay and page is not None:
        from ocr.io.overlay import render_overlay

        render_overlay(page.pixels, outcome.result, page.scale).save(
            stem.with_name(stem.name + ".overlay.png")
        )


def process_file(item: InputFile, recognizer: Recognizer, opts: BatchOptions) -> FileOutcome:
    start = time.perf_counter()
    pages: list[PageOutcome] = []
    for outcome, page, multi in iter_outcomes(item.path, recognizer, opts.pipeline):
        if opts.out_dir is not None:
            write_outputs(item, outcome, page, multi, opts)
        pages.append(outcome)
    return FileOutcome(str(item.path), pages, time.perf_counter() - start)


_worker_state: dict[str, object] = {}


def _init_worker(opts: BatchOptions) -> None:
    _worker_state["recognizer"] = load_model(opts.model_dir or DEFAULT_MODEL_DIR)
    _worker_state["opts"] = opts


def _run_in_worker(item: InputFile) -> FileOutcome:
    rec = _worker_state["recognizer"]
    opts = _worker_state["opts"]
    assert isinstance(rec, Recognizer) and isinstance(opts, BatchOptions)
    return process_file(item, rec, opts)


def run_batch(
    items: Sequence[InputFile], opts: BatchOptions, jobs: int = 1
) -> Iterator[FileOutcome]:
    """Process files in input order; yields each file's outcome as soon as it is done."""
    if jobs <= 1 or len(items) <= 1:
        recognizer = load_model(opts.model_dir or DEFAULT_MODEL_DIR)
        for item in items:
            yield process_file(item, recognizer, opts)
        return
    # Spawned processes need no BLAS thread setting of their own: recognition, the only BLAS
    # work on a page, already runs on one thread (ocr.model.Recognizer.predict_proba).
    pool = mp.get_context("spawn").Pool(jobs, initializer=_init_worker, initargs=(opts,))
    with pool:
        yield from pool.imap(_run_in_worker, items, chunksize=1)
