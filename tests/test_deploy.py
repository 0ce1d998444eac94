"""Deployment files agree with the code: docker-compose.yml (validated by docker-compose
itself), deploy/scanscribe.env, deploy/k8s/ and the Dockerfile name only settings that exist,
set every one a deployment needs, and use the queue names the Celery app routes to.

Docker does not run on CI; these checks are what keeps the files from rotting there."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from worker.celery_app import OCR_QUEUE, TRAINING_QUEUE
from worker.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
ENV_FILE = ROOT / "deploy" / "scanscribe.env"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
LOCK = ROOT / "deploy" / "requirements.lock"
K8S = ROOT / "deploy" / "k8s"

COMPOSE_TIMEOUT_S = 60
SERVICES = {
    "redis",
    "minio",
    "createbuckets",
    "worker",
    "trainer",
    "beat",
    "flower",
    "review",
    "cli",
}
LONG_RUNNING = {"redis", "minio", "worker", "trainer", "beat", "flower", "review"}
CELERY_SERVICES = {"worker": OCR_QUEUE, "trainer": TRAINING_QUEUE}

REQUIRED_FOR_DEPLOYMENT = {
    "broker_url",  # the default (localhost) is wrong in every container and pod
    "model_uri",  # without it there is no registry: no retraining, no rollback
    "s3_region",
}
"""Settings whose defaults fit a developer machine, not a deployment: every deployment file
must set them. Plus every field pydantic itself requires (none today)."""

LOCAL_STORAGE_SETTINGS = {"s3_endpoint_url", "s3_addressing_style"}
"""MinIO and moto need an endpoint and path-style addressing."""

SETTING_NAME = re.compile(rf"\b{ENV_PREFIX}[A-Z0-9_]+\b")


def field_of(env_name: str) -> str:
    return env_name.removeprefix(ENV_PREFIX).lower()


def required_fields() -> set[str]:
    return {n for n, f in Settings.model_fields.items() if f.is_required()}


def read_env_file(path: Path) -> dict[str, str]:
    """Docker's env_file format: KEY=VALUE, no quote processing."""
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: {line!r} is not KEY=VALUE"
            out[key] = value
    return out


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings exactly as a process with this environment (and nothing else) reads them."""
    for key in [k for k in os.environ if k.upper().startswith(ENV_PREFIX)]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def assert_known_settings(names: set[str], where: str) -> None:
    unknown = sorted(n for n in names if field_of(n) not in Settings.model_fields)
    assert not unknown, f"{where} sets {unknown}: not fields of worker.settings.Settings"


# --- docker-compose.yml and deploy/scanscribe.env ----------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """``docker-compose config``: the file as Docker resolves it (anchors, env_file merged)."""
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.skip("docker-compose not installed (make test installs it on Debian as root)")
    r = subprocess.run(
        [exe, "--file", str(COMPOSE), "--project-directory", str(ROOT), "config"],
        capture_output=True,
        text=True,
        timeout=COMPOSE_TIMEOUT_S,
        cwd=ROOT,
    )
    assert r.returncode == 0, f"docker-compose config rejected the file:\n{r.stderr}"
    resolved: dict[str, Any] = yaml.safe_load(r.stdout)
    return resolved


def test_compose_file_is_valid_and_has_the_topology(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    # Scalable: no fixed container name and no host port, or --scale worker=N collides.
    for name in ("worker", "trainer"):
        assert "container_name" not in services[name]
        assert "ports" not in services[name]
    assert "--appendonly" in services["redis"]["command"]
    assert any(":/data" in v for v in _volumes(services["redis"]))
    assert any(":/data" in v for v in _volumes(services["minio"]))
    assert services["createbuckets"]["restart"] == "no"


def test_compose_review_is_on_host_loopback_and_needs_its_token(compose: dict[str, Any]) -> None:
    review = compose["services"]["review"]
    command = review["command"]
    assert command[0] == "review" and command[1].startswith("s3://")
    assert command[command.index("--host") + 1] == "0.0.0.0"  # inside the container
    (port,) = review["ports"]
    published = port if isinstance(port, str) else f"{port['host_ip']}:{port['published']}"
    assert str(published).startswith("127.0.0.1:8080")
    assert review["environment"].get("SCANSCRIBE_REVIEW_TOKEN"), "review needs its token"


def _volumes(service: dict[str, Any]) -> list[str]:
    out = []
    for v in service.get("volumes", []):
        out.append(v if isinstance(v, str) else f"{v.get('source')}:{v.get('target')}")
    return out


def test_compose_start_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("worker", "trainer", "beat", "review", "cli"):
        deps = services[name]["depends_on"]
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["minio"]["condition"] == "service_healthy"
        assert deps["createbuckets"]["condition"] == "service_completed_successfully"
    assert services["createbuckets"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert services["flower"]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_compose_queues_match_the_celery_routes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, queue in CELERY_SERVICES.items():
        command = services[name]["command"]
        assert command[0] == "worker"
        assert command[command.index("--queues") + 1] == queue
        assert services[name]["healthcheck"]["test"][-1] == "worker"
    assert services["beat"]["command"][0] == "beat"
    assert services["beat"]["healthcheck"]["test"][-1] == "broker"
    assert "scale" not in services["beat"] and "replicas" not in services["beat"].get("deploy", {})


def test_compose_settings_exist_and_required_ones_are_set(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drift test: a renamed or removed setting, or a new required one, fails here."""
    for name in ("worker", "trainer", "beat", "review", "cli", "flower"):
        env = {k: str(v) for k, v in compose["services"][name]["environment"].items()}
        assert_known_settings({k for k in env if k.startswith(ENV_PREFIX)}, f"service {name}")
        if name == "flower":
            continue
        s = settings_from(env, monkeypatch)  # validates types and cross-field rules
        set_fields = {field_of(k) for k in env if k.startswith(ENV_PREFIX) and env[k]}
        missing = (
            required_fields() | REQUIRED_FOR_DEPLOYMENT | LOCAL_STORAGE_SETTINGS
        ) - set_fields
        assert not missing, f"service {name} leaves {sorted(missing)} unset"
        assert urlsplit(s.broker_url).hostname == "redis"
        assert urlsplit(s.s3_endpoint_url).hostname == "minio"
    # Settings named anywhere in the raw file (commands, entrypoints) exist too.
    assert_known_settings(set(SETTING_NAME.findall(COMPOSE.read_text())), "docker-compose.yml")


