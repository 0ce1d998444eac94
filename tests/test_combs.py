"""Box rows and print on forms: comb dividers on an even grid, single boxes whose writing has
full-height strokes, labels as tall as the writing taken for print, print lines read once."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from ocr.forms import spaced
from ocr.stages.binarize import Scale
from ocr.stages.combs import FoundField, pair_boxes, regular_cells
from ocr.stages.fieldparams import DEFAULT_FIELD_PARAMS as P
from ocr.stages.fieldrules import Rule, extend_ends, find_rules, join_pieces
from ocr.stages.fields import (
    FieldsFound,
    _along,
    divider_columns,
    find_fields,
    keep_in_fields,
    outside_frames,
    thicker_than_line,
)
from ocr.stages.printread import read_print
from ocr.stages.segment import DEFAULT_PARAMS
from ocr.stages.smallprint import split_print
from schemas.page import Character, Word

CH = 32
SCALE = Scale(char_height=CH, stroke_width=3.0)


def test_even_dividers_stay_a_comb() -> None:
    edges = [100 + 40 * i for i in range(9)]
    assert regular_cells(edges, 50.0, P) == edges


def test_lost_and_shifted_dividers_are_put_back_on_the_grid() -> None:
    grid = [100 + 40 * i for i in range(11)]
    found = [e for e in grid if e != 260]  # a faint divider lost
    found[found.index(340)] = 353  # a stroke touching a divider moved its run's centre
    out = regular_cells(found, 50.0, P)
    assert len(out) == len(grid)
    assert np.abs(np.asarray(out) - grid).max() <= 1


def test_a_stem_between_two_lost_dividers_does_not_skew_the_grid() -> None:
    """Two faint dividers lost and a letter's stem found between them (an 8-cell drop-out
    blue comb of a validation form, 17 px cells): the median interval (18) is then too long
    for a whole number of cells, but the grid of the row's true cell count meets most
    dividers found."""
    found = [186, 201, 219, 244, 271, 287, 304, 322]
    grid = np.linspace(186, 322, 9)
    out = regular_cells(found, 20.0, P)
    assert len(out) == len(grid)
    assert np.abs(np.asarray(out) - grid).max() <= 3


@pytest.mark.parametrize(
    "edges",
    [
        [100, 130, 600, 640],  # two strokes of a J or an N in a long box
        [100, 400, 700],  # one stroke halfway: cells far wider than the row is high
        [100, 140, 180, 600],  # a few strokes at the start of a long box
    ],
)
def test_strokes_in_a_single_box_leave_it_a_box(edges: list[int]) -> None:
    assert regular_cells(edges, 50.0, P) == [edges[0], edges[-1]]


def test_box_with_full_height_strokes_found_as_a_box() -> None:
    grey = np.ones((300, 900), dtype=np.float32)
    x0, y0, x1, y1 = 100, 100, 800, 150
    grey[y0 : y0 + 2, x0:x1] = 0.1
    grey[y1 : y1 + 2, x0:x1] = 0.1
    grey[y0:y1, x0 : x0 + 2] = 0.1
    grey[y0:y1, x1 - 2 : x1] = 0.1
    for x in (150, 185, 260):  # stems of the value touching both rules
        grey[y0:y1, x : x + 3] = 0.05
    mask = grey < 0.5
    ink = np.where(mask, 1.0 - grey, 0.0).astype(np.float32)
    found = find_fields(grey, ink, mask, SCALE)
    assert [f.kind for f in found.fields] == ["box"]


def _letters(mask: np.ndarray, x0: int, y0: int, n: int, h: int, step: int) -> None:
    for i in range(n):
        x = x0 + i * step
        mask[y0 : y0 + h, x : x + 3] = True
        mask[y0 : y0 + 3, x : x + h // 2] = True


def test_label_as_tall_as_the_writing_is_print_outside_the_frames() -> None:
    mask = np.zeros((300, 900), dtype=bool)
    _letters(mask, 20, 110, 10, 30, 22)  # the label, as tall as the writing (ch 32)
    _letters(mask, 320, 110, 5, 30, 40)  # the value, inside its frame
    frame = (300, 95, 800, 150)
    assert split_print(mask, SCALE) is None  # by size alone it is writing
    parts = split_print(mask, SCALE, [frame])
    assert parts is not None
    assert not parts.hand[:, :300].any()  # the label left the writing
    assert parts.hand[:, 300:].sum() == mask[:, 300:].sum()  # the value stayed
    assert len(parts.lines) == 1 and parts.lines[0].box[2] <= 300


def test_a_print_line_reads_only_its_own_print() -> None:
    """A value written just right of its label lies inside the label's crop: the crop reads
    the label's own letters only, so the value is not read twice (once as print)."""
    pixels = np.full((160, 600), 240, dtype=np.uint8)
    mask = np.zeros((160, 600), dtype=bool)
    for x in range(20, 200, 24):  # the label
        mask[60:80, x : x + 3] = True
        mask[60:63, x : x + 10] = True
    mask[50:95, 212:216] = True  # the value's first stroke, inside its frame
    mask[50:54, 212:240] = True
    pixels[mask] = 20
    scale = Scale(char_height=40, stroke_width=3.0)
    parts = split_print(mask, scale, [(205, 40, 500, 100)])
    assert parts is not None and len(parts.lines) == 1
    assert parts.lines[0].box[2] > 216  # the line's box reaches over the value
    reads = read_print(pixels, parts.lines, parts.height, 1.0, None, DEFAULT_PARAMS)
    assert len(reads) == 1 and reads[0].glyphs
    for g in reads[0].glyphs:
        x0, y0, x1, y1 = g.box.x0, g.box.y0, g.box.x1, g.box.y1
        for m in reads[0].maps:
            x0, y0, x1, y1 = m.box_to_input((x0, y0, x1, y1))
        assert x1 <= 205


