"""``submit --wait``: follow a batch to its end, telling the truth about it.

Why a module of its own: waiting is where the queue's failures become what an operator sees
-- a chunk that failed, the result backend gone, a chunk the broker lost -- and each needs a
clear message and exit code 2 rather than a progress bar that fills up anyway.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any

from ocr.cli import EXIT_FAILED, EXIT_OK

POLL_INTERVAL_S: float = 0.25
"""How often ``--wait`` looks at the result backend."""

START_TIMEOUT_S: float = 3600.0
"""How long ``--wait`` waits for a worker to pick up the batch before giving up."""

STALL_MARGIN_S: float = 60.0
"""Beyond the visibility timeout plus a chunk's time limit (the longest a chunk can take to
come back after its worker died), how long ``--wait`` accepts no progress at all."""

LOST_CHECK_S: float = 10.0
"""After this long without progress (and as often), look for chunks the broker lost."""

SUMMARY_RESENT: str = "every chunk finished but the broker lost the summary task; sent it again"
"""What ``submit --wait`` and ``status`` say when they sent a lost summary again."""

RECHECK_S: float = 1.0
"""A chunk must be missing from the broker twice, this far apart, to count as lost (a
message is out of both the queue and the unacked hash for microseconds while delivered)."""


def _fail(message: str) -> int:
    print(f"scanscribe submit: {message}", file=sys.stderr)
    return 2


def lost_chunks(broker_url: str, unfinished: list[Any]) -> list[str]:
    """Ids of unfinished tasks (chunks, or the summary once every chunk is done) that the
    broker no longer holds (a Redis broker only; see worker.broker)."""
    import redis

    from worker.broker import pending_task_ids
    from worker.celery_app import OCR_QUEUE

    if not unfinished or not broker_url.startswith(("redis://", "rediss://")):
        return []
    lost: set[str] | None = None
    for attempt in range(2):
        if attempt:
            time.sleep(RECHECK_S)
        try:
            held = pending_task_ids(broker_url, [OCR_QUEUE])
        except redis.exceptions.RedisError:
            return []  # Redis itself away: nothing can be told now (the retries cover that)
        missing = {c.id for c in unfinished if c.id not in held and not c.ready()}
        lost = missing if lost is None else lost & missing
    return sorted(lost or ())


def resend_lost_summary(started: Any, children: list[Any], callback: Any) -> bool:
    """Send a batch's summary task again, under its own id, when every chunk succeeded and
    the broker holds no summary; False (nothing sent) otherwise.

    Why: a pool process killed after storing its chunk's result and before the chord's
    count reaches the callback (Celery stores first, counts second, and then acknowledges a
    chunk whose success was stored without running it again) leaves every chunk done and no
    summary anywhere. The summary is rebuilt from the chunks' stored results and rewrites
    ``_batch.json`` whole, so a second one, should the first be found after all, is harmless.
    ``started`` is the batch's ``BatchStarted``; batches started before it carried the
    summary's argument cannot be helped this way."""
    from worker.celery_app import TASK_PREFIX, app

    if started.summary_meta is None or not children:
        return False
    if not all(c.successful() for c in children):
        return False  # a failed chunk fails the chord: its callback is marked failed, not lost
    app.send_task(
        TASK_PREFIX + "finish_batch",
        args=[[c.result for c in children], started.summary_meta],
        task_id=callback.id,
    )
    return True


