"""Pruning the segmented layout after recognition: boxes read as clutter, dropped by a
later judgement (doodles, faint marks, colour), dots squeezed between letters, slivers of
printed rules, and commas marked. Each function takes a layout and gives a new one; boxes
are known by identity (``id``), as :func:`ocr.results.probs_by_box` keys their readings.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import CLASSES, NOT_CHAR_INDEX, NUM_CLASSES
from ocr.stages.segment import CharBox, Layout, SegmentParams
from ocr.stages.segment import Line as LayoutLine
from ocr.stages.segment import Word as LayoutWord
from ocr.stages.segment.words import drop_inner_dots, drop_slivers, mark_commas


def drop_clutter(
    layout: Layout, probs: dict[int, NDArray[np.float32]], keep: frozenset[int] = frozenset()
) -> tuple[Layout, int]:
    """The layout without the character boxes whose best output is "not a character"
    (``probs`` keyed by box identity, see :func:`probs_by_box`) unless in ``keep``; words
    left without characters go with their marks, lines left empty go. Returns how many boxes
    were dropped."""
    clutter = {
        key for key, p in probs.items() if int(p.argmax()) == NOT_CHAR_INDEX and key not in keep
    }
    return drop_boxes(layout, clutter)[0], len(clutter)


def drop_boxes(layout: Layout, gone: set[int]) -> tuple[Layout, int]:
    """The layout without the boxes (characters or marks) whose identities are in ``gone``;
    words left without characters go with their marks, lines left empty go. Returns how many
    of the layout's character boxes went."""
    if not gone:
        return layout, 0
    lines: list[LayoutLine] = []
    dropped = 0
    for line in layout.lines:
        words = []
        for word in line.words:
            chars = [c for c in word.chars if id(c) not in gone]
            dropped += sum(c.kind == "char" and id(c) in gone for c in word.chars)
            if any(c.kind == "char" for c in chars):
                words.append(LayoutWord(chars))
        if words:
            lines.append(LayoutLine(words))
    return replace(layout, lines=lines), dropped


def drop_stray_marks(
    layout: Layout, probs: dict[int, NDArray[np.float32]], params: SegmentParams
) -> tuple[Layout, int]:
    """The layout without dots squeezed between two letters of a word (a speck where a grid's
    rules crossed read WEE.K; see :func:`ocr.stages.segment.words.drop_inner_dots`) and
    without slivers of printed vertical rules read as dots, I or 1
    (:func:`ocr.stages.segment.words.drop_slivers`), as :func:`drop_boxes` drops them.
    Returns how many character boxes went."""
    digits = {key for key, p in probs.items() if CLASSES[int(p[:NUM_CLASSES].argmax())].isdigit()}
    gone: set[int] = set()
    for ln in layout.lines:
        for w in ln.words:
            kept = drop_slivers(
                drop_inner_dots(w.chars, layout.scale, digits, params), layout.scale, params
            )
            gone |= {id(c) for c in w.chars} - {id(c) for c in kept}
    return drop_boxes(layout, gone)


def mark_line_commas(layout: Layout, params: SegmentParams) -> Layout:
    """The layout with the commas among its kept characters as marks (see
    :func:`ocr.stages.segment.words.mark_commas`): after the clutter stages, so a rule's
    remnant or a torn edge they dropped is not brought back as punctuation. A comma ends
    its word (one is written before a space: HI,MY read as one word with the comma in it),
    and one that made a word of its own ends the word before it."""
    lines: list[LayoutLine] = []
    for ln in layout.lines:
        marked = iter(mark_commas([c for w in ln.words for c in w.chars], params))
        words: list[list[CharBox]] = []
        for w in ln.words:
            current: list[CharBox] = []
            for c in (next(marked) for _ in w.chars):
                current.append(c)
                if c.mark == ",":
                    words.append(current)
                    current = []
            if current:
                words.append(current)
        merged: list[list[CharBox]] = []
        for chars in words:
            if merged and not any(c.kind == "char" for c in chars):
                merged[-1] = [*merged[-1], *chars]
            else:
                merged.append(chars)
        lines.append(LayoutLine([LayoutWord(chars) for chars in merged]))
    return replace(layout, lines=lines)
