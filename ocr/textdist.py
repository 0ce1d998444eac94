"""Character error rate: Levenshtein distance over characters, divided by the truth length."""

from __future__ import annotations

import numpy as np


def edit_distance(hyp: str, ref: str) -> int:
    """Insertions + deletions + substitutions turning ``hyp`` into ``ref`` (one row at a time,
    vectorized over the row's substitution costs)."""
    if not ref:
        return len(hyp)
    if not hyp:
        return len(ref)
    r = np.frombuffer(ref.encode("utf-32-le"), dtype=np.uint32)
    prev = np.arange(len(ref) + 1)
    for i, ch in enumerate(hyp, 1):
        sub = prev[:-1] + (r != ord(ch))
        cur = np.empty_like(prev)
        cur[0] = i
        cur[1:] = np.minimum(sub, prev[1:] + 1)
        # Insertions chain left to right: cur[j] = min(cur[j], cur[j-1] + 1).
        cur = np.minimum.accumulate(cur - np.arange(len(cur))) + np.arange(len(cur))
        prev = cur
    return int(prev[-1])


def strip_spaces(text: str) -> str:
    return "".join(text.split())


def cer(hyp: str, ref: str, spaces: bool = True) -> float:
    """Character error rate; with ``spaces=False`` spaces and line breaks are ignored."""
    if not spaces:
        hyp, ref = strip_spaces(hyp), strip_spaces(ref)
    return edit_distance(hyp, ref) / max(1, len(ref))