def _black_comb(x0: int, y0: int, cell: int, n: int, h: int) -> np.ndarray:
    """A 300 x 700 page holding one black comb of ``n`` cells, lines 2 px."""
    grey = np.ones((300, 700), dtype=np.float32)
    grey[y0 : y0 + 2, x0 : x0 + n * cell + 2] = 0.2
    grey[y0 + h : y0 + h + 2, x0 : x0 + n * cell + 2] = 0.2
    for i in range(n + 1):
        grey[y0 : y0 + h + 2, x0 + i * cell : x0 + i * cell + 2] = 0.2
    return grey


def test_comb_whose_letters_sit_on_its_rules_is_found() -> None:
    """Letters filling most cells and touching the bottom rule make it look like the aligned
    feet of print; the row's dividers still make it a comb, not a lone underline."""
    x0, y0, cell, n, h = 100, 100, 40, 9, 48
    grey = _black_comb(x0, y0, cell, n, h)
    for i in range(n):  # an L in every cell, its foot on the bottom rule
        cx = x0 + i * cell + 7
        grey[y0 + 12 : y0 + h, cx : cx + 3] = 0.05
        grey[y0 + h - 6 : y0 + h - 1, cx - 4 : cx + 28] = 0.05
    mask = grey < 0.5
    ink = np.where(mask, 1.0 - grey, 0.0).astype(np.float32)
    found = find_fields(grey, ink, mask, SCALE)
    assert [(f.kind, len(f.cells) - 1) for f in found.fields] == [("comb", n)]
    assert all(g is not None for g in found.cell_glyphs[0])


def test_faint_noisy_dropout_comb_found_whole() -> None:
    """A 1 px light drop-out comb at the working resolution is barely darker than the paper's
    noise pixel by pixel; averaged along its lines it is found whole, one comb."""
    rng = np.random.default_rng(3)
    grey = np.ones((300, 800), dtype=np.float32)
    x0, y0, cell, n, h, level = 100, 100, 40, 12, 48, 0.87
    grey[y0, x0 : x0 + n * cell + 1] = level
    grey[y0 + h, x0 : x0 + n * cell + 1] = level
    for i in range(n + 1):
        grey[y0 : y0 + h + 1, x0 + i * cell] = level
    grey += rng.normal(0, 0.035, grey.shape).astype(np.float32)
    grey = np.clip(grey, 0, 1)
    mask = grey < 0.5
    ink = np.where(mask, 1.0 - grey, 0.0).astype(np.float32)
    found = find_fields(grey, ink, mask, SCALE)
    assert [(f.kind, len(f.cells) - 1) for f in found.fields] == [("comb", n)]


def test_divider_found_off_centre_is_removed_whole_and_a_touching_side_kept() -> None:
    faint = np.zeros((80, 200), dtype=bool)
    faint[10:60, 100:103] = True  # the divider, 3 px
    faint[20:50, 97:100] = True  # a letter's side touching it (60 % of the height)
    f = FoundField("comb", 60, 10, 141, 60, (60, 101, 140), 3.0)
    xa, xb = divider_columns(faint, f, 104, 6, P)  # found 3 px off (a run's centre)
    assert xa <= 100 and xb >= 102  # all of the divider
    assert xa >= 98  # not the letter's side (one px of blur margin)


