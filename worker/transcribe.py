"""Transcribe one S3 object into result objects: the body of the transcribe_page task.

Kept free of Celery so it can be called and tested directly. Why the care about names and
order: a task may run twice (a redelivered message after a lost worker, a retry after an
outage, a resubmitted batch), so every output key depends only on the source key, and the
object that marks a source as done -- the first page's ``.json`` or ``.error.json``, carrying
the source ETag and model version in its metadata -- is written last. If it is present and
matches, every other output of that source is too, and the work is skipped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import PurePosixPath

from ocr.batch import INPUT_SUFFIXES, page_error
from ocr.io.export import error_to_json, to_json, to_text
from ocr.io.imageio import InputError, read_pages_from_bytes
from ocr.model.store import Recognizer
from ocr.pipeline import PipelineOptions, transcribe_page
from schemas.page import PageError, PageResult
from schemas.tasks import FileOutcome, TranscribePageRequest
from worker.registry import ModelCache
from worker.storage import (
    TRANSIENT_ERRORS,
    ObjectTooLarge,
    Storage,
    StorageError,
    join_key,
)

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"

META_ETAG = "source-etag"
META_MODEL = "model-version"
META_PAGES = "page-count"
META_FAILED = "pages-failed"
META_CHARS = "characters"
META_FLAGGED = "flagged"

OUTPUT_NAME = re.compile(r"^(?:\.p\d{3})?(?:\.json|\.txt|\.error\.json)$")
"""What follows ``stem`` in the name of one of its outputs."""
OUTPUT_SUFFIX = re.compile(r"(?:\.p\d{3})?(?:\.error\.json|\.json|\.txt)$")


def is_input(key: str) -> bool:
    return PurePosixPath(key).suffix.lower() in INPUT_SUFFIXES


def folder(prefix: str) -> str:
    """A listing prefix with folder semantics: "in" means "in/", "" the whole bucket."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def output_stem(req: TranscribePageRequest) -> str:
    """``out_prefix/<key relative to prefix, without suffix>`` (basename without a prefix)."""
    base = folder(req.prefix)
    if base and req.key.startswith(base):
        rel = req.key[len(base) :]
    else:
        rel = PurePosixPath(req.key).name
    return join_key(req.out_prefix, str(PurePosixPath(rel).with_suffix("")))


def page_stem(stem: str, page_index: int | None, multi_page: bool) -> str:
    """Like ocr.batch.output_stem: ``stem`` for one page or a whole-file error, else stem.p001."""
    if page_index is None or not multi_page:
        return stem
    return f"{stem}.p{page_index + 1:03d}"


def stem_of_output(key: str) -> str | None:
    """The stem an output key belongs to (``out/a.p002.txt`` -> ``out/a``), else None."""
    m = OUTPUT_SUFFIX.search(key)
    return key[: m.start()] if m else None


def marker_candidates(stem: str) -> list[str]:
    """Keys the done-marker can have, in the order they are looked for."""
    return [f"{stem}.json", f"{stem}.error.json", f"{stem}.p001.json", f"{stem}.p001.error.json"]


@dataclass
class _Page:
    index: int | None
    multi: bool
    result: PageResult | None = None
    error: PageError | None = None


def _read_and_transcribe(
    data: bytes,
    source: str,
    recognizer: Recognizer,
    options: PipelineOptions,
    passthrough: tuple[type[Exception], ...],
) -> list[_Page]:
    """Every page of an in-memory file: a result or an error each (a bad page never stops
    the others); a file that cannot be opened at all is one error with index None."""
    out: list[_Page] = []
    pages = read_pages_from_bytes(data, source)
    while True:
        try:
            page = next(pages)
        except StopIteration:
            return out
        except InputError as e:
            err = page_error(source, e.page_index, e.error_type, e.message)
            out.append(_Page(e.page_index, e.page_index is not None, error=err))
            return out
        multi = page.page_count > 1
        try:
            out.append(
                _Page(page.page_index, multi, result=transcribe_page(page, recognizer, options))
            )
        except InputError as e:
            err = page_error(source, page.page_index, e.error_type, e.message)
            out.append(_Page(page.page_index, multi, error=err))
        except passthrough:
            raise
        except Exception as e:  # noqa: BLE001 - one bad page must not stop the file
            msg = f"{source}: page {page.page_index + 1}: {type(e).__name__}: {e}"
            err = page_error(source, page.page_index, "internal", msg)
            out.append(_Page(page.page_index, multi, error=err))


