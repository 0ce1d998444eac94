"""Worker settings from the environment (prefix ``SCANSCRIBE_``), one place for every knob.

Why pydantic-settings: every worker machine, the beat process and the ``scanscribe submit``
client must agree on the broker, the bucket layout and the time limits; reading them from the
environment (or a ``.env`` file) with types and validation catches a typo at start-up instead
of as a stuck queue. Credentials are deliberately NOT settings: boto3 finds them through its
normal chain (environment, ``~/.aws``, instance role), so they never pass through our code.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SCANSCRIBE_"

MASK = "****"

DEFAULT_MAX_DOWNLOAD_BYTES: int = 100 * 1024 * 1024
"""Largest object a worker downloads (bytes); matches ocr.io.imageio.MAX_FILE_BYTES' order."""

DEFAULT_MODEL_MAX_BYTES: int = 512 * 1024 * 1024
"""Largest model.npz a worker downloads (bytes)."""

CRON_FIELDS = 5
"""minute hour day-of-month month day-of-week, as in crontab(5)."""

SECRET_QUERY = re.compile(r"(?i)(password|secret|token|key)=([^&]+)")


class Settings(BaseSettings):
    """Effective configuration of workers, beat and clients."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", case_sensitive=False
    )

    # Broker and results.
    broker_url: str = "redis://localhost:6379/0"
    result_backend: str = Field(default="", description="empty = the broker URL")
    result_expires_s: int = Field(default=7 * 24 * 3600, gt=0)

    # Storage.
    s3_endpoint_url: str = Field(default="", description="empty = AWS S3")
    s3_region: str = "us-east-1"
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    s3_retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"
    s3_max_attempts: int = Field(default=5, ge=1, description="botocore attempts per request")
    s3_connect_timeout_s: float = Field(default=5.0, gt=0)
    s3_read_timeout_s: float = Field(default=60.0, gt=0)
    max_download_bytes: int = Field(default=DEFAULT_MAX_DOWNLOAD_BYTES, gt=0)
    model_max_bytes: int = Field(default=DEFAULT_MODEL_MAX_BYTES, gt=0)

    # Model registry.
    model_uri: str = Field(
        default="", description="s3://BUCKET/PREFIX/ of the registry; empty = shipped model only"
    )
    model_poll_interval_s: float = Field(
        default=60.0, gt=0, description="how often a worker re-reads models/current.json"
    )
    promotion_margin: float = Field(
        default=0.005, ge=0, le=1, description="a candidate may be this much less accurate"
    )
    gate_data: list[str] = Field(
        default_factory=list,
        description="KIND:s3://... gate set; empty = the test split of the training data",
    )

    # OCR tasks.
    soft_time_limit_s: float = Field(default=540.0, gt=0)
    time_limit_s: float = Field(default=600.0, gt=0)
    chunk_size: int = Field(default=4, ge=1, description="files per fan-out task")
    max_retries: int = Field(default=8, ge=0, description="task retries for transient errors")
    retry_backoff_max_s: int = Field(default=60, gt=0)
    max_tasks_per_child: int = Field(default=500, ge=1)

    # Training.
    training_soft_time_limit_s: float = Field(default=6900.0, gt=0)
    training_time_limit_s: float = Field(default=7200.0, gt=0)
    retrain_cron: str = Field(default="", description="5-field cron for beat; empty = off")
    retrain_data: list[str] = Field(default_factory=list, description="datasets beat retrains on")
    retrain_hyperparameters: dict[str, object] = Field(default_factory=dict)

    # Broker and result backend outages.
    backend_max_retries: int = Field(
        default=32,
        ge=0,
        description="result-backend retries (exponential backoff, full jitter, at most 10 s "
        "apart: about 2 minutes) before a task or a waiting client gives up on Redis",
    )
    max_deliveries: int = Field(
        default=3,
        ge=1,
        description="a page whose process died this many times while reading it gets a "
        "worker-crashed error record instead of another try",
    )

    # Review application (``scanscribe review``).
    review_token: str = Field(
        default="",
        description="required when review binds to anything but 127.0.0.1/localhost",
    )
    review_threshold: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="review asks about flagged characters and those below this confidence",
    )

    # Broker redelivery.
    visibility_timeout_s: float = Field(
        default=7500.0,
        gt=0,
        description="an unacknowledged task is redelivered after this; must exceed every "
        "hard time limit, or a slow task would run twice",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.soft_time_limit_s >= self.time_limit_s:
            raise ValueError("soft_time_limit_s must be below time_limit_s")
        if self.training_soft_time_limit_s >= self.training_time_limit_s:
            raise ValueError("training_soft_time_limit_s must be below training_time_limit_s")
        longest = max(self.time_limit_s, self.training_time_limit_s)
        if self.visibility_timeout_s <= longest:
            raise ValueError(
                f"visibility_timeout_s ({self.visibility_timeout_s:g}) must exceed the longest "
                f"hard time limit ({longest:g}): the broker would hand a running task to a "
                "second worker"
            )
        if self.retrain_cron and len(self.retrain_cron.split()) != CRON_FIELDS:
            raise ValueError(f"retrain_cron {self.retrain_cron!r} needs {CRON_FIELDS} fields")
        if self.model_uri and not self.model_uri.startswith("s3://"):
            raise ValueError(f"model_uri {self.model_uri!r} must be s3://BUCKET/PREFIX/")
        return self

    @property
    def effective_result_backend(self) -> str:
        return self.result_backend or self.broker_url

    def masked(self) -> dict[str, object]:
        """Every setting as printed by ``scanscribe config``: passwords in URLs hidden."""
        out: dict[str, object] = {}
        for name, value in self.model_dump().items():
            out[name] = mask_url(value) if isinstance(value, str) and "://" in value else value
        out["result_backend"] = mask_url(self.effective_result_backend)
        if self.review_token:
            out["review_token"] = MASK
        return out


def mask_url(url: str) -> str:
    """``redis://user:secret@host`` -> ``redis://user:****@host``; secret query values too."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in userinfo else f"{MASK}@{host}"
    query = SECRET_QUERY.sub(lambda m: f"{m.group(1)}={MASK}", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings (read once; tests call ``get_settings.cache_clear()``)."""
    return Settings()
