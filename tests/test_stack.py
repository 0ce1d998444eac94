"""``make stack`` / ``make stack-down`` as a user runs them: the whole topology comes up on
free ports, a batch goes through ``scanscribe submit --wait``, the health checks the
containers use answer, and afterwards not one process of the stack is left."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from worker_harness import free_port, port_open

from ocr.synth import SynthStyle, make_pages, save_page
from schemas.page import PageResult
from schemas.tasks import BatchSummary

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
PAGES = 3
BUCKET = "scans"
STACK_SERVICES = ("redis", "s3", "worker", "trainer", "beat")
MAKE_TIMEOUT_S = 120
SUBMIT_TIMEOUT_S = 60


def stack_env(stack_dir: Path) -> dict[str, str]:
    """The caller's environment without our settings or AWS credentials: only the env file
    (and the stack's own addresses) may configure the stack."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCANSCRIBE_", "AWS_"))}
    env.update(
        STACK_DIR=str(stack_dir),
        STACK_REDIS_PORT=str(free_port()),
        STACK_S3_PORT=str(free_port()),
    )
    return env


def read_settings(env_file: Path) -> dict[str, str]:
    """run/stack/env (``KEY=shell-quoted value``)."""
    out = {}
    for line in env_file.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            out[key] = shlex.split(value)[0] if value else ""
    return out


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def make(target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=MAKE_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], Path]]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not on PATH (make test installs it)")
    stack_dir = tmp_path_factory.mktemp("stack")
    env = stack_env(stack_dir)
    try:
        up = make("stack", env)
        assert up.returncode == 0, up.stdout + up.stderr + _logs(stack_dir)
        assert "stack up" in up.stdout
        yield env, stack_dir
    finally:
        make("stack-down", env)  # idempotent; the test below checks its result


def _logs(stack_dir: Path) -> str:
    return "".join(
        f"\n--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
        for p in sorted(stack_dir.glob("*.log"))
    )


def s3_client(settings: dict[str, str]) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=settings["SCANSCRIBE_S3_ENDPOINT_URL"],
        region_name=settings["AWS_DEFAULT_REGION"],
        aws_access_key_id=settings["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}),
    )


def test_stack_runs_a_batch_and_stops_completely(
    stack: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, stack_dir = stack
    settings = read_settings(stack_dir / "env")
    cli_env = {**env, **settings}
    s3 = s3_client(settings)
    # The buckets exist (created by make stack, from STACK_BUCKETS).
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert set(settings["STACK_BUCKETS"].split(",")) <= buckets

    style = replace(
        SynthStyle.clean(), char_height_px=(28.0, 34.0), lines=(2, 3), max_megapixels=0.3
    )
    pages = make_pages(PAGES, writers=[1, 2], seed=3, style=style, source="builtin")
    names = []
    for i, page in enumerate(pages):
        path = save_page(page, tmp_path, f"page_{i}")
        s3.put_object(Bucket=BUCKET, Key=f"in/{path.name}", Body=path.read_bytes())
        names.append(path.name)

    r = subprocess.run(
        [sys.executable, "-m", "worker.cli", "submit", f"s3://{BUCKET}/in/"]
        + ["--out", f"s3://{BUCKET}/out/", "--wait", "--timeout", str(SUBMIT_TIMEOUT_S)],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=SUBMIT_TIMEOUT_S + 30,
    )
    assert r.returncode == 0, r.stdout + r.stderr + _logs(stack_dir)
    summary = BatchSummary(
        **json.loads(s3.get_object(Bucket=BUCKET, Key="out/_batch.json")["Body"].read())
    )
    assert summary.pages_done == PAGES and summary.pages_failed == 0
    for name in names:  # the naming rule: the source's name, extension kept, + .json
        body = s3.get_object(Bucket=BUCKET, Key=f"out/{name}.json")["Body"].read()
        assert PageResult.model_validate_json(body).text.strip()

    # The health checks of docker-compose.yml and deploy/k8s, against the real processes.
    host = socket.gethostname()
    for args in (["worker", "--node", f"ocr@{host}"], ["worker", "--node", f"training@{host}"]):
        h = subprocess.run(
            [sys.executable, "-m", "worker.health", *args],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert h.returncode == 0, h.stderr
    h = subprocess.run(
        [sys.executable, "-m", "worker.health", "broker"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert h.returncode == 0, h.stderr

    pids = {name: int((stack_dir / f"{name}.pid").read_text()) for name in STACK_SERVICES}
    assert all(group_members(pgid) for pgid in pids.values()), _logs(stack_dir)
    down = make("stack-down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    left = {name: group_members(pgid) for name, pgid in pids.items() if group_members(pgid)}
    assert not left, f"processes left after make stack-down: {left}"
    assert not list(stack_dir.glob("*.pid"))
    for port in (env["STACK_REDIS_PORT"], env["STACK_S3_PORT"]):
        assert not port_open(int(port))
    # Stopping a stopped stack is fine too.
    assert make("stack-down", env).returncode == 0
