"""Real parts for the distributed-worker tests: redis-server, a moto S3 server process, a TCP
proxy we can cut, and Celery worker processes. No eager mode, no fake Redis: the failure
tests (kill -9, an unreachable endpoint) only mean something against the real things."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

PROJECT_ROOT = Path(__file__).resolve().parents[1]

START_TIMEOUT_S: float = 60.0
"""A server or worker that is not ready by then is broken (workers import numpy and load the
model, a few seconds on a busy 2-core machine)."""

POLL_S: float = 0.1

KILL_SETTLE_S: float = 0.2
"""How long a chunk must have been running before a test kills its worker (see
Cluster.kill_when_running); chunks of the worker tests take 0.3-1.5 s."""

BUSY_SAMPLE_S: float = 0.03
"""How long a pool process is watched for CPU use before a kill meant to land mid-task."""

BUSY_MIN_NS: int = 3_000_000
"""CPU time (ns) it must use in that sample: a process running a page uses most of it even
on a loaded machine, an idle one waiting on its pipe next to none."""


def cpu_ns(pid: int) -> int:
    """CPU time used by process ``pid`` so far, in ns (/proc/PID/schedstat); -1 if gone."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return -1


def busy(pid: int) -> bool:
    """Whether process ``pid`` uses at least ``BUSY_MIN_NS`` of CPU in ``BUSY_SAMPLE_S``."""
    before = cpu_ns(pid)
    time.sleep(BUSY_SAMPLE_S)
    after = cpu_ns(pid)
    return before >= 0 and after - before >= BUSY_MIN_NS


PUMP_BYTES: int = 65536

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Any, what: str, timeout: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(Exception):
            if predicate():
                return
        time.sleep(POLL_S)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Stop a process and its process group (workers have pool children)."""
    if proc.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


class RedisServer:
    """redis-server on a free port; with ``appendonly`` it keeps its data (queues, unacked
    messages, results) in an append-only file across ``restart()``, as in compose."""

    def __init__(self, log_dir: Path, name: str = "redis", appendonly: bool = False) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            raise FileNotFoundError("redis-server not on PATH (make test installs it)")
        self.exe = exe
        self.port = free_port()
        self.data_dir = log_dir / f"{name}-data"
        self.data_dir.mkdir(exist_ok=True)
        self.appendonly = appendonly
        self.log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--save",
                "",
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "always",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: port_open(self.port), "redis-server")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def shutdown(self) -> None:
        """SHUTDOWN, as an operator's restart does (the append-only file is flushed)."""
        import redis

        with suppress(redis.exceptions.ConnectionError):
            redis.Redis(port=self.port).shutdown(nosave=not self.appendonly)
        self.proc.wait(30)

    def start(self) -> None:
        """Start again on the same port and data directory."""
        self._start()

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


class MotoServer:
    """moto in server mode in its own process, as an S3 endpoint over HTTP."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log = open(log_dir / "moto.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **FAKE_CREDENTIALS},
        )
        wait_for(lambda: port_open(self.port), "moto server")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> Any:
        return boto3.session.Session(**_session_args()).client(
            "s3",
            endpoint_url=self.endpoint,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
        )

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()


def _session_args() -> dict[str, str]:
    return {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
    }


class TcpProxy:
    """A TCP forwarder between the workers and moto that a test can cut: ``pause()`` closes
    the listening socket and every open connection (clients see "connection refused" or a
    connection closed mid-request, like an S3 outage), ``resume()`` listens again on the
    same port. Keeps moto's in-memory state intact, which restarting moto would not."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self.resume()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def resume(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def pause(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            conns, self._conns = set(self._conns), set()
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for c in conns:
            with suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:  # paused meanwhile
                    client.close()
                    upstream.close()
                    continue
                self._conns.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(PUMP_BYTES):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._conns.discard(src)
                self._conns.discard(dst)

    def close(self) -> None:
        self.pause()


