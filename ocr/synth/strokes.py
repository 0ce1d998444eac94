"""Pen strokes of the writers: Chars74K tablet strokes, or a small built-in stroke font
(fallback without the data; also what the tests use), and the writer split of pages."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ocr.datapath import data_root
from ocr.model.classes import CLASSES
from ocr.synth.style import FloatArray
from ocr.training.datasets.chars74k import Strokes, read_strokes

Glyphs = dict[str, list[Strokes]]


CHARS74K_FILE = Path("chars74k") / "strokes-writers-00-39.json"
"""Where the stroke file lives under :func:`ocr.datapath.data_root`."""


BUILTIN_UNITS: float = 100.0
"""Built-in font glyphs are stored in a unit box and scaled to this many stroke units, the
same order of magnitude as Chars74K tablet coordinates."""

BUILTIN_SEED: int = 7919
"""Base seed of the built-in font's pseudo-writers (writer w uses BUILTIN_SEED + w)."""


def _arc(
    cx: float, cy: float, rx: float, ry: float, t0: float, t1: float, n: int = 12
) -> list[tuple[float, float]]:
    """Points of an elliptic arc from angle t0 to t1 degrees (y down, 0 = right, 90 = bottom)."""
    ts = np.deg2rad(np.linspace(t0, t1, n))
    return [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in ts]


def _builtin_font() -> dict[str, list[list[tuple[float, float]]]]:
    """Block capitals as polylines in a box of height 1 (y down, baseline at y = 1)."""
    o = _arc(0.4, 0.5, 0.4, 0.5, 0, 360, 24)
    p_bowl = [(0.0, 0.0), (0.32, 0.0), *_arc(0.32, 0.27, 0.27, 0.27, -90, 90), (0.0, 0.54)]
    return {
        "A": [[(0.0, 1.0), (0.35, 0.0), (0.7, 1.0)], [(0.13, 0.62), (0.57, 0.62)]],
        "B": [
            [(0.0, 0.0), (0.0, 1.0)],
            [(0.0, 0.0), (0.36, 0.0), *_arc(0.36, 0.24, 0.22, 0.24, -90, 90), (0.0, 0.48)],
            [(0.0, 0.48), (0.4, 0.48), *_arc(0.4, 0.74, 0.26, 0.26, -90, 90), (0.0, 1.0)],
        ],
        "C": [_arc(0.4, 0.5, 0.4, 0.5, 45, 315, 20)],
        "D": [
            [(0.0, 0.0), (0.0, 1.0)],
            [(0.0, 0.0), (0.28, 0.0), *_arc(0.28, 0.5, 0.37, 0.5, -90, 90, 16), (0.0, 1.0)],
        ],
        "E": [[(0.6, 0.0), (0.0, 0.0), (0.0, 1.0), (0.6, 1.0)], [(0.0, 0.5), (0.48, 0.5)]],
        "F": [[(0.6, 0.0), (0.0, 0.0), (0.0, 1.0)], [(0.0, 0.5), (0.48, 0.5)]],
        "G": [[*_arc(0.4, 0.5, 0.4, 0.5, 315, 10, 20), (0.8, 0.62), (0.8, 0.55), (0.45, 0.55)]],
        "H": [[(0.0, 0.0), (0.0, 1.0)], [(0.6, 0.0), (0.6, 1.0)], [(0.0, 0.5), (0.6, 0.5)]],
        "I": [[(0.05, 0.0), (0.45, 0.0)], [(0.25, 0.0), (0.25, 1.0)], [(0.05, 1.0), (0.45, 1.0)]],
        "J": [
            [(0.15, 0.0), (0.65, 0.0)],
            [(0.5, 0.0), (0.5, 0.75), *_arc(0.27, 0.75, 0.23, 0.25, 0, 180)],
        ],
        "K": [[(0.0, 0.0), (0.0, 1.0)], [(0.6, 0.0), (0.0, 0.58)], [(0.18, 0.44), (0.65, 1.0)]],
        "L": [[(0.0, 0.0), (0.0, 1.0), (0.55, 1.0)]],
        "M": [[(0.0, 1.0), (0.05, 0.0), (0.4, 0.62), (0.75, 0.0), (0.8, 1.0)]],
        "N": [[(0.0, 1.0), (0.0, 0.0), (0.65, 1.0), (0.65, 0.0)]],
        "O": [o],
        "P": [[(0.0, 0.0), (0.0, 1.0)], p_bowl],
        "Q": [o, [(0.45, 0.7), (0.85, 1.05)]],
        "R": [[(0.0, 0.0), (0.0, 1.0)], p_bowl, [(0.28, 0.54), (0.62, 1.0)]],
        "S": [
            [*_arc(0.33, 0.25, 0.3, 0.25, 330, 90, 12), *_arc(0.35, 0.75, 0.32, 0.25, -90, 150, 14)]
        ],
        "T": [[(0.0, 0.0), (0.7, 0.0)], [(0.35, 0.0), (0.35, 1.0)]],
        "U": [[(0.0, 0.0), (0.0, 0.68), *_arc(0.32, 0.68, 0.32, 0.32, 180, 0), (0.64, 0.0)]],
        "V": [[(0.0, 0.0), (0.35, 1.0), (0.7, 0.0)]],
        "W": [[(0.0, 0.0), (0.2, 1.0), (0.45, 0.3), (0.7, 1.0), (0.9, 0.0)]],
        "X": [[(0.0, 0.0), (0.65, 1.0)], [(0.65, 0.0), (0.0, 1.0)]],
        "Y": [[(0.0, 0.0), (0.35, 0.5), (0.7, 0.0)], [(0.35, 0.5), (0.35, 1.0)]],
        "Z": [[(0.0, 0.0), (0.65, 0.0), (0.0, 1.0), (0.7, 1.0)]],
        "0": [_arc(0.3, 0.5, 0.3, 0.5, -90, 270, 24)],
        "1": [[(0.0, 0.22), (0.28, 0.0), (0.28, 1.0)]],
        "2": [[*_arc(0.3, 0.28, 0.3, 0.28, 200, 380, 12), (0.0, 1.0), (0.65, 1.0)]],
        "3": [
            [*_arc(0.3, 0.25, 0.28, 0.25, 200, 450, 12), *_arc(0.3, 0.75, 0.33, 0.25, -90, 160, 14)]
        ],
        "4": [[(0.5, 1.0), (0.5, 0.0), (0.0, 0.68), (0.7, 0.68)]],
        "5": [[(0.6, 0.0), (0.08, 0.0), (0.05, 0.46), *_arc(0.3, 0.7, 0.33, 0.3, 235, 510, 16)]],
        "6": [
            [*_arc(0.33, 0.5, 0.33, 0.5, 300, 180, 10), *_arc(0.33, 0.7, 0.33, 0.3, 180, 540, 18)]
        ],
        "7": [[(0.0, 0.0), (0.65, 0.0), (0.25, 1.0)]],
        "8": [_arc(0.3, 0.25, 0.25, 0.25, 90, 450, 18), _arc(0.3, 0.73, 0.3, 0.27, -90, 270, 18)],
        "9": [[*_arc(0.3, 0.3, 0.3, 0.3, 0, 360, 18), (0.58, 1.0)]],
    }


