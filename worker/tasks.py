"""Celery tasks: transcribe a page, fan out a prefix, summarize a batch, retrain.

Messages are the pydantic models of :mod:`schemas.tasks`, sent as JSON keyword arguments and
validated on arrival. Only transient storage/connection errors are retried (with exponential
backoff and jitter); a bad input is recorded as an error object and never retried, because
retrying cannot fix it and would only delay the batch.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from celery import Task, chord
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init

from ocr.batch import UnsafeName, stem_of_output
from ocr.pipeline import PipelineOptions
from schemas.tasks import (
    BatchStarted,
    BatchSummary,
    FailedFile,
    FileOutcome,
    RetrainRequest,
    TranscribePageRequest,
    TranscribePrefixRequest,
)
from worker.celery_app import PREFIX_TASK, RETRAIN_TASK, TASK_PREFIX, app
from worker.fieldtable import FIELDS_NAME, write_fields_csv
from worker.registry import ModelCache, Registry
from worker.settings import Settings, get_settings
from worker.storage import TRANSIENT_ERRORS, ObjectInfo, Storage, join_key
from worker.transcribe import (
    folder,
    is_input,
    output_stem,
    recover_outcomes,
    transcribe_object,
)

log = logging.getLogger(__name__)

SUMMARY_NAME = "_batch.json"

RECOVERY_WAIT_S: float = 2.0
"""How long the summary waits for a chunk that is still running after an early chord."""
RECOVERY_RETRIES: int = 600
"""... and how many times (with the wait: longer than the chunk's hard time limit)."""
RETRAIN_LOCK = "scanscribe:retrain-lock"

_settings = get_settings()
RETRY_OPTIONS: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": True,
    "retry_backoff_max": _settings.retry_backoff_max_s,
    "retry_jitter": True,
    "max_retries": _settings.max_retries,
}


class _State:
    """Per-process clients and model, created on first use (after the pool forked)."""

    storage: Storage | None = None
    registry: Registry | None = None
    cache: ModelCache | None = None


def settings() -> Settings:
    return get_settings()


def storage() -> Storage:
    if _State.storage is None:
        _State.storage = Storage.from_settings(settings())
    return _State.storage


def registry() -> Registry | None:
    s = settings()
    if _State.registry is None and s.model_uri:
        _State.registry = Registry(storage(), s.model_uri, s.model_max_bytes)
    return _State.registry


def model_cache() -> ModelCache:
    if _State.cache is None:
        _State.cache = ModelCache(registry(), settings().model_poll_interval_s)
    return _State.cache


@worker_process_init.connect
def _preload_model(**_: object) -> None:
    """Load the model when a pool process starts, so the first task does not pay for it."""
    try:
        model_cache().get()
    except Exception as e:  # noqa: BLE001 - the first task will retry and report it
        log.warning("could not preload the model: %s", e)


DELIVERY_KEY = "scanscribe:reading:"
"""Redis key prefix of the per-page counter of reads that have not ended (yet)."""

DELIVERY_TTL_S: int = 7 * 24 * 3600
"""A counter left by crashes is forgotten after this (seconds), like the batch's results."""


class _Deliveries:
    """How many times a page was started without its process surviving to say it ended.

    Why: ``task_reject_on_worker_lost`` requeues a chunk whose process died, which is right
    for a machine lost or a pool process killed once, and wrong for a page that kills its
    process every time (out of memory): it would circulate forever. A counter per page, up
    before reading it and deleted after (whatever the outcome, in ``finally``), is left
    raised only by a death; after ``max_deliveries`` of those the page gets a
    ``worker-crashed`` error record instead of another try. Without Redis (another broker,
    or Redis unreachable right now) pages are read without the cap, and that is logged."""

    def __init__(self) -> None:
        self.client: Any = None

    def _redis(self) -> Any:
        url = settings().broker_url
        if self.client is None and url.startswith(("redis://", "rediss://")):
            import redis

            self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return self.client

    @staticmethod
    def key(req: TranscribePageRequest) -> str:
        out = f"{req.out_bucket or req.bucket}/{req.out_prefix}"
        return f"{DELIVERY_KEY}{req.bucket}/{req.key}>{out}"

    def start(self, req: TranscribePageRequest) -> int:
        """This read's number (1 = first); 0 when unknown."""
        try:
            client = self._redis()
            if client is None:
                return 0
            pipe = client.pipeline()
            pipe.incr(self.key(req))
            pipe.expire(self.key(req), DELIVERY_TTL_S)
            return int(pipe.execute()[0])
        except Exception as e:  # noqa: BLE001 - the cap is a safeguard, not a precondition
            log.warning("delivery count of %s unavailable, reading it uncapped: %r", req.key, e)
            return 0

    def end(self, req: TranscribePageRequest) -> None:
        try:
            client = self._redis()
            if client is not None:
                client.delete(self.key(req))
        except Exception as e:  # noqa: BLE001 - a left counter only expires later
            log.warning("could not clear the delivery count of %s: %r", req.key, e)