@dataclass
class Cluster:
    """Workers sharing one broker database, one S3 endpoint and one set of settings."""

    env: dict[str, str]
    log_dir: Path
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _count: int = 0

    def start_worker(self, queues: str = "ocr", concurrency: int = 1, **extra: str) -> str:
        """Start ``celery worker`` (a real process group) and wait until it is ready."""
        self._count += 1
        name = f"w{self._count}"
        log_path = self.log_dir / f"{name}.log"
        log = open(log_path, "wb")  # noqa: SIM115 - the child owns it
        # The real `scanscribe worker` command, which wraps `celery worker`.
        cmd = [sys.executable, "-m", "worker.cli", "worker", "--queues", queues]
        cmd += ["--concurrency", str(concurrency), "--hostname", f"{name}@%h"]
        cmd += ["--", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        proc = subprocess.Popen(
            cmd,
            cwd=PROJECT_ROOT,
            env={**self.env, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.workers[name] = proc

        def ready() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"worker {name} exited: {log_path.read_text()[-2000:]}")
            return b" ready." in log_path.read_bytes()

        wait_for(ready, f"worker {name}")
        return name

    def kill(self, name: str) -> None:
        """kill -9 the whole worker (main process and pool children): a machine lost."""
        proc = self.workers.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def pool_children(self, name: str) -> list[int]:
        """Pids of a worker's pool processes (the processes that run the tasks)."""
        main = self.workers[name].pid
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == main:  # field 4 of stat: the parent pid
                    children.append(int(stat.parent.name))
        return children

    def stop_worker(self, name: str) -> None:
        stop(self.workers.pop(name), signal.SIGTERM, timeout=30)

    def stop_all(self) -> None:
        for name in list(self.workers):
            self.stop_worker(name)

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("w*.log")))

    def log_marks(self) -> dict[str, int]:
        """Where every worker log ends now: ``logs_since`` then reads only what a test
        caused, whatever ran before it."""
        return {p.name: p.stat().st_size for p in self.log_dir.glob("w*.log")}

    def logs_since(self, marks: dict[str, int]) -> str:
        parts = []
        for p in sorted(self.log_dir.glob("w*.log")):
            with open(p, "rb") as f:
                f.seek(marks.get(p.name, 0))
                parts.append(f.read().decode(errors="replace"))
        return "\n".join(parts)

    def running_chunk(self, name: str) -> str | None:
        """The id of the chunk the worker received last, if nothing has ended it since
        (None when it is between tasks): what a kill must hit to test anything. Ended by
        its own succeeded/retry/raised line, by a lost pool process (that line names no
        task), or by a lost broker connection (the chunk is then cancelled)."""
        current: str | None = None
        for line in self.log(name).splitlines():
            m = re.search(r"transcribe_chunk\[([0-9a-f-]+)\] (\w+)", line)
            if m and m.group(2) == "received":
                current = m.group(1)
            elif m and m.group(1) == current:
                current = None
            elif "WorkerLostError" in line or "Connection to broker lost" in line:
                current = None
        return current

    def kill_when_running(
        self,
        name: str,
        kill: Any,
        settle_s: float = KILL_SETTLE_S,
        timeout: float = 60,
        busy_pid: int | None = None,
    ) -> str:
        """Call ``kill()`` once worker ``name`` has been running one chunk for ``settle_s``
        (and pool process ``busy_pid``, when given, is using CPU on it); that chunk's id (see
        ``when_running``)."""
        return self.when_running([name], lambda _: kill(), settle_s, timeout, busy_pid)[1]

    def when_running(
        self,
        names: list[str],
        action: Any,
        settle_s: float = KILL_SETTLE_S,
        timeout: float = 60,
        busy_pid: int | None = None,
    ) -> tuple[str, str]:
        """Call ``action(name)`` for the first of ``names`` that has been running one chunk
        for ``settle_s``; that worker and chunk id.

        Why the settling: right after a worker receives a retried (ETA) task Celery raises
        its prefetch and fetches another message, and kombu's Redis transport takes a
        message off the queue (BRPOP) and records it as unacknowledged (HSET) in two steps;
        a kill, or Redis going away, between the two loses that message (README, Known
        limits). A kill timed exactly on a receipt would hit that window far more often
        than chance; these tests are about a worker dying mid-chunk.

        ``busy_pid``: a pool process that must also be seen using CPU: on a loaded machine the
        log said a chunk was running while its process had finished it and was handed the
        next one, and killed then (before it took that one) nothing was lost and nothing
        tested (CI run of 2026-12-03)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name in names:
                task = self.running_chunk(name)
                if task is None:
                    continue
                time.sleep(settle_s)
                if busy_pid is not None and not busy(busy_pid):
                    continue
                if self.running_chunk(name) == task:
                    action(name)
                    return name, task
            time.sleep(0.01)
        raise TimeoutError(f"{names} ran no chunk for {settle_s} s within {timeout:.0f} s")

    def cli_async(self, *args: str, **extra_env: str) -> subprocess.Popen[str]:
        """Start the real ``scanscribe`` command line; the caller waits for it."""
        return subprocess.Popen(
            [sys.executable, "-m", "worker.cli", *args],
            cwd=PROJECT_ROOT,
            env={**self.env, **extra_env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run the real ``scanscribe`` command line against this cluster."""
        return subprocess.run(
            [sys.executable, "-m", "worker.cli", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def cluster_env(broker: str, s3_endpoint: str, **settings: str) -> dict[str, str]:
    """A clean environment: ours, fake AWS credentials, one BLAS thread per process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCANSCRIBE_", "AWS_"))}
    env.update(FAKE_CREDENTIALS)
    env.update({"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    env.update(
        {
            "SCANSCRIBE_BROKER_URL": broker,
            "SCANSCRIBE_S3_ENDPOINT_URL": s3_endpoint,
            "SCANSCRIBE_S3_ADDRESSING_STYLE": "path",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({f"SCANSCRIBE_{k.upper()}": v for k, v in settings.items()})
    return env


def iter_keys(client: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])
