"""Every tuned constant of the fields stage (:mod:`ocr.stages.fields`) in one frozen,
documented place: lengths in character heights (ch) or stroke widths (sw) of the page's
:class:`ocr.stages.binarize.Scale`, shares as fractions of what the docstring names. Pass a
modified copy (``dataclasses.replace(DEFAULT_FIELD_PARAMS, ...)``) to vary one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldParams:
    """Where straight ink is a printed frame; units in the field names."""

    faint_dark: float = 0.1
    """Darkness (1 - grey / paper) above which a pixel may belong to a printed line: low
    enough for light drop-out red or blue, well above paper noise."""

    line_dark: float = 0.06
    """Mean darkness along ``line_mean_px`` pixels of a line (rules: along x; dividers: along
    y) above which a pixel may belong to a printed line..."""

    line_mean_px: int = 5
    """...(pixels, not ch: this averages the paper's pixel noise, whose size does not follow
    the writing's), so a light 1 px drop-out line is found whole."""

    line_pixel_dark: float = 0.03
    """...when the pixel itself is darker than this (paper is about 0) and not next to
    the ink mask (the average would spread dark print into the gaps between its letters and
    make a row of print a line; next to ink the plain ``faint_dark`` test holds)."""

    background_ch: float = 1.5
    """Background cell (ch) for the darkness map: larger than the binarization's, since a
    thin rule needs no fine paper estimate."""

    min_rule_ch: float = 2.5
    """A horizontal rule is at least this long (ch); the longest stroke of a capital is ~1 ch."""

    tilt_slack_sw: float = 0.7
    """Vertical slack (sw) around a rule, so a line tilted by a degree or two still has long
    runs."""

    max_thickness_ch: float = 0.2
    """A printed line is at most this thick (ch)... (pen strokes are as thin, but the pen's
    straight runs are short)"""

    max_thickness_sw: float = 1.6
    """...or this many sw, whichever is more: on a form of small print the character height
    measured is the print's, and a heavy 0.4 mm rule outweighs it."""

    bridge_ch: float = 0.0
    """Gaps up to this long (ch) in a rule are bridged: a light, thin drop-out line loses
    contrast in places when the page is resampled to the working resolution."""

    straight_share: float = 0.8
    """At least this share of a rule's pixels lie on its fitted line, and of its columns
    hold line pixels (a row of print run together by the pooling does neither)."""

    join_gap_ch: float = 4.0
    """Pieces of one rule are joined across gaps up to this long (ch)..."""

    join_ink_share: float = 0.2
    """...when at most this share of the gap's columns has ink within half a ch of the line."""

    join_short_ch: float = 1.0
    """...and across gaps up to this long (ch) whatever is in them (a stroke touching the
    rule; a label between two rules is longer)."""

    extend_gap_ch: float = 0.5
    """A found rule is carried on along its line across gaps up to this long (ch) without
    line pixels that are not ink (see :func:`ocr.stages.fieldrules.extend_ends`)."""

    side_ink_share: float = 0.35
    """Just beside a rule (above or below) at most this share of its columns is ink: the
    feet of printed letters line up straight, but their stems rise from most columns. A
    rule with more ink beside it (letters sitting on a comb's rule) is only a box row's edge."""

    below_band_ch: float = 0.4
    """...and within this many ch below a rule, at most ``side_ink_share`` of its columns
    hold ink: the top bars of a row of narrow print run together into a line with the
    letters' bodies below, and read as an underline field above the label (validation forms
    extra fields 8 -> 2, CER 6.99 -> 6.29%; 0.3-0.5 alike)."""

    box_height_ch: tuple[float, float] = (0.7, 3.5)
    """Distance between a box row's top and bottom rules (ch)."""

    divider_fill: float = 0.85
    """A column is a divider (box edge) when this share of the inner height between the two
    rules is line-dark: the writer fills 55-80 % of a cell, the printer 100 %."""

    ruled_min_lines: int = 6
    """A stack of at least this many aligned, evenly spaced free rules is lined paper."""

    ruled_align_ch: float = 1.0
    """Rules of one stack start and end within this many ch of each other..."""

    ruled_step_spread: float = 0.15
    """...and their spacing varies by at most this share of its mean (standard deviation)."""

    print_max_ch: float = 0.62
    """Ink components at most this tall (ch) may be small print (labels are printed at
    0.4-0.9 of the writing's height)..."""

    print_min_ch: float = 0.2
    """...and at least this tall (smaller are specks and punctuation)..."""

    print_clear_ch: float = 0.35
    """...when no taller ink lies within this many ch of them..."""

    print_frame_max_ch: float = 3.0
    """Outside every field frame, ink components from ``print_min_ch`` up to this tall (ch)
    are print (labels, headings: a title is about twice a label); taller is a logo or a
    drawing, left to segmentation."""

    print_min_parts: int = 8
    """...and there are at least this many of them on the page."""

    min_cell_ch: float = 0.4
    """Cells narrower than this (ch) are not cells (two dividers closer are one edge)."""

    cell_merge: float = 0.65
    """An interval between dividers narrower than this share of the row's median cell is half
    a cell split by a handwritten stroke taken for a divider: its two halves are merged."""

    cell_spread: float = 0.2
    """Comb cells are one width: the row's length is a whole number of the median interval
    between dividers to within this share of it, and a divider found within this share of
    a grid position is that position's (else the row is a single box whose writing made
    full-height strokes: a J's stem, an N's diagonal)..."""

    grid_share: float = 0.6
    """...and at least this share of the grid's inner positions has a divider found..."""

    max_cell_aspect: float = 1.6
    """...and the median interval is at most this many row heights (comb cells are about
    square; two or three strokes in a long box are not)."""

    underline_room_ch: float = 1.6
    """An underline field holds writing up to this many ch above its rule."""

    cross_reach_sw: float = 1.5
    """A line pixel is ink when the mask has ink within this many sw beyond both sides of the
    line (a stroke crossing it)."""

    along_extra_sw: float = 0.5
    """...or when the dark run across the line there is this many sw thicker than the line
    (a stroke lying along it: an E's bottom bar on a comb's rule)..."""

    darker_than_line: float = 0.15
    """...or when it is darker than the line's own darkest tenth by this much (ink over a
    light drop-out line; a black line's darkest tenth is as dark as ink, so never there)."""

    pen_over_divider: float = 0.15
    """A comb divider's pixel at least this much darker (1 - grey / paper) than its column
    is along the cell (``fields.DIVIDER_REF_PERCENTILE``) is pen lying on the divider, and
    stays (0: off): an O whose side ran down a black divider's blurred edge lost that side
    and read C. Validation forms, off / 0.1 / 0.15 / 0.25: 7.27 / 6.70 / 6.53 / 6.53% CER,
    values exact 68.3 / 73.3 / 73.7 / 73.3% (comb cells 58.8 / 68.2 / 68.8 / 68.2), before
    the reach below was added (with it, 0.3 / 0.6 / 1.0 ch: 6.65 / 6.63 / 6.63%)."""

    pen_divider_reach_ch: float = 0.3
    """...when it lies within this many ch (rows) of a row where ink adjoins the divider:
    the side of an O inside the divider's edge leaves it a few rows on (a stretch of about
    a quarter of the character), while a core printed unevenly darker has nothing beside."""

    pen_over_rule: float = 0.25
    """Likewise along a rule: a pixel this much darker than the median of its row of the
    rule is pen lying on it (a T's bar on a light cell's top rule, an I's foot on its bottom;
    a black rule is as dark as the pen); the row's median is over its line pixels (a rule
    fitted a pixel off along its length samples paper and print in one row). Validation
    forms, off / 0.25 / 0.35: 6.72 / 6.65 / 6.65% CER, values exact 73.0 / 73.7 / 73.3%."""

    divider_margin_px: float = 1.0
    """A divider is removed this many px beyond its full columns each side (blur: px, not
    the writing's size)..."""

    divider_search: float = 0.15
    """...its full columns are looked for within this share of a cell's width of where
    it was found (a run's centre may be moved by a stroke touching it, a grid position is
    rounded)."""

    whole_share: float = 0.7
    """A comb ink component with at least this share of its pixels in one cell belongs
    whole to that cell; others are cut at the dividers."""

    edge_residue: float = 0.2
    """Ink in a comb cell no wider than this share of the cell, standing within this share of
    the cell's width from a divider, is left of the divider, not a written I or 1 (writers
    centre a character in its cell)."""

    min_cell_ink_sw2: float = 3.0
    """A cell with fewer ink pixels than this many sw^2 is empty (specks, line residue)."""


DEFAULT_FIELD_PARAMS = FieldParams()
