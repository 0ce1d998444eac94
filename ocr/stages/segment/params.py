"""Every tuned constant of segmentation in one frozen, documented place.

Sizes are multiples of the page's estimated character height ("ch") or stroke width ("sw")
(:class:`ocr.stages.binarize.Scale`), so one set of values serves any resolution. Pass a
modified copy (``dataclasses.replace(DEFAULT_PARAMS, ...)``) to any stage to vary one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SegmentParams:
    """Segmentation parameters: unit in each name (``_ch``, ``_sw``, ``_sw2``, ``_deg``) or
    docstring; plain ratios are fractions of the quantity the docstring names."""

    speck_area_sw2: float = 0.6
    """Components with fewer pixels than this many sw^2 are noise (a dot is about 1-3 sw^2)."""

    huge_height_ch: float = 3.0
    """Components taller than this many ch are not characters (page edges, desk, drawings)."""

    huge_width_ch: float = 12.0
    """...or wider than this many ch (a rule line, a page edge; a run of touching letters of a
    long word stays below it)."""

    border_long_ch: float = 2.0
    """A component touching the image border and longer than this many ch is a page/desk edge."""

    blob_fill: float = 0.6
    """Components larger than a character in both directions and filled above this fraction of
    their box are blobs (shadows, thumbs), not handwriting (strokes fill ~0.1-0.4 of a box)."""

    primary_height_ch: float = 0.45
    """Components at least this many ch tall anchor lines; smaller ones are pieces or marks."""

    line_overlap: float = 0.4
    """A component joins a line when its vertical overlap with the line's nearest member (after
    deskew) is at least this fraction of the shorter of the two."""

    chain_reach_ch: float = 1.0
    """Members of a line ending within this many ch before a new part count for its extent."""

    chain_members: int = 4
    """At most this many of a line's latest members are looked at when chaining."""

    line_band_margin_ch: float = 0.25
    """Small pieces and marks attach to a line when their centre lies within the line's vertical
    band extended by this many ch."""

    band_neighbours: int = 3
    """Number of horizontally nearest line members whose median top/bottom give the local band."""

    max_skew_deg: float = 6.0
    """Largest page skew searched for, in degrees, in steps of SKEW_STEP_DEG."""

    skew_step_deg: float = 0.5
    """Resolution of the skew search, in degrees."""

    merge_overlap: float = 0.3
    """Two parts in a line merge when they overlap horizontally by this fraction of the narrower."""

    merge_max_width_ch: float = 1.3
    """...and the union is at most this many ch wide (two real letters side by side are wider)."""

    piece_gap_sw: float = 1.5
    """A small piece also joins a neighbouring character when the gap between them is at most this
    many sw (a pen lift inside a letter) and the union respects MERGE_MAX_WIDTH_CH."""

    scored_merge_gap_sw: float = 1.0
    """With a scorer, neighbours whose boxes are at most this many sw apart are offered to it as
    one character."""

    stem_width_ch: float = 0.2
    """A tall part at most this many ch wide is a bare stem (of a D, B, P, R drawn in two
    strokes, or an I / 1)..."""

    stem_gap_sw: float = 1.0
    """...and it merges with a neighbour at most this many sw away (a pen lift; letter gaps are
    wider). An I written that close to the next letter is merged too, which is why with a
    scorer the scorer decides instead (``scored_stems``)."""

    scored_stems: bool = True
    """With a scorer, a bare stem next to a letter is not merged by the stem rule above but
    offered to the scorer like any close pair (``merge_scored``): an I or 1 written close to
    its neighbour was merged for good (11 read H, 61 read G), while a D drawn in two strokes
    still merges, its union reading better than its parts. Validation writers: forms 6.29 ->
    6.13% CER, values exact 74.0 -> 74.9%; touching scenes 17.31 -> 16.77%, coloured light
    3.82 -> 3.39, drawings 4.24 -> 3.90, shadow 5.57 -> 5.49; plain pages (3.42%), desk,
    rotated, lined and grid scenes unchanged."""

    split_width_ratio: float = 1.5
    """With a scorer, parts wider than this many typical character widths of their line are
    offered for splitting (the scorer may keep them whole: wide M and W are common)."""

    split_aspect: float = 1.2
    """With a scorer, parts wider than this many times their own height are offered for
    splitting too, whatever the line's typical width: on a line where most letters touch their
    neighbour the typical width is a pair's, and no part looks wide beside it. Width over
    height of single capitals is 0.3-0.9, a wide M or W reaches about 1.2; two touching
    capitals are 1.1 and more. Tuned on "touching" scenes (validation writers: 24.3% -> 19.3%
    CER) against plain pages (3.59% -> 3.61%); at 1.0 plain pages lost 0.2 points to cut Ms
    and Ws."""

    split_letter_aspect: float = 1.0
    """A part offered by ``split_aspect`` is cut as if its letters were at most this many
    times its height wide (else the line's typical width): where the typical width is a
    pair's, no cut could leave a piece narrower than it."""

    split_width_ratio_blind: float = 2.0
    """Without a scorer only parts wider than this many typical widths are split (a handwritten
    W reaches 1.6-1.8 typical widths; two touching letters are about 2)."""

    split_search: float = 0.35
    """Cuts are searched within this fraction of the expected piece width around their expected
    position."""

    split_min_piece: float = 0.35
    """No piece of a split is narrower than this many typical widths."""

    split_dip_height_ch: float = 1.2
    """Parts at most this many character heights tall are cut at any dip of their ink profile
    too, not only near the expected letter boundaries. Touching letters are a line's height;
    a drawing beside the text is taller, and cut at every dip it fell into pieces that read
    as digits (validation drawings 3.90 -> 5.20% CER without the limit, 4.01 with it;
    touching scenes 16.77 -> 12.84% either way, 13.68 at 1.1, 15.55 at 1.0)."""

    split_min_gap: float = 0.1
    """Candidate cuts are at least this many typical widths apart (the lower-ink one stays):
    a dip's neighbouring columns took the capped slots a letter boundary needed (ORDER, six
    letters wide, had cuts at 124, 125, 153 and 154 px and none between O, R and D).
    Validation touching scenes 12.84 -> 12.19% at 0.15 (0.1: 12.53, 0.2: 12.57, 0.25: 13.49),
    tuned while the scoring budget (``score_budget_per_part``) ran out on those pages. With
    the budget no longer binding, 0.15 / 0.1 / 0.05: 11.43 / 10.85 / 10.58% (second seed
    11.93 / 11.72 / 11.97); at 0.1 plain pages 3.31 -> 3.36, lined 6.15 -> 6.11, rotated
    3.26 -> 3.30, forms and the other kinds unchanged."""

    split_max_piece_aspect: float = 2.0
    """A piece of a cut part is at most this many times the part's height wide (a wide W is
    1.2): squeezed into the 32x32 glyph, a run of four letters read as one with some
    confidence and beat the cuts that parted them (12.19 -> 12.07%)."""

    split_max_candidates: int = 12
    """Projection minima kept as candidate cuts for the scorer (the scorer sees all segments
    between pairs of them, so this bounds its batch size quadratically). With every dip of the
    profile a candidate, 8 -> 12 moved validation touching scenes 13.22 -> 12.84% (16 gave
    12.80 at a third more segments)."""

    mark_max_ch: float = 0.4
    """Leftover small parts up to this many ch in both directions become marks ('.', '-')."""

    dash_aspect: float = 2.0
    """A mark at least this many times wider than tall is a dash; anything else (round dots,
    the short vertical ticks many writers make for a full stop) is a dot."""

    sliver_aspect: float = 2.5
    """A dot or character at least this many times taller than wide and thinner than the pen
    (``sliver_width_sw``, ``sliver_char_sw``) is a sliver of a printed vertical rule, not a
    full stop, an I or a 1 (see :func:`ocr.stages.segment.words.drop_slivers`). Dots:
    validation grid scenes 9.54 -> 8.76% CER (1.5 sw: 8.53, drawings 3.44 -> 3.40; aspect
    alone 2.0 / 2.5 / 3.0 / 4.0: 8.53 / 8.53 / 8.58 / 8.76); characters: 8.76 -> 8.34% (1.0
    sw: 8.25, shadow and drawings +0.04); every other kind and plain pages unchanged."""

    sliver_width_sw: float = 1.0
    """(stroke widths) A pen's tick for a full stop is as wide as its stroke; printed rules
    are thinner than the pen."""

    sliver_char_sw: float = 0.8
    """(stroke widths) A pen's I or 1 is at least as wide as its stroke, and its box a little
    wider where it slants."""

    inner_dot_gap_ch: float = 0.4
    """A dot between two letters of a word whose gap (between the letters, in ch) is narrower
    than this is not a full stop (see :func:`ocr.stages.segment.words.drop_inner_dots`): a
    dot and room on either side take about that much. A dot between two digits stays (a
    decimal point, a date's; the synthetic pages have none, so that exception is untested on
    them). Validation grid scenes 11.99 -> 11.57% (0.25: 11.85, 0.6: 11.43, all without the
    digit exception), desk 4.98 -> 4.93, plain pages 3.48 -> 3.45, lined, shadow and drawings
    unchanged."""

    column_gap_ch: float = 4.0
    """Gaps wider than this many ch separate columns or stray marks from the text, not words;
    they are spaces but take no part in the statistics that tell letter gaps from word gaps."""

    comma_height: tuple[float, float] = (0.3, 0.75)
    """A part between these shares of its neighbouring letters' height, no wider than
    ``comma_max_aspect`` times its height..."""

    comma_max_aspect: float = 1.2

    comma_top: float = 0.5
    """...whose top lies below this share of their height from their tops (it hangs from the
    baseline, where no capital or digit starts)..."""

    comma_below: float = 0.1
    """...and which reaches at least this share of their height below their bottoms is a
    comma: capitals and digits all sit on the baseline, a comma's tail hangs under it."""

    comma_neighbours: int = 4
    """Letters nearest a part (by centre, along the line) whose tops and bottoms it is
    compared with: a tilted line's baseline drifts more than a comma's depth along it."""

    stray_mark_gap_ch: float = 1.5
    """A mark (dot, dash) further than this many ch from every character of its line is a speck
    of dirt or noise, not punctuation, and is dropped."""

    word_gap_floor_ch: float = 0.05
    """Gaps up to this many ch (touching letters, pieces of a split) are left out of the gap
    statistics."""

    letter_gap_ch: float = 0.5
    """Gaps below this many ch are letter gaps for every writer we have seen; word gaps are
    rarely this narrow (sample photos: letters 0.1-0.9 ch, words 1.2-2.2 ch; A B C rows 0.6-1.6)."""

    min_letter_gap_share: float = 0.2
    """A page with fewer of its gaps letter-sized than this share is rows of separate characters."""

    space_range_ch: tuple[float, float] = (0.6, 1.3)
    """The page's space threshold is kept within this range, in ch."""

    space_threshold_scale: float = 0.93
    """The page's space threshold (the middle of the empty interval between letter gaps and
    word gaps, in log) is scaled by this: a writer's word gaps spread far more than the
    letter gaps, so the best cut lies nearer the letter gaps; missed spaces outnumbered
    extra ones 38 to 1 on validation pages. Validation plain pages (two seeds) 3.45 / 3.00
    -> 3.31 / 2.94% CER, lined 7.47 -> 6.15, grid 11.20 -> 10.37, forms 5.75 -> 5.68, every
    scene kind lower or equal; 0.85 lost on plain pages (3.98%) and desks, 0.90 on seed 11."""

    jump_window: float = 1.5
    """The space threshold moves to the widest ratio jump between sorted gaps lying within this
    factor of the Otsu threshold (the empty interval between the two populations)."""

    two_population_jump: float = 1.6
    """Ratio between neighbouring sorted gaps that separates two populations of gaps; the A B C
    sample page's widest ratio is 1.3, wide-spaced words (0.7 ch letters, 1.8 ch words) 2.5."""

    min_gaps_for_row: int = 3
    """A line needs this many gaps before it can count as a row of separate characters."""

    line_height_ratio: float = 1.35
    """A line whose median character height is this much larger or smaller than the page's is
    measured in its own ch when gaps are judged."""

    uniform_space_ch: float = 0.5
    """Unimodal gaps (one population): spaces where gaps exceed this many ch. Letters spaced more
    than half a character apart with no wider gaps anywhere are read as separate words (A B C)."""

    min_gaps_for_stats: int = 4
    """Fewer gaps on a page than this: use UNIFORM_SPACE_CH alone."""

    typical_width_ch: float = 0.7
    """Fallback typical character width, in ch, for lines with too few characters to measure."""

    skew_bin_ch: float = 0.25
    """Height of the histogram bins of the skew search, in ch: a quarter of a letter keeps
    neighbouring lines apart while a line's centres still fall in one or two bins."""
    merge_lookback: int = 3
    """How many of the latest parts of a line a new part may merge with (a letter broken in
    three strokes needs 2; more would reach across letters)."""
    mark_low_fraction: float = 0.6
    """A small part whose centre lies below this fraction of its neighbour letter's height
    (from the top) is a full stop, kept apart from the letter."""
    min_typical_width_ch: float = 0.4
    """Floor of a line's typical character width, in ch (a line of I and 1 would otherwise
    make every letter look wide enough to split)."""
    min_widths_for_typical: int = 3
    """A line needs this many character-sized parts to measure its typical width."""
    min_pitch_ratio: float = 0.5
    """Least pitch of touching letters, in typical widths, when estimating how many letters a
    wide part holds (touching letters share at most a stroke)."""
    split_count_spread: int = 1
    """Candidate cuts are gathered for the estimated letter count +- this many letters."""
    profile_smooth_columns: int = 3
    """Columns averaged when smoothing an ink projection profile before looking for minima
    (one stroke-width's worth of jitter at working resolution)."""
    min_chars_for_line_height: int = 2
    """A line needs this many characters before its own median height can override the
    page's ch."""

    max_parts: int = 3000
    """Most components a page keeps after filtering (absolute, not relative: this bounds a
    page's cost whatever its scale). A dense A4 page of small capitals holds about 2,500
    characters and pieces; beyond this a picture is texture (wood grain, gravel, fabric),
    and the largest parts are kept."""
    score_budget_per_part: float = 8.0
    """Crops the recognizer may score for merges and cuts, per kept part ..."""
    score_budget_min: int = 256
    """... and at least this many (clean pages use about one crop per character or fewer: 0-120
    on the sample and development pages; a page of wood grain asked for 6,000, several
    seconds). Requests after the budget is spent are merged and cut by geometry only. A page
    of touching letters asks for several crops a part (up to 78 pieces of a wide part are
    scored): at 1 per part, once each wide part's request was checked against the budget
    (not only each line's), validation touching pages lost 11.88 -> 12.11% CER; at 4 / 8 / 16
    they read 11.65 / 11.43 / 11.43%, every other kind the same. 8 a part bounds a page of
    3,000 parts (``max_parts``) to 24,000 crops, about half a second of recognition."""


DEFAULT_PARAMS = SegmentParams()
