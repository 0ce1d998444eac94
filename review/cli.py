"""``scanscribe review SOURCE``: build the app over a results folder or S3 prefix and serve it.

Starlette, uvicorn and boto3 are imported inside the command, so other commands start as
fast as before.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from pathlib import Path

from schemas.review import REVIEWER_PATTERN

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
CROPS_FOLDER = "review-crops/"
"""Default DEST, under SOURCE: a review writes nowhere else unless told to."""

EXIT_OK, EXIT_USAGE = 0, 2


def add_review_command(sub: argparse._SubParsersAction) -> None:
    """One call in worker.cli.add_worker_commands wires it (like ``health``)."""
    p = sub.add_parser(
        "review",
        help="review flagged and doubtful characters in the browser",
        description="Serve a web application over SOURCE (a results folder of `transcribe "
        "--out`, or an s3://B/out/ prefix of `submit`): the queue of flagged and "
        "low-confidence characters, most doubtful first, decided by keyboard. Each decision "
        "writes <stem>.review.json, updates <stem>.json and .txt (the model's reading kept) "
        "and a labelled crop DEST/<LABEL>/<page sha>-<line>-<char>.png that "
        "`retrain --data folder:DEST` reads. Bound beyond 127.0.0.1 it requires "
        "SCANSCRIBE_REVIEW_TOKEN.",
    )
    p.add_argument("source", metavar="SOURCE", help="results folder or s3://BUCKET/PREFIX/")
    p.add_argument("--port", type=int, default=DEFAULT_PORT)
    p.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)")
    p.add_argument(
        "--crops",
        metavar="DEST",
        default=None,
        help=f"folder or s3:// prefix for labelled crops (default: SOURCE/{CROPS_FOLDER})",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="ask about characters below this confidence too "
        "(default: SCANSCRIBE_REVIEW_THRESHOLD)",
    )
    p.add_argument("--reviewer", default=None, help="name in the records (default: login name)")
    p.set_defaults(func=cmd_review)


def _fail(message: str) -> int:
    print(f"scanscribe review: {message}", file=sys.stderr)
    return EXIT_USAGE


def cmd_review(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from review.security import is_loopback
    from worker.settings import get_settings

    try:
        settings = get_settings()
    except ValidationError as e:
        return _fail(str(e))
    reviewer = args.reviewer or getpass.getuser()
    if not re.match(REVIEWER_PATTERN, reviewer):
        return _fail(f"--reviewer {reviewer!r}: letters, digits and ._@+- only, up to 64")
    threshold = settings.review_threshold if args.threshold is None else args.threshold
    if not 0.0 <= threshold <= 1.0:
        return _fail("--threshold must be between 0 and 1")
    loopback = is_loopback(args.host)
    if not loopback and not settings.review_token:
        return _fail(
            f"--host {args.host} is reachable from other machines: set SCANSCRIBE_REVIEW_TOKEN"
        )
    source = args.source
    if not source.startswith("s3://"):
        if not Path(source).is_dir():
            return _fail(f"{source}: no such results folder")
        source = str(Path(source).resolve())
    crops = args.crops or source.rstrip("/") + "/" + CROPS_FOLDER
    from review.server import build_app, serve

    try:
        app = build_app(source, crops, reviewer, threshold, settings.review_token, loopback)
    except ValueError as e:
        return _fail(str(e))
    shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    url = f"http://{shown}:{args.port}/"
    if settings.review_token:  # not printed: logs of a service outlive the session
        url += "?token=<SCANSCRIBE_REVIEW_TOKEN> (once; a cookie keeps it)"
    print(f"reviewing {source} (crops to {crops}) at {url}", flush=True)
    serve(app, args.host, args.port)
    return EXIT_OK
