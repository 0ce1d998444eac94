"""S3-compatible object storage (AWS, MinIO, moto) for the worker.

Why a thin layer over boto3: the tasks need four operations with policies that must be the
same everywhere -- listing that pages through any number of keys, downloads that refuse
objects over a size limit *before* reading them, uploads that carry the metadata idempotency
relies on, and one classification of errors into "transient, retry the task" and "permanent,
record it". botocore already retries single requests (standard/adaptive mode); an error that
survives those retries surfaces here as a connection error or :class:`TransientStorageError`,
which the Celery tasks retry with backoff.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, IncompleteReadError
from botocore.exceptions import ConnectionError as BotoConnectionError

from worker.settings import Settings

LIST_PAGE_SIZE: int = 1000
"""Keys per ListObjectsV2 request (the S3 maximum)."""

READ_CHUNK_BYTES: int = 1 << 20
"""Streaming downloads read this much at a time, so the size limit holds without trusting
Content-Length."""

TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "Throttling",
        "ThrottlingException",
    }
)
"""S3 error codes that mean "try again later", not "this request is wrong"."""

NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})

SERVER_ERROR_STATUS: int = 500
NOT_FOUND_STATUS: int = 404


class StorageError(Exception):
    """A storage operation that failed for a reason retrying will not fix."""


class TransientStorageError(StorageError):
    """The store is overloaded or failing; the same request may succeed later."""


class ObjectNotFound(StorageError):
    """No object under that key."""


class ObjectTooLarge(StorageError):
    """An object above the configured download limit (refused before reading it)."""


TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    BotoConnectionError,
    HTTPClientError,
    IncompleteReadError,
    TransientStorageError,
)
"""What tasks retry: endpoint unreachable, connection reset/closed, timeouts, 5xx/throttling,
a body cut off while it was read. EndpointConnectionError and ConnectTimeoutError derive from
botocore's ConnectionError, ConnectionClosedError, ReadTimeoutError and
ResponseStreamingError from HTTPClientError; IncompleteReadError (fewer bytes than the
Content-Length, seen when S3 stalled mid-download in CI) derives from none of them."""


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> S3Uri:
    """``s3://bucket/some/prefix`` -> (bucket, "some/prefix"); the key may be empty."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3://BUCKET/KEY URI")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} has no bucket")
    return S3Uri(bucket, key)


def join_key(prefix: str, name: str) -> str:
    """Join key parts with exactly one "/" (an empty prefix means the bucket root)."""
    prefix = prefix.strip("/")
    return f"{prefix}/{name.lstrip('/')}" if prefix else name.lstrip("/")


def clean_etag(etag: str) -> str:
    return etag.strip('"')


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    etag: str
    size: int
    metadata: dict[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None


@dataclass(frozen=True)
class Downloaded:
    data: bytes
    etag: str
    metadata: dict[str, str]


def make_client(settings: Settings) -> Any:
    """A boto3 S3 client for the configured endpoint, with botocore's retry policy."""
    config = Config(
        region_name=settings.s3_region,
        retries={"mode": settings.s3_retry_mode, "max_attempts": settings.s3_max_attempts},
        connect_timeout=settings.s3_connect_timeout_s,
        read_timeout=settings.s3_read_timeout_s,
        s3={"addressing_style": settings.s3_addressing_style},
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=settings.s3_endpoint_url or None, config=config
    )


def _classify(e: ClientError, what: str) -> StorageError:
    err = e.response.get("Error", {})
    code = str(err.get("Code", ""))
    status = int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    message = f"{what}: {code or status} {err.get('Message', '')}".strip()
    if code in TRANSIENT_CODES or status >= SERVER_ERROR_STATUS:
        return TransientStorageError(message)
    return StorageError(message)


def _is_not_found(e: ClientError) -> bool:
    err = e.response.get("Error", {})
    status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(err.get("Code", "")) in NOT_FOUND_CODES or status == NOT_FOUND_STATUS


class Storage:
    """The operations tasks need; every method raises StorageError subclasses or a
    botocore connection error (both transient kinds are in TRANSIENT_ERRORS)."""

    def __init__(self, client: Any, max_download_bytes: int) -> None:
        self.client = client
        self.max_download_bytes = max_download_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> Storage:
        return cls(make_client(settings), settings.max_download_bytes)

    def list_objects(
        self, bucket: str, prefix: str, page_size: int = LIST_PAGE_SIZE
    ) -> Iterator[ObjectInfo]:
        """Every object under ``prefix``, in key order, across as many pages as it takes."""
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
        )
        try:
            for page in pages:
                for obj in page.get("Contents", []):
                    yield ObjectInfo(
                        obj["Key"],
                        clean_etag(obj["ETag"]),
                        int(obj["Size"]),
                        last_modified=obj.get("LastModified"),
                    )
        except ClientError as e:
            raise _classify(e, f"list s3://{bucket}/{prefix}") from e

    def head(self, bucket: str, key: str) -> ObjectInfo | None:
        """Size, ETag and user metadata of an object, or None when it does not exist."""
        try:
            r = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as e:
            if _is_not_found(e):
                return None
            raise _classify(e, f"head s3://{bucket}/{key}") from e
        return ObjectInfo(
            key, clean_etag(r["ETag"]), int(r["ContentLength"]), dict(r.get("Metadata", {}))
        )

    def download(self, bucket: str, key: str, max_bytes: int | None = None) -> Downloaded:
        """The whole object; ObjectTooLarge before reading when it exceeds the limit."""
        limit = self.max_download_bytes if max_bytes is None else max_bytes
        try:
            r = self.client.get_object(Bucket=bucket, Key=key)
        except ClientError as e:
            if _is_not_found(e):
                raise ObjectNotFound(f"s3://{bucket}/{key}: no such object") from e
            raise _classify(e, f"get s3://{bucket}/{key}") from e
        body = r["Body"]
        try:
            if int(r.get("ContentLength", 0)) > limit:
                raise ObjectTooLarge(
                    f"s3://{bucket}/{key}: {r['ContentLength']} bytes, over the {limit} limit"
                )
            parts: list[bytes] = []
            total = 0
            while chunk := body.read(READ_CHUNK_BYTES):
                total += len(chunk)
                if total > limit:
                    raise ObjectTooLarge(f"s3://{bucket}/{key}: over the {limit} byte limit")
                parts.append(chunk)
        finally:
            body.close()
        return Downloaded(b"".join(parts), clean_etag(r["ETag"]), dict(r.get("Metadata", {})))

    def upload(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str,
        metadata: dict[str, str] | None = None,
    ) -> str:
        """Write one object (a single PUT: readers see all of it or nothing); its ETag."""
        try:
            r = self.client.put_object(
                Bucket=bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                Metadata=metadata or {},
            )
        except ClientError as e:
            raise _classify(e, f"put s3://{bucket}/{key}") from e
        return clean_etag(r["ETag"])

    def delete(self, bucket: str, key: str) -> None:
        try:
            self.client.delete_object(Bucket=bucket, Key=key)
        except ClientError as e:
            raise _classify(e, f"delete s3://{bucket}/{key}") from e
