"""The model registry in S3 and the per-process model cache.

Layout under ``MODEL_URI`` (e.g. ``s3://bucket/models/``)::

    <version>/model.npz        weights (sha256 in the manifest)
    <version>/manifest.json    schemas.manifest.ModelManifest, with ``promotion``
    <version>/report/...       learning curves, confusion matrix, model card
    current.json               schemas.tasks.ModelPointer: the version workers use

Why a pointer object: publishing a version and making it current are separate decisions
(a retrained candidate may be published but not promoted), and a single small PUT switches
every worker atomically. Workers re-read the pointer every ``model_poll_interval_s`` and
verify the weights' sha256 before use, so a new model rolls out without restarts and a
corrupted upload is refused instead of served.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ocr.model.store import (
    DEFAULT_MODEL_DIR,
    MANIFEST_FILE,
    WEIGHTS_FILE,
    ModelError,
    Recognizer,
    load_model,
    read_manifest,
    recognizer_from_bytes,
)
from schemas.manifest import ModelManifest, Promotion
from schemas.tasks import ModelPointer
from worker.storage import (
    TRANSIENT_ERRORS,
    ObjectNotFound,
    Storage,
    StorageError,
    join_key,
    parse_s3_uri,
)

log = logging.getLogger(__name__)

POINTER_FILE = "current.json"
REPORT_DIR = "report"
JSON_TYPE = "application/json"
CONTENT_TYPES = {
    ".json": JSON_TYPE,
    ".npz": "application/octet-stream",
    ".png": "image/png",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


class RegistryError(Exception):
    """A registry operation that cannot be done (unknown version, nothing to roll back)."""


class PointerError(RegistryError):
    """``current.json`` exists but cannot be read or parsed (403, truncated, wrong JSON)."""


class Registry:
    """Published model versions under one S3 prefix."""

    def __init__(self, storage: Storage, uri: str, model_max_bytes: int) -> None:
        loc = parse_s3_uri(uri)
        self.storage = storage
        self.bucket = loc.bucket
        self.prefix = loc.key.strip("/")
        self.model_max_bytes = model_max_bytes

    def key(self, *parts: str) -> str:
        out = self.prefix
        for p in parts:
            out = join_key(out, p)
        return out

    def uri(self, *parts: str) -> str:
        return f"s3://{self.bucket}/{self.key(*parts)}"

    def versions(self) -> list[str]:
        """Published versions (those with a manifest), sorted."""
        suffix = "/" + MANIFEST_FILE
        base = self.key("")
        found = set()
        for obj in self.storage.list_objects(self.bucket, base):
            rest = obj.key[len(base) :]
            if rest.endswith(suffix) and rest.count("/") == 1:
                found.add(rest[: -len(suffix)])
        return sorted(found)

    def manifest(self, version: str) -> ModelManifest:
        try:
            data = self.storage.download(
                self.bucket, self.key(version, MANIFEST_FILE), max_bytes=self.model_max_bytes
            )
        except ObjectNotFound as e:
            raise RegistryError(f"no published version {version!r} ({e})") from e
        try:
            return ModelManifest.model_validate_json(data.data)
        except ValueError as e:
            raise ModelError(f"{self.uri(version, MANIFEST_FILE)}: invalid manifest: {e}") from e

    def current(self) -> ModelPointer | None:
        """The pointer, or None when no version was ever made current; PointerError when it
        cannot be read (refused, truncated, not a pointer), transient errors as they are."""
        uri = self.uri(POINTER_FILE)
        try:
            if self.storage.head(self.bucket, self.key(POINTER_FILE)) is None:
                return None
            data = self.storage.download(
                self.bucket, self.key(POINTER_FILE), max_bytes=self.model_max_bytes
            )
        except TRANSIENT_ERRORS:
            raise
        except StorageError as e:  # e.g. 403: the workers' role may not read it
            raise PointerError(f"{uri}: cannot be read: {e}") from e
        try:
            return ModelPointer.model_validate_json(data.data)
        except ValueError as e:
            raise PointerError(f"{uri}: not a valid pointer ({len(data.data)} bytes): {e}") from e

    def load(self, version: str, expected_sha256: str | None = None) -> Recognizer:
        """Download and verify one version; ModelError when its bytes do not match."""
        manifest = self.manifest(version)
        if expected_sha256 is not None and manifest.model_sha256 != expected_sha256:
            raise ModelError(
                f"{self.uri(version)}: manifest sha256 {manifest.model_sha256[:12]}... is not "
                f"the pointer's {expected_sha256[:12]}...; refusing to load"
            )
        data = self.storage.download(
            self.bucket, self.key(version, WEIGHTS_FILE), max_bytes=self.model_max_bytes
        )
        return recognizer_from_bytes(data.data, manifest, source=self.uri(version, WEIGHTS_FILE))

    def publish(
        self, model_dir: Path, version: str | None = None, promotion: Promotion | None = None
    ) -> ModelManifest:
        """Upload a local model directory as ``<version>/`` (weights last is not needed:
        nothing reads a version until a pointer names it). Verifies the weights first."""
        manifest = read_manifest(model_dir)
        load_model(model_dir)  # refuses weights that do not match the manifest
        update: dict[str, object] = {}
        if version is not None and version != manifest.version:
            update["version"] = version
        if promotion is not None:
            update["promotion"] = promotion
        manifest = manifest.model_copy(update=update)
        v = manifest.version
        if not v or "/" in v:
            raise RegistryError(f"version {v!r} cannot name a registry folder")
        self._put_file(model_dir / WEIGHTS_FILE, self.key(v, WEIGHTS_FILE))
        report = model_dir / REPORT_DIR
        if report.is_dir():
            for f in sorted(p for p in report.rglob("*") if p.is_file()):
                self._put_file(f, self.key(v, REPORT_DIR, str(f.relative_to(report))))
        self.storage.upload(
            self.bucket,
            self.key(v, MANIFEST_FILE),
            (manifest.model_dump_json(indent=2) + "\n").encode(),
            JSON_TYPE,
        )
        return manifest

    def _put_file(self, path: Path, key: str) -> None:
        ctype = CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")
        self.storage.upload(self.bucket, key, path.read_bytes(), ctype)

    def set_current(self, version: str, reason: str, verify: bool = True) -> ModelPointer:
        """Point workers at ``version`` (after verifying its weights, unless told not to)."""
        manifest = self.manifest(version)
        if verify:
            self.load(version)
        old = self.current()
        history = list(old.history) if old else []
        if old is not None and old.version != version:
            history.append(old.version)
        return self._write_pointer(version, manifest.model_sha256, reason, history)

    def rollback(self) -> ModelPointer:
        """Make the previous current version current again."""
        old = self.current()
        if old is None or not old.history:
            raise RegistryError("nothing to roll back to (no previous current version)")
        *history, previous = old.history
        manifest = self.manifest(previous)
        self.load(previous)
        return self._write_pointer(
            previous, manifest.model_sha256, f"rollback from {old.version}", history
        )

    def _write_pointer(
        self, version: str, sha256: str, reason: str, history: list[str]
    ) -> ModelPointer:
        pointer = ModelPointer(
            version=version,
            model_sha256=sha256,
            updated_at=datetime.now(UTC),
            reason=reason,
            history=history,
        )
        self.storage.upload(
            self.bucket,
            self.key(POINTER_FILE),
            (pointer.model_dump_json(indent=2) + "\n").encode(),
            JSON_TYPE,
        )
        return pointer


@dataclass
class _Refused:
    version: str
    sha256: str


class ModelCache:
    """The recognizer of one worker process: loaded once, re-checked every poll interval.

    Without a registry (or before anything was made current) it serves the shipped model.
    A new current version that fails verification is refused and logged; the process keeps
    serving the model it has, and does not download the refused one again.
    """

    def __init__(
        self,
        registry: Registry | None,
        poll_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
        fallback_dir: Path = DEFAULT_MODEL_DIR,
    ) -> None:
        self.registry = registry
        self.poll_interval_s = poll_interval_s
        self.clock = clock
        self.fallback_dir = fallback_dir
        self._rec: Recognizer | None = None
        self._checked_at = float("-inf")
        self._refused: _Refused | None = None
        self.problem: str | None = None
        """Why the last look at the pointer failed (None: it did not)."""

    def get(self) -> Recognizer:
        now = self.clock()
        if self._rec is None or now - self._checked_at >= self.poll_interval_s:
            self._refresh()
            self._checked_at = now
        assert self._rec is not None
        return self._rec

    def _refresh(self) -> None:
        pointer: ModelPointer | None = None
        if self.registry is not None:
            try:
                pointer = self.registry.current()
            except TRANSIENT_ERRORS + (PointerError,) as e:
                # Keep serving: a pointer we cannot read says nothing against the model we
                # have, and failing every task over it would stop the whole batch.
                self.problem = f"model pointer unreadable: {e}"
                if self._rec is None:
                    raise
                log.error("%s; keeping model %s", self.problem, self._rec.version)
                return
            self.problem = None
        if pointer is None:
            if self._rec is None:
                self._rec = load_model(self.fallback_dir)
            return
        rec = self._rec
        if rec is not None and (rec.version, rec.manifest.model_sha256) == (
            pointer.version,
            pointer.model_sha256,
        ):
            return
        refused = self._refused
        if refused is not None and (refused.version, refused.sha256) == (
            pointer.version,
            pointer.model_sha256,
        ):
            if rec is None:
                raise ModelError(f"current model {pointer.version} was refused")
            return
        assert self.registry is not None
        try:
            new = self.registry.load(pointer.version, expected_sha256=pointer.model_sha256)
        except (ModelError, RegistryError) as e:
            self._refused = _Refused(pointer.version, pointer.model_sha256)
            log.error("refusing model %s: %s", pointer.version, e)
            if rec is None:
                raise ModelError(f"current model {pointer.version} refused: {e}") from e
            return
        log.info("switched model %s -> %s", rec.version if rec else None, new.version)
        self._rec = new
