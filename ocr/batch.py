"""The batch core shared by ``scanscribe transcribe`` and the S3 worker: names, outcomes, and
the local writer.

Why one core: the local batch and the S3 batch had drifted apart (only one removed stale
outputs, only one wrote its marker last). Here is everything both need and that does not
depend on where bytes live -- the output naming rule, decoding + transcribing every page of
one source into outcomes (a bad page never stops the others), the classification of those
outcomes -- plus the local writer. The S3 writer (worker/transcribe.py) and the process pool
(ocr/localpool.py) are thin layers on top. Nothing here imports Celery or boto3.

The naming rule (one rule, local and S3): a source's outputs are named by its path relative
to the folder or prefix given, extension included, plus an output suffix::

    in/a/scan.jpg -> out/a/scan.jpg.json, .txt (.hocr, .overlay.png), or .error.json
    in/doc.pdf    -> out/doc.pdf.p001.json, out/doc.pdf.p002.json, ...

Keeping the extension means ``scan.jpg`` and ``scan.png`` never share a result; keeping the
relative path means ``a/page.jpg`` and ``b/page.jpg`` never do. Every source name ends with
an input extension and every output suffix starts with ``.`` + (``pNNN``, ``json``, ``txt``,
``error``, ``hocr``, ``overlay``), none of which is an input extension, so no source's output
can be another source's output. Names with ``..``, ``.`` or empty segments are refused.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from ocr.io.export import error_to_json, to_hocr, to_json, to_text
from ocr.io.imageio import InputError, PageImage
from ocr.model.store import Recognizer
from ocr.pipeline import PipelineOptions, transcribe_page
from schemas.page import PageError, PageResult

log = logging.getLogger(__name__)

INPUT_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".pdf"}
"""Files a folder walk picks up (a file named explicitly is always tried)."""

FORMATS = ("text", "json", "hocr")

OUTPUT_SUFFIX = re.compile(r"(?:\.p\d{3})?(?:\.error\.json|\.json|\.txt|\.hocr|\.overlay\.png)$")
"""What follows a source's stem in the name of one of its outputs."""

RETRY_ON_RESUBMIT = frozenset({"internal", "worker-crashed"})
"""Error types a resubmit tries again: a bug fixed since, a MemoryError or a crash on a
loaded machine may not happen twice; a bad file (every other type) fails the same way."""


class UnsafeName(ValueError):
    """A relative name with ``..``, ``.`` or empty segments: refused, never written."""


def check_relative(name: str) -> str:
    """``name`` if every ``/``-separated segment is a real name, else UnsafeName."""
    parts = name.split("/")
    bad = [p for p in parts if p in ("", ".", "..")]
    if bad or "\\" in name or "\x00" in name:
        raise UnsafeName(
            f"{name!r}: empty, '.' or '..' path segments (or a backslash) are not allowed in "
            "a source or output name"
        )
    return name


def page_stem(stem: str, page_index: int | None, multi_page: bool) -> str:
    """``stem`` for a single page or a whole-file error, ``stem.p001``... for pages."""
    if page_index is None or not multi_page:
        return stem
    return f"{stem}.p{page_index + 1:03d}"


def stem_of_output(name: str) -> str | None:
    """The source stem an output name belongs to (``a.jpg.p002.txt`` -> ``a.jpg``)."""
    m = OUTPUT_SUFFIX.search(name)
    return name[: m.start()] if m else None


def is_output_of(stem: str, name: str) -> bool:
    """Whether ``name`` is one of the outputs ``stem`` can have."""
    return name.startswith(stem) and OUTPUT_SUFFIX.fullmatch(name[len(stem) :]) is not None


def marker_names(stem: str) -> list[str]:
    """Names the first page's result (the done-marker) can have, in lookup order."""
    return [f"{stem}.json", f"{stem}.error.json", f"{stem}.p001.json", f"{stem}.p001.error.json"]


def page_error(source: str, page_index: int | None, error_type: str, message: str) -> PageError:
    return PageError(
        source=source,
        page_index=page_index,
        error_type=error_type,
        message=message,
        created_at=datetime.now(UTC),
    )


@dataclass
class PageOutcome:
    """One page's result or error (page_index None: the whole file failed)."""

    source: str
    page_index: int | None
    multi: bool = False
    result: PageResult | None = None
    error: PageError | None = None
    image: PageImage | None = field(default=None, repr=False)
    """The decoded page (for overlays); dropped before crossing a process boundary."""


@dataclass
class FileOutcome:
    source: str
    pages: list[PageOutcome]
    seconds: float
    outputs: list[str] = field(default_factory=list)


