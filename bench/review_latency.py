"""Latency of the review application on a 100-page batch: start-up, the queue page, and the
round trip of one keystroke (decision written, next item and its pictures loaded).

The batch: synthetic pages of held-out writers (``bench/pages.py``'s pages, another seed),
transcribed by ``scanscribe transcribe --out``. The server is ``scanscribe review`` in its
own process, reached over HTTP on 127.0.0.1:

- over HTTP (``httpx``): a keystroke is what the browser does -- POST /api/decide, then GET
  the next item's page and its two pictures; each decision really writes the record, the
  result, the text and the crop;
- in Chromium (``--browser``, Debian's chromium + chromedriver): from the key press to the
  next item's ``load`` event (its pictures drawn), as the page's own script measures it.

    .venv/bin/python bench/review_latency.py --pages 100 --keys 60 --browser

Target (issue 12): under 150 ms per keystroke round trip on this machine. ``--think-ms``
(default 500) is the time a reviewer looks at an item before pressing a key, not counted: the
app renders the next items' pictures meanwhile (``review/views.py``); 0 measures keys back
to back, faster than anyone reviews.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from pages import synthetic_dir

START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stats(ms: list[float]) -> str:
    ordered = sorted(ms)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (
        f"median {statistics.median(ms):6.1f} ms  p90 {p90:6.1f} ms  max {ordered[-1]:6.1f} ms"
        f"  (n={len(ms)})"
    )


def transcribe(images: Path, out: Path, jobs: int) -> None:
    if out.exists():
        shutil.rmtree(out)
    cmd = [sys.executable, "-m", "worker.cli", "transcribe", str(images), "--out", str(out)]
    subprocess.run([*cmd, "--jobs", str(jobs)], check=True, stderr=subprocess.DEVNULL)


def start_server(out: Path, crops: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "worker.cli", "review", str(out), "--crops", str(crops)]
        + ["--port", str(port), "--reviewer", "bench"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return proc, (time.perf_counter() - start) * 1000
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise TimeoutError("review server did not start")


def item_page(c: httpx.Client, i: int) -> dict[str, str]:
    r = c.get(f"/?i={i}")
    r.raise_for_status()
    fields = dict(re.findall(r'data-(csrf|item|reading|seen)="([^"]*)"', r.text))
    for view in ("char", "line"):
        c.get(f"/img/{view}/{i}.png").raise_for_status()
    return fields


def over_http(base: str, keys: int, think_s: float) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"queue page": [], "decide": [], "round trip": []}
    with httpx.Client(base_url=base, timeout=30) as c:
        c.get("/static/review.js")  # a browser fetches these once
        page = item_page(c, 0)
        for _ in range(keys):
            i = int(page["item"])
            time.sleep(think_s)  # the reviewer looks at the item (not counted)
            t0 = time.perf_counter()
            r = c.post(
                "/api/decide",
                json={"item": i, "text": page["reading"], "seen": page["seen"]},
                headers={"X-CSRF-Token": page["csrf"]},
            )
            r.raise_for_status()
            t1 = time.perf_counter()
            nxt = r.json()["next"]
            if nxt is None:
                break
            page = item_page(c, nxt)
            t2 = time.perf_counter()
            times["decide"].append((t1 - t0) * 1000)
            times["queue page"].append((t2 - t1) * 1000)
            times["round trip"].append((t2 - t0) * 1000)
    return times


def in_browser(base: str, keys: int, profile: Path, think_s: float) -> list[float]:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from review_harness import chromium  # the browser tests' Chromium, flags and all

    driver: Any = chromium(profile)
    out = []
    try:
        driver.get(base + "/")
        for _ in range(keys):
            time.sleep(think_s)
            before = driver.find_element("tag name", "body").get_attribute("data-item")
            ActionChains(driver).send_keys(Keys.ENTER).perform()
            deadline = time.monotonic() + 30
            value = None
            while time.monotonic() < deadline:
                try:
                    body = driver.find_element("tag name", "body")
                    if body.get_attribute("data-item") != before:
                        value = body.get_attribute("data-roundtrip-ms")
                        if value:
                            break
                except Exception:  # noqa: BLE001 - the page is being replaced; ask again
                    pass
                time.sleep(0.01)
            if not value:
                break
            out.append(float(value))
    finally:
        driver.quit()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--keys", type=int, default=60, help="keystrokes measured per client")
    ap.add_argument("--jobs", type=int, default=2, help="transcription processes")
    ap.add_argument("--cache", type=Path, default=Path("runs/bench-pages"))
    ap.add_argument("--work", type=Path, default=Path("runs/review-latency"))
    ap.add_argument("--browser", action="store_true", help="also measure in headless Chromium")
    ap.add_argument(
        "--think-ms",
        type=float,
        default=500.0,
        help="time a reviewer looks at an item before the key (not counted; 0 = back to back)",
    )
    args = ap.parse_args()
    images = synthetic_dir(args.cache, args.pages, args.seed, "test")
    out = args.work / "out"
    if not (out.is_dir() and len(list(out.glob("*.json"))) >= args.pages):
        transcribe(images, out, args.jobs)
    if any('"review": {' in p.read_text() for p in out.glob("*.json")):
        transcribe(images, out, args.jobs)  # a fresh queue each run: no earlier decisions
    shutil.rmtree(args.work / "crops", ignore_errors=True)
    port = free_port()
    proc, startup_ms = start_server(out, args.work / "crops", port)
    base = f"http://127.0.0.1:{port}"
    try:
        total = httpx.get(base + "/").text
        progress = re.search(r'id="progress">([^<]*)<', total)
        print(f"{args.pages} pages; queue: {progress.group(1) if progress else '?'}")
        print(f"start-up (queue built, first answer): {startup_ms:.0f} ms")
        t0 = time.perf_counter()
        httpx.get(base + "/").raise_for_status()
        print(f"queue page, first open (HTML):        {(time.perf_counter() - t0) * 1000:.1f} ms")
        think = args.think_ms / 1000
        print(f"think time before each key: {args.think_ms:.0f} ms (not counted)")
        for name, ms in over_http(base, args.keys, think).items():
            print(f"http  {name:11s} {stats(ms)}")
        if args.browser:
            ms = in_browser(base, args.keys, args.work / "profile", think)
            print(f"chromium key press -> next item drawn: {stats(ms)}")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
