"""Segmentation on synthetic pages drawn from line-segment block letters with known layout."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from ocr.stages import segment as sg
from ocr.stages.binarize import Scale, prepare_page
from ocr.stages.segment import split

Stroke = list[tuple[float, float]]

# Block letters as polylines in a unit box (x right, y down). "D" is drawn in two strokes that
# do not touch, as many writers do.
GLYPHS: dict[str, list[Stroke]] = {
    "H": [[(0, 0), (0, 1)], [(1, 0), (1, 1)], [(0, 0.5), (1, 0.5)]],
    "T": [[(0, 0), (1, 0)], [(0.5, 0), (0.5, 1)]],
    "L": [[(0, 0), (0, 1), (1, 1)]],
    "E": [[(1, 0), (0, 0), (0, 1), (1, 1)], [(0, 0.5), (0.8, 0.5)]],
    "F": [[(1, 0), (0, 0), (0, 1)], [(0, 0.5), (0.8, 0.5)]],
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.25, 0.6), (0.75, 0.6)]],
    "I": [[(0.5, 0), (0.5, 1)], [(0.1, 0), (0.9, 0)], [(0.1, 1), (0.9, 1)]],
    "N": [[(0, 1), (0, 0), (1, 1), (1, 0)]],
    "Z": [[(0, 0), (1, 0), (0, 1), (1, 1)]],
    "X": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "V": [[(0, 0), (0.5, 1), (1, 0)]],
    "1": [[(0.2, 0.2), (0.6, 0), (0.6, 1)]],
    # A K whose arms do not touch the stem or each other, as many writers draw it.
    "K": [[(0, 0), (0, 1)], [(0.9, 0), (0.2, 0.45)], [(0.35, 0.6), (1, 1)]],
    "D": [
        [(0, 0), (0, 1)],
        [(0.15, 0), (0.8, 0.15), (1, 0.5), (0.8, 0.85), (0.15, 1)],
    ],
    "O": [
        [
            (0.5 + 0.5 * math.cos(t), 0.5 + 0.5 * math.sin(t))
            for t in np.linspace(0, 2 * math.pi, 25)
        ]
    ],
}


TOUCH_GAP = -0.02
"""Letter gap (ch) of words drawn with touching letters: strokes overlap by half a stroke."""


@dataclass
class Page:
    image: NDArray[np.uint8]
    boxes: list[list[list[tuple[float, float, float, float]]]]
    """Truth boxes (x0, y0, x1, y1) per line, word, char; '.' excluded."""


def draw_page(
    lines: list[str],
    ch: float = 40.0,
    sw: float = 4.0,
    letter_gap: float = 0.3,
    word_gap: float = 1.3,
    pitch: float = 2.0,
    angle_deg: float = 0.0,
    width_ch: float = 0.65,
    touching: tuple[str, ...] = (),
) -> Page:
    """Grey uint8 page (dark ink on light paper); gaps and pitch are in units of ``ch``."""
    cw = width_ch * ch
    w = int((max(len(s) for s in lines) * (cw + word_gap * ch)) + 4 * ch)
    h = int(len(lines) * pitch * ch + 3 * ch)
    img = Image.new("L", (w, h), 235)
    draw = ImageDraw.Draw(img)
    cx0, cy0 = w / 2, h / 2
    rot = math.radians(angle_deg)

    def place(x: float, y: float) -> tuple[float, float]:
        dx, dy = x - cx0, y - cy0
        return (
            cx0 + dx * math.cos(rot) - dy * math.sin(rot),
            cy0 + dx * math.sin(rot) + dy * math.cos(rot),
        )

    boxes: list[list[list[tuple[float, float, float, float]]]] = []
    for li, text in enumerate(lines):
        y = 1.5 * ch + li * pitch * ch
        x = 2 * ch
        line_boxes: list[list[tuple[float, float, float, float]]] = []
        for word in text.split(" "):
            word_boxes: list[tuple[float, float, float, float]] = []
            for c in word:
                if c == ".":
                    px, py = place(x + 0.1 * ch, y + ch - sw)
                    r = sw * 0.9
                    draw.ellipse((px - r, py - r, px + r, py + r), fill=30)
                    x += 0.4 * ch
                    continue
                pts_all = []
                for stroke in GLYPHS[c]:
                    pts = [place(x + u * cw, y + v * ch) for u, v in stroke]
                    draw.line(pts, fill=30, width=int(round(sw)), joint="curve")
                    pts_all += pts
                xs, ys = [p[0] for p in pts_all], [p[1] for p in pts_all]
                word_boxes.append((min(xs), min(ys), max(xs), max(ys)))
                x += cw + (TOUCH_GAP if word in touching else letter_gap) * ch
            line_boxes.append(word_boxes)
            x += (word_gap - letter_gap) * ch
        boxes.append(line_boxes)
    return Page(np.asarray(img), boxes)


def run(page: Page, score: sg.Scorer | None = None) -> tuple[sg.Layout, float]:
    """Segment a synthetic page; returns the layout and the working-resolution factor."""
    p = prepare_page(page.image)
    return sg.segment(p.mask, p.ink, p.scale, score), p.factor


def shape(layout: sg.Layout) -> list[list[int]]:
    """Number of chars (not marks) per word per line."""
    return [[sum(c.kind == "char" for c in w.chars) for w in line.words] for line in layout.lines]


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area > 0 else 0.0


TEXT = ["THE LATE FIX", "A ZEN TAXI", "HI", "NEXT TO LIVE"]


def test_lines_words_and_chars_match_the_drawn_page() -> None:
    layout, _ = run(draw_page(TEXT))
    assert shape(layout) == [[len(w) for w in line.split()] for line in TEXT]


def test_char_boxes_overlap_truth_boxes() -> None:
    page = draw_page(TEXT)
    layout, f = run(page)
    found = [(c.x0 / f, c.y0 / f, c.x1 / f, c.y1 / f) for c in sg.chars_in_order(layout)]
    truth = [b for line in page.boxes for word in line for b in word]
    assert len(found) == len(truth)
    for t, b in zip(truth, found, strict=True):
        assert iou(t, b) > 0.6, (t, b)


def test_two_stroke_d_is_one_character() -> None:
    layout, _ = run(draw_page(["DID HE DO", "ODD DEED"]))
    assert shape(layout) == [[3, 2, 2], [3, 4]]


def test_a_bare_pair_of_close_strokes_is_not_merged_beyond_a_character() -> None:
    # "II" with wide letters: two separate characters, never merged into one.
    layout, _ = run(draw_page(["HI II", "LINE"], letter_gap=0.15))
    assert shape(layout) == [[2, 2], [4]]


TOUCH_TEXT = ["TXTX HE LIFT", "A ZZXZ TAXI"]
TOUCHING = ("TXTX", "ZZXZ")


def test_touching_characters_are_split_without_scorer() -> None:
    layout, _ = run(draw_page(TOUCH_TEXT, touching=TOUCHING))
    assert shape(layout) == [[4, 2, 4], [1, 4, 4]]


def test_scorer_chooses_cuts_and_is_called_with_ink_crops() -> None:
    page = draw_page(TOUCH_TEXT, touching=TOUCHING)
    seen: list[int] = []

    def score(crops: list[NDArray[np.float32]]) -> NDArray[np.float64]:
        # A fake recognizer: confident about crops one letter wide (ch * 0.65 ~ 26 px at the
        # working scale), doubtful about anything else.
        seen.append(len(crops))
        assert all(c.dtype == np.float32 and c.max() <= 1.0 for c in crops)
        widths = np.array([c.shape[1] for c in crops], dtype=float)
        return np.where(np.abs(widths / 26.0 - 1.0) < 0.3, 0.95, 0.2)

    layout, _ = run(page, score)
    assert seen, "scorer never called"
    assert shape(layout) == [[4, 2, 4], [1, 4, 4]]


def test_scorer_can_keep_a_wide_component_whole() -> None:
    page = draw_page(TOUCH_TEXT, touching=TOUCHING)
    layout, _ = run(page, lambda crops: np.full(len(crops), 0.5))
    # A constant scorer prefers the fewest pieces (fewest factors of 0.5) and never merges.
    assert shape(layout) == [[1, 2, 4], [1, 1, 4]]


def test_a_line_of_touching_pairs_is_split_though_every_part_is_as_wide() -> None:
    """Where every part of a line is two touching letters, the line's typical width is a
    pair's and no part is wide beside it; a part wider than it is tall is offered anyway."""
    pairs = ["TX", "ZX", "XT", "TX", "ZX", "XT"]
    page = draw_page([" ".join(pairs)], touching=tuple(pairs), width_ch=0.75)

    def score(crops: list[NDArray[np.float32]]) -> NDArray[np.float64]:
        # Sure of crops shaped like one letter (width 0.4-0.85 of the height), not of others.
        aspect = np.array([c.shape[1] / c.shape[0] for c in crops], dtype=float)
        return np.where((aspect > 0.4) & (aspect < 0.85), 0.95, 0.2)

    p = prepare_page(page.image)
    # Every candidate cut offered: this scorer's band is narrower than a recognizer's, and the
    # one cut it accepts in the last XT lies at the left end of the T's bar, within
    # ``split_min_gap`` of the bar's lowest column (the shipped model reads the pieces of
    # either cut as X and T).
    params = replace(sg.SegmentParams(), split_min_gap=0.0)
    layout = sg.segment(p.mask, p.ink, p.scale, score, params=params)
    assert len(shape(layout)[0]) == len(pairs) and min(shape(layout)[0]) >= 2, shape(layout)
    # Only the aspect rule finds them: without it the pairs stay whole.
    params = replace(params, split_aspect=99.0)
    whole = sg.segment(p.mask, p.ink, p.scale, score, params=params)
    assert shape(whole) == [[1, 1, 1, 1, 1, 1]]


