"""Every tuned constant of the rules stage (:mod:`ocr.stages.rules`) and of its pen-or-print
judgement (:mod:`ocr.stages.penprint`) in one frozen, documented place: lengths in character
heights (ch) or stroke widths (sw) of the page's :class:`ocr.stages.binarize.Scale`, shares as
fractions of what the docstring names. Pass a modified copy (``dataclasses.replace``) to vary one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleParams:
    """Where a straight run is a printed rule; units in the field names."""

    probe_ch: float = 1.5
    """Length (ch) of the straight line the mask is opened with: longer than any stroke of a
    capital (the bar of a T or the foot of an L is under one ch), so letters never survive
    the opening, only lines do."""

    min_length_ch: float = 4.0
    """A rule is at least this long (ch). Shorter straight runs are left to segmentation (a
    long dash, an underlined word's underline is removed, which costs nothing to read)."""

    tilt_slack_sw: float = 1.0
    """Vertical (for horizontal rules) slack, in sw, added before the opening so a rule tilted
    a few degrees still gives long runs: a rule of thickness t tilted by a gives runs of
    (t + 2 * slack) / tan(a)."""

    join_ch: float = 2.0
    """Straight pieces on one line with gaps up to this many ch between them are one rule
    when their length is judged: a faint rule binarizes as pieces shorter than a rule, a few
    pixels apart. (More would join the top bars of the capitals along a line of writing,
    which touch or nearly touch: E, T, F, Z and P tops lie on one cap line.)"""

    joined_bend_px: float = 0.8
    """...and such a joined rule is straight: the median distance of its column centres from
    a fitted line is at most this many pixels. Printed lines are straight to the sampling's
    pixel whatever the scale (pieces of faint rules: 0.2-0.5 px); the top bars of capitals
    along a line of writing, which also nearly touch, wander by more (1.1-1.7 px)."""

    short_rule_ch: float = 8.0
    """Runs shorter than this many ch must be that straight too: a word of capitals whose
    top bars touch makes a straight-looking run of four to six ch; ruled paper's rules span
    the sheet, a comb field's edges a dozen ch."""

    gap_sw: float = 1.0
    """Gaps up to twice this many sw along a rule are bridged before runs are measured: a
    faint or thin rule binarizes as dashes."""

    core_run_sw: float = 3.0
    """Inside the slack band only pixels on a horizontal run of at least this many sw are the
    rule itself: a thin line tilted a few degrees still has such runs, a stroke crossing the
    line at an angle does not (on grid paper the bands cover most of the page)."""

    restore_reach_sw: float = 1.0
    """A removed pixel comes back when ink lies within this many sw plus the rule's own
    thickness on both sides of it across the rule: a stroke crossing the line. (More would
    also bring back grid lines between the close arms of a V.)"""

    heal_gap_sw: float = 1.0
    """Gaps up to this many sw along a rule between pixels given back to a stroke are given
    back too (a stroke along a rule passes the thickness test in pieces; letters written on
    one rule are further apart than this)."""

    box_edge_ch: float = 0.5
    """A vertical straight run at least this long (ch) joining two removed horizontal rules
    is the edge of a printed box (comb fields), when it is no thicker than..."""

    pen_over_rule: float = 1.2
    """When the pen is at least this many times darker than the rules' cores, rule pixels at
    least as dark as the geometric mean of the two are the pen's... (Judged on the darkness
    map where the pen stands out most; validation grid pages, 1.4 / 1.3 / 1.2 / 1.1: 15.4 /
    14.0 / 13.1 / 13.0% CER, lined 8.6 / 8.6 / 8.5 / 8.5%.)"""

    pen_colour_shift: float = 0.05
    """When the pen's colour and the print's differ by at least this much (channel shares of
    their median darkness over the paper, in any channel), pen is told from print along that
    difference instead of by darkness alone: a blue pen on a dark grey grid is as dark as the
    grid, and a 1 written along a grid line went with it (validation grid pages 10.37 ->
    9.96% CER, lined 5.95 -> 5.71%; 0.03: 10.05 / 5.87%, 0.08: 10.10 / 5.87%)."""

    print_back_share: float = 0.5
    """Pixels given back by shape whose darkness (on the map telling pen from print) lies
    less than this share of the way from the print's median to the pen's are print after
    all (0.5: nearer the print)..."""

    print_back_min_sw: float = 2.0
    """...in pieces at least this many sw long: a stroke crossing a rule mixes with it over
    a stroke's width only. (Validation grid / lined pages 9.96 / 5.71% CER without, 9.54 /
    4.67% with; share 0.3: 9.27 / 5.15, 0.7: 9.08 / 4.55; in a first version, 1.5 sw: 9.13
    / 5.19, 3 sw: 9.41 / 5.31. The same pages in grey: 13.05 / 6.35 -> 13.55 / 5.23.)"""

    restore_max_ch: float = 1.2
    """...when they make pieces no longer than this many ch touching kept ink."""

    nearby_ratio: float = 2.0
    """A removed pixel (averaged over a stroke width along its rule) at least this many times
    as dark as its rule (averaged over ``nearby_along_ch``) is pen on the rule (0: off).
    Pen over print darkens it by the pen's own darkness (twice where the two are alike), but
    one line's pixels differ by up to 1.5 times across it (a 2 px line sampled off-centre),
    and lower ratios brought back pieces of such lines next to letters (validation grid
    pages: 1.4 34%, 1.7 17.8%, 2.0 17.5% CER; off 18.8%)."""

    nearby_along_ch: float = 4.0
    """Length (ch) along a rule over which its own darkness is averaged: lighting and print
    change slowly, and a letter's stroke along the rule is at most about one ch of it."""

    nearby_min_sw: float = 2.0
    """...in pieces at least this many sw long (grid crossings are doubled print on a spot
    the lines' thickness across)."""

    max_long_components: int = 150
    """A page with more components long enough to hold a rule than this is texture (wood
    grain, grass), not ruled paper (a ruled sheet has one per rule, a grid one in all); it
    is left to the sheet and clutter stages, at the cost of one labelling."""

    max_window_share: float = 1.0
    """Rules are looked for in the boxes of long components, longest first, until the boxes
    add up to this many times the page's area."""

    remnant_reach_sw: float = 0.5
    """Pixels within this many sw of a removed rule pixel are "on the rule"..."""

    remnant_share: float = 0.95
    """...and a component with at least this share of its pixels there..."""

    remnant_max_ch: float = 0.6
    """...no longer than this many ch is a remnant of the rule, removed with it (a letter
    touching a grid has most of its ink between the lines)."""

    remnant_pen_over_print: float = 1.0
    """When the kept ink's median darkness is at least this many times the removed print's
    (0: off), a small component's mean darkness says whether it is pen or print (the
    geometric mean of the two medians parts them; validation grid pages, 1.3 / 1.15 / 1.0:
    17.1 / 17.0 / 16.7% CER, 17.5% off)..."""

    remnant_loose_share: float = 0.2
    """...and a print-dark one goes with this share of its pixels by a removed rule (0.5 /
    0.3 / 0.2 with the above)."""

    max_thickness_ch: float = 0.25
    """A rule is at most this thick (ch): printed lines are hairlines next to the pen, while
    long dark things that are thick (a shadow's edge region, a desk beyond the sheet) are not
    rules and are left to the sheet and clutter stages."""

    grid_min_vertical: int = 5
    """With at least this many vertical rule segments in view the paper is a grid: its
    vertical lines are all long and found as rules, and box edges are not looked for (a
    letter written in a cell has stems running from one grid line to the next)."""

    box_edge_thickness: float = 1.3
    """...this many times the thickness of the rules it joins (handwritten stems are thicker
    than printed lines, and rarely run exactly from one line to the next)."""


DEFAULT_RULE_PARAMS = RuleParams()
"""The tuned parameters (validation grid, lined and form pages)."""
