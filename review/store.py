"""Where the review application reads and writes: a local folder or an S3 prefix.

Why one small interface: a decision is the same transaction whatever the storage (read a
document and its version, write it only if the version is unchanged), and the two places
differ only in how "only if unchanged" is made true -- an exclusive file lock around
compare-and-rename locally, ``If-Match`` / ``If-None-Match`` conditional PUTs on S3. Every
key is relative to the store's root and checked before use, so nothing outside the root is
ever read or written through a store.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

LOCK_NAME = ".scanscribe-review.lock"
"""The lock file in a local root: one per results folder, held only for one decision."""

ABSENT: str = ""
"""``expected`` version meaning "the object must not exist yet"."""

KEY_MAX_CHARS: int = 1024
"""S3's key length limit; local keys are held to it too."""


class StoreError(Exception):
    """A key that is not allowed or cannot be read."""


class NotFound(StoreError):
    """No document under that key."""


class Conflict(StoreError):
    """Someone else wrote the document since it was read."""


@dataclass(frozen=True)
class Versioned:
    data: bytes
    version: str
    """Opaque: a content hash locally, the ETag on S3."""
    metadata: dict[str, str] = field(default_factory=dict)
    """S3 user metadata (the worker's idempotency marks live there); empty locally."""


def check_key(key: str) -> str:
    """A relative key with no way out of the root (no "..", no absolute path, no NUL)."""
    if not key or len(key) > KEY_MAX_CHARS or "\x00" in key or "\\" in key:
        raise StoreError(f"refusing key {key!r}")
    p = PurePosixPath(key)
    if p.is_absolute() or any(part in ("..", ".", "") for part in key.split("/")):
        raise StoreError(f"refusing key {key!r} (outside the review root)")
    return key


class Store(Protocol):
    """Documents under one root (a folder or an S3 prefix), addressed by relative keys."""

    def describe(self, key: str) -> str:
        """The key as a user would write it (path or s3:// URI), for messages and records."""
        ...

    def list(self, suffix: str = "") -> Iterator[str]:
        """Every key under the root ending in ``suffix``, sorted."""
        ...

    def read(self, key: str) -> Versioned:
        """The document and its version; NotFound when absent."""
        ...

    def version(self, key: str) -> str:
        """The current version, or ABSENT."""
        ...

    def write(
        self,
        key: str,
        data: bytes,
        content_type: str,
        expected: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        """Write atomically; with ``expected`` (a version, or ABSENT for "must not exist"),
        only when the document is still at that version, else Conflict. ``metadata`` is kept
        on S3 (pass what was read, or a rewrite drops it). The new version."""
        ...

    def delete(self, key: str) -> None:
        """Remove a document (no error when it is already gone)."""
        ...

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        """Held around one decision: a file lock locally, nothing on S3 (where the
        conditional writes alone decide)."""
        ...


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalStore:
    """A folder. Writes go to a temporary file in the same folder and are renamed over the
    target (readers see the old or the new document, never a part)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self._held = threading.local()

    def path(self, key: str) -> Path:
        p = (self.root / check_key(key)).resolve()
        if not p.is_relative_to(self.root):  # a symlink pointing out of the root
            raise StoreError(f"refusing key {key!r} (resolves outside {self.root})")
        return p

    def describe(self, key: str) -> str:
        return str(self.path(key))

    def list(self, suffix: str = "") -> Iterator[str]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            base = Path(dirpath).relative_to(self.root)
            for name in sorted(filenames):
                if name.endswith(suffix) and not name.startswith("."):
                    yield (base / name).as_posix()

    def read(self, key: str) -> Versioned:
        try:
            data = self.path(key).read_bytes()
        except FileNotFoundError as e:
            raise NotFound(f"{self.describe(key)}: no such file") from e
        return Versioned(data, _digest(data))

    def version(self, key: str) -> str:
        try:
            return self.read(key).version
        except NotFound:
            return ABSENT

    def write(
        self,
        key: str,
        data: bytes,
        content_type: str,
        expected: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        target = self.path(key)
        with self.transaction():
            if expected is not None and self.version(key) != expected:
                raise Conflict(f"{target} changed since it was read")
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        return _digest(data)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """An exclusive flock on the root's lock file, re-entrant within one thread. flock
        belongs to the open file, so other threads, processes and stores wait for it."""
        if getattr(self._held, "depth", 0):
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_NAME, "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


PRECONDITION_FAILED = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
"""S3's answers to a conditional write whose condition no longer holds."""


class S3Store:
    """An S3 prefix. Conditional writes use ``If-Match`` (replace only that ETag) and
    ``If-None-Match: *`` (create only), which S3, MinIO and moto honour."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def full_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def describe(self, key: str) -> str:
        return f"s3://{self.bucket}/{self.full_key(key)}"

    def list(self, suffix: str = "") -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for obj in page.get("Contents", []):
                rel = obj["Key"][len(self.prefix) :]
                if rel.endswith(suffix) and not rel.endswith("/"):
                    yield rel

    def read(self, key: str) -> Versioned:
        from botocore.exceptions import ClientError

        try:
            r = self.client.get_object(Bucket=self.bucket, Key=self.full_key(key))
        except ClientError as e:
            if _code(e) in {"NoSuchKey", "404", "NotFound"}:
                raise NotFound(f"{self.describe(key)}: no such object") from e
            raise
        with contextlib.closing(r["Body"]) as body:
            data = body.read()
        return Versioned(data, r["ETag"].strip('"'), dict(r.get("Metadata", {})))

    def version(self, key: str) -> str:
        from botocore.exceptions import ClientError

        try:
            r = self.client.head_object(Bucket=self.bucket, Key=self.full_key(key))
        except ClientError as e:
            if _code(e) in {"NoSuchKey", "404", "NotFound"}:
                return ABSENT
            raise
        return str(r["ETag"]).strip('"')

    def write(
        self,
        key: str,
        data: bytes,
        content_type: str,
        expected: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {}
        if expected == ABSENT:
            kwargs["IfNoneMatch"] = "*"
        elif expected is not None:
            kwargs["IfMatch"] = f'"{expected}"'
        try:
            r = self.client.put_object(
                Bucket=self.bucket,
                Key=self.full_key(key),
                Body=data,
                ContentType=content_type,
                Metadata=metadata or {},
                **kwargs,
            )
        except ClientError as e:
            if _code(e) in PRECONDITION_FAILED:
                raise Conflict(f"{self.describe(key)} changed since it was read") from e
            raise
        return str(r["ETag"]).strip('"')

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.full_key(key))

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def _code(e: Any) -> str:
    err = e.response.get("Error", {})
    status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(err.get("Code") or status or "")


def open_store(location: str, client_factory: Any = None) -> Store:
    """``s3://B/prefix/`` -> S3Store (client from the worker settings), else a LocalStore."""
    if location.startswith("s3://"):
        bucket, _, prefix = location[len("s3://") :].partition("/")
        if not bucket:
            raise StoreError(f"{location!r} has no bucket")
        if client_factory is None:
            from worker.settings import get_settings
            from worker.storage import make_client

            client = make_client(get_settings())
        else:
            client = client_factory()
        return S3Store(client, bucket, prefix)
    return LocalStore(Path(location))
