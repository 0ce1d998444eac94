"""Retraining, the gate, the registry pointer and model verification, through real workers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_model import write_crop_folder
from worker_harness import Cluster, MotoServer, RedisServer, cluster_env

from ocr.model.store import DEFAULT_MODEL_DIR, read_manifest
from schemas.manifest import ModelManifest
from schemas.page import PageResult
from schemas.tasks import ModelPointer

pytestmark = pytest.mark.integration

BUCKET = "lab"
MODELS = "models"
POLL_INTERVAL_S = 1.0
GOOD = "cand-good"
WORSE = "cand-worse"
TAMPERED = "cand-tampered"
TRAIN = ["--set", "hidden=[32]", "--set", "epochs=8", "--set", "batch_size=16"]
TRAIN += ["--set", "lr=0.003", "--set", "stroke_copies=0"]
WORSE_TRAIN = ["--set", "hidden=[2]", "--set", "epochs=1", "--set", "lr=1e-6"]
WORSE_TRAIN += ["--set", "augment=false", "--set", "stroke_copies=0"]


@pytest.fixture(scope="module")
def s3(moto_server: MotoServer) -> Any:
    client = moto_server.client()
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture(scope="module")
def cluster(
    redis_server: RedisServer, moto_server: MotoServer, harness_logs: Path, s3: Any
) -> Iterator[Cluster]:
    log_dir = harness_logs / "registry"
    log_dir.mkdir()
    env = cluster_env(
        redis_server.url(1),  # its own broker database: training needs a longer visibility
        moto_server.endpoint,
        model_uri=f"s3://{BUCKET}/{MODELS}/",
        model_poll_interval_s=str(POLL_INTERVAL_S),
        visibility_timeout_s="400",
        time_limit_s="60",
        soft_time_limit_s="50",
        training_time_limit_s="300",
        training_soft_time_limit_s="280",
    )
    c = Cluster(env, log_dir)
    c.start_worker(queues="ocr,training")
    yield c
    c.stop_all()


@pytest.fixture(scope="module")
def crops(s3: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = write_crop_folder(tmp_path_factory.mktemp("crops") / "crops", per_class=60)
    for f in sorted(root.rglob("*.png")):
        s3.put_object(Bucket=BUCKET, Key=f"train/crops/{f.relative_to(root)}", Body=f.read_bytes())
    return f"folder:s3://{BUCKET}/train/crops/"


def pointer(s3: Any) -> ModelPointer:
    body = s3.get_object(Bucket=BUCKET, Key=f"{MODELS}/current.json")["Body"].read()
    return ModelPointer.model_validate_json(body)


def manifest(s3: Any, version: str) -> ModelManifest:
    body = s3.get_object(Bucket=BUCKET, Key=f"{MODELS}/{version}/manifest.json")["Body"].read()
    return ModelManifest.model_validate_json(body)


def transcribed_by(cluster: Cluster, s3: Any, page: Path) -> str:
    """Transcribe one page on the workers (forced) and return the model version it names."""
    s3.put_object(Bucket=BUCKET, Key=f"pages/{page.name}", Body=page.read_bytes())
    r = cluster.cli(
        "submit", f"s3://{BUCKET}/pages", "--out", f"s3://{BUCKET}/results", "--wait", "--force"
    )
    assert r.returncode == 0, r.stderr + cluster.logs()[-3000:]
    body = s3.get_object(Bucket=BUCKET, Key=f"results/{page.name}.json")["Body"].read()
    return PageResult.model_validate_json(body).model.version


def test_retrained_model_is_published_promoted_and_used_without_restart(
    cluster: Cluster, s3: Any, crops: str, worker_pages: list[Path]
) -> None:
    shipped = read_manifest(DEFAULT_MODEL_DIR).version
    r = cluster.cli("models", "publish", str(DEFAULT_MODEL_DIR), "--promote")
    assert r.returncode == 0, r.stderr
    assert pointer(s3).version == shipped
    assert transcribed_by(cluster, s3, worker_pages[0]) == shipped

    r = cluster.cli("retrain", "--data", crops, *TRAIN, "--version", GOOD, "--wait")
    assert r.returncode == 0, r.stderr + cluster.logs()[-3000:]
    assert "promoted" in r.stdout and "NOT" not in r.stdout, r.stdout
    p = pointer(s3)
    assert (p.version, p.history) == (GOOD, [shipped])
    m = manifest(s3, GOOD)
    assert m.promotion is not None and m.promotion.promoted
    assert m.promotion.current_accuracy is not None
    keys = {
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{MODELS}/{GOOD}/")["Contents"]
    }
    assert f"{MODELS}/{GOOD}/model.npz" in keys
    assert any(k.startswith(f"{MODELS}/{GOOD}/report/") for k in keys)

    time.sleep(POLL_INTERVAL_S + 0.5)  # the worker re-reads the pointer at its next task
    assert transcribed_by(cluster, s3, worker_pages[0]) == GOOD
    listing = cluster.cli("models", "list").stdout
    assert f"* {GOOD}" in listing and shipped in listing


def test_worse_candidate_is_published_but_not_promoted(
    cluster: Cluster, s3: Any, crops: str
) -> None:
    r = cluster.cli("retrain", "--data", crops, *WORSE_TRAIN, "--version", WORSE, "--wait")
    assert r.returncode == 0, r.stderr + cluster.logs()[-3000:]
    assert "NOT promoted" in r.stdout, r.stdout
    assert pointer(s3).version == GOOD
    promotion = manifest(s3, WORSE).promotion
    assert promotion is not None and not promotion.promoted
    assert promotion.current_accuracy is not None
    assert promotion.candidate_accuracy < promotion.current_accuracy - promotion.margin
    shown = json.loads(cluster.cli("models", "show", WORSE).stdout)
    assert shown["promotion"]["promoted"] is False


def test_rollback_and_promote_move_the_pointer(cluster: Cluster, s3: Any) -> None:
    shipped = read_manifest(DEFAULT_MODEL_DIR).version
    assert cluster.cli("models", "rollback").returncode == 0
    assert pointer(s3).version == shipped
    assert cluster.cli("models", "promote", GOOD).returncode == 0
    assert pointer(s3).version == GOOD


def test_model_whose_bytes_do_not_match_sha256_is_refused(
    cluster: Cluster, s3: Any, worker_pages: list[Path]
) -> None:
    good = manifest(s3, GOOD)
    weights = s3.get_object(Bucket=BUCKET, Key=f"{MODELS}/{GOOD}/model.npz")["Body"].read()
    damaged = weights[:-64] + bytes(64)  # same size, different bytes
    bad = good.model_copy(update={"version": TAMPERED})
    s3.put_object(Bucket=BUCKET, Key=f"{MODELS}/{TAMPERED}/model.npz", Body=damaged)
    s3.put_object(
        Bucket=BUCKET, Key=f"{MODELS}/{TAMPERED}/manifest.json", Body=bad.model_dump_json()
    )
    r = cluster.cli("models", "promote", TAMPERED)
    assert r.returncode == 1 and "sha256" in r.stderr, r.stderr
    assert pointer(s3).version == GOOD

    # Someone moves the pointer anyway: workers refuse the model and keep the one they have.
    forced = ModelPointer(
        version=TAMPERED,
        model_sha256=bad.model_sha256,
        updated_at=datetime.now(UTC),
        reason="test: bypassing promote",
        history=[GOOD],
    )
    s3.put_object(Bucket=BUCKET, Key=f"{MODELS}/current.json", Body=forced.model_dump_json())
    time.sleep(POLL_INTERVAL_S + 0.5)
    assert transcribed_by(cluster, s3, worker_pages[1]) == GOOD
    assert f"refusing model {TAMPERED}" in cluster.logs()
    assert cluster.cli("models", "promote", GOOD).returncode == 0