def test_dots_are_marks_attached_to_their_word() -> None:
    layout, _ = run(draw_page(["1. HE HIT", "A. TAXI"]))
    first = layout.lines[0].words[0].chars
    assert [c.kind for c in first] == ["char", "mark"]
    assert first[1].mark == "."
    assert shape(layout) == [[1, 2, 3], [1, 4]]
    assert sum(len(c) for c in sg.crop_chars(np.ones((2000, 2000), np.float32), layout)) > 0
    assert len(sg.crop_chars(np.ones((2000, 2000), np.float32), layout)) == 1 + 2 + 3 + 1 + 4


def test_a_k_in_three_strokes_stays_in_its_line() -> None:
    # The lower leg overlaps the upper arm by a pixel or two: chaining on the line's last
    # member alone started a new line at it, and the rest of the line followed it.
    layout, _ = run(draw_page(["HIKE TAKE", "LIKE A HIKE"]))
    assert shape(layout) == [[4, 4], [4, 1, 4]]


def test_specks_far_from_the_text_are_dropped_and_do_not_merge_words() -> None:
    page = draw_page(["TAXI HIT THE", "HE HAT LIFT"])
    img = page.image.copy()
    h, w = img.shape
    for y in (int(0.25 * h), int(0.6 * h)):  # a speck of dirt far right of each line
        img[y : y + 5, w - 30 : w - 25] = 20
    layout, _ = run(Page(img, page.boxes))
    assert shape(layout) == [[4, 3, 3], [2, 3, 4]]
    assert all(c.kind == "char" for line in layout.lines for w in line.words for c in w.chars)