def test_env_file_is_consistent(monkeypatch: pytest.MonkeyPatch) -> None:
    env = read_env_file(ENV_FILE)
    assert_known_settings({k for k in env if k.startswith(ENV_PREFIX)}, ENV_FILE.name)
    for key, value in env.items():
        assert '"' not in value and "'" not in value and " " not in value, (
            f"{key}: Docker's env_file keeps quotes and spaces literally; make stack reads the "
            "file the same way, but shells do not"
        )
    s = settings_from(env, monkeypatch)
    # MinIO's root user is the credential boto3 uses.
    assert env["AWS_ACCESS_KEY_ID"] == env["MINIO_ROOT_USER"]
    assert env["AWS_SECRET_ACCESS_KEY"] == env["MINIO_ROOT_PASSWORD"]
    # The registry's bucket is one the stack creates.
    buckets = env["STACK_BUCKETS"].split(",")
    assert urlsplit(s.model_uri).netloc in buckets


# --- Dockerfile, .dockerignore and the lock -----------------------------------------------


def test_dockerfile_runs_unprivileged_with_pins_and_a_healthcheck() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"python:3\.11-slim", text)
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*worker\.health", text, flags=re.M)
    assert "requirements.lock" in text and "pip install" in text
    assert "-e " not in text, "an editable install would not carry the shipped model"
    # Everything the Dockerfile copies from the context is let through .dockerignore.
    allowed = {
        line[1:].rstrip("/") for line in DOCKERIGNORE.read_text().splitlines() if line[:1] == "!"
    }
    for src in re.findall(r"^COPY\s+(?!--from)(\S+)", text, flags=re.M):
        assert src.rstrip("/") in allowed, f"COPY {src} is excluded by .dockerignore"