def wait_for_batch(batch_id: str, show: bool = True, timeout: float | None = None) -> int:
    """Follow a batch to its end with a progress bar; the exit code of ``submit --wait``.

    Waits as long as the batch makes progress: it gives up only when no chunk has finished
    for longer than a chunk can take to come back after its worker died (visibility timeout
    + time limit), or after ``timeout`` seconds in all when given. A failed batch is shown
    as failed (the bar counts only chunks that succeeded), with the reason."""
    from celery.exceptions import TimeoutError as CeleryTimeout
    from celery.result import AsyncResult, GroupResult
    from tqdm import tqdm

    from schemas.tasks import BatchStarted, BatchSummary
    from worker.celery_app import app
    from worker.settings import get_settings

    s = get_settings()
    stall_s = s.visibility_timeout_s + s.time_limit_s + STALL_MARGIN_S
    overall = time.monotonic() + timeout if timeout is not None else float("inf")
    try:
        started = BatchStarted(
            **AsyncResult(batch_id, app=app).get(
                timeout=max(
                    0.0, min(overall, time.monotonic() + START_TIMEOUT_S) - time.monotonic()
                )
            )
        )
    except Exception as e:  # noqa: BLE001 - a timeout, the task's own error, Redis gone
        return _fail(f"batch {batch_id} FAILED to start: {type(e).__name__}: {e}")
    if started.callback_id is None or started.group_id is None:
        print(f"batch {batch_id}: no images or PDFs found", file=sys.stderr)
        return EXIT_OK
    bar = tqdm(total=started.files, unit="file", file=sys.stderr, disable=not show)
    counted: set[str] = set()
    failed_chunks = 0
    resent = False
    last_progress = last_check = time.monotonic()
    try:
        group = GroupResult.restore(started.group_id, app=app)
        callback = AsyncResult(started.callback_id, app=app)
        while not callback.ready():
            now = time.monotonic()
            if now > overall or now - last_progress > stall_s:
                why = "--timeout reached" if now > overall else f"no progress for {stall_s:.0f} s"
                bar.close()
                return _fail(
                    f"batch {batch_id}: gave up waiting ({why}); "
                    f"`scanscribe status {batch_id}` follows it",
                )
            for child in group.results if group is not None else []:
                if child.id not in counted and child.ready():
                    counted.add(child.id)
                    last_progress = now
                    if child.successful():
                        bar.update(len(child.result))
                    else:
                        failed_chunks += 1
                        bar.set_postfix_str(f"{failed_chunks} chunk(s) FAILED")
            if now - max(last_progress, last_check) > LOST_CHECK_S and group is not None:
                last_check = now
                waiting = [c for c in group.results if c.id not in counted] or [callback]
                lost = lost_chunks(s.broker_url, waiting)
                if (
                    lost == [callback.id]
                    and not resent
                    and resend_lost_summary(started, group.results, callback)
                ):
                    resent = True
                    last_progress = now
                    bar.write(f"batch {batch_id}: {SUMMARY_RESENT}", file=sys.stderr)
                elif lost:
                    bar.close()
                    return _fail(
                        f"batch {batch_id} FAILED: {len(lost)} chunk(s) lost by the broker "
                        f"({', '.join(lost)}: neither finished, queued nor unacknowledged); "
                        "resubmit the same command to finish it (finished pages are skipped)",
                    )
            # Returns as soon as the summary is stored (Redis pub/sub), else after one interval.
            with contextlib.suppress(CeleryTimeout):
                callback.get(timeout=POLL_INTERVAL_S, propagate=False, disable_sync_subtasks=False)
        ok = callback.successful()
        result = callback.result
    except Exception as e:  # noqa: BLE001 - the result backend gone for longer than its retries
        bar.close()
        return _fail(
            f"batch {batch_id} FAILED: lost the result backend ({type(e).__name__}: "
            f"{' '.join(str(e).split())}); "
            "resubmit the same command when it is back: finished pages are skipped",
        )
    if not ok:
        bar.close()
        return _fail(
            f"batch {batch_id} FAILED: {result!r}; resubmit the same command to finish it "
            "(finished pages are skipped)",
        )
    bar.update(started.files - bar.n)
    bar.close()
    summary = BatchSummary(**result)
    _print_summary(summary)
    return EXIT_OK if summary.pages_failed == 0 else EXIT_FAILED


def _print_summary(s: Any) -> None:
    print(
        f"batch {s.batch_id}: {s.files} files, pages done {s.pages_done}, skipped "
        f"{s.pages_skipped}, failed {s.pages_failed}, flagged characters {s.flagged_chars}, "
        f"model {s.model_version}, {s.seconds:.1f} s, {s.pages_per_second:.2f} pages/s",
        file=sys.stderr,
    )
    for f in s.failed:
        print(f"  failed: {f.key} ({', '.join(f.errors)})", file=sys.stderr)
