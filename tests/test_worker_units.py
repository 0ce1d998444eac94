"""Worker parts without a broker: settings, Celery configuration, storage against moto, the
transcription body (multi-page naming, idempotency, stale outputs) and the model cache."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pydantic import ValidationError
from worker_harness import FAKE_CREDENTIALS, MotoServer

from ocr.batch import UnsafeName, stem_of_output
from ocr.model.store import DEFAULT_MODEL_DIR, ModelError, load_model
from ocr.pipeline import PipelineOptions
from schemas.page import PageResult
from schemas.tasks import TranscribePageRequest
from worker.celery_app import RETRAIN_TASK, TRAINING_QUEUE, beat_schedule, celery_config
from worker.registry import ModelCache, Registry
from worker.settings import Settings, mask_url
from worker.storage import ObjectInfo, ObjectTooLarge, Storage, StorageError, parse_s3_uri
from worker.transcribe import output_stem, recover_outcomes, transcribe_object

BUCKET = "units"


def test_settings_validate_time_limits_against_visibility() -> None:
    with pytest.raises(ValidationError, match="visibility_timeout_s"):
        Settings(visibility_timeout_s=100, time_limit_s=200, soft_time_limit_s=150)
    with pytest.raises(ValidationError, match="soft_time_limit_s"):
        Settings(time_limit_s=10, soft_time_limit_s=10)
    with pytest.raises(ValidationError, match="cron"):
        Settings(retrain_cron="0 3 * *")


def test_settings_from_environment_and_masking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCANSCRIBE_BROKER_URL", "redis://:hunter2@redis.internal:6379/2")
    monkeypatch.setenv("SCANSCRIBE_CHUNK_SIZE", "7")
    s = Settings()
    assert s.chunk_size == 7
    shown = s.masked()
    assert "hunter2" not in str(shown)
    assert shown["broker_url"] == "redis://:****@redis.internal:6379/2"
    assert shown["result_backend"] == shown["broker_url"]
    assert mask_url("https://h/x?token=abc&a=1") == "https://h/x?token=****&a=1"


def test_config_command_masks_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from worker.cli import main

    monkeypatch.setenv("SCANSCRIBE_BROKER_URL", "redis://user:pw123@host:6379/0")
    for k, v in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "pw123" not in out and "SCANSCRIBE_BROKER_URL=redis://user:****@host" in out
    assert "testing" not in out  # the access key is shown as ****ting at most
    assert "access key ****ting" in out


def test_celery_configuration_follows_the_recommendations() -> None:
    s = Settings(retrain_cron="30 2 * * 1", retrain_data=["folder:s3://b/crops/"])
    conf = celery_config(s)
    assert conf["accept_content"] == ["json"] and conf["task_serializer"] == "json"
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1
    # A Redis restart: cancel running chunks for redelivery, and retry the backend writes
    # that cancelling (and storing results) need, for a bounded time (worker/celery_app.py).
    assert conf["worker_cancel_long_running_tasks_on_connection_loss"] is True
    assert conf["result_backend_always_retry"] is True
    assert 0 < conf["result_backend_max_retries"] < float("inf")
    policy = conf["result_backend_transport_options"]["retry_policy"]
    assert policy["max_retries"] == conf["result_backend_max_retries"]
    assert conf["broker_transport_options"]["visibility_timeout"] > s.training_time_limit_s
    assert conf["task_time_limit"] > conf["task_soft_time_limit"]
    assert conf["task_routes"][RETRAIN_TASK]["queue"] == TRAINING_QUEUE
    entry = beat_schedule(s)["retrain"]
    assert entry["task"] == RETRAIN_TASK and entry["kwargs"]["datasets"] == s.retrain_data
    assert beat_schedule(Settings()) == {}


def test_transient_errors_are_the_only_autoretried_ones() -> None:
    from botocore.exceptions import (
        ConnectionClosedError,
        EndpointConnectionError,
        IncompleteReadError,
    )

    from worker.storage import TRANSIENT_ERRORS, StorageError, TransientStorageError
    from worker.tasks import transcribe_chunk

    retried = transcribe_chunk.autoretry_for
    assert retried == TRANSIENT_ERRORS
    assert issubclass(EndpointConnectionError, retried)
    assert issubclass(ConnectionClosedError, retried)
    assert issubclass(IncompleteReadError, retried)  # a body cut off mid-read
    assert issubclass(TransientStorageError, retried)
    assert not issubclass(StorageError, retried) and not issubclass(ValueError, retried)


def test_output_names_keep_path_and_extension_and_refuse_escapes() -> None:
    def stem(key: str, prefix: str) -> str:
        return output_stem(
            TranscribePageRequest(bucket="b", key=key, out_prefix="out", prefix=prefix)
        )

    assert stem("in/a/b.jpg", "in/") == "out/a/b.jpg"
    assert stem("in/a/b.jpg", "in") == "out/a/b.jpg"
    # An empty prefix keeps the whole key: a/page.jpg and b/page.jpg never share a result.
    assert stem("a/page.jpg", "") == "out/a/page.jpg"
    assert stem("b/page.jpg", "") == "out/b/page.jpg"
    # The extension stays: scan.jpg and scan.png never share scan.json.
    assert stem("in/scan.jpg", "in/") != stem("in/scan.png", "in/")
    for bad in ("in/../x.jpg", "in/a//x.jpg", "in/./x.jpg", "in//x.jpg"):
        with pytest.raises(UnsafeName):
            stem(bad, "in/")
    assert stem_of_output("out/a/b.jpg.p002.error.json") == "out/a/b.jpg"
    assert stem_of_output("out/a.b.png.txt") == "out/a.b.png"
    assert stem_of_output("out/a.png") is None
    assert parse_s3_uri("s3://bk/some/prefix").key == "some/prefix"
    with pytest.raises(ValueError):
        parse_s3_uri("http://bk/x")


def test_unsafe_source_key_is_a_failure_and_writes_nothing(storage: Storage) -> None:
    req = TranscribePageRequest(bucket=BUCKET, key="u/in/../esc.jpg", out_prefix="u/out")
    outcome = transcribe_object(storage, ModelCache(None, poll_interval_s=60), req)
    assert (outcome.status, outcome.errors, outcome.outputs) == ("failed", ["unsafe-name"], [])
    assert list(storage.list_objects(BUCKET, "u/")) == []


@pytest.fixture(scope="module", autouse=True)
def bucket(moto_server: MotoServer) -> str:
    """Every test of this module may run alone (-k) or in any order: the bucket is made here."""
    moto_server.client().create_bucket(Bucket=BUCKET)
    return BUCKET


@pytest.fixture(scope="module")
def storage(moto_server: MotoServer) -> Storage:
    return Storage(moto_server.client(), max_download_bytes=10_000)


def test_listing_follows_pages_and_downloads_respect_the_limit(storage: Storage) -> None:
    for i in range(5):
        storage.upload(BUCKET, f"list/{i}.txt", b"x" * i, "text/plain", {"k": str(i)})
    found = list(storage.list_objects(BUCKET, "list/", page_size=2))
    assert [o.key for o in found] == [f"list/{i}.txt" for i in range(5)]
    head = storage.head(BUCKET, "list/3.txt")
    assert head is not None and head.metadata == {"k": "3"}
    assert storage.head(BUCKET, "list/missing") is None
    storage.upload(BUCKET, "big.bin", b"0" * 10_001, "application/octet-stream")
    with pytest.raises(ObjectTooLarge):
        storage.download(BUCKET, "big.bin")
    assert len(storage.download(BUCKET, "big.bin", max_bytes=20_000).data) == 10_001


def tiff_of(pages: list[Path]) -> bytes:
    frames = [Image.open(p).convert("RGB") for p in pages]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def test_multi_page_source_idempotency_and_stale_outputs(
    moto_server: MotoServer, worker_pages: list[Path]
) -> None:
    storage = Storage(moto_server.client(), max_download_bytes=50_000_000)
    cache = ModelCache(None, poll_interval_s=60)
    storage.upload(BUCKET, "mp/in/doc.tif", tiff_of(worker_pages[:2]), "image/tiff")
    req = TranscribePageRequest(
        bucket=BUCKET, key="mp/in/doc.tif", out_prefix="mp/out", prefix="mp/in/"
    )
    first = transcribe_object(storage, cache, req)
    assert (first.status, first.pages, first.pages_failed) == ("done", 2, 0)
    assert first.outputs == [f"mp/out/doc.tif.p00{i}.{s}" for i in (1, 2) for s in ("json", "txt")]
    again = transcribe_object(storage, cache, req)
    assert (again.status, again.pages, again.characters) == ("skipped", 2, first.characters)

    # The source changes into something unreadable: its old page results must go.
    storage.upload(BUCKET, "mp/in/doc.tif", b"not a tiff", "image/tiff")
    bad = transcribe_object(storage, cache, req)
    assert bad.status == "failed" and bad.outputs == ["mp/out/doc.tif.error.json"]
    left = [o.key for o in storage.list_objects(BUCKET, "mp/out/")]
    assert left == ["mp/out/doc.tif.error.json"]


def test_model_cache_follows_the_pointer_and_refuses_bad_bytes(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    storage = Storage(moto_server.client(), max_download_bytes=10_000)
    registry = Registry(storage, f"s3://{BUCKET}/reg/", model_max_bytes=50_000_000)
    now = [0.0]
    cache = ModelCache(registry, poll_interval_s=5, clock=lambda: now[0])
    shipped = load_model(DEFAULT_MODEL_DIR)
    assert cache.get().version == shipped.version  # nothing published: the shipped model
    registry.publish(DEFAULT_MODEL_DIR, version="v1")
    registry.set_current("v1", "test")
    assert cache.get().version == shipped.version  # not re-checked before the interval
    now[0] = 6
    assert cache.get().version == "v1"

    data = storage.download(BUCKET, "reg/v1/model.npz", max_bytes=50_000_000).data
    storage.upload(BUCKET, "reg/v2/model.npz", data[:-8] + bytes(8), "application/octet-stream")
    manifest = registry.manifest("v1").model_copy(update={"version": "v2"})
    storage.upload(BUCKET, "reg/v2/manifest.json", manifest.model_dump_json().encode(), "x")
    with pytest.raises(ModelError, match="sha256"):
        registry.set_current("v2", "test")
    registry._write_pointer("v2", manifest.model_sha256, "forced", ["v1"])
    now[0] = 12
    assert cache.get().version == "v1"  # refused; keeps serving what it has
    fresh = ModelCache(registry, poll_interval_s=5)
    with pytest.raises(ModelError, match="refused"):
        fresh.get()


def test_rollback_without_history_is_an_error(moto_server: MotoServer) -> None:
    from worker.registry import RegistryError

    registry = Registry(Storage(moto_server.client(), 1000), f"s3://{BUCKET}/empty/", 1000)
    with pytest.raises(RegistryError):
        registry.rollback()
    assert registry.versions() == []


class _TimeLimit(Exception):
    """Stands in for Celery's SoftTimeLimitExceeded."""