def _load_lock_module() -> Any:
    spec = importlib.util.spec_from_file_location("deploy_lock", ROOT / "deploy" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lock_pins_every_runtime_dependency_within_the_project_ranges() -> None:
    pins = {}
    for line in LOCK.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    closure = _load_lock_module().runtime_closure()
    missing = sorted(set(closure) - set(pins))
    assert not missing, f"deploy/requirements.lock lacks {missing}: run make lock"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for dep in project["dependencies"]:
        req = Requirement(dep)
        pinned = pins[canonicalize_name(req.name)]
        assert req.specifier.contains(pinned), f"lock pins {req.name}=={pinned}, outside {req}"
    dev = {canonicalize_name(Requirement(d).name) for d in project["optional-dependencies"]["dev"]}
    assert not dev & set(pins), "dev tools do not belong in the image"


# --- deploy/k8s ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s() -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) -> object, from every YAML file under deploy/k8s/."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is None or doc.get("kind") == "Kustomization":
                continue
            key = (doc["kind"], doc["metadata"]["name"])
            assert key not in out, f"{key} defined twice"
            out[key] = doc
    return out


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _k8s_env(k8s: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    config = k8s[("ConfigMap", "scanscribe-settings")]["data"]
    secret = k8s[("Secret", "scanscribe-secrets")]["stringData"]
    return {**config, **secret}


def test_kustomization_lists_every_manifest_but_the_secret_example() -> None:
    kust = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert set(kust["resources"]) == files


def test_k8s_workloads_use_the_celery_queues_and_settings(
    k8s: dict[tuple[str, str], dict[str, Any]],
) -> None:
    for name, queue in (("scanscribe-worker", OCR_QUEUE), ("scanscribe-trainer", TRAINING_QUEUE)):
        c = _container(k8s[("Deployment", name)])
        assert c["args"][0] == "worker"
        assert c["args"][c["args"].index("--queues") + 1] == queue
        assert c["livenessProbe"]["exec"]["command"][-1] == "worker"
    beat = k8s[("Deployment", "scanscribe-beat")]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate", "a rolling update runs two beats"
    assert _container(beat)["args"][0] == "beat"
    refs = {("ConfigMap", "scanscribe-settings"), ("Secret", "scanscribe-secrets")}
    for (kind, name), obj in k8s.items():
        if kind != "Deployment":
            continue
        c = _container(obj)
        env_from = {
            ("ConfigMap", e["configMapRef"]["name"])
            if "configMapRef" in e
            else ("Secret", e["secretRef"]["name"])
            for e in c["envFrom"]
        }
        assert env_from == refs, f"{name} reads {env_from}"
        requests, limits = c["resources"]["requests"], c["resources"]["limits"]
        assert _mebibytes(limits["memory"]) >= _mebibytes(requests["memory"])


def _mebibytes(quantity: str) -> float:
    units = {"Mi": 1.0, "Gi": 1024.0}
    return float(quantity[:-2]) * units[quantity[-2:]]


def test_k8s_settings_exist_and_required_ones_are_set(
    k8s: dict[tuple[str, str], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    env = _k8s_env(k8s)
    assert_known_settings({k for k in env if k.startswith(ENV_PREFIX)}, "deploy/k8s")
    for path in K8S.glob("*.yaml"):
        assert_known_settings(set(SETTING_NAME.findall(path.read_text())), path.name)
    settings_from(env, monkeypatch)  # validates
    set_fields = {field_of(k) for k, v in env.items() if k.startswith(ENV_PREFIX) and v}
    missing = (required_fields() | REQUIRED_FOR_DEPLOYMENT) - set_fields
    assert not missing, f"deploy/k8s leaves {sorted(missing)} unset"


def test_keda_scales_the_worker_on_the_ocr_queue_of_the_broker(
    k8s: dict[tuple[str, str], dict[str, Any]],
) -> None:
    scaled = k8s[("ScaledObject", "scanscribe-worker")]["spec"]
    assert ("Deployment", scaled["scaleTargetRef"]["name"]) in k8s
    (trigger,) = scaled["triggers"]
    meta = trigger["metadata"]
    assert trigger["type"] == "redis"
    assert meta["listName"] == OCR_QUEUE
    assert int(meta["listLength"]) > 0
    broker = urlsplit(_k8s_env(k8s)["SCANSCRIBE_BROKER_URL"])
    assert meta["address"] == f"{broker.hostname}:{broker.port}"
    assert meta["databaseIndex"] == (broker.path.strip("/") or "0")
    # KEDA authenticates with the password that is in the broker URL.
    auth = k8s[("TriggerAuthentication", trigger["authenticationRef"]["name"])]["spec"]
    (ref,) = auth["secretTargetRef"]
    secret = k8s[("Secret", ref["name"])]["stringData"]
    assert secret[ref["key"]] == broker.password
