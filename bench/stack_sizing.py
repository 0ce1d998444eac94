"""Sizing numbers for deploy/k8s: pages per second and peak memory of one queue worker.

Runs a folder of pages through a running ``make stack`` (one OCR worker, concurrency 1, the
same command a pod runs) and reports the batch's pages/s from its ``_batch.json`` and the peak
resident memory (VmHWM in /proc, the kernel's high-water mark) of the worker's main process
and its pool process.

    make stack
    .venv/bin/python -m ocr.synth --out runs/deploy/pages30 --pages 30 --writers test --seed 5
    OMP_NUM_THREADS=1 .venv/bin/python bench/stack_sizing.py runs/deploy/pages30
    make stack-down
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".pdf"}
BUCKET = "scans"
KIB = 1024
MIB = 1024 * 1024


def stack_env(stack_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for line in (stack_dir / "env").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


def group_peak_rss(pgid: int) -> dict[int, int]:
    """pid -> VmHWM in bytes for every live process of the process group."""
    out: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                out[int(stat.parent.name)] = int(line.split()[1]) * KIB
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("pages", type=Path, help="folder of page images")
    p.add_argument("--stack-dir", type=Path, default=ROOT / "run" / "stack")
    args = p.parse_args(argv)
    env = stack_env(args.stack_dir)
    s3 = boto3.client(
        "s3",
        endpoint_url=env["SCANSCRIBE_S3_ENDPOINT_URL"],
        region_name=env.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}),
    )
    prefix = f"sizing-{int(time.time())}"
    files = sorted(f for f in args.pages.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    for f in files:
        s3.put_object(Bucket=BUCKET, Key=f"{prefix}/in/{f.name}", Body=f.read_bytes())
    cmd = [str(ROOT / ".venv/bin/scanscribe"), "submit", f"s3://{BUCKET}/{prefix}/in/"]
    cmd += ["--out", f"s3://{BUCKET}/{prefix}/out/", "--wait"]
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        return r.returncode
    summary = json.loads(
        s3.get_object(Bucket=BUCKET, Key=f"{prefix}/out/_batch.json")["Body"].read()
    )
    pgid = int((args.stack_dir / "worker.pid").read_text())
    rss = group_peak_rss(pgid)
    print(
        f"{summary['pages_done']} pages in {summary['seconds']:.2f} s on the workers "
        f"({summary['pages_per_second']:.2f} pages/s; submit --wait wall {wall:.2f} s)"
    )
    for pid, peak in sorted(rss.items()):
        role = "main" if pid == pgid else "pool"
        print(f"  worker {role} pid {pid}: peak RSS {peak / MIB:.0f} MiB")
    print(f"  worker total peak RSS {sum(rss.values()) / MIB:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
