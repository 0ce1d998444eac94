"""Peak memory of decoding one big PNG page (issue 8: a 36 MP PNG must fit a 768 MiB worker).

Run:
    .venv/bin/python bench/decode_memory.py [--width 7200 --height 5000]

Writes a 16-bit grey and an RGBA PNG of that size (a page: paper, one dark line of "ink", a
transparent margin) to a temporary folder, then decodes each with ``ocr.io.imageio`` in a
fresh process and prints that process's peak RSS (VmHWM: ru_maxrss would carry over the
peak of the process that forked it) and how much decoding added to it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

CHILD = """
import sys
from pathlib import Path
from ocr.io.imageio import read_pages

def peak_mb():
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if "VmHWM" in x)
    return int(line.split()[1]) // 1024

before = peak_mb()
page = next(read_pages(sys.argv[1]))
print(peak_mb(), peak_mb() - before, "x".join(map(str, page.pixels.shape)))
"""


def write_pages(folder: Path, width: int, height: int) -> list[Path]:
    yy, xx = np.mgrid[0:height, 0:width]
    shade = np.sin(xx / 300.0) * np.cos(yy / 400.0)
    grey16 = (40000 + 20000 * shade).astype(np.uint16)
    grey16[height // 5 : height // 5 + 200, width // 7 : 6 * width // 7] = 2000
    rgba = np.full((height, width, 4), 230, np.uint8)
    rgba[..., 3] = 255
    rgba[height // 5 : height // 5 + 200, width // 7 : 6 * width // 7, :3] = 20
    rgba[:, : width // 14, 3] = 0
    paths = [folder / "grey16.png", folder / "rgba.png"]
    Image.fromarray(grey16).save(paths[0])
    Image.fromarray(rgba, "RGBA").save(paths[1])
    return paths


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--width", type=int, default=7200)
    p.add_argument("--height", type=int, default=5000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for path in write_pages(Path(tmp), args.width, args.height):
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, check=True
            ).stdout.split()
            print(
                f"{path.name:12s} {args.width} x {args.height}: peak RSS {out[0]} MB "
                f"(decoding added {out[1]} MB), page {out[2]}"
            )


if __name__ == "__main__":
    main()
