"""What a Redis broker holds for us: the ids of tasks queued, or delivered and not yet
acknowledged.

Why: kombu's Redis transport takes a message off the queue (BRPOP) and records it as
unacknowledged (HSET) in two steps (celery/celery#7950); a worker killed -9, or Redis shut
down, between the two loses that message. A chunk lost that way never finishes, so its
chord never calls the summary, and without this a waiting client could only notice after
the longest time a chunk may legitimately take to come back (the visibility timeout, two
hours by default). A chunk that is not finished, not in the queue and not unacknowledged is
lost; ``submit --wait`` says so at once, and a resubmit finishes the batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

UNACKED_KEY = "unacked"
"""kombu's hash of delivered, unacknowledged messages (its default ``unacked_key``)."""

SCAN_COUNT: int = 1000


def _task_id(raw: Any) -> str | None:
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if isinstance(message, list):  # unacked entries are [message, exchange, routing key]
        message = message[0] if message else {}
    headers = message.get("headers") if isinstance(message, dict) else None
    task_id = headers.get("id") if isinstance(headers, dict) else None
    return task_id if isinstance(task_id, str) else None


def pending_task_ids(url: str, queues: Iterable[str]) -> set[str]:
    """Ids of the tasks in ``queues`` (every priority list of each) and in the unacked hash."""
    import redis

    client: Any = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
    ids: set[str] = set()
    for queue in queues:
        for key in client.scan_iter(match=f"{queue}*", count=SCAN_COUNT):
            if client.type(key) == b"list":
                ids.update(t for raw in client.lrange(key, 0, -1) if (t := _task_id(raw)))
    for _, raw in client.hscan_iter(UNACKED_KEY, count=SCAN_COUNT):
        if (t := _task_id(raw)) is not None:
            ids.add(t)
    return ids