def transcribe_object(
    storage: Storage,
    cache: ModelCache,
    req: TranscribePageRequest,
    options: PipelineOptions | None = None,
    passthrough: tuple[type[Exception], ...] = (),
) -> FileOutcome:
    """Download, transcribe and upload one source; raises only transient storage errors
    (the task retries those) and ``passthrough`` (Celery's soft time limit): any other
    failure becomes an error record."""
    start = time.perf_counter()
    options = options or PipelineOptions()
    recognizer = cache.get()
    version = recognizer.version
    out_bucket = req.out_bucket or req.bucket
    source = f"s3://{req.bucket}/{req.key}"
    stem = output_stem(req)
    if req.existing is not None:  # the batch listed the output prefix once for all pages
        existing = set(req.existing)
    else:
        existing = {
            o.key
            for o in storage.list_objects(out_bucket, stem + ".")
            if OUTPUT_NAME.match(o.key[len(stem) :])
        }
    etag = req.etag
    if etag is None:
        info = storage.head(req.bucket, req.key)
        etag = info.etag if info is not None else ""

    if not req.force:
        for key in marker_candidates(stem):
            if key not in existing:
                continue
            info = storage.head(out_bucket, key)
            meta = info.metadata if info is not None else {}
            if etag and meta.get(META_ETAG) == etag and meta.get(META_MODEL) == version:
                return _skipped(req, meta, sorted(existing), version, start)
            break

    pages: list[_Page]
    try:
        dl = storage.download(req.bucket, req.key)
        etag = dl.etag
        pages = _read_and_transcribe(dl.data, source, recognizer, options, passthrough)
    except passthrough:
        # The task's soft time limit: record the source as timed out, so that resubmitting
        # the batch moves past it instead of hitting the same wall, then let the task fail.
        msg = f"{source}: transcription exceeded the task's time limit"
        err = page_error(source, None, "timeout", msg)
        written = _upload(storage, out_bucket, stem, [_Page(None, False, error=err)], etag, version)
        for key in sorted(existing - set(written)):
            storage.delete(out_bucket, key)
        raise
    except ObjectTooLarge as e:
        pages = [_Page(None, False, error=page_error(source, None, "too-large", str(e)))]
    except TRANSIENT_ERRORS:
        raise
    except StorageError as e:
        pages = [_Page(None, False, error=page_error(source, None, "unreadable-file", str(e)))]

    written = _upload(storage, out_bucket, stem, pages, etag, version)
    for key in sorted(existing - set(written)):
        storage.delete(out_bucket, key)  # e.g. an old .error.json once the page succeeds
    failed = [p for p in pages if p.error is not None]
    results = [p.result for p in pages if p.result is not None]
    return FileOutcome(
        key=req.key,
        status="done" if results or not failed else "failed",
        pages=max(1, len(pages)),
        pages_failed=len(failed),
        characters=sum(r.stats.characters for r in results),
        flagged=sum(r.stats.flagged for r in results),
        outputs=written,
        errors=[p.error.error_type for p in failed if p.error is not None],
        model_version=version,
        seconds=round(time.perf_counter() - start, 4),
    )


def _skipped(
    req: TranscribePageRequest, meta: dict[str, str], outputs: list[str], version: str, start: float
) -> FileOutcome:
    pages = int(meta.get(META_PAGES, "1"))
    failed = int(meta.get(META_FAILED, "0"))
    return FileOutcome(
        key=req.key,
        status="skipped",
        pages=pages,
        pages_failed=failed,
        characters=int(meta.get(META_CHARS, "0")),
        flagged=int(meta.get(META_FLAGGED, "0")),
        outputs=outputs,
        errors=["existing"] * failed,
        model_version=version,
        seconds=round(time.perf_counter() - start, 4),
    )


def _upload(
    storage: Storage, bucket: str, stem: str, pages: list[_Page], etag: str, version: str
) -> list[str]:
    """Write every page's outputs, the done-marker (first page's JSON) last; the keys."""
    results = [p.result for p in pages if p.result is not None]
    meta = {
        META_ETAG: etag,
        META_MODEL: version,
        META_PAGES: str(max(1, len(pages))),
        META_FAILED: str(sum(p.error is not None for p in pages)),
        META_CHARS: str(sum(r.stats.characters for r in results)),
        META_FLAGGED: str(sum(r.stats.flagged for r in results)),
    }
    written: list[str] = []
    for page in reversed(pages):  # the first page, which holds the marker, goes last
        s = page_stem(stem, page.index, page.multi)
        if page.error is not None:
            key = f"{s}.error.json"
            storage.upload(bucket, key, error_to_json(page.error).encode(), JSON_TYPE, meta)
            written.append(key)
            continue
        assert page.result is not None
        storage.upload(bucket, f"{s}.txt", to_text(page.result).encode(), TEXT_TYPE, meta)
        storage.upload(bucket, f"{s}.json", to_json(page.result).encode(), JSON_TYPE, meta)
        written += [f"{s}.txt", f"{s}.json"]
    return sorted(written)


def recover_outcomes(
    storage: Storage, sources: list[TranscribePageRequest], known: set[str]
) -> list[FileOutcome] | None:
    """Outcomes of sources the batch summary has no chunk result for, read back from their
    done-markers; None while some marker is still missing (that source is still running).

    Why: a chunk that ran twice (its worker died after storing the result, before the
    acknowledgement) makes the chord count it twice and call the summary one chunk early."""
    out = []
    for req in sources:
        if req.key in known:
            continue
        bucket = req.out_bucket or req.bucket
        stem = output_stem(req)
        for key in marker_candidates(stem):
            info = storage.head(bucket, key)
            if info is not None:
                meta = info.metadata
                outcome = _skipped(req, meta, [key], meta.get(META_MODEL, "unknown"), 0.0)
                out.append(outcome.model_copy(update={"status": "done", "seconds": 0.0}))
                break
        else:
            return None
    return out
