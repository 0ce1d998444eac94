"""The S3 writer of the batch core: transcribe one S3 object into result objects (the body
of the transcribe_page task).

Kept free of Celery so it can be called and tested directly; decoding, transcribing and
classifying outcomes is ocr.batch's, shared with ``scanscribe transcribe``, and so is the
naming rule (``OUT/<key relative to the prefix, extension kept>.json``). Why the care about
order: a task may run twice (a redelivered message after a lost worker, a retry after an
outage, a resubmitted batch), so every output key depends only on the source key, and the
object that marks a source as done -- the first page's ``.json`` or ``.error.json``, carrying
the source ETag and model version in its metadata -- is written last. If it is present and
matches, every other output of that source is too, and the work is skipped (unless it records
a failure a resubmit should retry: ``internal``, ``worker-crashed``).
"""

from __future__ import annotations

import logging
import time
from pathlib import PurePosixPath

from ocr.batch import (
    INPUT_SUFFIXES,
    PageOutcome,
    UnsafeName,
    check_relative,
    file_error,
    is_output_of,
    marker_names,
    rendered_outputs,
    tally,
    transcribe_pages,
)
from ocr.io.imageio import read_pages_from_bytes
from ocr.pipeline import PipelineOptions
from schemas.tasks import FileOutcome, TranscribePageRequest
from worker.registry import ModelCache
from worker.storage import (
    TRANSIENT_ERRORS,
    ObjectTooLarge,
    Storage,
    StorageError,
    join_key,
)

log = logging.getLogger(__name__)

UNSAFE_NAME = "unsafe-name"
"""error_type of a source key with ``..`` or empty segments (no object is written for it)."""

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
CONTENT_TYPES = {".json": JSON_TYPE, ".txt": TEXT_TYPE, ".hocr": "text/html; charset=utf-8"}

META_ETAG = "source-etag"
META_MODEL = "model-version"
META_PAGES = "page-count"
META_FAILED = "pages-failed"
META_CHARS = "characters"
META_FLAGGED = "flagged"
META_RETRY = "retry-on-resubmit"
META_ERRORS = "error-types"
"""The failed pages' error types, comma-separated: a file skipped because its error record is
current (a chunk redone after a lost worker, a resubmit) reports why it failed, not
"existing"."""
META_FIELDS = "form-fields"
"""'yes' when the result holds the page's form fields: a result read without them is not
current for a batch that asks for fields."""


def is_input(key: str) -> bool:
    return PurePosixPath(key).suffix.lower() in INPUT_SUFFIXES