def _printed(text: str, xs: list[int], width: int = 14) -> Word:
    cs = [
        Character(text=t, box=[x, 100, x + width, 120], confidence=0.9, alternatives=[])
        for t, x in zip(text, xs, strict=True)
    ]
    return Word(text=text, box=[xs[0], 100, xs[-1] + width, 120], characters=cs)


def test_label_spaces_follow_the_fonts_own_letter_gaps() -> None:
    # A wide font: letters 5 px (0.25 heights) apart, no space in NAME.
    assert spaced(_printed("NAME", [0, 19, 38, 57])) == "NAME"
    # A condensed font: letters overlapping by 1 px, a 4 px (0.2 heights) word space.
    assert spaced(_printed("FIRSTNAME", [0, 13, 26, 39, 52, 70, 83, 96, 109])) == "FIRST NAME"


def test_rule_pieces_join_across_a_short_gap_full_of_ink() -> None:
    """A stroke written onto a rule cuts it where its columns grow thick: the two pieces are
    one rule although ink fills the gap; a long inked gap (a label) still parts them."""
    mask = np.zeros((300, 900), dtype=bool)
    mask[170:201, 300:320] = True  # letters sitting on the line at 300..320
    mask[170:201, 500:600] = True  # a label-long inked gap at 500..600
    pieces = [Rule(100, 300, 200.0, 0.0, 2.0, 0.5), Rule(320, 500, 200.0, 0.0, 2.0, 0.5)]
    pieces.append(Rule(600, 800, 200.0, 0.0, 2.0, 0.5))
    out = join_pieces(pieces, mask, SCALE, P)
    assert [(r.x0, r.x1) for r in out] == [(100, 500), (600, 800)]


def test_comb_found_whole_when_one_rule_was_found_short() -> None:
    """Letters touching a comb's top rule at its start cut that piece off (too short to be
    a rule): the row's dividers are still looked for over the bottom rule's length."""
    faint = np.zeros((300, 800), dtype=bool)
    x0, cell, n, top_y, bot_y = 100, 40, 10, 100, 148
    faint[top_y, x0 : x0 + n * cell + 1] = True
    faint[bot_y, x0 : x0 + n * cell + 1] = True
    for i in range(n + 1):
        faint[top_y : bot_y + 1, x0 + i * cell] = True
    top = Rule(x0 + 2 * cell + 5, x0 + n * cell + 1, float(top_y), 0.0, 1.0, 0.5)
    bottom = Rule(x0, x0 + n * cell + 1, float(bot_y), 0.0, 1.0, 0.5)
    found, used = pair_boxes([top, bottom], faint, SCALE, P)
    assert [(f.kind, f.x0, len(f.cells) - 1) for f in found] == [("comb", x0, n)]
    assert used == {0, 1}


def test_second_piece_of_a_box_rule_frames_no_underline() -> None:
    box_rule = Rule(100, 700, 200.0, 0.0, 2.0, 0.5)
    assert _along(Rule(300, 700, 201.0, 0.0, 2.0, 0.5), [box_rule])
    assert not _along(Rule(300, 700, 240.0, 0.0, 2.0, 0.5), [box_rule])


def test_piece_on_a_box_rows_edge_frames_no_underline() -> None:
    """A piece of a comb's top rule cut off before the row's first cells (letters touching
    it) lies on the row's edge: no underline field of its own (it took the label above)."""
    comb_row = FoundField("comb", 100, 200, 500, 250, tuple(range(100, 501, 40)), 2.0)
    assert _along(Rule(100, 180, 200.5, 0.0, 2.0, 0.5), [], [comb_row])
    assert not _along(Rule(100, 180, 150.0, 0.0, 2.0, 0.5), [], [comb_row])


def test_rule_carried_on_over_its_faint_start_not_into_a_label() -> None:
    """The first letters written on a light underline hide its start: the rule found after
    them is carried back over the line's free pixels to its real start, and no further (the
    label left of it is ink with paper between its letters)."""
    line = np.zeros((300, 900), dtype=bool)
    mask = np.zeros((300, 900), dtype=bool)
    line[200, 150:800] = True  # the underline, x 150..800
    mask[170:201, 180:186] = True  # the first letter's stem standing on it
    line[200, 178:188] = False  # lost next to the letter
    mask[185:201, 40:140:12] = True  # label letters on the line's row, left of it
    found = [Rule(230, 800, 200.0, 0.0, 1.0, 0.2)]
    out = extend_ends(found, line, mask, SCALE, P)
    assert (out[0].x0, out[0].x1) == (150, 800)
    joined = join_pieces([*out, Rule(400, 800, 200.0, 0.0, 1.0, 0.2)], mask, SCALE, P)
    assert [(r.x0, r.x1) for r in joined] == [(150, 800)]  # overlapping pieces are one