def test_a_page_hitting_the_time_limit_is_recorded_then_the_task_fails(
    moto_server: MotoServer, worker_pages: list[Path]
) -> None:
    storage = Storage(moto_server.client(), max_download_bytes=50_000_000)
    cache = ModelCache(None, poll_interval_s=60)
    rec = cache.get()

    def too_slow(glyphs: object) -> object:
        raise _TimeLimit

    rec.predict_proba = too_slow  # type: ignore[method-assign]
    storage.upload(BUCKET, "slow/in/p.jpg", worker_pages[0].read_bytes(), "image/jpeg")
    req = TranscribePageRequest(
        bucket=BUCKET, key="slow/in/p.jpg", out_prefix="slow/out", prefix="slow/in/"
    )
    with pytest.raises(_TimeLimit):
        transcribe_object(storage, cache, req, passthrough=(_TimeLimit,))
    err = storage.download(BUCKET, "slow/out/p.jpg.error.json").data
    assert b'"error_type": "timeout"' in err


def test_summary_recovers_outcomes_of_a_chunk_the_chord_did_not_wait_for(
    moto_server: MotoServer, worker_pages: list[Path]
) -> None:
    storage = Storage(moto_server.client(), max_download_bytes=50_000_000)
    cache = ModelCache(None, poll_interval_s=60)
    reqs = []
    for p in worker_pages[:3]:
        storage.upload(BUCKET, f"rec/in/{p.name}", p.read_bytes(), "image/jpeg")
        reqs.append(
            TranscribePageRequest(
                bucket=BUCKET, key=f"rec/in/{p.name}", out_prefix="rec/out", prefix="rec/in/"
            )
        )
    first = transcribe_object(storage, cache, reqs[0])
    second = transcribe_object(storage, cache, reqs[1])
    # The third is "still running": no marker yet, so the summary must wait.
    assert recover_outcomes(storage, reqs, {reqs[0].key}) is None
    recovered = recover_outcomes(storage, reqs[:2], {reqs[0].key})
    assert recovered is not None and [o.key for o in recovered] == [reqs[1].key]
    assert (recovered[0].characters, recovered[0].flagged) == (second.characters, second.flagged)
    assert recovered[0].model_version == first.model_version


