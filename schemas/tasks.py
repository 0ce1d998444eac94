"""Messages of the distributed worker: task requests, their results, and registry records.

Why pydantic models for Celery messages: messages are JSON (the only serializer the workers
accept), cross process and version boundaries, and can sit in a queue while workers are
upgraded. Validating them on both ends turns a malformed or stale message into a clear error,
and the committed JSON Schema files document the contract for other clients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from schemas.manifest import Promotion

TASK_SCHEMA_VERSION = 1


class TranscribePageRequest(BaseModel):
    """Transcribe one object (image, multi-page TIFF or PDF) into result objects."""

    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(min_length=1)
    key: str = Field(min_length=1, description="the source object")
    out_prefix: str = Field(description="results go under this key prefix (same bucket)")
    force: bool = Field(default=False, description="redo even when a current result exists")
    prefix: str = Field(
        default="", description="source prefix the output name is relative to ('' = basename)"
    )
    etag: str | None = Field(default=None, description="source ETag from a listing, if known")
    out_bucket: str | None = Field(default=None, description="None = the source bucket")
    existing: list[str] | None = Field(
        default=None,
        description="this source's output keys as listed by the batch (saves one LIST per "
        "page); None = list them",
    )
    fields: bool = Field(
        default=False, description="also read printed form fields into PageResult.fields"
    )


class FileOutcome(BaseModel):
    """What one transcribe_page task did with one source object."""

    model_config = ConfigDict(extra="forbid")

    key: str
    status: Literal["done", "skipped", "failed"] = Field(
        description="done: transcribed now (some pages may have failed); skipped: a result for "
        "this source ETag and model version already existed; failed: no page could be read"
    )
    pages: NonNegativeInt = Field(description="pages in the source (1 for a plain image)")
    pages_failed: NonNegativeInt = 0
    characters: NonNegativeInt = 0
    flagged: NonNegativeInt = 0
    outputs: list[str] = Field(default_factory=list, description="keys written (or found)")
    errors: list[str] = Field(default_factory=list, description="error_type of each failure")
    model_version: str
    seconds: float = Field(ge=0, description="wall time of the task body")


class TranscribePrefixRequest(BaseModel):
    """Transcribe every image/PDF under a prefix; the batch's entry point."""

    model_config = ConfigDict(extra="forbid")

    bucket: str = Field(min_length=1)
    prefix: str
    out_prefix: str
    out_bucket: str | None = Field(default=None, description="None = the source bucket")
    force: bool = False
    fields: bool = Field(
        default=False,
        description="read printed form fields of every page and write _fields.csv (a row per "
        "page, a column per field label) beside _batch.json",
    )


class BatchStarted(BaseModel):
    """Returned by transcribe_prefix once the batch is fanned out: how to follow it."""

    model_config = ConfigDict(extra="forbid")

    batch_id: str
    files: NonNegativeInt
    chunks: NonNegativeInt
    group_id: str | None = Field(description="the chord header's GroupResult id")
    callback_id: str | None = Field(description="the task that writes _batch.json")
    summary_key: str
    started_at: datetime
    summary_meta: dict[str, Any] | None = Field(
        default=None,
        description="the summary task's own argument: lets a follower send the summary again "
        "when the broker lost it after every chunk finished (worker/follow.py)",
    )


class FailedFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    errors: list[str]


class BatchSummary(BaseModel):
    """``<out_prefix>/_batch.json``: what a batch did, written when its last chunk is done."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = TASK_SCHEMA_VERSION
    kind: Literal["batch"] = "batch"
    batch_id: str
    source: str = Field(description="s3://BUCKET/PREFIX that was transcribed")
    output: str = Field(description="s3://BUCKET/PREFIX results were written to")
    files: NonNegativeInt
    pages_done: NonNegativeInt = Field(description="pages transcribed by this batch")
    pages_skipped: NonNegativeInt = Field(description="pages whose current result existed")
    pages_failed: NonNegativeInt = Field(description="pages with an error record")
    characters: NonNegativeInt
    flagged_chars: NonNegativeInt = Field(description="characters flagged for review")
    model_version: str | None = Field(description="the model that did most of the work")
    model_versions: list[str] = Field(description="every model version seen in the batch")
    failed: list[FailedFile] = Field(default_factory=list)
    started_at: datetime
    finished_at: datetime
    seconds: float = Field(ge=0)
    pages_per_second: float = Field(ge=0, description="pages done / seconds")
    fields_csv: str | None = Field(
        default=None,
        description="s3://BUCKET/KEY of the batch's form-field table, when fields were asked for",
    )


class Hyperparameters(BaseModel):
    """Training knobs a retrain request may set; None = the default recipe's value."""

    model_config = ConfigDict(extra="forbid")

    hidden: list[int] | None = None
    dropout: float | None = Field(default=None, ge=0, lt=1)
    epochs: int | None = Field(default=None, ge=1)
    batch_size: int | None = Field(default=None, ge=1)
    lr: float | None = Field(default=None, gt=0)
    weight_decay: float | None = Field(default=None, ge=0)
    patience: int | None = Field(default=None, ge=0)
    seed: int | None = None
    members: int | None = Field(default=None, ge=1)
    stroke_copies: int | None = Field(default=None, ge=0)
    augment: bool = True


class RetrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    datasets: list[str] = Field(
        min_length=1, description="KIND:s3://BUCKET/KEY (a file, or a prefix for folder data)"
    )
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    gate: list[str] = Field(
        default_factory=list, description="gate set specs; empty = settings, else test split"
    )
    name: str = "scanscribe-retrained"
    version: str | None = Field(default=None, description="default: UTC time + task id")


class RetrainResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    model_uri: str
    promotion: Promotion
    current_version: str | None = Field(description="models/current.json after the task")


class ModelPointer(BaseModel):
    """``models/current.json``: which published version workers use, and how we got here."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = TASK_SCHEMA_VERSION
    version: str
    model_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    updated_at: datetime
    reason: str
    history: list[str] = Field(
        default_factory=list, description="previous current versions, oldest first (rollback)"
    )