def test_a_bar_lying_along_a_rule_is_told_from_the_rule() -> None:
    """A pen bar (4 px) written along a 2 px rule makes the dark run thicker there than the
    rule: those columns are ink, the rule's own columns elsewhere are not."""
    dark = np.zeros((40, 100), dtype=bool)
    dark[19:21, :] = True  # the rule, 2 px thick, centred at y = 19.5
    dark[17:22, 30:50] = True  # a bar over it, a pen stroke thick, a little off centre
    xs = np.arange(100)
    yc = np.full(100, 19.5)
    along = thicker_than_line(dark, xs, yc, 2.0, 0.5 * 4)
    assert along[32:48].all()
    assert not along[:28].any() and not along[52:].any()


def test_dark_core_of_a_thick_divider_leaves_no_bar_in_its_cells() -> None:
    """A blurred 4 px divider is darker in its core than the rules' darkest tenth; that core
    is not ink over the divider (nothing adjoins it), so no bar is left beside a letter and
    an empty cell between two dividers stays empty (two bars read as a V)."""
    grey = np.ones((300, 700), dtype=np.float32)
    x0, y0, cell, n, h = 100, 100, 40, 6, 48
    grey[y0 : y0 + 2, x0 : x0 + n * cell + 4] = 0.6
    grey[y0 + h : y0 + h + 2, x0 : x0 + n * cell + 4] = 0.6
    for i in range(n + 1):
        x = x0 + i * cell
        grey[y0 : y0 + h + 2, x : x + 4] = 0.6
        grey[y0 : y0 + h + 2 : 2, x + 1 : x + 3] = 0.2  # a dotted dark core
    grey[y0 + 10 : y0 + 40, x0 + 18 : x0 + 21] = 0.05  # a stem in cell 0 only
    mask = grey < 0.7
    ink = np.where(mask, 1.0 - grey, 0.0).astype(np.float32)
    found = find_fields(grey, ink, mask, SCALE)
    assert [(f.kind, len(f.cells) - 1) for f in found.fields] == [("comb", n)]
    cells = found.cell_glyphs[0]
    assert [g is not None for g in cells] == [True] + [False] * (n - 1)
    g = cells[0]
    assert g is not None and g.box.x1 - g.box.x0 <= 4  # the stem alone


def test_letters_bars_across_cells_do_not_close_a_comb_row_halfway() -> None:
    """Crossed 7s in neighbouring cells make a short straight bar halfway down a comb; the
    comb is closed by its own bottom rule (the partner along most of the top rule), not by
    that bar, which would leave the bottom rule an underline and the row's lower half out."""
    x0, y0, cell, n, h = 100, 100, 40, 10, 48
    grey = _black_comb(x0, y0, cell, n, h)
    grey[y0 + 22 : y0 + 25, x0 + 3 * cell + 8 : x0 + 7 * cell - 8] = 0.05  # the bars
    mask = grey < 0.5
    ink = np.where(mask, 1.0 - grey, 0.0).astype(np.float32)
    found = find_fields(grey, ink, mask, SCALE)
    assert [(f.kind, len(f.cells) - 1) for f in found.fields] == [("comb", n)]
    assert found.fields[0].y0 <= y0 and found.fields[0].y1 >= y0 + h


def test_a_bar_just_above_a_comb_does_not_close_it_from_above() -> None:
    """The aligned feet of a label printed just above a comb's start are a short rule; the
    comb's long top rule pairs first, so the row is closed by its own two rules."""
    x0, y0, cell, n, h = 100, 100, 40, 10, 48
    grey = _black_comb(x0, y0, cell, n, h)
    grey[y0 - 9 : y0 - 6, x0 : x0 + 90] = 0.05
    mask = grey < 0.5
    ink = np.where(mask, 1.0 - grey, 0.0).astype(np.float32)
    found = find_fields(grey, ink, mask, SCALE)
    combs = [f for f in found.fields if f.kind == "comb"]
    assert [len(f.cells) - 1 for f in combs] == [n]
    assert combs[0].y0 >= y0 - 2


def test_drawings_inside_a_field_frame_stay_the_fields() -> None:
    """Letters touching a comb's frame make nested outlines that the shapes stage takes for
    a drawing; inside a found frame those pixels stay (they are the cells' letters), outside
    every frame a drawing leaves the page."""
    mask = np.zeros((100, 200), dtype=bool)
    mask[20:40, 20:60] = True  # inside the frame
    mask[70:90, 120:180] = True  # a drawing elsewhere
    ink = mask.astype(np.float32)
    found = FieldsFound([FoundField("comb", 10, 10, 100, 50, (10, 55, 100), 2.0)], ink, mask)
    ink2, mask2 = outside_frames(found, mask.copy())
    assert mask2[20:40, 20:60].all() and not mask2[70:90].any()
    assert not ink2[70:90].any()
    assert outside_frames(found, None)[1] is mask


