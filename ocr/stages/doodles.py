"""Doodles: short lines of outsized, doubtful characters, dropped after recognition.

A house, a star or an arrow drawn beside the text is one or two components far taller than
the writing, and the recognizer reads it as a G, an A or an I. Size alone cannot decide:
keys drawn as big single letters (W, A, D) are as tall. The recognizer can: a doodle is read
with doubt, a big letter is not. So a line is dropped when it holds at most a couple of
characters, each far taller than the page's median character, and its best reading is
doubtful. Input: the segmented layout and each box's probabilities (keyed by box identity,
like ``drop_clutter``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import NUM_CLASSES
from ocr.stages.segment import Layout


@dataclass(frozen=True)
class DoodleParams:
    height_ratio: float = 1.6
    """A doodle's characters are each at least this many times the page's median character
    height (drawings of the synthetic scenes: 1-2.5 ch; headings rarely reach 1.6)."""

    max_chars: int = 2
    """...and its line holds at most this many characters (a heading is a word or more)."""

    max_confidence: float = 0.6
    """...and its least sure character's best probability is below this (a house read as
    G I has one piece at 0.3-0.45 however sure the other is; big letters read at 0.7 and
    more)."""

    min_page_chars: int = 8
    """A page needs this many characters for its median height to mean anything."""


def drop_doodles(
    layout: Layout,
    probs: dict[int, NDArray[np.float32]],
    params: DoodleParams = DoodleParams(),
) -> tuple[Layout, int]:
    """The layout without doodle lines, and how many character boxes went with them."""
    chars = [c for ln in layout.lines for w in ln.words for c in w.chars if c.kind == "char"]
    if len(chars) < params.min_page_chars:
        return layout, 0
    limit = params.height_ratio * float(np.median([c.y1 - c.y0 for c in chars]))
    kept, dropped = [], 0
    for line in layout.lines:
        own = [c for w in line.words for c in w.chars if c.kind == "char"]
        sure = [float(probs[id(c)][:NUM_CLASSES].max()) for c in own if id(c) in probs]
        doodle = (
            0 < len(own) <= params.max_chars
            and all(c.y1 - c.y0 >= limit for c in own)
            and min(sure, default=0.0) < params.max_confidence
        )
        if doodle:
            dropped += len(own)
        else:
            kept.append(line)
    return replace(layout, lines=kept), dropped
