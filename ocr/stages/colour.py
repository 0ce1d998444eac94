"""Coloured marks: a short word in a vivid colour on a page written in a grey or black pen.

Keys drawn on a sheet beside red marker shapes (a triangle, a circle) read the shapes as A,
O or 0, on lines of their own or, when the shapes stand level with the writing, as words of
its lines (1 SPACE 1): their outlines are letter-sized and the recognizer is sure of them.
Their colour gives them away: a page's writing is in one pen, and where that pen is grey or
black, a word of at most a couple of characters whose ink is far more saturated than the
page's characters is a marker drawing beside the text. Measured on the picture as decoded
(the working images are grey), after recognition; a page in a coloured pen (blue ink) is left
alone. Input: the layout, the decoded pixels and the pipeline's box maps back to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ocr.results import to_original
from ocr.stages.faint import sampled_window
from ocr.stages.printread import BoxMap
from ocr.stages.segment import CharBox, Layout


@dataclass(frozen=True)
class ColourParams:
    """When a word is a coloured mark; saturation is (max - min) / max of a pixel's RGB."""

    ink_share: float = 0.15
    """A box's ink is its darkest this share of pixels (by their darkest channel): strokes
    cover about that much of a character's box."""

    max_side_px: int = 48
    """Boxes are read every n-th pixel so their longer side is at most this many samples."""

    pen_max_saturation: float = 0.25
    """The page's pen is grey or black when its characters' median ink saturation is below
    this (black and grey pens 0.02-0.15 under white light; blue ink 0.5 and more)..."""

    mark_min_saturation: float = 0.45
    """...and a word each of whose characters' ink is at least this saturated (red, green or
    blue marker 0.6-0.8)..."""

    mark_min_excess: float = 0.3
    """...and this much more saturated than the page's characters..."""

    max_word_chars: int = 2
    """...with at most this many characters is a marker drawing: a word written in a second
    colour (a red NOTE) stays."""

    min_page_chars: int = 6
    """A page needs this many characters for its pen's colour to be known."""


def ink_saturation(pixels: NDArray[np.generic], box: Sequence[int], params: ColourParams) -> float:
    """Median saturation of the darkest ``ink_share`` of the pixels in ``box`` (original px);
    0 for a grey image or an empty box."""
    a = np.asarray(pixels)
    if a.ndim != 3 or a.shape[2] < 3:
        return 0.0
    x0, y0, x1, y1 = box
    window, _ = sampled_window(a, x0, y0, x1, y1, params.max_side_px)
    win = window[..., :3].reshape(-1, 3).astype(np.float32)
    if win.shape[0] == 0:
        return 0.0
    lo, hi = win.min(axis=1), win.max(axis=1)
    k = max(1, int(params.ink_share * len(lo)))
    ink = np.argpartition(lo, k - 1)[:k]
    return float(np.median((hi[ink] - lo[ink]) / np.maximum(hi[ink], 1.0)))


def coloured_marks(
    layout: Layout,
    pixels: NDArray[np.generic],
    maps: Sequence[BoxMap],
    params: ColourParams = ColourParams(),
) -> set[int]:
    """Identities of the character boxes of short words in a vivid colour on a page written
    in a grey or black pen. ``maps``: working px -> ``pixels``' px, last step first."""
    if np.asarray(pixels).ndim != 3:
        return set()
    words = [[c for c in w.chars if c.kind == "char"] for ln in layout.lines for w in ln.words]
    short = any(0 < len(chars) <= params.max_word_chars for chars in words)
    if not short or sum(len(chars) for chars in words) < params.min_page_chars:
        return set()  # no word could be a mark: the page's pen need not be measured
    size = (pixels.shape[1], pixels.shape[0])

    def saturation(c: CharBox) -> float:
        return ink_saturation(pixels, to_original(c, maps, size), params)

    # A mark's every character is at least ``mark_min_saturation``: the short words are
    # measured first, and only when one could be a mark is the page's pen (every character)
    # measured too (most pages stop here: a third of the stage's time on a plain page).
    short_sats = {
        i: [saturation(c) for c in chars]
        for i, chars in enumerate(words)
        if 0 < len(chars) <= params.max_word_chars
    }
    vivid = {i: min(s) for i, s in short_sats.items() if min(s) >= params.mark_min_saturation}
    if not vivid:
        return set()
    sats = [s for i, chars in enumerate(words) for s in short_sats.get(i) or map(saturation, chars)]
    pen = float(np.median(sats))
    if pen >= params.pen_max_saturation:
        return set()
    gone: set[int] = set()
    for i, s in vivid.items():
        if s - pen >= params.mark_min_excess:
            gone |= {id(c) for c in words[i]}
    return gone