def test_datasets_are_fetched_from_s3_as_files_or_folders(
    moto_server: MotoServer, tmp_path: Path
) -> None:
    from worker.training import RetrainError, fetch_dataset

    storage = Storage(moto_server.client(), max_download_bytes=1_000_000)
    for key in ("ds/crops/A/1.png", "ds/crops/B/2.png", "ds/em/X_test_0_to_9.webp"):
        storage.upload(BUCKET, key, b"img", "image/png")
    storage.upload(BUCKET, "ds/em/test.json", b"{}", "application/json")
    storage.upload(BUCKET, "ds/em/other/ignored.json", b"{}", "application/json")

    spec = fetch_dataset(storage, f"folder:s3://{BUCKET}/ds/crops/", tmp_path / "a")
    assert spec == f"folder:{tmp_path / 'a' / 'crops'}"
    assert sorted(p.name for p in (tmp_path / "a" / "crops").rglob("*.png")) == ["1.png", "2.png"]

    spec = fetch_dataset(storage, f"emnist:s3://{BUCKET}/ds/em/X_test_0_to_9.webp", tmp_path / "b")
    assert spec == f"emnist:{tmp_path / 'b' / 'X_test_0_to_9.webp'}"
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["X_test_0_to_9.webp", "test.json"]

    assert fetch_dataset(storage, "mat:/local/file.mat", tmp_path / "c") == "mat:/local/file.mat"
    with pytest.raises(RetrainError, match="no objects"):
        fetch_dataset(storage, f"folder:s3://{BUCKET}/ds/nothing/", tmp_path / "d")
    with pytest.raises(ValueError, match="KIND"):
        fetch_dataset(storage, f"bogus:s3://{BUCKET}/ds/crops/", tmp_path / "e")