@pytest.mark.parametrize("angle", [-3.0, 3.0])
def test_skewed_lines_group_correctly(angle: float) -> None:
    text = ["THE LATE FIX AND", "A ZEN TAXI LINE", "NEXT TO LIVE", "HE HAD A TEN"]
    layout, _ = run(draw_page(text, angle_deg=angle, pitch=1.7))
    assert shape(layout) == [[len(w) for w in line.split()] for line in text]


def test_uniformly_spaced_letters_are_separate_words() -> None:
    text = ["A H I L N", "E F T X Z"]
    layout, _ = run(draw_page(text, word_gap=0.9))
    assert shape(layout) == [[1] * 5, [1] * 5]


def test_wide_letter_spacing_still_keeps_words_when_word_gaps_are_wider() -> None:
    # Letter gaps of 0.7 ch (as on the sample list page) with word gaps of 1.8 ch.
    layout, _ = run(draw_page(TEXT, letter_gap=0.7, word_gap=1.8))
    assert shape(layout) == [[len(w) for w in line.split()] for line in TEXT]


def test_desk_and_page_edge_are_not_characters() -> None:
    page = draw_page(["HE HID", "A TAXI"])
    h, w = page.image.shape
    desk = np.full((h + 200, w + 200), 40, dtype=np.uint8)
    desk[100 : 100 + h, 100 : 100 + w] = page.image
    layout, _ = run(Page(desk, page.boxes))
    assert shape(layout) == [[2, 3], [1, 4]]


