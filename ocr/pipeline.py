"""The page pipeline: decoded page -> binary page -> layout -> crops -> probabilities ->
:class:`schemas.page.PageResult`.

Each stage is a function in its own module; this one only runs them in order, times them
and maps working-resolution boxes back to original pixels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from ocr.forms import TemplateField, apply_template, build_fields, reading_text
from ocr.io.imageio import InputError, PageImage
from ocr.model.classes import CLASS_INDEX, CLASSES, CONFUSABLE_PAIRS, NUM_CLASSES
from ocr.model.store import Recognizer
from ocr.results import ReadOptions, decode, probs_by_box, read_frames
from ocr.stages.binarize import (
    TARGET_TOLERANCE,
    BoolImage,
    FloatImage,
    PreparedPage,
    estimate_scale,
    prepare_page,
)
from ocr.stages.canvas import fill_canvas
from ocr.stages.colour import coloured_marks
from ocr.stages.darkness import brightest_channel_darkness, channel_darkness, faint_mask
from ocr.stages.deskew import MIN_DESKEW_DEG, measure_tilt, rotate_page
from ocr.stages.doodles import drop_doodles
from ocr.stages.faint import faint_chars
from ocr.stages.fields import FieldsFound, find_fields, keep_in_fields, outside_frames
from ocr.stages.fused import split_fused
from ocr.stages.orient import Orientation, find_orientation, turn_page
from ocr.stages.printread import BoxMap, PrintRead, Resampled, read_print
from ocr.stages.prune import drop_boxes, drop_clutter, drop_stray_marks, mark_line_commas
from ocr.stages.recognize import (
    FLAG_MARGIN,
    classify,
)
from ocr.stages.rejoin import join_split_w
from ocr.stages.rules import remove_rules, without_rules
from ocr.stages.segment import (
    DEFAULT_PARAMS,
    Components,
    SegmentParams,
    cut_glyphs,
    find_components,
    segment,
)
from ocr.stages.shapes import remove_nested_shapes
from ocr.stages.sheet import SheetSearch, clear_outside, find_sheet, rectify
from ocr.stages.smallprint import split_print
from schemas.page import (
    FormField,
    ModelInfo,
    PageResult,
    PageStats,
    PageWarning,
    SourceInfo,
)

T = TypeVar("T")

ALL_BLACK_GREY: float = 0.2
"""A page whose median grey (0 black .. 1 white) is below this ..."""
ALL_BLACK_SPREAD: float = 0.05
"""... and whose grey spread (90th - 10th percentile) is below this ..."""
ALL_BLACK_CONTRAST: float = 0.25
"""... and on which hardly anything (``ALL_BLACK_INK_SHARE``) is darker than that median by
this share of it has nothing to read. (The spread alone called a dim photo of a page black:
writing covers a few percent of a page, so from the 10th to the 90th percentile it is all
paper. The darker pixels alone called a dark wooden desk black: its grain is no darker than
a quarter below its median, but it spreads.)"""
ALL_BLACK_INK_SHARE: float = 0.001
"""... share of the page's pixels."""

CLUTTER_WARN_SHARE: float = 0.3
"""A page on which at least this share of the crops was dropped as "not a character"...

(a few specks on a clean page are normal; a third of everything means desk, texture or a
drawing filled the picture, and what is left deserves a reviewer's look)"""

CLUTTER_WARN_MIN: int = 10
"""...and at least this many crops, gets the ``many-clutter-rejected`` warning."""


@dataclass(frozen=True)
class PipelineOptions:
    flag_margin: float = FLAG_MARGIN
    """See :data:`ocr.stages.recognize.FLAG_MARGIN`."""
    classifier_splits: bool = True
    """Let the recognizer score candidate merges and cuts of touching characters."""
    context: bool = True
    """Apply the letter/digit word-context rules."""
    segment: SegmentParams = DEFAULT_PARAMS
    """Segmentation constants (:class:`ocr.stages.segment.SegmentParams`)."""
    fields: bool = False
    """Find printed form fields (boxes, comb cells, underlines), remove their lines and read
    them as fields. Off unless asked for (``--fields``, ``--template``, ``--fields-csv``):
    on ruled notebook paper the fields stage took the rules for underline fields."""
    template: tuple[TemplateField, ...] = ()
    """Named field regions of one form (:func:`ocr.forms.load_template`): every page then has
    exactly these fields."""

    @property
    def reads_fields(self) -> bool:
        """Whether the fields stage runs: asked for, or implied by a template."""
        return self.fields or bool(self.template)

    @property
    def read(self) -> ReadOptions:
        """How probabilities become characters (forms weigh letters and digits by mass)."""
        return ReadOptions(self.flag_margin, self.context, by_mass=self.reads_fields)