class _Forbidden(Storage):
    """A store that answers 403 for one key, like a bucket policy the workers fail."""

    def __init__(self, inner: Storage, key: str) -> None:
        super().__init__(inner.client, inner.max_download_bytes)
        self.forbidden_key: str | None = key

    def head(self, bucket: str, key: str) -> ObjectInfo | None:
        if key == self.forbidden_key:
            raise StorageError(f"head s3://{bucket}/{key}: 403 Forbidden")
        return super().head(bucket, key)


def test_unreadable_pointer_keeps_the_loaded_model_and_health_says_so(
    moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inner = Storage(moto_server.client(), max_download_bytes=50_000_000)
    store = _Forbidden(inner, "")
    registry = Registry(store, f"s3://{BUCKET}/ptr/", model_max_bytes=50_000_000)
    registry.publish(DEFAULT_MODEL_DIR, version="v1")
    registry.set_current("v1", "test")
    now = [0.0]
    cache = ModelCache(registry, poll_interval_s=5, clock=lambda: now[0])
    assert cache.get().version == "v1" and cache.problem is None

    good = inner.download(BUCKET, "ptr/current.json").data
    inner.upload(BUCKET, "ptr/current.json", good[: len(good) // 2], "application/json")
    now[0] = 6
    assert cache.get().version == "v1"  # truncated pointer: keeps serving
    assert cache.problem is not None and "not a valid pointer" in cache.problem

    inner.upload(BUCKET, "ptr/current.json", good, "application/json")
    store.forbidden_key = "ptr/current.json"
    now[0] = 12
    assert cache.get().version == "v1"  # 403: keeps serving
    assert cache.problem is not None and "403" in cache.problem

    # `scanscribe health worker` reports it (the ping itself is stubbed: no broker here).
    from worker import health
    from worker.settings import get_settings

    for k, v in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SCANSCRIBE_S3_ENDPOINT_URL", moto_server.endpoint)
    monkeypatch.setenv("SCANSCRIBE_S3_ADDRESSING_STYLE", "path")
    monkeypatch.setenv("SCANSCRIBE_MODEL_URI", f"s3://{BUCKET}/ptr/")
    monkeypatch.setattr(health, "check_worker", lambda node, timeout: None)
    get_settings.cache_clear()
    try:
        inner.upload(BUCKET, "ptr/current.json", b'{"version": ', "application/json")
        assert health.main(["worker"]) == health.HEALTHY
        out = capsys.readouterr().out
        assert "degraded" in out and "model pointer unreadable" in out
        inner.upload(BUCKET, "ptr/current.json", good, "application/json")
        assert health.main(["worker"]) == health.HEALTHY
        assert capsys.readouterr().out.strip() == "healthy"
    finally:
        get_settings.cache_clear()


def test_submit_refuses_prefixes_that_could_escape(capsys: pytest.CaptureFixture[str]) -> None:
    from worker.cli import main

    for src, out in (("s3://b/in", "s3://b/a/../out"), ("s3://b/in//x", "s3://b/out")):
        assert main(["submit", src, "--out", out]) == 2
        assert "'..' path segments" in capsys.readouterr().err


def test_a_skipped_bad_file_still_says_why_it_failed(moto_server: MotoServer) -> None:
    """A chunk redone after a lost worker (or a resubmit) skips a bad file whose error record
    is current; the batch summary must still name its reason, not "existing"."""
    storage = Storage(moto_server.client(), max_download_bytes=50_000_000)
    cache = ModelCache(None, poll_interval_s=60)
    white = io.BytesIO()
    Image.new("RGB", (300, 200), (250, 250, 250)).save(white, "PNG")
    storage.upload(BUCKET, "why/in/white.png", white.getvalue(), "image/png")
    req = TranscribePageRequest(
        bucket=BUCKET, key="why/in/white.png", out_prefix="why/out", prefix="why/in/"
    )
    first = transcribe_object(storage, cache, req)
    assert (first.status, first.errors) == ("failed", ["blank-page"])
    again = transcribe_object(storage, cache, req)
    assert (again.status, again.pages_failed, again.errors) == ("skipped", 1, ["blank-page"])


def test_an_unexpected_error_is_logged_with_its_traceback_and_retried_on_resubmit(
    moto_server: MotoServer, worker_pages: list[Path], caplog: pytest.LogCaptureFixture
) -> None:
    storage = Storage(moto_server.client(), max_download_bytes=50_000_000)
    cache = ModelCache(None, poll_interval_s=60)
    rec = cache.get()
    real = rec.predict_proba

    def bug(glyphs: object) -> object:
        raise RuntimeError("a bug in recognition")

    storage.upload(BUCKET, "bug/in/p.jpg", worker_pages[0].read_bytes(), "image/jpeg")
    req = TranscribePageRequest(
        bucket=BUCKET, key="bug/in/p.jpg", out_prefix="bug/out", prefix="bug/in/"
    )
    rec.predict_proba = bug  # type: ignore[method-assign]
    try:
        with caplog.at_level("ERROR"):
            first = transcribe_object(storage, cache, req)
    finally:
        rec.predict_proba = real  # type: ignore[method-assign]
    assert (first.status, first.errors) == ("failed", ["internal"])
    logged = [r for r in caplog.records if r.exc_info]
    assert logged and "a bug in recognition" in str(logged[0].exc_info[1])  # type: ignore[index]
    # Same source, same model: a bad file would be skipped now, an internal failure is redone.
    again = transcribe_object(storage, cache, req)
    assert (again.status, again.pages_failed) == ("done", 0)
    assert [o.key for o in storage.list_objects(BUCKET, "bug/out/")] == [
        "bug/out/p.jpg.json",
        "bug/out/p.jpg.txt",
    ]
    assert transcribe_object(storage, cache, req).status == "skipped"


def test_fields_batch_writes_a_table_of_every_page_result(
    moto_server: MotoServer, worker_pages: list[Path], tmp_path: Path
) -> None:
    """A batch asked for fields reads them on every page, redoes a result read without them
    (its done-marker says so), and ``_fields.csv`` has one row per page result, read back
    from the outputs: a plain page's row is empty, the form's row has its fields."""
    import csv

    from ocr.synth.forms import make_forms, save_form
    from worker.fieldtable import write_fields_csv

    storage = Storage(moto_server.client(), max_download_bytes=50_000_000)
    cache = ModelCache(None, poll_interval_s=60)
    form = save_form(make_forms(1, [0], seed=5, source="builtin")[0], tmp_path, "form")
    storage.upload(BUCKET, "fld/in/form.jpg", form.read_bytes(), "image/jpeg")
    storage.upload(BUCKET, "fld/in/page.jpg", worker_pages[0].read_bytes(), "image/jpeg")
    reqs = {
        name: TranscribePageRequest(
            bucket=BUCKET, key=f"fld/in/{name}", out_prefix="fld/out", prefix="fld/in/"
        )
        for name in ("form.jpg", "page.jpg")
    }
    plain = transcribe_object(storage, cache, reqs["form.jpg"])
    assert plain.status == "done"
    with_fields = PipelineOptions(fields=True)
    outcomes = []
    for req in reqs.values():
        req.fields = True
        outcomes.append(transcribe_object(storage, cache, req, with_fields))
    assert [o.status for o in outcomes] == ["done", "done"]  # the plain result was not current
    again = transcribe_object(storage, cache, reqs["form.jpg"], with_fields)
    assert again.status == "skipped"

    write_fields_csv(storage, BUCKET, "fld/out/_fields.csv", [again, outcomes[1]])
    text = storage.download(BUCKET, "fld/out/_fields.csv").data.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["source"] for r in rows] == [f"s3://{BUCKET}/fld/in/{n}" for n in reqs]
    assert list(rows[0])[:2] == ["source", "page_index"] and list(rows[0])[-1] == "flagged_fields"
    form_result = PageResult.model_validate_json(
        storage.download(BUCKET, "fld/out/form.jpg.json").data
    )
    assert form_result.fields, "the form's fields were read"
    columns = [c for c in rows[0] if c not in ("source", "page_index", "flagged_fields")]
    assert len(columns) == len(form_result.fields)
    assert sum(bool(rows[0][c]) for c in columns) == sum(bool(f.value) for f in form_result.fields)
    assert not any(rows[1][c] for c in columns)