def test_lines_of_different_heights() -> None:
    big = draw_page(["HI THE"], ch=60.0, sw=5.0)
    small = draw_page(["A LATE TAXI"], ch=35.0, sw=4.0)
    w = max(big.image.shape[1], small.image.shape[1])
    stack = np.full((big.image.shape[0] + small.image.shape[0], w), 235, dtype=np.uint8)
    stack[: big.image.shape[0], : big.image.shape[1]] = big.image
    stack[big.image.shape[0] :, : small.image.shape[1]] = small.image
    layout, _ = run(Page(stack, []))
    assert shape(layout) == [[2, 3], [1, 4, 4]]


def test_crop_contains_only_the_characters_own_pixels() -> None:
    mask = np.zeros((60, 80), dtype=bool)
    mask[10:50, 10:14] = True  # an L: stem
    mask[46:50, 10:34] = True  # ...and foot running under the next letter
    mask[10:40, 36:40] = True  # an I standing over the L's foot, not touching it
    mask[10:14, 30:46] = True
    ink = mask.astype(np.float32)
    scale = Scale(char_height=40.0, stroke_width=4.0)
    comps = sg.find_components(mask)
    line = sg.group_lines(sg.filter_components(comps, scale), scale)
    assert len(line) == 1
    pieces = sg.split_wide(line[0], comps.labels, ink, scale)
    assert len(pieces) == 2
    layout = sg.Layout(
        [sg.Line([sg.Word([sg.CharBox(c.x0, c.y0, c.x1, c.y1, "char", m) for c, m in pieces])])],
        scale,
    )
    crops = sg.crop_chars(ink, layout)
    assert sum(float(c.sum()) for c in crops) == pytest.approx(float(ink.sum()))


def test_specks_and_huge_blobs_are_dropped() -> None:
    scale = Scale(char_height=30.0, stroke_width=3.0)
    mask = np.zeros((200, 300), dtype=bool)
    mask[50:80, 50:53] = True  # a character-sized stroke
    mask[100, 100] = True  # a speck
    mask[0:200, 290:300] = True  # page edge along the border
    mask[120:180, 150:220] = True  # a filled blob (thumb, shadow)
    kept = sg.filter_components(sg.find_components(mask), scale)
    assert [(c.x0, c.y0) for c in kept] == [(50, 50)]


