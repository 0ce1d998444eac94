"""``scanscribe``: the local commands of ocr.cli plus the distributed-worker commands.

Celery, boto3 and the settings are imported inside the command functions, so local commands
(``transcribe``, ``train``) start as fast as before and work without a broker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from ocr.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, build_parser

POLL_INTERVAL_S: float = 0.25
"""How often ``submit --wait`` and ``retrain --wait`` look at the result backend."""


BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def add_worker_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "worker",
        help="run a Celery worker (transcription and/or training queues)",
        description="Consume tasks from the broker in SCANSCRIBE_BROKER_URL. Every pool process "
        "loads the current model once and re-checks the registry pointer every "
        "SCANSCRIBE_MODEL_POLL_INTERVAL_S seconds.",
    )
    p.add_argument("--queues", default="ocr", help="comma-separated: ocr, training")
    p.add_argument("--concurrency", type=int, default=os.cpu_count() or 1, help="processes")
    p.add_argument("--loglevel", default="info")
    p.add_argument("--hostname", default=None, help="worker node name (default: celery's)")
    p.add_argument(
        "celery_args",
        nargs=argparse.REMAINDER,
        metavar="-- CELERY_ARGS",
        help="passed on to `celery worker`, e.g. -- --without-gossip",
    )
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "beat",
        help="run the retraining schedule (run exactly one per broker)",
        description="Send the retrain task on SCANSCRIBE_RETRAIN_CRON with "
        "SCANSCRIBE_RETRAIN_DATA. Run one beat per broker; the retrain task also takes a "
        "Redis lock, so a second beat by mistake does not train twice at once.",
    )
    p.add_argument("--loglevel", default="info")
    p.add_argument("--schedule-file", default=None, help="celery beat's state file")
    p.set_defaults(func=cmd_beat)

    p = sub.add_parser(
        "submit",
        help="transcribe every image/PDF under an S3 prefix on the workers",
        description="Queue a batch and print its id. Results go to OUT/<relative name>.json "
        "and .txt (or .error.json), and OUT/_batch.json summarizes the batch. Submitting the "
        "same prefix again skips pages whose result exists for the same source ETag and "
        "model version, unless --force. With --wait: exit 0 when every page succeeded, 1 "
        "when some failed, 2 when the batch itself failed.",
    )
    p.add_argument("source", metavar="s3://BUCKET/PREFIX")
    p.add_argument("--out", required=True, metavar="s3://BUCKET/PREFIX")
    p.add_argument("--wait", action="store_true", help="show progress until done")
    p.add_argument("--force", action="store_true", help="redo pages that already have results")
    p.add_argument(
        "--fields",
        action="store_true",
        help="read printed form fields (comb cells, boxes, underlines) of every page and write "
        "_fields.csv (a row per page, a column per field label) beside _batch.json",
    )
    p.add_argument("--timeout", type=float, default=None, help="--wait at most this many s")
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("status", help="progress or summary of a batch")
    p.add_argument("batch_id", metavar="BATCH_ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("models", help="the model registry at SCANSCRIBE_MODEL_URI")
    msub = p.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    msub.add_parser("list", help="published versions, current marked *").set_defaults(
        func=cmd_models_list
    )
    q = msub.add_parser("show", help="a version's manifest")
    q.add_argument("version")
    q.set_defaults(func=cmd_models_show)
    q = msub.add_parser("promote", help="make a version current (after verifying it)")
    q.add_argument("version")
    q.set_defaults(func=cmd_models_promote)
    msub.add_parser("rollback", help="make the previous current version current").set_defaults(
        func=cmd_models_rollback
    )
    q = msub.add_parser("publish", help="upload a local model directory as a version")
    q.add_argument("model_dir")
    q.add_argument("--version", default=None, help="default: the manifest's version")
    q.add_argument("--promote", action="store_true", help="also make it current")
    q.set_defaults(func=cmd_models_publish)

    p = sub.add_parser(
        "retrain",
        help="queue a retraining run on the training queue",
        description="Train on labelled data in S3, gate the candidate against the current "
        "model, publish it to the registry and promote it when it is not worse by more than "
        "SCANSCRIBE_PROMOTION_MARGIN.",
    )
    p.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="KIND:s3://BUCKET/KEY",
        help="dataset (repeatable); a folder of labelled crops is folder:s3://B/crops/",
    )
    p.add_argument("--gate", action="append", default=[], metavar="KIND:s3://...")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="hyperparameter (JSON value), e.g. --set epochs=5 --set hidden=[256]",
    )
    p.add_argument("--version", default=None)
    p.add_argument("--wait", action="store_true")
    p.set_defaults(func=cmd_retrain)

    p = sub.add_parser("config", help="print the effective worker settings (secrets masked)")
    p.set_defaults(func=cmd_config)

    from worker.health import add_health_command

    add_health_command(sub)

    from review.cli import add_review_command

    add_review_command(sub)


def _fail(command: str, message: str, code: int = EXIT_USAGE) -> int:
    print(f"scanscribe {command}: {message}", file=sys.stderr)
    return code


def cmd_config(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from worker.settings import Settings

    try:
        s = Settings()
    except ValidationError as e:
        return _fail("config", str(e))
    for name, value in s.masked().items():
        shown = json.dumps(value) if not isinstance(value, str) else value
        print(f"SCANSCRIBE_{name.upper()}={shown}")
    print(f"# credentials: boto3's default chain ({_credential_source()})")
    return EXIT_OK


def _credential_source() -> str:
    try:
        import boto3

        creds = boto3.session.Session().get_credentials()
    except Exception as e:  # noqa: BLE001 - config must print even with a broken chain
        return f"error: {e}"
    if creds is None:
        return "none found"
    return f"found via {creds.method}, access key ****{creds.access_key[-4:]}"


def cmd_worker(args: argparse.Namespace) -> int:
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    if args.concurrency < 1 or not queues:
        return _fail("worker", "--concurrency must be >= 1 and --queues non-empty")
    # One BLAS thread per process: N processes already use N cores. Before numpy loads.
    for var in BLAS_THREAD_VARS:
        os.environ.setdefault(var, "1")
    from worker.celery_app import app

    argv = ["worker", "-Q", ",".join(queues), "-c", str(args.concurrency), "-l", args.loglevel]
    if args.hostname:
        argv += ["-n", args.hostname]
    extra = list(args.celery_args)
    argv += extra[1:] if extra[:1] == ["--"] else extra
    app.worker_main(argv)
    return EXIT_OK


def cmd_beat(args: argparse.Namespace) -> int:
    from worker.celery_app import app

    argv = ["beat", "-l", args.loglevel]
    if args.schedule_file:
        argv += ["-s", args.schedule_file]
    if not app.conf.beat_schedule:
        print("scanscribe beat: SCANSCRIBE_RETRAIN_CRON or _DATA unset: nothing scheduled")
    app.start(argv)
    return EXIT_OK


def cmd_submit(args: argparse.Namespace) -> int:
    from ocr.batch import check_relative
    from worker.storage import parse_s3_uri

    try:
        src, out = parse_s3_uri(args.source), parse_s3_uri(args.out)
        for prefix in (src.key, out.key):  # "" (the bucket) and one trailing "/" are fine
            if prefix.rstrip("/"):
                check_relative(prefix.rstrip("/"))
    except ValueError as e:  # UnsafeName is a ValueError
        return _fail("submit", str(e))
    from schemas.tasks import TranscribePrefixRequest
    from worker.celery_app import PREFIX_TASK, app

    req = TranscribePrefixRequest(
        bucket=src.bucket,
        prefix=src.key,
        out_bucket=out.bucket,
        out_prefix=out.key,
        force=args.force,
        fields=args.fields,
    )
    # By name: the client needs neither the task bodies nor their imports (numpy, scipy).
    result = app.send_task(PREFIX_TASK, kwargs=req.model_dump(mode="json"))
    print(result.id, flush=True)
    if not args.wait:
        return EXIT_OK
    from worker.follow import wait_for_batch

    return wait_for_batch(result.id, show=True, timeout=args.timeout)


def cmd_status(args: argparse.Namespace) -> int:
    from celery.result import AsyncResult, GroupResult

    from schemas.tasks import BatchStarted, BatchSummary
    from worker.celery_app import app

    head = AsyncResult(args.batch_id, app=app)
    state: dict[str, Any] = {"batch_id": args.batch_id, "state": head.state}
    if head.failed():
        state["error"] = repr(head.result)
    elif head.successful():
        started = BatchStarted(**head.result)
        state.update(files=started.files, chunks=started.chunks)
        if started.callback_id is not None and started.group_id is not None:
            callback = AsyncResult(started.callback_id, app=app)
            group = GroupResult.restore(started.group_id, app=app)
            children = group.results if group is not None else []
            state["files_finished"] = sum(
                len(c.result) for c in children if c.ready() and c.successful()
            )
            if callback.successful():
                state["state"] = "DONE"
                state["summary"] = BatchSummary(**callback.result).model_dump(mode="json")
            elif callback.failed():
                state["state"] = "FAILED"
                state["error"] = repr(callback.result)
            else:
                from worker.follow import SUMMARY_RESENT, lost_chunks, resend_lost_summary
                from worker.settings import get_settings

                waiting = [c for c in children if not c.ready()] or [callback]
                lost = lost_chunks(get_settings().broker_url, waiting)
                if lost == [callback.id] and resend_lost_summary(started, children, callback):
                    lost = []
                    state["note"] = SUMMARY_RESENT
                state["state"] = "FAILED" if lost else "RUNNING"
                if lost:
                    state["error"] = f"chunk(s) lost by the broker: {', '.join(lost)}; resubmit"
        else:
            state["state"] = "DONE"
    if args.json:
        print(json.dumps(state, indent=2))
    else:
        for k, v in state.items():
            print(f"{k}: {json.dumps(v) if isinstance(v, dict) else v}")
    if state["state"] == "PENDING":
        print("(unknown or not yet picked up by a worker)", file=sys.stderr)
    return EXIT_OK


def _registry() -> Any:
    from worker.registry import Registry
    from worker.settings import get_settings
    from worker.storage import Storage

    s = get_settings()
    if not s.model_uri:
        raise SystemExit(_fail("models", "SCANSCRIBE_MODEL_URI is not set"))
    return Registry(Storage.from_settings(s), s.model_uri, s.model_max_bytes)


def cmd_models_list(args: argparse.Namespace) -> int:
    reg = _registry()
    pointer = reg.current()
    for v in reg.versions():
        m = reg.manifest(v)
        mark = "*" if pointer is not None and pointer.version == v else " "
        test = m.metrics.get("test")
        acc = f"test {100 * test.accuracy:6.2f}%" if test else ""
        promo = ""
        if m.promotion is not None:
            promo = "gate passed" if m.promotion.promoted else "gate FAILED"
        print(f"{mark} {v:32s} {m.created_at:%Y-%m-%d %H:%M} {acc} {promo}")
    if pointer is None:
        print("(no current version: workers use the shipped model)")
    return EXIT_OK


def cmd_models_show(args: argparse.Namespace) -> int:
    from worker.registry import RegistryError

    try:
        print(_registry().manifest(args.version).model_dump_json(indent=2))
    except RegistryError as e:
        return _fail("models show", str(e))
    return EXIT_OK


def cmd_models_promote(args: argparse.Namespace) -> int:
    from ocr.model.store import ModelError
    from worker.registry import RegistryError

    try:
        p = _registry().set_current(args.version, "promoted by hand")
    except (ModelError, RegistryError) as e:
        return _fail("models promote", str(e), EXIT_FAILED)
    print(f"current: {p.version}")
    return EXIT_OK


def cmd_models_rollback(args: argparse.Namespace) -> int:
    from ocr.model.store import ModelError
    from worker.registry import RegistryError

    try:
        p = _registry().rollback()
    except (ModelError, RegistryError) as e:
        return _fail("models rollback", str(e), EXIT_FAILED)
    print(f"current: {p.version}")
    return EXIT_OK


def cmd_models_publish(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ocr.model.store import ModelError

    reg = _registry()
    try:
        m = reg.publish(Path(args.model_dir), version=args.version)
        if args.promote:
            reg.set_current(m.version, "published and promoted by hand")
    except ModelError as e:
        return _fail("models publish", str(e), EXIT_FAILED)
    print(f"published {reg.uri(m.version)}/" + (" (current)" if args.promote else ""))
    return EXIT_OK


def cmd_retrain(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from schemas.tasks import RetrainRequest, RetrainResult
    from worker.celery_app import RETRAIN_TASK, app

    hyper: dict[str, Any] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep:
            return _fail("retrain", f"--set {item!r} is not KEY=VALUE")
        try:
            hyper[key] = json.loads(value)
        except json.JSONDecodeError:
            hyper[key] = value
    try:
        req = RetrainRequest(
            datasets=args.data, hyperparameters=hyper, gate=args.gate, version=args.version
        )
    except ValidationError as e:
        return _fail("retrain", str(e))
    body = req.model_dump(mode="json")
    result = app.send_task(
        RETRAIN_TASK, args=(body.pop("datasets"), body.pop("hyperparameters")), kwargs=body
    )
    print(result.id, flush=True)
    if not args.wait:
        return EXIT_OK
    try:
        out = RetrainResult(**result.get(timeout=None, interval=POLL_INTERVAL_S))
    except Exception as e:  # noqa: BLE001 - the task's own error, re-raised by get()
        return _fail("retrain", f"{type(e).__name__}: {e}", EXIT_FAILED)
    p = out.promotion
    print(
        f"published {out.version}: {'promoted' if p.promoted else 'NOT promoted'} ({p.reason}); "
        f"current {out.current_version}"
    )
    return EXIT_OK


WORKER_COMMANDS = frozenset(
    {"worker", "beat", "submit", "status", "models", "retrain", "config", "review"}
)


def worker_parser() -> argparse.ArgumentParser:
    """Only the worker commands: building the local ones imports the training stack
    (matplotlib, about 0.35 s), which ``submit`` and ``status`` do not need."""
    parser = argparse.ArgumentParser(prog="scanscribe")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_worker_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] and argv[0] in WORKER_COMMANDS:
        parser = worker_parser()
    else:
        parser = build_parser(add_worker_commands)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