def file_error(source: str, error_type: str, message: str) -> list[PageOutcome]:
    """The outcomes of a source that failed as a whole."""
    return [PageOutcome(source, None, error=page_error(source, None, error_type, message))]


def transcribe_pages(
    pages: Iterator[PageImage],
    source: str,
    recognizer: Recognizer,
    options: PipelineOptions,
    passthrough: tuple[type[BaseException], ...] = (),
    keep_images: bool = False,
) -> list[PageOutcome]:
    """Every page of one source as an outcome: a result or an error each (a bad page never
    stops the others); a file that cannot be opened at all is one error with index None.

    ``passthrough`` (a task's soft time limit) propagates; any other unexpected exception
    becomes an ``internal`` error record AND a logged traceback, so a bug is visible."""
    out: list[PageOutcome] = []
    while True:
        try:
            page = next(pages)
        except StopIteration:
            return out
        except InputError as e:
            err = page_error(source, e.page_index, e.error_type, e.message)
            out.append(PageOutcome(source, e.page_index, e.page_index is not None, error=err))
            return out
        index, multi = page.page_index, page.page_count > 1
        image = page if keep_images else None
        try:
            result = transcribe_page(page, recognizer, options)
            out.append(PageOutcome(source, index, multi, result=result, image=image))
        except InputError as e:
            err = page_error(source, index, e.error_type, e.message)
            out.append(PageOutcome(source, index, multi, error=err, image=image))
        except passthrough:
            raise
        except Exception as e:  # noqa: BLE001 - one bad page must not stop the batch
            log.exception("%s: page %d: unexpected error", source, index + 1)
            msg = f"{source}: page {index + 1}: {type(e).__name__}: {e}"
            out.append(
                PageOutcome(source, index, multi, error=page_error(source, index, "internal", msg))
            )


@dataclass(frozen=True)
class Tally:
    """What a source's outcomes add up to (the same numbers locally and on S3)."""

    pages: int
    failed: int
    characters: int
    flagged: int
    errors: list[str]
    retry: bool
    """Whether a resubmit should redo the source (see RETRY_ON_RESUBMIT)."""

    @property
    def status(self) -> str:
        return "failed" if self.failed and self.failed == self.pages else "done"


def tally(outcomes: Sequence[PageOutcome]) -> Tally:
    results = [o.result for o in outcomes if o.result is not None]
    errors = [o.error.error_type for o in outcomes if o.error is not None]
    return Tally(
        pages=max(1, len(outcomes)),
        failed=len(errors),
        characters=sum(r.stats.characters for r in results),
        flagged=sum(r.stats.flagged for r in results),
        errors=errors,
        retry=any(e in RETRY_ON_RESUBMIT for e in errors),
    )


def rendered_outputs(
    stem: str, outcomes: Sequence[PageOutcome], fmt: str = "text"
) -> list[tuple[str, bytes]]:
    """(name, bytes) of every text output, the done-marker (first page's JSON) LAST: a
    writer that writes in this order leaves no marker until everything else is there."""
    files: list[tuple[str, bytes]] = []
    for o in reversed(outcomes):
        s = page_stem(stem, o.page_index, o.multi)
        if o.error is not None:
            files.append((f"{s}.error.json", error_to_json(o.error).encode()))
            continue
        assert o.result is not None
        if fmt == "hocr":
            files.append((f"{s}.hocr", to_hocr(o.result).encode()))
        files.append((f"{s}.txt", to_text(o.result).encode()))
        files.append((f"{s}.json", to_json(o.result).encode()))
    return files


# --- The local writer -------------------------------------------------------------------


@dataclass(frozen=True)
class InputFile:
    path: Path
    rel: str
    """The source's name relative to the folder given (its own name for a file given
    explicitly), extension kept: its outputs' stem under the output folder."""


class NameClash(ValueError):
    """Two inputs that would write the same outputs (same name from two folders given)."""


def collect_inputs(paths: Sequence[Path]) -> list[InputFile]:
    """Files as given, folders walked recursively (sorted, so runs are reproducible)."""
    out: list[InputFile] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(q for q in p.rglob("*") if q.is_file()):
                if f.suffix.lower() in INPUT_SUFFIXES:
                    out.append(InputFile(f, f.relative_to(p).as_posix()))
        else:
            out.append(InputFile(p, p.name))
    return out


