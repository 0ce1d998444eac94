"""Binarized page -> lines -> words -> character boxes.

Stages (each callable alone, data flows one way): :func:`find_components` ->
:func:`filter_components` -> :func:`group_lines` (which also attaches small pieces and marks and
merges broken characters) -> :func:`split_wide` -> :func:`split_words`; :func:`segment` chains
them and :func:`crop_chars` cuts each character's own ink out for the recognizer.

Every size constant is a multiple of the estimated character height ("ch") or stroke width
("sw") of :class:`ocr.stages.binarize.Scale`; coordinates are working-image pixels, boxes half-open.

Modules: ``params`` (every tuned constant), ``components``, ``lines``, ``split``, ``words``,
``layout`` (the result containers and crops). The package imports ``ocr.stages.binarize``
(the mask, ink map and scale it works on) and nothing else of the engine; the recognizer
reaches it only as a :data:`Scorer` passed in.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ocr.stages.binarize import BoolImage, FloatImage, Scale
from ocr.stages.segment.components import (
    Component,
    Components,
    cap_parts,
    filter_components,
    find_components,
    union,
)
from ocr.stages.segment.layout import (
    CharBox,
    Glyph,
    Layout,
    Line,
    Scorer,
    Word,
    chars_in_order,
    crop_char,
    crop_chars,
    cut_glyphs,
    to_charbox,
)
from ocr.stages.segment.lines import estimate_skew, group_lines, merge_scored
from ocr.stages.segment.params import DEFAULT_PARAMS, SegmentParams
from ocr.stages.segment.split import split_wide, typical_width
from ocr.stages.segment.words import (
    char_gaps,
    drop_stray_marks,
    line_char_heights,
    line_threshold,
    split_words,
    word_gap_threshold,
)


class ScoreBudget:
    """The recognizer's share of one page's segmentation: ``scorer()`` gives the scorer while
    fewer than ``limit`` crops have been scored, then None (geometry alone decides), and
    counts how often it refused. Each request is served whole (a line's merges are one
    request, each wide part's cuts another)."""

    def __init__(self, score: Scorer | None, limit: int) -> None:
        self.score, self.limit, self.used, self.refused = score, limit, 0, 0

    def _counted(self, crops: list[FloatImage]) -> NDArray[np.floating]:
        self.used += len(crops)
        assert self.score is not None
        return self.score(crops)

    def scorer(self) -> Scorer | None:
        if self.score is None:
            return None
        if self.used >= self.limit:
            self.refused += 1
            return None
        return self._counted


def segment(
    mask: BoolImage,
    ink: FloatImage,
    scale: Scale,
    score: Scorer | None = None,
    comps: Components | None = None,
    params: SegmentParams = DEFAULT_PARAMS,
) -> Layout:
    """Whole segmentation: components -> filtered -> lines (with merges) -> splits -> words.

    ``comps``: the components of ``mask`` where an earlier stage (deskew) already found them.
    """
    comps = comps if comps is not None else find_components(mask)
    filtered = filter_components(comps, scale, params=params)
    parts = cap_parts(filtered, params.max_parts)
    stems = score is None or not params.scored_stems  # else merge_scored judges them
    grouped = group_lines(parts, scale, params=params, stems=stems)
    budget = ScoreBudget(
        score, max(params.score_budget_min, int(params.score_budget_per_part * len(parts)))
    )
    if score is not None:
        grouped = [
            merge_scored(line, comps.labels, ink, scale, scorer, params=params)
            if (scorer := budget.scorer())
            else line
            for line in grouped
        ]
    lines = [
        drop_stray_marks(
            [
                to_charbox(c, own, scale, params=params)
                for c, own in split_wide(
                    line,
                    comps.labels,
                    ink,
                    scale,
                    budget.scorer(),
                    params=params,
                    scorer_now=budget.scorer,
                )
            ],
            scale,
            params=params,
        )
        for line in grouped
    ]
    lines = [boxes for boxes in lines if any(b.kind == "char" for b in boxes)]
    heights = line_char_heights(lines, scale, params=params)
    pooled = [char_gaps(boxes) / h for boxes, h in zip(lines, heights, strict=True)]
    page_threshold = params.space_threshold_scale * word_gap_threshold(
        np.concatenate([np.zeros(0), *pooled]), params=params
    )
    out: list[Line] = []
    for boxes, gaps, h in zip(lines, pooled, heights, strict=True):
        words = split_words(boxes, line_threshold(gaps, page_threshold, params=params) * h)
        out.append(Line([Word([boxes[i] for i in w]) for w in words]))
    return Layout(out, scale, len(filtered) - len(parts), budget.refused)


__all__ = [
    "DEFAULT_PARAMS",
    "CharBox",
    "Component",
    "Components",
    "Glyph",
    "Layout",
    "Line",
    "ScoreBudget",
    "Scorer",
    "SegmentParams",
    "Word",
    "char_gaps",
    "chars_in_order",
    "crop_char",
    "crop_chars",
    "cut_glyphs",
    "drop_stray_marks",
    "estimate_skew",
    "filter_components",
    "find_components",
    "group_lines",
    "line_char_heights",
    "line_threshold",
    "merge_scored",
    "segment",
    "split_words",
    "split_wide",
    "typical_width",
    "union",
    "word_gap_threshold",
]