def test_space_threshold_parts_letter_gaps_from_word_gaps_beside_spaced_rows() -> None:
    """A page of words with letters 0.2-0.55 ch apart and words 0.8-1.1 ch apart, and a few
    rows of spaced characters (1.5-3.5 ch): the threshold falls between letter and word
    gaps, not between word gaps and the spaced rows."""
    from ocr.stages.segment.words import word_gap_threshold

    rng = np.random.default_rng(5)
    letters = rng.uniform(0.2, 0.55, 60)
    words = rng.uniform(0.8, 1.1, 15)
    rows = rng.uniform(1.5, 3.5, 20)
    t = word_gap_threshold(np.concatenate([letters, words, rows]))
    assert 0.55 < t < 0.8
    assert 0.55 < word_gap_threshold(np.concatenate([letters, words])) < 0.8


def test_print_keeps_an_i_set_close_to_its_neighbour_apart() -> None:
    """Handwriting joins a bare stem to a letter less than a stroke width away (a D drawn in
    two strokes); a narrow printed font sets ID that close, and print must read two letters."""
    from ocr.stages.printread import print_params

    ch, sw = 40, 4
    mask = np.zeros((80, 120), dtype=bool)
    mask[20 : 20 + ch, 30 : 30 + sw] = True  # the I
    gap = 3  # less than a stroke width
    x0 = 30 + sw + gap
    yy, xx = np.mgrid[:80, :120]
    ry, rx, cy, cx = ch / 2, 13.0, 20 + ch / 2 - 0.5, x0 + 13.0
    d = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
    mask |= (d <= 1.0) & (((yy - cy) / (ry - sw)) ** 2 + ((xx - cx) / (rx - sw)) ** 2 > 1.0)
    ink = mask.astype(np.float32)
    scale = Scale(char_height=float(ch), stroke_width=float(sw))
    hand = sg.segment(mask, ink, scale, None)
    printed = sg.segment(mask, ink, scale, None, params=print_params(sg.DEFAULT_PARAMS))
    assert shape(hand) == [[1]]  # the handwriting's stem rule
    assert shape(printed) == [[2]]


@pytest.mark.parametrize(("union_reads_better", "chars"), [(False, 2), (True, 1)])
def test_with_a_scorer_a_close_stem_is_merged_only_when_the_union_reads_better(
    union_reads_better: bool, chars: int
) -> None:
    """Two bars less than a stroke width apart (11, or the stem of a D drawn apart from its
    bowl): without a scorer the stem rule joins them; with one, the scorer decides."""
    ch, sw = 40, 4
    mask = np.zeros((80, 120), dtype=bool)
    mask[20 : 20 + ch, 40 : 40 + sw] = True
    mask[20 : 20 + ch, 40 + sw + 3 : 40 + 2 * sw + 3] = True
    ink = mask.astype(np.float32)
    scale = Scale(char_height=float(ch), stroke_width=float(sw))

    def score(crops: list[NDArray[np.float32]]) -> NDArray[np.float64]:
        wide = np.array([c.shape[1] > 2 * sw for c in crops])
        return np.where(wide == union_reads_better, 0.95, 0.3)

    assert shape(sg.segment(mask, ink, scale, None)) == [[1]]
    assert shape(sg.segment(mask, ink, scale, score)) == [[chars]]


def test_local_minima_are_the_dips_of_a_profile() -> None:
    profile = np.array([5, 3, 4, 4, 1, 1, 6, 2, 7], dtype=float)
    # Col 1 is a dip; the flat bottom at 4-5 gives one column per side; 7 is a dip;
    # the plateau at 2-3 is no dip (neither side lower) and col 0 / 8 lie outside [lo, hi).
    assert split.local_minima(profile, 1, 8) == [1, 4, 5, 7]
    assert split.local_minima(profile, 2, 7) == [4, 5]
    assert split.local_minima(profile, 5, 5) == []


