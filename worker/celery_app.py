"""The Celery application: broker, serialization, delivery guarantees, routes and beat.

Why these settings (Celery's own recommendations for long, idempotent, CPU-bound tasks):

* JSON only (``accept_content=["json"]``): a worker never unpickles a message, so access to
  the broker does not mean code execution on every worker.
* ``task_acks_late`` + ``task_reject_on_worker_lost``: a message is acknowledged after the
  task finished, so a worker killed mid-page (OOM, kill -9, lost machine) hands the page to
  another worker instead of losing it. Tasks are idempotent, so running one twice is safe.
* ``worker_prefetch_multiplier=1``: a worker holds only the task it runs; with tasks of
  seconds each, prefetching would leave other workers idle at the end of a batch.
* Redis ``visibility_timeout`` above every hard time limit (validated in Settings), and a
  restore sweep a few times per timeout, so an abandoned message comes back promptly but a
  running task is never handed out twice.
* ``max_tasks_per_child`` bounds memory growth of long-lived worker processes.

Why these for a Redis restart (broker and result backend are the same Redis):

* ``worker_cancel_long_running_tasks_on_connection_loss`` (Celery's default from 6.0): a
  late-acknowledged task cannot be acknowledged over a connection that is gone, so Celery
  terminates it and leaves its message unacknowledged; the message stays in Redis' unacked
  set (the append-only file keeps it over the restart) and is redelivered by the visibility
  sweep. Our tasks are idempotent, so running the chunk again is safe and cheap (finished
  pages are skipped by their done-markers).
* ``result_backend_always_retry`` with a bounded ``result_backend_max_retries``: cancelling
  first records a RETRY state in the result backend -- the same Redis, which is down. Without
  retries that write raises, the cancellation never completes, and Celery then treats the
  terminated task as *revoked*: it stores REVOKED, acknowledges (drops) the message, and the
  chord fails with ``TaskRevokedError('terminated')``: the pages of that chunk are lost
  (issue 8). With retries the write waits for Redis to come back, the task counts as
  cancelled-for-redelivery, and nothing is dropped. The same retries cover storing results,
  reading them (``submit --wait``; its pub/sub reconnects by the transport's
  ``retry_policy``, set to the same budget) and restoring groups. Turning cancellation off
  alone is not enough: the chunk then finishes during the outage and fails to store its
  result and its chord count (``ChordError('Join error: network:ConnectionError')``). The
  retries are bounded (``BACKEND_MAX_RETRIES``, about 2 minutes) so that a Redis that stays
  away fails the batch visibly instead of hanging every worker; a resubmit then finishes it.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.schedules import crontab

from worker.settings import Settings, get_settings

OCR_QUEUE = "ocr"
TRAINING_QUEUE = "training"
TASK_PREFIX = "scanscribe."
RETRAIN_TASK = TASK_PREFIX + "retrain"
PREFIX_TASK = TASK_PREFIX + "transcribe_prefix"

RESTORE_SWEEPS_PER_TIMEOUT: int = 4
"""How many times per visibility timeout workers look for abandoned messages."""

BACKEND_RECONNECT_MAX_S: float = 4.0
"""Longest pause between reconnects of the result backend's pub/sub (seconds): with
BACKEND_MAX_RETRIES (32) about 2 minutes in all, like the other backend retries."""

MAX_RESTORE_INTERVAL_S: float = 10.0
"""kombu's default sweep interval; a short visibility timeout sweeps more often."""


def celery_config(s: Settings) -> dict[str, Any]:
    restore_interval = max(1.0, min(MAX_RESTORE_INTERVAL_S, s.visibility_timeout_s / 4))
    transport = {
        "visibility_timeout": s.visibility_timeout_s,
        "unacked_restore_interval": restore_interval,
        "unacked_restore_throttle": 1,
    }
    conf: dict[str, Any] = {
        "broker_url": s.broker_url,
        "result_backend": s.effective_result_backend,
        "result_expires": s.result_expires_s,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "result_backend_always_retry": True,
        "result_backend_max_retries": s.backend_max_retries,
        "broker_transport_options": transport,
        "result_backend_transport_options": {
            "visibility_timeout": s.visibility_timeout_s,
            # The pub/sub a waiting client listens on reconnects by this policy, not by
            # result_backend_max_retries; Celery's default gives up after ~20 s.
            "retry_policy": {
                "max_retries": s.backend_max_retries,
                "interval_start": 0,
                "interval_step": 1,
                "interval_max": BACKEND_RECONNECT_MAX_S,
            },
        },
        "broker_connection_retry_on_startup": True,
        "task_soft_time_limit": s.soft_time_limit_s,
        "task_time_limit": s.time_limit_s,
        "worker_max_tasks_per_child": s.max_tasks_per_child,
        "task_track_started": True,
        "task_default_queue": OCR_QUEUE,
        "task_routes": {
            RETRAIN_TASK: {"queue": TRAINING_QUEUE},
            TASK_PREFIX + "*": {"queue": OCR_QUEUE},
        },
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": beat_schedule(s),
    }
    return conf


def beat_schedule(s: Settings) -> dict[str, Any]:
    """The retraining schedule from ``retrain_cron`` (none when it or the data is unset)."""
    if not s.retrain_cron or not s.retrain_data:
        return {}
    minute, hour, day_of_month, month_of_year, day_of_week = s.retrain_cron.split()
    return {
        "retrain": {
            "task": RETRAIN_TASK,
            "schedule": crontab(
                minute=minute,
                hour=hour,
                day_of_month=day_of_month,
                month_of_year=month_of_year,
                day_of_week=day_of_week,
            ),
            "kwargs": {
                "datasets": list(s.retrain_data),
                "hyperparameters": dict(s.retrain_hyperparameters),
            },
            "options": {"queue": TRAINING_QUEUE},
        }
    }


def configure(application: Celery, s: Settings) -> Celery:
    application.conf.update(celery_config(s))
    return application


app = configure(Celery("scanscribe", include=["worker.tasks"]), get_settings())