BUILTIN_FONT = _builtin_font()
"""A-Z and 0-9 as unit-box polylines; :func:`builtin_glyphs` turns them into writers."""


def densify(points: FloatArray, step: float) -> FloatArray:
    """Resample a polyline so no segment is longer than ``step`` (lets warps bend it)."""
    if len(points) < 2:
        return points
    out = [points[:1]]
    for a, b in zip(points[:-1], points[1:], strict=True):
        n = max(1, int(math.ceil(float(np.hypot(*(b - a))) / step)))
        t = np.arange(1, n + 1, dtype=np.float64)[:, None] / n
        out.append(a + (b - a) * t)
    return np.concatenate(out)


def smooth_warp(points: FloatArray, rng: np.random.Generator, amp: float) -> FloatArray:
    """Displace points (in a box of height ~1) by two random low-frequency waves per axis."""
    if amp <= 0:
        return points
    out = points.copy()
    for axis in (0, 1):
        for _ in range(2):
            freq = rng.uniform(0.4, 1.2, 2) * rng.choice([-1.0, 1.0], 2)
            phase = rng.uniform(0, 2 * math.pi)
            out[:, axis] += (
                amp * rng.uniform(0.5, 1.0) * np.sin(2 * math.pi * points @ freq + phase)
            )
    return out


def builtin_glyphs(writer: int) -> Glyphs:
    """The built-in font as seen through one pseudo-writer: a writer-specific width, slant
    and smooth warp, so different writer ids give visibly different hands."""
    rng = np.random.default_rng(BUILTIN_SEED + writer)
    width = rng.uniform(0.85, 1.15)
    shear = rng.uniform(-0.08, 0.12)
    out: Glyphs = {}
    for char, strokes in BUILTIN_FONT.items():
        glyph: Strokes = []
        for s in strokes:
            p = densify(np.asarray(s, dtype=np.float64), 0.05)
            p = smooth_warp(p, rng, 0.03)
            p[:, 0] = p[:, 0] * width + shear * (1.0 - p[:, 1])
            glyph.append([(float(x), float(y)) for x, y in p * BUILTIN_UNITS])
        out[char] = [glyph]
    return out


def writer_glyphs(path: Path, writers: set[int]) -> dict[int, Glyphs]:
    """Chars74K strokes of the given writers: ``{writer: {char: [strokes]}}`` (one glyph per
    char and writer in that corpus)."""
    out: dict[int, Glyphs] = {w: {} for w in sorted(writers)}
    for g in read_strokes(Path(path)):
        if g.writer in out:
            out[g.writer].setdefault(CLASSES[g.label], []).append(g.strokes)
    return out


def chars74k_path() -> Path:
    return data_root() / CHARS74K_FILE


def writer_split(seed: int = 0) -> dict[str, list[int]]:
    """Chars74K writers of each split of :func:`ocr.training.split.split` (train / valid / test, and
    all). Without the data, the same split of the 40 writer ids, for built-in pseudo-writers."""
    from ocr.stages.normalize import SIZE
    from ocr.training.datasets import Dataset, load
    from ocr.training.split import split

    path = chars74k_path()
    if path.is_file():
        ds = load(f"chars74k:{path}")
    else:
        n = 40
        ds = Dataset(
            "builtin",
            np.zeros((n, SIZE, SIZE), dtype=np.float32),
            np.zeros(n, dtype=np.int64),
            np.arange(n, dtype=np.int64),
        )
    parts = split(ds, seed=seed)
    out = {
        k: sorted(int(w) for w in np.unique(d.groups))
        for k, d in zip(("train", "valid", "test"), parts, strict=True)
    }
    out["all"] = sorted(int(w) for w in np.unique(ds.groups))
    return out


def glyph_source(source: str, writers: list[int]) -> dict[int, Glyphs]:
    path = chars74k_path()
    if source == "auto":
        source = "chars74k" if path.is_file() else "builtin"
    if source == "chars74k":
        return writer_glyphs(path, set(writers))
    if source == "builtin":
        return {w: builtin_glyphs(w) for w in writers}
    raise ValueError(f"unknown glyph source {source!r} (auto, chars74k, builtin)")