@dataclass
class PageContext:
    """One page being transcribed and the time each stage took on it."""

    page: PageImage
    timings_ms: dict[str, float] = field(default_factory=dict)

    def run(self, name: str, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        self.timings_ms[name] = round((time.perf_counter() - start) * 1000, 2)
        return out


def check_not_black(page: PageImage, prepared: PreparedPage) -> None:
    grey = prepared.grey
    sample = grey[::4, ::4]
    lo, median, hi = (float(v) for v in np.percentile(sample, [10, 50, 90]))
    ink_share = float(np.mean(sample < median * (1.0 - ALL_BLACK_CONTRAST) - 2.0 / 255))
    if median < ALL_BLACK_GREY and hi - lo < ALL_BLACK_SPREAD and ink_share < ALL_BLACK_INK_SHARE:
        raise InputError(
            "all-black-page",
            f"{page.source}: page {page.page_index + 1} is black (nothing readable)",
        )


def scorer(recognizer: Recognizer) -> Callable[[list[NDArray[np.float32]]], NDArray[np.float32]]:
    """How sure the recognizer is that a crop is ONE character: segmentation compares this
    for merges and cuts. The classic confusable pairs count as one reading here, so an O/0
    split 50:50 is not mistaken for an unlikely shape and cut into a C and a J."""
    partner = np.arange(len(CLASSES))
    for a, b in CONFUSABLE_PAIRS:
        partner[CLASS_INDEX[a]], partner[CLASS_INDEX[b]] = CLASS_INDEX[b], CLASS_INDEX[a]

    def score(crops: list[NDArray[np.float32]]) -> NDArray[np.float32]:
        # Character columns only: the "not a character" output takes its share away, so a
        # fragment of a letter or two letters fused score low as pieces of a merge or a cut.
        p = classify(crops, recognizer)[:, :NUM_CLASSES]
        merged = p + np.where(partner != np.arange(len(CLASSES)), p[:, partner], 0.0)
        return np.minimum(merged.max(axis=1), 1.0).astype(np.float32)

    return score


def page_warnings(
    search: SheetSearch, orientation: Orientation, hard_shadow: bool
) -> list[PageWarning]:
    """What a reviewer should know about how the page was read (see ``WARNING_CODES``)."""
    out: list[PageWarning] = []
    if search.sheet is None and search.background_seen:
        out.append(
            PageWarning(
                code="no-sheet-found",
                message=f"the picture shows more than a sheet, but no sheet was found "
                f"({search.reason}): the background may have been read as writing",
            )
        )
    if search.sheet is not None and search.sheet.partly_outside:
        out.append(
            PageWarning(
                code="sheet-partly-outside",
                message="the sheet runs out of the picture: writing near that edge may be missing",
            )
        )
    if hard_shadow:
        out.append(
            PageWarning(
                code="hard-shadow",
                message="a hard shadow crosses the page: writing along its edge may be misread",
            )
        )
    if orientation.quarter_turns:
        out.append(
            PageWarning(
                code="rotated",
                message=f"the page was stored turned; it was rotated {orientation.degrees} "
                f"degrees clockwise to read it",
            )
        )
    return out


def transcribe_page(
    page: PageImage, recognizer: Recognizer, options: PipelineOptions | None = None
) -> PageResult:
    """Run every stage on one decoded page; raise InputError for a blank or black page."""
    options = options or PipelineOptions()
    ctx = PageContext(page)
    start = time.perf_counter()
    maps: list[BoxMap] = [Resampled(page.scale)]  # built from the file outwards, used reversed
    source = ctx.run("canvas", fill_canvas, page.pixels).pixels  # the picture's own pixels
    search = ctx.run("sheet", find_sheet, source)
    pixels, inside = source, None
    if search.sheet is not None:
        rectified = ctx.run("rectify", rectify, source, search.sheet)
        pixels, inside = rectified.pixels, rectified.inside
        maps.append(search.sheet)
    prepared = ctx.run("binarize", prepare_page, pixels, without_rules)
    hard_shadow = prepared.hard_shadow
    maps.append(Resampled(prepared.factor))
    if inside is not None:
        prepared = ctx.run("clear-outside", clear_outside, prepared, inside)
    check_not_black(page, prepared)
    binarized, image = prepared, pixels

    def darkness() -> list[FloatImage]:  # only ruled pages need it
        maps = [binarized.dark, brightest_channel_darkness(image, binarized)]
        return [m for m in maps if m is not None]

    ruled = ctx.run(
        "rules",
        remove_rules,
        prepared.ink,
        prepared.mask,
        prepared.scale,
        dark=darkness,
        faint=partial(faint_mask, binarized),
        colours=partial(channel_darkness, image, binarized),
    )
    # Forms: the fields stage removes the printed lines itself, from the page as binarized
    # (turned and levelled like the rest): the rules stage takes the bars and tops of letters
    # lying along a comb's rule with it (T read I, E read F). Orientation and deskew still
    # judge the page without its rules, where letters touching a frame are glyphs of their own.
    lined = prepared if options.reads_fields else None
    if ruled.found:  # rules and letters joined to them no longer sway the size estimate
        scale = estimate_scale(ruled.mask)
        if scale.char_height < prepared.scale.char_height / TARGET_TOLERANCE:
            # Far smaller: dashes of a faint rule left behind outnumber the letters (the
            # page's scale was measured without rules already).
            scale = prepared.scale
        prepared = replace(prepared, ink=ruled.ink, mask=ruled.mask, scale=scale, dark=None)
    comps = ruled.components
    if comps is None:
        comps = ctx.run("components", find_components, prepared.mask)
    orientation = ctx.run("orient", find_orientation, prepared, recognizer, comps)
    if orientation.quarter_turns:
        prepared, turn = turn_page(prepared, orientation)
        lined = turn_page(lined, orientation)[0] if lined is not None else None
        maps.append(turn)
        comps = find_components(prepared.mask)
    tilt = ctx.run("deskew", measure_tilt, prepared, comps, options.segment)
    level_comps: Components | None = tilt.components
    if abs(tilt.degrees) >= MIN_DESKEW_DEG:
        prepared, rotation = ctx.run("rotate", rotate_page, prepared, tilt)
        lined = rotate_page(lined, tilt)[0] if lined is not None else None
        maps.append(rotation)
        level_comps = None  # the turned page has new components
    score = scorer(recognizer) if options.classifier_splits else None
    if level_comps is None:
        level_comps = find_components(prepared.mask)
    shapes = ctx.run(
        "shapes", remove_nested_shapes, prepared.ink, prepared.mask, prepared.scale, level_comps
    )
    gone: BoolImage | None = None
    if shapes.changed:
        gone = prepared.mask & ~shapes.mask
        prepared = replace(prepared, ink=shapes.ink, mask=shapes.mask)
        level_comps = None
    found = FieldsFound([], prepared.ink, prepared.mask)
    if lined is not None:
        found = ctx.run("fields", find_fields, lined.grey, lined.ink, lined.mask, prepared.scale)
        if found.fields:
            ink, mask = outside_frames(found, gone)
            prepared = replace(prepared, ink=ink, mask=mask)
            level_comps = None
    prints: list[PrintRead] = []
    # Print is cut from the image binarized (sheet rectified or not), so only when no turn or
    # rotation came after binarization: working px are then that image's px times the factor.
    if found.fields and len(maps) == (3 if search.sheet is not None else 2):
        boxes = [(f.x0, f.y0, f.x1, f.y1) for f in found.fields]
        parts = ctx.run("print", split_print, prepared.mask, prepared.scale, boxes)
        if parts is not None:
            ink = np.where(parts.hand, prepared.ink, np.float32(0)).astype(np.float32)
            prepared = replace(prepared, mask=parts.hand, ink=ink)
            prints = ctx.run(
                "print-read",
                read_print,
                pixels,
                parts.lines,
                parts.height,
                prepared.factor,
                score,
                options.segment,
            )
    layout = ctx.run(
        "segment",
        segment,
        prepared.mask,
        prepared.ink,
        prepared.scale,
        score,
        level_comps,
        params=options.segment,
    )
    glyphs = ctx.run("crop", cut_glyphs, prepared.ink, layout)
    page_glyphs = len(glyphs)  # the page's own glyphs; field cells and print come after
    glyphs += [g for cells in found.cell_glyphs.values() for g in cells if g is not None]
    glyphs += [g for pr in prints for g in pr.glyphs]
    blank = InputError(
        "blank-page", f"{page.source}: page {page.page_index + 1} has no handwriting"
    )
    if not glyphs and not found.fields:
        raise blank
    probs = (
        ctx.run("recognize", classify, [g.crop for g in glyphs], recognizer)
        if glyphs
        else np.zeros((0, len(CLASSES)), dtype=np.float32)
    )
    by_box = probs_by_box(glyphs, probs)
    if score is not None:  # touching letters read as clutter: cut again, not dropped
        layout, pieces = ctx.run(
            "fused",
            split_fused,
            layout,
            by_box,
            prepared.ink,
            score,
            partial(classify, recognizer=recognizer),
            segment=options.segment,
        )
        by_box.update(pieces)
    layout, joined = ctx.run(
        "rejoin",
        join_split_w,
        layout,
        by_box,
        prepared.ink,
        partial(classify, recognizer=recognizer),
    )
    by_box.update(joined)
    kept = keep_in_fields(layout, found.fields, by_box)
    layout, dropped = drop_clutter(layout, by_box, kept)
    layout, doodles = drop_doodles(layout, by_box)
    # Faintness is judged on the pixels as decoded: every step after decoding, undone.
    after_decoding = maps[:0:-1]
    faint_ids = ctx.run("faint", faint_chars, layout, by_box, source, after_decoding)
    layout, faint = drop_boxes(layout, faint_ids - kept)
    colour_ids = ctx.run("colour", coloured_marks, layout, source, after_decoding)
    layout, coloured = drop_boxes(layout, colour_ids - kept)
    dropped += doodles + faint + coloured
    layout, stray = drop_stray_marks(layout, by_box, options.segment)
    dropped += stray
    layout = mark_line_commas(layout, options.segment)
    if page_glyphs and dropped == page_glyphs and not found.fields and not prints:
        raise blank
    clutter_warnings = []
    if dropped >= CLUTTER_WARN_MIN and dropped >= CLUTTER_WARN_SHARE * page_glyphs:
        clutter_warnings.append(
            PageWarning(
                code="many-clutter-rejected",
                message=f"{dropped} of {page_glyphs} shapes were not read as characters "
                "(texture, drawings or rules): check the page",
            )
        )
    size = page.original_size
    back = maps[::-1]
    lines = ctx.run("decode", decode, layout, by_box, recognizer, back, size, options.read)
    before = back[1:]  # the steps before binarization: a print crop maps back through them
    for pr in prints:
        lines += decode(pr.layout, by_box, recognizer, [*pr.maps, *before], size, options.read)
    if prints:
        lines.sort(key=lambda ln: (ln.box[1] + ln.box[3], ln.box[0]))
    fields: list[FormField] = []
    if found.fields or options.template:
        frames = read_frames(found, by_box, recognizer, back, size, options.read)
        fields, lines = build_fields(lines, frames)
        if options.template:
            fields = apply_template(list(options.template), fields, lines, size)
    text = reading_text(lines, fields) if fields else "\n".join(ln.text for ln in lines)
    chars = [c for ln in lines for w in ln.words for c in w.characters if c.text not in ".,"]
    chars += [c for f in fields for c in f.characters]
    ctx.timings_ms["total"] = round((time.perf_counter() - start) * 1000, 2)
    m = recognizer.manifest
    return PageResult(
        source=SourceInfo(
            path_or_uri=page.source,
            sha256=page.sha256,
            width=page.original_size[0],
            height=page.original_size[1],
            page_index=page.page_index,
            page_count=page.page_count,
        ),
        model=ModelInfo(name=m.name, version=m.version, sha256=m.model_sha256),
        text=text,
        lines=lines,
        fields=fields,
        stats=PageStats(
            characters=len(chars),
            mean_confidence=float(np.mean([c.confidence for c in chars])) if chars else None,
            flagged=sum(c.flag is not None for c in chars),
            lines=len(lines),
            words=sum(len(ln.words) for ln in lines) + sum(len(f.value.split()) for f in fields),
        ),
        timings_ms=ctx.timings_ms,
        created_at=datetime.now(UTC),
        warnings=page_warnings(search, orientation, hard_shadow) + clutter_warnings,
        sheet=None
        if search.sheet is None
        else (search.sheet.corners / page.scale).round(1).tolist(),
        rotation=orientation.degrees,
    )
