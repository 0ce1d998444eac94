"""Which way up is the page? 0, 90, 180 or 270 degrees, from the recognizer's own certainty.

Why: a page photographed sideways and stored without an EXIF orientation tag reaches us on
its side; every later stage assumes upright lines of upright capitals. Deskewing corrects a
few degrees; this stage corrects quarter turns.

How: connected components of character size are cut from the binarized page, normalized
once, and turned by each quarter turn as 32 x 32 glyphs (exact: a quarter turn of a square
is a permutation of its pixels). The turns worth trying follow from the lines' direction.
The most character-like 16 glyphs are read first, upright and turned: an upright reading
clearly ahead ends the stage there (most pages). Otherwise up to 48 are: upright glyphs
read confidently end the stage; else the turns are read in one batch. Upright glyphs are
read with more confidence than turned ones (mean top probability ~0.9-0.98 upright,
~0.7-0.85 turned, on synthetic pages of validation writers), though symmetric shapes (O, X,
H, I, N, S, Z, 0, 8) read well in two or four turns, which is why many glyphs vote.

Turning the binarized page instead of the decoded picture keeps this stage exact and cheap,
and the sheet search before it does not depend on which way up the page is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ocr.model.classes import CLASSES
from ocr.model.store import Recognizer
from ocr.stages.binarize import PreparedPage, estimate_scale
from ocr.stages.normalize import SIZE, normalize_batch
from ocr.stages.segment import Component, Components, find_components

FloatImage = NDArray[np.float32]


@dataclass(frozen=True)
class OrientParams:
    """Orientation parameters; sizes in character heights of the page."""

    max_glyphs: int = 48
    """Glyphs judged at most (the most character-like first): the vote is settled long before,
    and four turns of 48 glyphs cost about as much as reading a short line."""
    min_glyphs: int = 3
    """With fewer candidate glyphs the page is left as it is (nothing to judge by)."""
    size_band: tuple[float, float] = (0.5, 2.0)
    """A candidate's long side, in character heights (the page's character height is
    measured on components and is the same whichever way the page is turned)."""
    bar_width_sw: float = 2.0
    """A candidate no thicker than this (stroke widths) and at least ``bar_aspect`` times as
    long is one straight stroke and does not vote: turned a quarter it reads as a confident
    1 or I, and such bars are mostly pieces of printed rules and cell edges (on forms and
    lined paper), which would vote the page onto its side. Dropped in both directions, so a
    handwritten 1 on an upright page costs only its (symmetric) vote."""
    bar_aspect: float = 3.0
    upright_confident: float = 0.96
    """Mean top probability of the upright reading at or above which the other turns are not
    tried (confident upright pages pay one small batch). On 40 synthetic pages of validation
    writers, turned pages read at most 0.925 upright, upright ones 0.90-0.99."""
    direction_vote: float = 0.7
    """Share of glyphs whose nearest neighbour lies across (or down) that settles the lines'
    direction; between the two, all three turns are tried."""
    probe_glyphs: int = 16
    """The first (most character-like) glyphs are read upright and turned before all of
    them: where the upright reading beats every turn tried by ``probe_margin`` already, the
    page is upright and the rest are not read (a third of the recognizer's work on a plain
    page went to this stage). A turn is only ever applied on all ``max_glyphs``..."""
    probe_margin: float = 0.1
    """...(mean top probability; on 190 validation pages of every kind, 16 glyphs never put
    a turned page's upright reading 0.1 ahead, and that many upright pages stopped here)."""
    min_gain: float = 0.03
    """A turn must beat the upright reading's mean top probability by this to be applied, so
    an upright page is not turned on a coin toss (upright pages of validation writers: no
    turn came within 0.05 of upright; 180-degree pages beat upright by 0.04 at the least)."""


@dataclass(frozen=True)
class Orientation:
    """The quarter turn found, and the evidence."""

    quarter_turns: int
    """``np.rot90`` count (counter-clockwise quarter turns) that makes the page upright."""
    scores: tuple[float, ...]
    """Mean top probability under 0, 1, 2, 3 counter-clockwise quarter turns (0 for turns
    not tried; only the upright one when it was confident)."""
    glyphs: int

    @property
    def degrees(self) -> int:
        """Clockwise rotation applied to the stored picture to make it upright (0/90/180/270)."""
        return (-90 * self.quarter_turns) % 360


@dataclass(frozen=True)
class QuarterTurn:
    """Maps boxes on the turned (upright) page back to the page before the turn."""

    quarter_turns: int
    shape_in: tuple[int, int]
    """(height, width) of the page before the turn."""

    def box_to_input(self, box: tuple[float, float, float, float]) -> tuple[float, ...]:
        x0, y0, x1, y1 = box
        xs = np.array([x0, x1, x1, x0], dtype=np.float64)
        ys = np.array([y0, y0, y1, y1], dtype=np.float64)
        h, w = self.shape_in
        k = self.quarter_turns % 4
        # np.rot90(a, 1): out[i, j] = a[j, W - 1 - i]; in continuous coordinates
        # (x_out, y_out) = (y_in, W - x_in), so x_in = W - y_out, y_in = x_out.
        for m in range(k):
            width_before = w if (k - 1 - m) % 2 == 0 else h
            xs, ys = width_before - ys, xs.copy()
        return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def glyph_components(
    page: PreparedPage, comps: Components, params: OrientParams = OrientParams()
) -> list[Component]:
    """Character-sized components, the most character-sized first, up to ``max_glyphs``;
    lone straight bars left out (see ``OrientParams.bar_width_sw``)."""
    ch = page.scale.char_height
    lo, hi = params.size_band
    bar = params.bar_width_sw * page.scale.stroke_width
    cands = [
        c
        for c in comps.items
        if lo * ch <= max(c.width, c.height) <= hi * ch
        and min(c.width, c.height) >= 2
        and not is_bar(c.width, c.height, bar, params.bar_aspect)
    ]
    # Closest to a character's size first: specks and merged blobs vote last if at all.
    cands.sort(key=lambda c: abs(np.log(max(c.width, c.height) / ch)))
    return cands[: params.max_glyphs]


def is_bar(width: int, height: int, bar_px: float, aspect: float) -> bool:
    """One straight stroke along either axis: at most ``bar_px`` thick and ``aspect`` times
    as long."""
    short, long = min(width, height), max(width, height)
    return short <= bar_px and long >= aspect * short


def glyph_crops(page: PreparedPage, comps: Components, parts: list[Component]) -> list[FloatImage]:
    """Each component's own ink (a neighbour's stroke inside its box left out)."""
    crops = []
    for c in parts:
        own = comps.labels[c.y0 : c.y1, c.x0 : c.x1] == c.labels[0]
        crops.append(np.where(own, page.ink[c.y0 : c.y1, c.x0 : c.x1], np.float32(0.0)))
    return crops


def line_direction(parts: list[Component], params: OrientParams = OrientParams()) -> str | None:
    """ "horizontal" or "vertical" when most glyphs' nearest neighbours lie that way (letters
    of a line are closer than lines are), None when the vote is not clear."""
    if len(parts) < params.min_glyphs:
        return None
    xy = np.array([(c.cx, c.cy) for c in parts], dtype=np.float64)
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(d, np.inf)
    near = xy[np.argmin(d, axis=1)] - xy
    across = float(np.mean(np.abs(near[:, 0]) > np.abs(near[:, 1])))
    if across >= params.direction_vote:
        return "horizontal"
    if across <= 1.0 - params.direction_vote:
        return "vertical"
    return None


def char_confidence(recognizer: Recognizer, glyphs: FloatImage) -> NDArray[np.float32]:
    """Each glyph's highest probability among the 36 characters: an output that says "not a
    character" (a recognizer trained with clutter) must not count as a confident reading."""
    return np.asarray(recognizer.predict_proba(glyphs)[:, : len(CLASSES)].max(axis=1))


def find_orientation(
    page: PreparedPage,
    recognizer: Recognizer,
    comps: Components | None = None,
    params: OrientParams = OrientParams(),
) -> Orientation:
    """The quarter turn that makes the page's glyphs most readable (0 when in doubt).
    ``comps``: the page's components when already found (deskew reuses them)."""
    comps = comps if comps is not None else find_components(page.mask)
    parts = glyph_components(page, comps, params)
    if len(parts) < params.min_glyphs:
        return Orientation(0, (), len(parts))
    # Lines running across leave only upside down to test; lines running down, the two
    # quarter turns. Either halves the recognizer's work.
    direction = line_direction(parts, params)
    tried = {"horizontal": (2,), "vertical": (1, 3)}.get(direction or "", (1, 2, 3))
    probe = np.zeros((0, SIZE, SIZE), dtype=np.float32)
    if len(parts) > params.probe_glyphs:
        probe = normalize_batch(glyph_crops(page, comps, parts[: params.probe_glyphs]))
        turns = np.concatenate([np.rot90(probe, k, axes=(1, 2)) for k in (0, *tried)])
        means = char_confidence(recognizer, np.ascontiguousarray(turns))
        means = means.reshape(1 + len(tried), -1).mean(axis=1)
        if means[0] - means[1:].max() >= params.probe_margin:
            scores = [float(means[0]), 0.0, 0.0, 0.0]
            for k, m in zip(tried, means[1:], strict=True):
                scores[k] = float(m)
            return Orientation(0, tuple(scores), params.probe_glyphs)
    # The probe's glyphs are normalized already; only the rest are.
    rest = normalize_batch(glyph_crops(page, comps, parts[len(probe) :]))
    glyphs = np.concatenate([probe, rest])
    upright = float(char_confidence(recognizer, glyphs).mean())
    if upright >= params.upright_confident:
        return Orientation(0, (upright,), len(parts))
    turns = np.concatenate([np.rot90(glyphs, k, axes=(1, 2)) for k in tried])
    top = char_confidence(recognizer, np.ascontiguousarray(turns))
    scores = [upright, 0.0, 0.0, 0.0]
    for k, s in zip(tried, top.reshape(len(tried), -1).mean(axis=1), strict=True):
        scores[k] = float(s)
    best = int(np.argmax(scores))
    if best == 0 or scores[best] < scores[0] + params.min_gain:
        return Orientation(0, tuple(scores), len(parts))
    return Orientation(best, tuple(scores), len(parts))


def turn_page(page: PreparedPage, orientation: Orientation) -> tuple[PreparedPage, QuarterTurn]:
    """The binarized page turned upright (exact pixel permutation) and the box mapping.
    After a quarter turn the scale is measured again: the sideways page's "character height"
    was the letters' width, and word gaps judged in it came out a third too wide (THE QUICK
    read T HE QUIC K)."""
    k = orientation.quarter_turns
    turn = QuarterTurn(k, (page.mask.shape[0], page.mask.shape[1]))
    mask = np.ascontiguousarray(np.rot90(page.mask, k), dtype=bool)
    turned = PreparedPage(
        np.ascontiguousarray(np.rot90(page.grey, k), dtype=np.float32),
        np.ascontiguousarray(np.rot90(page.ink, k), dtype=np.float32),
        mask,
        estimate_scale(mask) if k % 2 else page.scale,
        page.factor,
    )
    return turned, turn
