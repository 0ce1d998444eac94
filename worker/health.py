"""Health checks for containers and pods: ``python -m worker.health worker|broker``.

Why these two: a worker is healthy when its own Celery node answers a ping over the broker
(that proves the process, its broker connection and its control loop are alive, also while a
pool process is busy with a long task); beat cannot be pinged, so beat is healthy when the
broker answers. S3 is deliberately not checked: a storage outage is not fixed by restarting
workers, and tasks already retry transient storage errors with backoff.

Exit code 0 when healthy, 1 when not (the reason on stderr), as Docker's HEALTHCHECK and a
Kubernetes exec probe expect.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence

HEALTHY = 0
UNHEALTHY = 1

DEFAULT_TIMEOUT_S: float = 5.0
"""A busy 2-core machine answers a ping within a second; probes allow more."""

DEFAULT_NODE_PREFIX = "celery"
"""Celery's default node name is ``celery@<hostname>`` (``scanscribe worker`` keeps it)."""


def default_node() -> str:
    return f"{DEFAULT_NODE_PREFIX}@{socket.gethostname()}"


def check_broker(url: str, timeout: float = DEFAULT_TIMEOUT_S) -> str | None:
    """None when the broker accepts a connection, else the reason."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=timeout) as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as e:  # noqa: BLE001 - any failure is the answer
        return f"broker unreachable: {type(e).__name__}: {e}"
    return None


def check_worker(node: str, timeout: float = DEFAULT_TIMEOUT_S) -> str | None:
    """None when the Celery node ``node`` answers a ping, else the reason."""
    from worker.celery_app import app

    try:
        replies = app.control.ping(destination=[node], timeout=timeout)
    except Exception as e:  # noqa: BLE001 - a broker error is the answer
        return f"ping failed: {type(e).__name__}: {e}"
    if any(node in reply for reply in replies):
        return None
    return f"worker {node} did not answer a ping within {timeout:g} s"


def check_model_pointer(model_uri: str) -> str | None:
    """None when the registry's ``current.json`` reads (or there is none), else why not.

    Reported, not fatal: workers keep serving the model they loaded when the pointer turns
    unreadable (a 403, a truncated upload), and a restart would not fix it -- it would only
    leave them with no model at all. The operator needs to know, so ``health`` says it."""
    from worker.registry import PointerError, Registry
    from worker.settings import get_settings
    from worker.storage import TRANSIENT_ERRORS, Storage

    s = get_settings()
    try:
        Registry(Storage.from_settings(s), model_uri, s.model_max_bytes).current()
    except TRANSIENT_ERRORS + (PointerError,) as e:
        return f"model pointer unreadable, workers keep their loaded model: {e}"
    return None


def add_health_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=["worker", "broker"], help="what to check")
    p.add_argument(
        "--node", default=None, help="worker node name (default: celery@<this hostname>)"
    )
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds")


def run(args: argparse.Namespace) -> int:
    """The check ``args.what``; prints the reason on failure."""
    from pydantic import ValidationError

    from worker.settings import get_settings

    try:
        s = get_settings()
    except ValidationError as e:
        print(f"unhealthy: bad settings: {e}", file=sys.stderr)
        return UNHEALTHY
    if args.what == "broker":
        problem = check_broker(s.broker_url, args.timeout)
    else:
        problem = check_worker(args.node or default_node(), args.timeout)
    if problem is not None:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return UNHEALTHY
    warning = check_model_pointer(s.model_uri) if args.what == "worker" and s.model_uri else None
    print(f"healthy (degraded: {warning})" if warning else "healthy")
    return HEALTHY


def add_health_command(sub: argparse._SubParsersAction) -> None:
    """``scanscribe health ...``: one call in worker.cli.add_worker_commands wires it."""
    p = sub.add_parser(
        "health",
        help="exit 0 when this worker answers a ping (or the broker is reachable)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    add_health_arguments(p)
    p.set_defaults(func=run)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m worker.health", description=__doc__)
    add_health_arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