def check_outputs_unique(items: Sequence[InputFile]) -> None:
    """NameClash when two inputs would have the same outputs (e.g. two folders given that
    both hold ``page.jpg``): writing both would silently overwrite one."""
    seen: dict[str, Path] = {}
    for item in items:
        check_relative(item.rel)
        if item.rel in seen and seen[item.rel] != item.path:
            raise NameClash(
                f"{seen[item.rel]} and {item.path} would both write {item.rel}.json; "
                "give their common folder instead"
            )
        seen[item.rel] = item.path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path`` and rename it over: a crash leaves the
    old file or the new one, never a truncated one."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_local(
    out_dir: Path,
    rel: str,
    outcomes: Sequence[PageOutcome],
    fmt: str = "text",
    overlay: bool = False,
) -> list[str]:
    """Write one source's outputs under ``out_dir`` (atomically, marker last) and remove
    its outputs of an earlier run that no longer apply (an old ``.error.json`` beside a new
    result, pages a document no longer has); the names written, relative to out_dir."""
    stem = out_dir / check_relative(rel)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    if overlay:
        from ocr.io.overlay import render_overlay

        for o in outcomes:
            if o.result is not None and o.image is not None:
                name = page_stem(stem.name, o.page_index, o.multi) + ".overlay.png"
                png = render_overlay(o.image.pixels, o.result, o.image.scale)
                tmp = stem.parent / f".{name}.tmp"
                png.save(tmp, format="PNG")
                os.replace(tmp, stem.parent / name)
                written.append(name)
    for name, data in rendered_outputs(stem.name, outcomes, fmt):
        atomic_write(stem.parent / name, data)
        written.append(name)
    keep = set(written)
    for old in existing_outputs(stem):
        if old.name not in keep:
            old.unlink(missing_ok=True)
    base = PurePosixPath(rel).parent
    return sorted(str(base / n) for n in written)


OUTPUT_KINDS = (".json", ".txt", ".error.json", ".hocr", ".overlay.png")


def existing_outputs(stem: Path) -> list[Path]:
    """Outputs of ``stem`` on disk: its own, then ``.p001``, ``.p002``... while any exist
    (a few stat calls per source instead of listing a folder of thousands)."""
    found = [p for k in OUTPUT_KINDS if (p := stem.with_name(stem.name + k)).is_file()]
    for page in range(1, 10_000):
        name = page_stem(stem.name, page - 1, True)
        here = [p for k in OUTPUT_KINDS if (p := stem.with_name(name + k)).is_file()]
        if not here:
            break
        found += here
    return found


# --- Running a batch locally ------------------------------------------------------------


@dataclass(frozen=True)
class BatchOptions:
    out_dir: Path | None = None
    fmt: str = "text"
    overlay: bool = False
    model_dir: Path | None = None
    pipeline: PipelineOptions = field(default_factory=PipelineOptions)


def process_file(item: InputFile, recognizer: Recognizer, opts: BatchOptions) -> FileOutcome:
    """Decode, transcribe and (with an output folder) write one source."""
    from ocr.io.imageio import read_pages

    start = time.perf_counter()
    outcomes = transcribe_pages(
        read_pages(item.path),
        str(item.path),
        recognizer,
        opts.pipeline,
        keep_images=opts.overlay and opts.out_dir is not None,
    )
    written: list[str] = []
    if opts.out_dir is not None:
        written = write_local(opts.out_dir, item.rel, outcomes, opts.fmt, opts.overlay)
    for o in outcomes:
        o.image = None  # pixels stay in the process that decoded them
    return FileOutcome(str(item.path), outcomes, time.perf_counter() - start, written)


def crashed_outcome(item: InputFile, opts: BatchOptions, detail: str) -> FileOutcome:
    """The record of a source whose process died (twice) while reading it."""
    source = str(item.path)
    outcomes = file_error(
        source, "worker-crashed", f"{source}: the process reading this file died ({detail})"
    )
    written: list[str] = []
    if opts.out_dir is not None:
        written = write_local(opts.out_dir, item.rel, outcomes)
    return FileOutcome(source, outcomes, 0.0, written)


def run_batch(
    items: Sequence[InputFile],
    opts: BatchOptions,
    jobs: int = 1,
    task: Callable[[InputFile], FileOutcome] | None = None,
) -> Iterator[FileOutcome]:
    """Process files in input order; yields each file's outcome as soon as it (and every
    file before it) is done. ``jobs > 1`` runs them in a process pool that survives a
    child's death (ocr.localpool); ``task`` replaces the per-file work there (tests)."""
    from ocr.model.store import DEFAULT_MODEL_DIR, load_model

    if jobs <= 1 or len(items) <= 1:
        recognizer = load_model(opts.model_dir or DEFAULT_MODEL_DIR)
        for item in items:
            yield process_file(item, recognizer, opts)
        return
    from ocr.localpool import run_pool

    yield from run_pool(items, opts, jobs, task)
