"""Readings -> result objects: each glyph's probabilities read as a character (with its
alternatives and confusion flag, word context applied), boxes mapped from working
resolution back to original pixels, and characters gathered into words, lines and the
cells of form frames (:mod:`schemas.page`). Recognition is done before; nothing here
looks at pixels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ocr.forms import Frame
from ocr.model.classes import NUM_CLASSES
from ocr.model.store import Recognizer
from ocr.stages.fields import FieldsFound
from ocr.stages.printread import BoxMap
from ocr.stages.recognize import FLAG_MARGIN, Reading, apply_context, confusable_pairs, read_char
from ocr.stages.segment import CharBox, Glyph, Layout
from schemas.page import Alternative, Character, ConfusionFlag, Line, Word


@dataclass(frozen=True)
class ReadOptions:
    """How probabilities become characters."""

    flag_margin: float = FLAG_MARGIN
    """See :data:`ocr.stages.recognize.FLAG_MARGIN`."""
    context: bool = True
    """Apply the letter/digit word-context rules."""
    by_mass: bool = False
    """Words are letters or digits by probability mass (forms), not by a vote."""


def to_original(box: CharBox, maps: Sequence[BoxMap], size: tuple[int, int]) -> list[int]:
    """Working-resolution box -> original pixels through ``maps`` (the pipeline's steps, last
    first), clipped to the image."""
    corners: tuple[float, ...] = (box.x0, box.y0, box.x1, box.y1)
    for m in maps:
        corners = m.box_to_input((corners[0], corners[1], corners[2], corners[3]))
    x0, y0, x1, y1 = corners
    w, h = size
    return [
        min(w, max(0, int(np.floor(x0)))),
        min(h, max(0, int(np.floor(y0)))),
        min(w, max(0, int(np.ceil(x1)))),
        min(h, max(0, int(np.ceil(y1)))),
    ]


def union_box(boxes: list[list[int]]) -> list[int]:
    a = np.asarray(boxes)
    return [int(a[:, 0].min()), int(a[:, 1].min()), int(a[:, 2].max()), int(a[:, 3].max())]


def character(r: Reading, box: list[int]) -> Character:
    flag = None
    if r.flag is not None:
        flag = ConfusionFlag(
            readings=list(r.flag.readings),
            probs=list(r.flag.probs),
            reason=r.flag.reason,
            rule=r.flag.rule,
            original=r.flag.original,
        )
    return Character(
        text=r.text,
        box=box,
        confidence=min(1.0, max(0.0, r.confidence)),
        alternatives=[Alternative(char=c, prob=min(1.0, p)) for c, p in r.alternatives],
        flag=flag,
    )


def probs_by_box(glyphs: list[Glyph], probs: NDArray[np.float32]) -> dict[int, NDArray[np.float32]]:
    """Each glyph's probabilities keyed by its box's identity: the crop and its reading travel
    together, so decoding never depends on walking two lists in step."""
    if len(glyphs) != len(probs):
        raise ValueError(f"{len(glyphs)} glyphs but {len(probs)} rows of probabilities")
    return {id(g.box): p for g, p in zip(glyphs, probs, strict=True)}


def decode(
    layout: Layout,
    probs: dict[int, NDArray[np.float32]],
    recognizer: Recognizer,
    maps: Sequence[BoxMap],
    size: tuple[int, int],
    read: ReadOptions,
) -> list[Line]:
    """Each character's probabilities (:func:`probs_by_box`) -> lines of words of characters
    (marks as '.')."""
    pairs = confusable_pairs(recognizer)
    lines: list[Line] = []
    for line in layout.lines:
        readings: list[list[Reading]] = []
        word_probs: list[list[NDArray[np.float32]]] = []
        numbered: list[bool] = []
        for word in line.words:
            rs, ps = [], []
            for c in word.chars:
                if c.kind == "char":
                    p = probs[id(c)][:NUM_CLASSES]  # kept: a character is its best output
                    rs.append(read_char(p, pairs, read.flag_margin))
                    ps.append(p)
            readings.append(rs)
            word_probs.append(ps)
            numbered.append(
                len(rs) == 1 and word.chars[-1].kind == "mark" and word.chars[-1].mark == "."
            )
        if read.context:
            # On forms, words are letters or digits by probability mass, as in comb cells:
            # a value's misread digit (U, C) no longer outvotes the rest (CU1760 read
            # CUI7GO). Plain pages keep the vote of unconfusable characters.
            keep = [i for i, rs in enumerate(readings) if rs]
            ctx = apply_context(
                [readings[i] for i in keep],
                [word_probs[i] for i in keep],
                [numbered[i] for i in keep],
                by_mass=read.by_mass,
            )
            for i, rs in zip(keep, ctx, strict=True):
                readings[i] = rs
        words: list[Word] = []
        for word, rs in zip(line.words, readings, strict=True):
            it = iter(rs)
            chars: list[Character] = []
            for c in word.chars:
                box = to_original(c, maps, size)
                if c.kind == "char":
                    chars.append(character(next(it), box))
                elif c.mark in (".", ","):
                    chars.append(Character(text=c.mark, box=box, confidence=1.0, alternatives=[]))
            if chars:
                text = "".join(ch.text for ch in chars)
                words.append(
                    Word(text=text, box=union_box([ch.box for ch in chars]), characters=chars)
                )
        if words:
            lines.append(
                Line(
                    text=" ".join(w.text for w in words),
                    box=union_box([w.box for w in words]),
                    words=words,
                )
            )
    return lines


def read_frames(
    found: FieldsFound,
    probs: dict[int, NDArray[np.float32]],
    recognizer: Recognizer,
    maps: Sequence[BoxMap],
    size: tuple[int, int],
    read: ReadOptions,
) -> list[Frame]:
    """The found fields in original pixels; a comb's cells read one character each, with
    the word context applied to each run of filled cells."""
    pairs = confusable_pairs(recognizer)
    frames: list[Frame] = []
    for k, f in enumerate(found.fields):
        box = to_original(CharBox(f.x0, f.y0, f.x1, f.y1, "char", _NO_MASK), maps, size)
        if f.kind != "comb":
            frames.append(Frame(f.kind, box))
            continue
        cells = found.cell_glyphs.get(k, [])
        readings: list[Reading | None] = [
            read_char(probs[id(g.box)][:NUM_CLASSES], pairs, read.flag_margin) if g else None
            for g in cells
        ]
        if read.context:
            runs: list[list[int]] = [[]]
            for i, r in enumerate(readings):
                if r is None:
                    runs.append([])
                else:
                    runs[-1].append(i)
            runs = [r for r in runs if r]
            ctx = apply_context(
                [[readings[i] for i in run] for run in runs],  # type: ignore[misc]
                [[probs[id(cells[i].box)][:NUM_CLASSES] for i in run] for run in runs],  # type: ignore[union-attr]
                [False] * len(runs),
                by_mass=True,
            )
            for run, rs in zip(runs, ctx, strict=True):
                for i, r in zip(run, rs, strict=True):
                    readings[i] = r
        chars: list[Character | None] = [
            character(r, to_original(g.box, maps, size)) if r and g else None
            for r, g in zip(readings, cells, strict=True)
        ]
        frames.append(Frame("comb", box, len(cells), chars))
    return frames


_NO_MASK = np.zeros((0, 0), dtype=bool)
