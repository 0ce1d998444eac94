"""Wiring: SOURCE and DEST to stores, page images to a fetcher, and uvicorn to serve it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from review.app import ReviewConfig, create_app
from review.images import PageImages, local_fetcher, s3_fetcher
from review.store import LocalStore, S3Store, open_store

ACCESS_LOG = False
"""Off: every keystroke is three requests, and the log would drown the useful lines."""


def build_app(
    source: str,
    crops: str,
    reviewer: str,
    threshold: float,
    token: str = "",
    loopback: bool = True,
    client: Any = None,
) -> Any:
    """The Starlette app over ``source``; ``client`` is an S3 client (default: from the
    worker settings) for s3:// locations."""
    if client is None and (source.startswith("s3://") or crops.startswith("s3://")):
        from worker.settings import get_settings
        from worker.storage import make_client

        client = make_client(get_settings())
    store = open_store(source, lambda: client)
    dest = open_store(crops, lambda: client)
    if isinstance(store, S3Store):
        from worker.settings import get_settings

        fetch = s3_fetcher(client, get_settings().max_download_bytes)
    else:
        assert isinstance(store, LocalStore)
        fetch = local_fetcher([Path(os.getcwd()), store.root])
    config = ReviewConfig(
        source=source,
        crops=crops,
        reviewer=reviewer,
        threshold=threshold,
        token=token,
        loopback=loopback,
    )
    return create_app(config, store, dest, PageImages(fetch))


def serve(app: Any, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, access_log=ACCESS_LOG, log_level="info")
