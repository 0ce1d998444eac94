"""Batches through the real queue: redis-server, moto over HTTP (behind a proxy we can cut)
and Celery worker processes, driven by the real ``scanscribe submit`` command line."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from badfiles import write_bad_inputs
from worker_harness import Cluster, MotoServer, RedisServer, TcpProxy, cluster_env, iter_keys

from ocr.io.imageio import read_pages
from ocr.model.store import load_model
from ocr.pipeline import transcribe_page
from schemas.page import PageError, PageResult
from schemas.tasks import BatchSummary, FileOutcome

pytestmark = pytest.mark.integration

BUCKET = "scans"
VISIBILITY_TIMEOUT_S = 10
"""Short, so a message abandoned by a killed worker comes back within the test."""

CLUSTER_SETTINGS = {
    "visibility_timeout_s": str(VISIBILITY_TIMEOUT_S),
    "time_limit_s": "8",
    "soft_time_limit_s": "6",
    "training_time_limit_s": "6",
    "training_soft_time_limit_s": "5",
    "chunk_size": "2",
    # Fail fast inside botocore so the outage reaches Celery's retry with backoff.
    "s3_max_attempts": "2",
    "s3_connect_timeout_s": "1",
    "s3_read_timeout_s": "5",
    "max_retries": "12",
    "retry_backoff_max_s": "2",
}


@pytest.fixture(scope="module")
def s3(moto_server: MotoServer) -> Any:
    client = moto_server.client()
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def cluster(
    redis_server: RedisServer, s3_proxy: TcpProxy, harness_logs: Path, s3: Any
) -> Iterator[Cluster]:
    log_dir = harness_logs / "batch"
    log_dir.mkdir()
    env = cluster_env(redis_server.url(0), s3_proxy.endpoint, **CLUSTER_SETTINGS)
    c = Cluster(env, log_dir)
    c.start_worker()
    c.start_worker()
    yield c
    c.stop_all()


def upload(s3: Any, files: list[Path], prefix: str) -> list[str]:
    keys = []
    for f in files:
        key = f"{prefix}/{f.name}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=f.read_bytes())
        keys.append(key)
    return keys


def submit(cluster: Cluster, prefix: str, out: str, *flags: str) -> tuple[int, str, BatchSummary]:
    """``scanscribe submit --wait``; its exit code, batch id and the uploaded _batch.json."""
    r = cluster.cli(
        "submit", f"s3://{BUCKET}/{prefix}", "--out", f"s3://{BUCKET}/{out}", "--wait", *flags
    )
    assert r.returncode in (0, 1), r.stderr + cluster.logs()[-4000:]
    batch_id = r.stdout.split()[0]
    return (
        r.returncode,
        batch_id,
        BatchSummary.model_validate_json(get(cluster, out, "_batch.json")),
    )


def get(cluster: Cluster, out: str, name: str) -> bytes:
    import boto3

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=cluster.env["SCANSCRIBE_S3_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    body: bytes = client.get_object(Bucket=BUCKET, Key=f"{out}/{name}")["Body"].read()
    return body


def outputs(s3: Any, out: str) -> dict[str, dict[str, Any]]:
    return {o["Key"][len(out) + 1 :]: o for o in iter_keys(s3, BUCKET, out + "/")}


def read_json(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def comparable(result: PageResult) -> dict[str, Any]:
    """What must not depend on where the page was transcribed."""
    d = result.model_dump(mode="json", exclude={"timings_ms", "created_at"})
    d["source"].pop("path_or_uri")
    return d


def assert_close(a: Any, b: Any, path: str = "") -> None:
    """Equal, except floats within 1e-5 (one BLAS thread in workers, several here)."""
    if isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) < 1e-5, path
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{path}[{i}]")
    else:
        assert a == b, path


def test_end_to_end_matches_local_transcription(
    cluster: Cluster, s3: Any, worker_pages: list[Path]
) -> None:
    upload(s3, worker_pages, "e2e/in")
    code, batch_id, summary = submit(cluster, "e2e/in", "e2e/out")
    assert code == 0
    n = len(worker_pages)
    assert summary.batch_id == batch_id and summary.files == n
    assert (summary.pages_done, summary.pages_skipped, summary.pages_failed) == (n, 0, 0)
    assert summary.model_version == load_model().version
    found = outputs(s3, "e2e/out")
    rec = load_model()
    for path in worker_pages:
        remote = PageResult.model_validate(read_json(s3, f"e2e/out/{path.name}.json"))
        assert remote.source.path_or_uri == f"s3://{BUCKET}/e2e/in/{path.name}"
        local = transcribe_page(next(read_pages(path)), rec)
        assert_close(comparable(remote), comparable(local))
        text = s3.get_object(Bucket=BUCKET, Key=f"e2e/out/{path.name}.txt")["Body"].read()
        assert text.decode() == local.text + "\n"
        head = s3.head_object(Bucket=BUCKET, Key=f"e2e/out/{path.name}.json")
        assert head["ContentType"] == "application/json"
        assert head["Metadata"]["model-version"] == rec.version
        source = s3.head_object(Bucket=BUCKET, Key=f"e2e/in/{path.name}")
        assert head["Metadata"]["source-etag"] == source["ETag"].strip('"')
    assert set(found) == {f"{p.name}.{s}" for p in worker_pages for s in ("json", "txt")} | {
        "_batch.json"
    }
    status = cluster.cli("status", batch_id, "--json")
    assert json.loads(status.stdout)["state"] == "DONE"


def test_resubmit_does_no_work_and_force_redoes(cluster: Cluster, s3: Any) -> None:
    before = outputs(s3, "e2e/out")
    code, _, again = submit(cluster, "e2e/in", "e2e/out")
    assert code == 0
    assert (again.pages_done, again.pages_failed) == (0, 0)
    assert again.pages_skipped == again.files
    after = outputs(s3, "e2e/out")
    unchanged = [k for k in before if k != "_batch.json"]
    assert all(after[k]["LastModified"] == before[k]["LastModified"] for k in unchanged)
    time.sleep(1.1)  # S3 LastModified has one-second resolution
    code, _, forced = submit(cluster, "e2e/in", "e2e/out", "--force")
    assert code == 0
    assert (forced.pages_done, forced.pages_skipped) == (forced.files, 0)
    redone = outputs(s3, "e2e/out")
    assert all(redone[k]["LastModified"] > before[k]["LastModified"] for k in unchanged)


def test_fields_batch_writes_fields_csv_beside_the_summary(cluster: Cluster, s3: Any) -> None:
    """``submit --fields`` on pages read before without fields: every page is redone with
    fields and ``_fields.csv`` (named in ``_batch.json``) has a row per page."""
    code, _, summary = submit(cluster, "e2e/in", "e2e/out", "--fields")
    assert code == 0
    assert (summary.pages_done, summary.pages_skipped) == (summary.files, 0)
    assert summary.fields_csv == f"s3://{BUCKET}/e2e/out/_fields.csv"
    rows = list(csv.DictReader(io.StringIO(get(cluster, "e2e/out", "_fields.csv").decode())))
    assert len(rows) == summary.files
    assert sorted(r["source"] for r in rows) == sorted(
        f"s3://{BUCKET}/e2e/in/{name}" for name in outputs(s3, "e2e/in")
    )
    assert list(rows[0])[:2] == ["source", "page_index"] and list(rows[0])[-1] == "flagged_fields"


def test_corrupt_inputs_get_error_records_and_the_rest_is_done(
    cluster: Cluster, s3: Any, worker_pages: list[Path], tmp_path: Path
) -> None:
    marks = cluster.log_marks()
    expected = write_bad_inputs(tmp_path / "bad")
    upload(s3, [tmp_path / "bad" / name for name in expected], "mixed/in")
    good = worker_pages[:6]
    upload(s3, good, "mixed/in")
    code, _, summary = submit(cluster, "mixed/in", "mixed/out")
    assert code == 1  # some pages failed
    assert summary.pages_failed == len(expected) and summary.pages_done == len(good)
    found = outputs(s3, "mixed/out")
    for name, error_type in expected.items():
        err = PageError.model_validate(read_json(s3, f"mixed/out/{name}.error.json"))
        assert err.error_type == error_type, name
        assert f"{name}.json" not in found
    for p in good:
        PageResult.model_validate(read_json(s3, f"mixed/out/{p.name}.json"))
    assert {f.key.rsplit("/", 1)[1] for f in summary.failed} == set(expected)
    # Bad inputs are recorded once, never retried (read from this test's part of the logs:
    # the outage test's retries, before or after, must not decide this one).
    assert "Retry in" not in cluster.logs_since(marks)


def exactly_one_result_each(s3: Any, out: str, sources: list[Path]) -> None:
    found = outputs(s3, out)
    for p in sources:
        kinds = [k for k in (f"{p.name}.json", f"{p.name}.error.json") if k in found]
        assert kinds == [f"{p.name}.json"], (p.name, kinds)


def wait_for_outputs(s3: Any, out: str, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(k.endswith(".json") for k in outputs(s3, out)) >= count:
            return
        time.sleep(0.05)
    raise TimeoutError(f"fewer than {count} results under {out}")


def test_kill9_of_a_worker_mid_batch_loses_nothing(
    cluster: Cluster, s3: Any, kill_pages: list[Path]
) -> None:
    worker_pages = kill_pages
    upload(s3, worker_pages, "kill/in")
    proc = cluster.cli_async(
        "submit", f"s3://{BUCKET}/kill/in", "--out", f"s3://{BUCKET}/kill/out", "--wait"
    )
    wait_for_outputs(s3, "kill/out", 4)
    # kill -9 of a worker and its pool process, while it runs a chunk (not between tasks,
    # where the test would prove nothing). Whichever worker is running one: the other may
    # have taken every chunk left by now, and waiting for one named worker timed out.
    victim, abandoned = cluster.when_running(list(cluster.workers), cluster.kill)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr + cluster.logs()[-4000:]
    # The chunk the victim held unacknowledged was redelivered and finished by another worker.
    victim_log = cluster.log(victim)
    assert f"{abandoned}] succeeded" not in victim_log
    others = cluster.logs().replace(victim_log, "")
    assert f"{abandoned}] succeeded" in others, f"abandoned task {abandoned} was lost"
    summary = BatchSummary.model_validate(read_json(s3, "kill/out/_batch.json"))
    n = len(worker_pages)
    assert summary.files == n and summary.pages_failed == 0
    assert summary.pages_done + summary.pages_skipped == n
    exactly_one_result_each(s3, "kill/out", worker_pages)
    cluster.start_worker()  # back to two for the next tests


def test_kill9_of_a_pool_process_requeues_its_task_at_once(
    cluster: Cluster, s3: Any, kill_pages: list[Path]
) -> None:
    """The process running the task dies (OOM killer, segfault), its worker survives:
    task_reject_on_worker_lost puts the message back now, not after the visibility timeout."""
    worker_pages = kill_pages
    upload(s3, worker_pages, "child/in")
    victim = next(iter(cluster.workers))
    (child,) = cluster.pool_children(victim)
    start = time.monotonic()
    proc = cluster.cli_async(
        "submit", f"s3://{BUCKET}/child/in", "--out", f"s3://{BUCKET}/child/out", "--wait"
    )
    wait_for_outputs(s3, "child/out", 4)
    killed = cluster.kill_when_running(
        victim, lambda: os.kill(child, signal.SIGKILL), busy_pid=child
    )
    # From the kill to the chunk done again: the requeued message is taken at once, so this
    # is about one chunk's work; through the visibility timeout it would be more than that
    # timeout. (The whole batch's time also counts the machine's load, not the requeue.)
    killed_at = time.monotonic()
    while f"{killed}] succeeded" not in cluster.logs():
        assert time.monotonic() - killed_at < 60, "the killed chunk was never done again"
        time.sleep(0.05)
    redone = time.monotonic() - killed_at
    stdout, stderr = proc.communicate(timeout=120)
    seconds = time.monotonic() - start
    assert proc.returncode == 0, stderr + cluster.logs()[-4000:]
    log = cluster.log(victim)
    # The worker saw its pool process die in the middle of that chunk, and the chunk was
    # done again (by either worker) without waiting for the visibility timeout.
    assert "WorkerLostError" in log and "SIGKILL" in log, log[-3000:]
    assert redone < VISIBILITY_TIMEOUT_S, redone
    exactly_one_result_each(s3, "child/out", worker_pages)
    summary = BatchSummary.model_validate(read_json(s3, "child/out/_batch.json"))
    assert summary.pages_done + summary.pages_skipped == len(worker_pages)
    print(
        f"\nkill -9 of a pool process mid-chunk: redone {redone:.1f} s after, batch {seconds:.1f} s"
    )


def test_a_page_that_killed_its_worker_too_often_gets_an_error_record(
    cluster: Cluster, s3: Any, worker_pages: list[Path]
) -> None:
    """The delivery cap: a page whose reads were started max_deliveries times without
    ending (what a death leaves behind; set here directly in Redis) is not read again."""
    import redis

    pages = worker_pages[:3]
    keys = upload(s3, pages, "cap/in")
    client = redis.Redis.from_url(cluster.env["SCANSCRIBE_BROKER_URL"])
    poison = f"scanscribe:reading:{BUCKET}/{keys[1]}>{BUCKET}/cap/out"
    client.set(poison, 3)  # the default max_deliveries
    code, _, summary = submit(cluster, "cap/in", "cap/out")
    assert code == 1
    assert [(f.key, f.errors) for f in summary.failed] == [(keys[1], ["worker-crashed"])]
    err = PageError.model_validate(read_json(s3, f"cap/out/{pages[1].name}.error.json"))
    assert err.error_type == "worker-crashed" and keys[1] in err.message
    assert client.get(poison) is None  # the read ended: counting starts again
    # A resubmit retries worker-crashed pages (unlike bad files), and this time it reads.
    code, _, again = submit(cluster, "cap/in", "cap/out")
    assert code == 0 and (again.pages_done, again.pages_skipped) == (1, 2)
    exactly_one_result_each(s3, "cap/out", pages)


def test_s3_outage_mid_batch_is_retried_and_nothing_is_lost(
    cluster: Cluster, s3: Any, s3_proxy: TcpProxy, worker_pages: list[Path]
) -> None:
    upload(s3, worker_pages, "outage/in")
    proc = cluster.cli_async(
        "submit", f"s3://{BUCKET}/outage/in", "--out", f"s3://{BUCKET}/outage/out", "--wait"
    )
    wait_for_outputs(s3, "outage/out", 4)
    s3_proxy.pause()
    time.sleep(4)  # the endpoint is unreachable for a few seconds
    s3_proxy.resume()
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr + cluster.logs()[-4000:]
    summary = BatchSummary.model_validate(read_json(s3, "outage/out/_batch.json"))
    n = len(worker_pages)
    assert summary.pages_failed == 0 and summary.pages_done + summary.pages_skipped == n
    exactly_one_result_each(s3, "outage/out", worker_pages)
    logs = cluster.logs()
    assert "Retry in" in logs, "the outage should have made tasks retry"
    assert "EndpointConnectionError" in logs or "ConnectionClosedError" in logs


def test_two_workers_versus_one(cluster: Cluster, s3: Any, worker_pages: list[Path]) -> None:
    """Measured and printed, not asserted: 2 cores are shared with the rest of the suite."""
    upload(s3, worker_pages, "speed/in")
    rates: dict[int, tuple[float, float]] = {}
    while len(cluster.workers) > 1:
        cluster.stop_worker(next(iter(cluster.workers)))
    for n_workers in (1, 2):
        if len(cluster.workers) < n_workers:
            cluster.start_worker()
        start = time.perf_counter()
        code, _, summary = submit(cluster, "speed/in", "speed/out", "--force")
        seconds = time.perf_counter() - start
        assert code == 0 and summary.pages_done == len(worker_pages)
        rates[n_workers] = (summary.pages_done / seconds, summary.pages_per_second)
    (wall1, batch1), (wall2, batch2) = rates[1], rates[2]
    print(
        f"\n{len(worker_pages)} small pages, 1 worker -> 2 workers: "
        f"client wall {wall1:.2f} -> {wall2:.2f} pages/s (x{wall2 / wall1:.2f}), "
        f"first task to summary {batch1:.2f} -> {batch2:.2f} pages/s (x{batch2 / batch1:.2f})"
    )


def test_single_page_task_by_name(cluster: Cluster, s3: Any, worker_pages: list[Path]) -> None:
    """transcribe_page(bucket, key, out_prefix, force=False) as a task of its own, sent by
    name from a client that has only the broker URL, as another service would."""
    from celery import Celery

    from worker.celery_app import TASK_PREFIX, celery_config
    from worker.settings import Settings

    client = Celery("client")
    client.conf.update(celery_config(Settings(broker_url=cluster.env["SCANSCRIBE_BROKER_URL"])))
    upload(s3, worker_pages[:1], "single/in")
    key = f"single/in/{worker_pages[0].name}"
    kwargs = {"bucket": BUCKET, "key": key, "out_prefix": "single/out"}
    outcome = FileOutcome.model_validate(
        client.send_task(TASK_PREFIX + "transcribe_page", kwargs=kwargs).get(timeout=60)
    )
    assert outcome.status == "done" and outcome.outputs[0] == f"single/out/{key}.json"
    again = client.send_task(TASK_PREFIX + "transcribe_page", kwargs=kwargs).get(timeout=60)
    assert FileOutcome.model_validate(again).status == "skipped"
    forced = {**kwargs, "force": True}
    redone = client.send_task(TASK_PREFIX + "transcribe_page", kwargs=forced).get(timeout=60)
    assert FileOutcome.model_validate(redone).status == "done"