def folder(prefix: str) -> str:
    """A listing prefix with folder semantics: "in" means "in/", "" the whole bucket."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def relative_name(req: TranscribePageRequest) -> str:
    """The source key relative to the batch prefix (the whole key for an empty prefix or a
    key outside it), extension kept; UnsafeName for ``..``/empty segments."""
    base = folder(req.prefix)
    rel = req.key[len(base) :] if base and req.key.startswith(base) else req.key
    return check_relative(rel)


def output_stem(req: TranscribePageRequest) -> str:
    """``out_prefix/<relative name>``: the naming rule of ocr.batch, on S3."""
    return join_key(req.out_prefix, relative_name(req))


def unsafe_outcome(req: TranscribePageRequest, e: UnsafeName, version: str) -> FileOutcome:
    """A source whose key cannot name outputs: failed, nothing written, the reason logged."""
    log.error("s3://%s/%s: refused: %s", req.bucket, req.key, e)
    return FileOutcome(
        key=req.key,
        status="failed",
        pages=1,
        pages_failed=1,
        errors=[UNSAFE_NAME],
        model_version=version,
        seconds=0.0,
    )


def transcribe_object(
    storage: Storage,
    cache: ModelCache,
    req: TranscribePageRequest,
    options: PipelineOptions | None = None,
    passthrough: tuple[type[BaseException], ...] = (),
    crashed: str | None = None,
) -> FileOutcome:
    """Download, transcribe and upload one source; raises only transient storage errors
    (the task retries those) and ``passthrough`` (Celery's soft time limit): any other
    failure becomes an error record. ``crashed`` (why) writes a ``worker-crashed`` record
    instead of reading the source: it killed its worker too often."""
    start = time.perf_counter()
    options = options or PipelineOptions()
    out_bucket = req.out_bucket or req.bucket
    source = f"s3://{req.bucket}/{req.key}"
    recognizer = cache.get()
    version = recognizer.version
    try:
        stem = output_stem(req)
    except UnsafeName as e:  # nothing is written under a name that could escape
        return unsafe_outcome(req, e, version)
    if req.existing is not None:  # the batch listed the output prefix once for all pages
        existing = set(req.existing)
    else:
        existing = {
            o.key for o in storage.list_objects(out_bucket, stem + ".") if is_output_of(stem, o.key)
        }
    etag = req.etag
    if etag is None:
        info = storage.head(req.bucket, req.key)
        etag = info.etag if info is not None else ""

    if not req.force and crashed is None:
        for key in marker_names(stem):
            if key not in existing:
                continue
            info = storage.head(out_bucket, key)
            meta = info.metadata if info is not None else {}
            current = (
                meta.get(META_ETAG) == etag
                and meta.get(META_MODEL) == version
                and (meta.get(META_FIELDS) == "yes" or not options.reads_fields)
            )
            if etag and current and meta.get(META_RETRY) != "yes":
                return _skipped(req, meta, sorted(existing), version, start)
            break

    pages: list[PageOutcome]
    if crashed is not None:
        pages = file_error(source, "worker-crashed", f"{source}: {crashed}")
    else:
        try:
            dl = storage.download(req.bucket, req.key)
            etag = dl.etag
            pages = transcribe_pages(
                read_pages_from_bytes(dl.data, source), source, recognizer, options, passthrough
            )
        except passthrough:
            # The task's soft time limit: record the source as timed out, so that resubmitting
            # the batch moves past it instead of hitting the same wall, then let the task fail.
            msg = f"{source}: transcription exceeded the task's time limit"
            timed_out = file_error(source, "timeout", msg)
            written = _upload(storage, out_bucket, stem, timed_out, etag, version, options)
            _remove_stale(storage, out_bucket, existing, written)
            raise
        except ObjectTooLarge as e:
            pages = file_error(source, "too-large", str(e))
        except TRANSIENT_ERRORS:
            raise
        except StorageError as e:
            pages = file_error(source, "unreadable-file", str(e))

    written = _upload(storage, out_bucket, stem, pages, etag, version, options)
    _remove_stale(storage, out_bucket, existing, written)
    t = tally(pages)
    results = [p for p in pages if p.result is not None]
    return FileOutcome(
        key=req.key,
        status="failed" if t.failed and not results else "done",
        pages=t.pages,
        pages_failed=t.failed,
        characters=t.characters,
        flagged=t.flagged,
        outputs=written,
        errors=t.errors,
        model_version=version,
        seconds=round(time.perf_counter() - start, 4),
    )


def _remove_stale(storage: Storage, bucket: str, existing: set[str], written: list[str]) -> None:
    for key in sorted(existing - set(written)):
        storage.delete(bucket, key)  # e.g. an old .error.json once the page succeeds


def _skipped(
    req: TranscribePageRequest, meta: dict[str, str], outputs: list[str], version: str, start: float
) -> FileOutcome:
    pages = int(meta.get(META_PAGES, "1"))
    failed = int(meta.get(META_FAILED, "0"))
    known = [e for e in meta.get(META_ERRORS, "").split(",") if e]
    errors = known if len(known) == failed else ["existing"] * failed  # older markers
    return FileOutcome(
        key=req.key,
        status="skipped",
        pages=pages,
        pages_failed=failed,
        characters=int(meta.get(META_CHARS, "0")),
        flagged=int(meta.get(META_FLAGGED, "0")),
        outputs=outputs,
        errors=errors,
        model_version=version,
        seconds=round(time.perf_counter() - start, 4),
    )


def _upload(
    storage: Storage,
    bucket: str,
    stem: str,
    pages: list[PageOutcome],
    etag: str,
    version: str,
    options: PipelineOptions,
) -> list[str]:
    """Write every page's outputs, the done-marker (first page's JSON) last; the keys."""
    t = tally(pages)
    meta = {
        META_ETAG: etag,
        META_MODEL: version,
        META_PAGES: str(t.pages),
        META_FAILED: str(t.failed),
        META_CHARS: str(t.characters),
        META_FLAGGED: str(t.flagged),
        META_RETRY: "yes" if t.retry else "no",
        META_FIELDS: "yes" if options.reads_fields else "no",
        META_ERRORS: ",".join(t.errors),
    }
    written: list[str] = []
    for key, data in rendered_outputs(stem, pages):
        ctype = next((v for k, v in CONTENT_TYPES.items() if key.endswith(k)), JSON_TYPE)
        storage.upload(bucket, key, data, ctype, meta)
        written.append(key)
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
        try:
            stem = output_stem(req)
        except UnsafeName as e:
            out.append(unsafe_outcome(req, e, "none"))
            continue
        for key in marker_names(stem):
            info = storage.head(bucket, key)
            if info is not None:
                meta = info.metadata
                outcome = _skipped(req, meta, [key], meta.get(META_MODEL, "unknown"), 0.0)
                out.append(outcome.model_copy(update={"status": "done", "seconds": 0.0}))
                break
        else:
            return None
    return out
