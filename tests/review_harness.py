"""Real parts for the review tests: a transcribed batch (local folder or S3 prefix) and the
review application served by uvicorn on a free port, reached over HTTP."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import uvicorn
from worker_harness import free_port, wait_for

from ocr.batch import BatchOptions, collect_inputs, run_batch
from ocr.io.export import to_json, to_text
from ocr.io.imageio import read_pages_from_bytes
from ocr.model.store import DEFAULT_MODEL_DIR, load_model
from ocr.pipeline import transcribe_page
from ocr.synth import SynthStyle, make_pages, save_page

BATCH_PAGES = 3
WORKER_MARK = "source-etag"
SERVER_START_S = 20.0


def synth_pages(folder: Path, n: int = BATCH_PAGES, seed: int = 12) -> list[Path]:
    """Small builtin-font pages with numbers and words: fast, and they give flags."""
    style = replace(
        SynthStyle.clean(), char_height_px=(30.0, 36.0), lines=(3, 4), max_megapixels=0.4
    )
    pages = make_pages(n, writers=[1, 2, 3], seed=seed, style=style, source="builtin")
    return [save_page(p, folder, f"page_{i:02d}") for i, p in enumerate(pages)]


def local_batch(root: Path, n: int = BATCH_PAGES) -> Path:
    """``root/in`` pages transcribed to ``root/out`` as ``scanscribe transcribe --out`` does."""
    images = synth_pages(root / "in", n)
    out = root / "out"
    opts = BatchOptions(out_dir=out)
    for _ in run_batch(collect_inputs([images[0].parent]), opts):
        pass
    return out


def s3_batch(client: Any, bucket: str, root: Path, n: int = BATCH_PAGES) -> str:
    """Pages uploaded to ``s3://bucket/in/`` and their results to ``s3://bucket/out/``, as the
    workers write them (the result names its source by s3:// URI)."""
    client.create_bucket(Bucket=bucket)
    rec = load_model(DEFAULT_MODEL_DIR)
    for path in synth_pages(root, n):
        data = path.read_bytes()
        uri = f"s3://{bucket}/in/{path.name}"
        client.put_object(Bucket=bucket, Key=f"in/{path.name}", Body=data)
        result = transcribe_page(next(read_pages_from_bytes(data, uri)), rec)
        meta = {WORKER_MARK: "etag-of-the-source"}  # the worker's idempotency marks
        for suffix, body in ((".txt", to_text(result)), (".json", to_json(result))):
            key = f"out/{path.stem}{suffix}"
            client.put_object(Bucket=bucket, Key=key, Body=body, Metadata=meta)
    return f"s3://{bucket}/out/"


CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,780",
)
"""Debian's Chromium, quiet: no network of its own, no updates, no sync, a fresh profile."""


def chromium(profile: Path) -> Any:
    """A Selenium driver of Debian's chromium through Debian's chromedriver, both by path, so
    Selenium Manager never downloads a browser or a driver."""
    import os

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


class ServerThread:
    """The app served by a real uvicorn server in a thread of the test process."""

    def __init__(self, app: Any, host: str = "127.0.0.1") -> None:
        self.port = free_port()
        self.host = host
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_for(lambda: self.server.started, "review server", SERVER_START_S)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        deadline = time.monotonic() + SERVER_START_S
        while self.thread.is_alive() and time.monotonic() < deadline:
            self.thread.join(0.1)