def test_a_dip_away_from_every_expected_boundary_is_a_candidate_cut() -> None:
    """Two touching letters 60 px wide: the expected cuts (30, or 20 and 40) fall into the
    first letter's low middle, the letters meet at a dip at 48 that no window reaches."""
    profile = np.full(60, 10.0)
    profile[27:34] = 2.0  # a letter's own low middle (an M's), near the expected cut
    profile[47:50] = 3.0  # where the letters meet
    params = sg.SegmentParams()
    with_dips = split._cut_candidates(profile, 2, 30.0, params, dips=True)
    without = split._cut_candidates(profile, 2, 30.0, params, dips=False)
    assert any(abs(c - 48) <= 1 for c in with_dips), with_dips
    assert not any(abs(c - 48) <= 1 for c in without), without


def test_candidate_cuts_keep_their_distance_and_their_cap() -> None:
    rng = np.random.default_rng(3)
    profile = rng.uniform(0.0, 10.0, 400)  # dips everywhere
    params = sg.SegmentParams()
    cands = split._cut_candidates(profile, 12, 30.0, params)
    assert 2 <= len(cands) <= params.split_max_candidates
    assert min(np.diff(cands)) >= params.split_min_gap * 30.0


def test_no_piece_of_a_cut_is_much_wider_than_the_part_is_tall() -> None:
    """A scorer that likes wide crops (as a 32x32 squeeze of a run of letters can read as
    one) still gets pieces at most ``split_max_piece_aspect`` heights wide."""
    h, w = 30, 200
    own = np.zeros((h, w), dtype=bool)
    own[5:25, :] = True
    own[:, ::25] = False  # thin gaps make dips
    ink = own.astype(np.float32)
    profile = ink.sum(axis=0).astype(np.float64)

    def likes_wide(crops: list[NDArray[np.float32]]) -> NDArray[np.float64]:
        return np.array([min(1.0, c.shape[1] / w) for c in crops])

    params = sg.SegmentParams()
    cuts = split.choose_cuts(own, profile, 6, 33.0, ink, likes_wide, params, whole=False)
    edges = [0, *cuts, w]
    assert len(edges) > 2
    assert max(np.diff(edges)) <= params.split_max_piece_aspect * h
    wide = replace(params, split_max_piece_aspect=99.0)
    assert len(split.choose_cuts(own, profile, 6, 33.0, ink, likes_wide, wide, whole=False)) == 1


def test_a_dot_squeezed_between_two_letters_is_dropped_a_spaced_one_kept() -> None:
    from ocr.stages.segment.words import drop_inner_dots

    scale = Scale(char_height=40.0, stroke_width=4.0)
    own = np.ones((40, 24), dtype=bool)
    dot = np.ones((4, 4), dtype=bool)

    def char(x: int) -> sg.CharBox:
        return sg.CharBox(x, 0, x + 24, 40, "char", own)

    def stop(x: int) -> sg.CharBox:
        return sg.CharBox(x, 36, x + 4, 40, "mark", dot, ".")

    # WEE.K: a speck where rules crossed, in a 4 px (0.1 ch) letter gap.
    squeezed = [char(0), char(28), stop(52), char(54)]
    assert [b.kind for b in drop_inner_dots(squeezed, scale)] == ["char", "char", "char"]
    # U.S: the dot has a 24 px (0.6 ch) gap of its own; a closing full stop always stays.
    spaced = [char(0), stop(34), char(48), stop(76)]
    assert drop_inner_dots(spaced, scale) == spaced
    # 3.5: a decimal point between two digits stays however tight.
    three, five = squeezed[1], squeezed[3]
    assert drop_inner_dots(squeezed, scale, {id(three), id(five)}) == squeezed