def test_rule_with_ink_just_off_it_in_many_columns_is_fitted_on_the_line() -> None:
    """Letters sitting on a comb rule put dark pixels just below it in half its columns;
    the rule is fitted on the columns that hold the line alone, so it lies on the line (a
    fit pulled 1.5 px down leaves a row of the rule behind when it is removed)."""
    faint = np.zeros((100, 400), dtype=bool)
    faint[50:52, 50:350] = True  # the rule, 2 px: centre 50.5
    for x in range(50, 350, 2):  # every other column: three pixels just below it
        faint[53:56, x] = True
    dark = faint.astype(np.float32) * 0.3
    rules = find_rules(faint, dark, SCALE, P)
    assert len(rules) == 1 and abs(rules[0].y0 - 50.5) < 0.3


def test_clutter_inside_a_box_or_underline_field_is_kept_when_it_could_be_a_letter() -> None:
    """An odd hand's A comes out "not a character"; inside a box field it is still read
    (with a character's probability of 0.1 or more), outside every frame it is clutter."""
    from ocr.model.classes import CLASS_INDEX, NOT_CHAR_INDEX
    from ocr.stages.segment import Layout
    from ocr.stages.segment import Line as LLine
    from ocr.stages.segment import Word as LWord
    from ocr.stages.segment.layout import CharBox

    def box(x: int) -> CharBox:
        return CharBox(x, 20, x + 20, 50, "char", np.ones((30, 20), bool))

    inside, weak, outside = box(120), box(150), box(400)
    layout = Layout([LLine([LWord([inside, weak]), LWord([outside])])], SCALE)
    p = np.zeros(NOT_CHAR_INDEX + 1, np.float32)
    p[NOT_CHAR_INDEX], p[CLASS_INDEX["A"]] = 0.6, 0.3
    faint = p.copy()
    faint[CLASS_INDEX["A"]] = 0.05
    probs = {id(inside): p, id(weak): faint, id(outside): p}
    fields = [FoundField("box", 100, 10, 300, 60), FoundField("comb", 380, 10, 460, 60, (380, 460))]
    assert keep_in_fields(layout, fields, probs) == {id(inside)}


def test_a_letters_side_on_a_black_dividers_blurred_edge_stays_with_the_letter() -> None:
    """An O whose right side runs down a black divider's blurred edge: that column is far
    darker there than along the rest of the cell, so the side is pen and stays (it read C
    when the side went with the divider); the divider's core, as dark as any pen, goes."""
    grey = np.ones((300, 700), dtype=np.float32)
    x0, y0, cell, n, h = 100, 100, 40, 5, 48
    grey[y0 : y0 + 2, x0 - 1 : x0 + n * cell + 3] = 0.1
    grey[y0 + h : y0 + h + 2, x0 - 1 : x0 + n * cell + 3] = 0.1
    for i in range(n + 1):
        x = x0 + i * cell
        grey[y0 : y0 + h + 2, x : x + 2] = 0.1  # black core
        grey[y0 : y0 + h + 2, [x - 1, x + 2]] = 0.7  # its blurred edges
    ox0, ox1, oy0, oy1 = x0 + cell + 10, x0 + 2 * cell - 1, y0 + 8, y0 + 40
    o = np.zeros_like(grey, dtype=bool)
    o[oy0 : oy0 + 3, ox0:ox1] = o[oy1 - 3 : oy1, ox0:ox1] = True
    o[oy0:oy1, ox0 : ox0 + 3] = o[oy0:oy1, ox1 - 2 : ox1] = True  # right side: x 138-139
    grey = np.where(o, grey * 0.15, grey).astype(np.float32)
    mask = grey < 0.85
    ink = np.where(mask, 1.0 - grey, 0.0).astype(np.float32)
    for on, closed in ((P, True), (replace(P, pen_over_divider=0.0), False)):
        found = find_fields(grey, ink, mask, SCALE, on)
        assert [(f.kind, len(f.cells) - 1) for f in found.fields] == [("comb", n)]
        g = found.cell_glyphs[0][1]
        assert g is not None
        side = g.crop[:, -1] > 0 if g.box.x1 >= ox1 else np.zeros(1, bool)
        assert (side.sum() >= 0.8 * (oy1 - oy0)) == closed
        assert g.box.x1 <= ox1  # and never the divider's core