_deliveries = _Deliveries()


def _run_page(req: TranscribePageRequest) -> FileOutcome:
    cap = settings().max_deliveries
    attempt = _deliveries.start(req)
    crashed = None
    if attempt > cap:
        crashed = f"its worker process died {attempt - 1} times while reading it; not retried"
        log.error("s3://%s/%s: %s", req.bucket, req.key, crashed)
    try:
        return transcribe_object(
            storage(),
            model_cache(),
            req,
            PipelineOptions(fields=req.fields),
            passthrough=(SoftTimeLimitExceeded,),
            crashed=crashed,
        )
    finally:
        _deliveries.end(req)


@app.task(name=TASK_PREFIX + "transcribe_page", bind=True, **RETRY_OPTIONS)
def transcribe_page(self: Task, **request: Any) -> dict[str, Any]:
    """transcribe_page(bucket, key, out_prefix, force=False, ...) -> FileOutcome."""
    return _run_page(TranscribePageRequest(**request)).model_dump(mode="json")


@app.task(name=TASK_PREFIX + "transcribe_chunk", bind=True, **RETRY_OPTIONS)
def transcribe_chunk(self: Task, pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Several pages in one message (fewer round trips); a retry redoes only unfinished ones,
    finished pages are skipped by their done-markers."""
    requests = [TranscribePageRequest(**p) for p in pages]
    if self.request.retries or (self.request.delivery_info or {}).get("redelivered"):
        for r in requests:  # the batch's listing predates the earlier attempt: look again
            r.existing = None
    return [_run_page(r).model_dump(mode="json") for r in requests]


def batch_sources(bucket: str, prefix: str, out_bucket: str, out_prefix: str) -> list[ObjectInfo]:
    """Every image/PDF under the prefix, except the batch's own outputs."""
    inside = out_bucket == bucket and bool(out_prefix)
    return [
        o
        for o in storage().list_objects(bucket, prefix)
        if is_input(o.key) and not (inside and o.key.startswith(out_prefix))
    ]


@app.task(name=PREFIX_TASK, bind=True, **RETRY_OPTIONS)
def transcribe_prefix(self: Task, **request: Any) -> dict[str, Any]:
    """List every image/PDF under the prefix and fan out chunks in a chord whose callback
    writes ``_batch.json``. The task id is the batch id."""
    req = TranscribePrefixRequest(**request)
    batch_id = str(self.request.id)
    started = datetime.now(UTC)
    prefix = folder(req.prefix)
    out_prefix = folder(req.out_prefix)
    out_bucket = req.out_bucket or req.bucket
    keys = batch_sources(req.bucket, prefix, out_bucket, out_prefix)
    # One listing of the output prefix for the whole batch instead of one per page.
    outputs: dict[str, list[str]] = {}
    for o in storage().list_objects(out_bucket, out_prefix):
        stem = stem_of_output(o.key)
        if stem is not None:
            outputs.setdefault(stem, []).append(o.key)
    pages = []
    for o in keys:
        page = TranscribePageRequest(
            bucket=req.bucket,
            key=o.key,
            out_prefix=req.out_prefix,
            force=req.force,
            prefix=prefix,
            etag=o.etag,
            out_bucket=out_bucket,
            fields=req.fields,
        )
        try:
            page.existing = outputs.get(output_stem(page), [])
        except UnsafeName:
            page.existing = []  # the chunk records it as failed, writing nothing
        pages.append(page.model_dump(mode="json"))
    n = settings().chunk_size
    chunks = [pages[i : i + n] for i in range(0, len(pages), n)]
    summary_key = join_key(req.out_prefix, SUMMARY_NAME)
    meta = {
        "batch_id": batch_id,
        "bucket": req.bucket,
        "prefix": prefix,
        "out_prefix": req.out_prefix,
        "source": f"s3://{req.bucket}/{prefix}",
        "output": f"s3://{out_bucket}/{out_prefix}",
        "out_bucket": out_bucket,
        "summary_key": summary_key,
        "started_at": started.isoformat(),
        "files": len(pages),
        "fields": req.fields,
    }
    group_id = callback_id = None
    if chunks:
        result = chord(transcribe_chunk.s(c) for c in chunks)(finish_batch.s(meta))
        result.parent.save()  # lets clients restore the group and follow its progress
        group_id, callback_id = result.parent.id, result.id
    else:
        finish_batch([], meta)
    return BatchStarted(
        batch_id=batch_id,
        files=len(pages),
        chunks=len(chunks),
        group_id=group_id,
        callback_id=callback_id,
        summary_key=summary_key,
        started_at=started,
        summary_meta=meta,
    ).model_dump(mode="json")


def summarize(outcomes: list[FileOutcome], meta: dict[str, Any]) -> BatchSummary:
    finished = datetime.now(UTC)
    started = datetime.fromisoformat(meta["started_at"])
    seconds = max((finished - started).total_seconds(), 0.0)
    done = sum(o.pages - o.pages_failed for o in outcomes if o.status != "skipped")
    versions = Counter(o.model_version for o in outcomes)
    return BatchSummary(
        batch_id=meta["batch_id"],
        source=meta["source"],
        output=meta["output"],
        files=len(outcomes),
        pages_done=done,
        pages_skipped=sum(o.pages - o.pages_failed for o in outcomes if o.status == "skipped"),
        pages_failed=sum(o.pages_failed for o in outcomes),
        characters=sum(o.characters for o in outcomes),
        flagged_chars=sum(o.flagged for o in outcomes),
        model_version=versions.most_common(1)[0][0] if versions else None,
        model_versions=sorted(versions),
        failed=[FailedFile(key=o.key, errors=o.errors) for o in outcomes if o.pages_failed],
        started_at=started,
        finished_at=finished,
        seconds=round(seconds, 3),
        pages_per_second=round(done / seconds, 3) if seconds > 0 else 0.0,
    )


@app.task(name=TASK_PREFIX + "finish_batch", bind=True, **RETRY_OPTIONS)
def finish_batch(self: Task, chunks: list[list[dict[str, Any]]], meta: dict[str, Any]) -> dict:
    """The chord callback: write ``_batch.json`` and return the same summary."""
    # Keyed by source: a chunk that ran twice must not count twice.
    by_key = {o["key"]: FileOutcome(**o) for chunk in chunks for o in chunk}
    outcomes = list(by_key.values())
    if len(outcomes) < meta["files"]:
        started = datetime.fromisoformat(meta["started_at"])
        sources = [  # those that were there when the batch listed them
            TranscribePageRequest(
                bucket=meta["bucket"],
                key=o.key,
                out_prefix=meta["out_prefix"],
                prefix=meta["prefix"],
                out_bucket=meta["out_bucket"],
            )
            for o in batch_sources(
                meta["bucket"], meta["prefix"], meta["out_bucket"], folder(meta["out_prefix"])
            )
            if o.last_modified is None or o.last_modified <= started
        ]
        recovered = recover_outcomes(storage(), sources, set(by_key))
        if recovered is None:
            raise self.retry(countdown=RECOVERY_WAIT_S, max_retries=RECOVERY_RETRIES)
        outcomes += recovered
    summary = summarize(outcomes, meta)
    if meta.get("fields"):  # the table first: _batch.json is the batch's done-marker
        key = join_key(meta["out_prefix"], FIELDS_NAME)
        write_fields_csv(storage(), meta["out_bucket"], key, outcomes)
        summary.fields_csv = f"s3://{meta['out_bucket']}/{key}"
    storage().upload(
        meta["out_bucket"],
        meta["summary_key"],
        (summary.model_dump_json(indent=2) + "\n").encode(),
        "application/json",
    )
    return summary.model_dump(mode="json")


@app.task(
    name=RETRAIN_TASK,
    bind=True,
    soft_time_limit=_settings.training_soft_time_limit_s,
    time_limit=_settings.training_time_limit_s,
    **RETRY_OPTIONS,
)
def retrain(
    self: Task, datasets: list[str], hyperparameters: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """Train on S3 data, gate against the current model, publish, promote if not worse.

    One retrain at a time per broker (a Redis lock), so a duplicated beat or an impatient
    user cannot train two candidates that race for the pointer."""
    from worker.training import RetrainError, new_version
    from worker.training import retrain as run_retrain

    s = settings()
    req = RetrainRequest(datasets=datasets, hyperparameters=hyperparameters or {}, **extra)
    reg = registry()
    if reg is None:
        raise RetrainError("SCANSCRIBE_MODEL_URI is not set: there is no registry to publish to")
    version = req.version or new_version(str(self.request.id))
    with _retrain_lock(s):
        result = run_retrain(storage(), reg, req, s.promotion_margin, s.gate_data, version)
    return result.model_dump(mode="json")


class _retrain_lock:
    """A Redis lock held for at most the hard training time limit (no-op without Redis)."""

    def __init__(self, s: Settings) -> None:
        self.lock: Any = None
        if s.broker_url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(s.broker_url)
            self.lock = client.lock(RETRAIN_LOCK, timeout=s.training_time_limit_s)

    def __enter__(self) -> None:
        if self.lock is not None and not self.lock.acquire(blocking=False):
            from worker.training import RetrainError

            raise RetrainError("another retrain is running (lock held); not starting a second")

    def __exit__(self, *exc: object) -> None:
        if self.lock is not None:
            try:
                self.lock.release()
            except Exception as e:  # noqa: BLE001 - an expired lock is already free
                log.warning("retrain lock: %s", e)