def test_a_sliver_of_a_vertical_rule_is_no_full_stop_and_a_pens_tick_is() -> None:
    from ocr.stages.segment.words import drop_slivers

    scale = Scale(char_height=40.0, stroke_width=4.0)

    def box(x: int, w: int, h: int, kind: str = "mark") -> sg.CharBox:
        mark = "." if kind == "mark" else ""
        return sg.CharBox(x, 40 - h, x + w, 40, kind, np.ones((h, w), dtype=bool), mark)  # type: ignore[arg-type]

    # 2 px wide pieces of a grid line: 12 px (a "dot") and 36 px (an "I") tall.
    word = [box(0, 24, 40, "char"), box(40, 2, 12), box(60, 24, 40, "char"), box(90, 2, 36, "char")]
    assert [b.x0 for b in drop_slivers(word, scale)] == [0, 60]
    # A pen's tick and a round dot, as wide as its stroke (4 px), and a pen's 1 stay.
    word = [box(0, 24, 40, "char"), box(40, 4, 12), box(60, 4, 36, "char"), box(90, 4, 4)]
    assert drop_slivers(word, scale) == word


def test_a_short_part_hanging_below_the_baseline_is_a_comma() -> None:
    from ocr.stages.segment.words import mark_commas

    own = np.ones((40, 24), dtype=bool)

    def box(x: int, y0: int, y1: int, w: int = 24) -> sg.CharBox:
        return sg.CharBox(x, y0, x + w, y1, "char", own[: y1 - y0, :w])

    # H I , M Y on a line drifting down 2 px a letter (letters 40 px tall).
    h, i, tail, m, y = (
        box(0, 0, 40),
        box(30, 2, 42),
        box(58, 26, 50, 10),
        box(80, 6, 46),
        box(110, 8, 48),
    )
    marked = mark_commas([h, i, tail, m, y])
    assert [b.kind for b in marked] == ["char", "char", "mark", "char", "char"]
    assert marked[2].mark == ","
    # The same part on the baseline is a small letter or a full stop's business, not a comma;
    # a flat piece hanging as low (a rule's remnant) is too wide for one.
    level = box(58, 20, 44, 10)
    flat = box(58, 40, 52, 60)
    assert mark_commas([h, i, level, m, y])[2].kind == "char"
    assert mark_commas([h, i, flat, m, y])[2].kind == "char"


def test_a_letter_cut_short_by_a_grid_line_does_not_start_a_new_line() -> None:
    """The last E of a word lost its top to a grid line (only its bottom half is a tall part);
    the next letter, a 9 whose tail also went, overlaps that half too little to chain to it
    and must still join the line its band lies in, not start a second line beside it."""
    scale = Scale(char_height=40.0, stroke_width=4.0)

    def part(i: int, x0: int, y0: int, x1: int, y1: int) -> sg.Component:
        return sg.Component(x0, y0, x1, y1, (i,), (x1 - x0) * (y1 - y0) // 4)

    letters = [part(i + 1, 10 + 40 * i, 100, 40 + 40 * i, 140) for i in range(4)]
    cut_e = part(5, 170, 114, 200, 140)  # bottom of an E
    nine = part(6, 210, 101, 230, 120)  # loop of a 9 (0.37 of it beside the cut E)
    seven = part(7, 250, 100, 275, 138)
    lines = sg.group_lines([*letters, cut_e, nine, seven], scale)
    assert len(lines) == 1
    assert [c.x0 for c in lines[0]] == [10, 50, 90, 130, 170, 210, 250]


def test_the_space_threshold_is_scaled_where_words_are_split() -> None:
    """The page's threshold reaches split_words scaled: at the default the drawn words come
    out, while a scale far above one merges word gaps into letter gaps (one word a line)."""
    page = draw_page(TEXT, letter_gap=0.3, word_gap=1.0)
    p = prepare_page(page.image)
    words = [[len(w) for w in line.split()] for line in TEXT]
    default = sg.segment(p.mask, p.ink, p.scale)
    assert shape(default) == words
    merged = sg.segment(
        p.mask, p.ink, p.scale, params=replace(sg.DEFAULT_PARAMS, space_threshold_scale=3.0)
    )
    assert shape(merged) == [[sum(line)] for line in words]
