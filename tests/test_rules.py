"""Rule removal on ink masks drawn in the test: lined, grid and boxed paper."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage as ndi

from ocr.stages.binarize import Scale
from ocr.stages.penprint import darker_than_nearby_rule
from ocr.stages.rules import (
    RuleParams,
    remove_rules,
    without_rules,
)
from ocr.stages.runs import grow, max_filter1d, min_filter1d, runs_at_least

CH, SW = 32.0, 4.0
SCALE = Scale(char_height=CH, stroke_width=SW)


def canvas(h: int = 240, w: int = 900) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("L", (w, h), 0)
    return img, ImageDraw.Draw(img)


def as_mask(img: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    mask = np.asarray(img) > 127
    return mask.astype(np.float32), mask


def components(mask: np.ndarray) -> list[tuple[slice, slice]]:
    labels, _ = ndi.label(mask, structure=np.ones((3, 3), bool))
    return [s for s in ndi.find_objects(labels) if s is not None]


def grid_of(cell: int, h: int = 300, w: int = 600) -> Image.Image:
    """Grid paper: 2 px lines every ``cell`` px both ways."""
    img, d = canvas(h, w)
    for v in range(10, w, cell):
        d.line([(v, 0), (v, h - 1)], fill=255, width=2)
    for v in range(10, h, cell):
        d.line([(0, v), (w - 1, v)], fill=255, width=2)
    return img


def test_runs_at_least_a_length_are_the_runs_themselves_for_odd_and_even_lengths() -> None:
    """The opening keeps exactly the pixels of long enough runs (an even window once
    shifted every kept run one pixel to the right, onto paper)."""
    row = np.zeros((1, 40), bool)
    row[0, 5:15] = True  # 10 long
    row[0, 20:23] = True  # 3 long
    row[0, 30:34] = True  # 4 long
    for length, runs in (
        (3, [(5, 15), (20, 23), (30, 34)]),
        (4, [(5, 15), (30, 34)]),
        (5, [(5, 15)]),
        (10, [(5, 15)]),
        (11, []),
    ):
        expect = np.zeros(40, bool)
        for a, b in runs:
            expect[a:b] = True
        np.testing.assert_array_equal(runs_at_least(row, length)[0], expect, str(length))


def test_bool_window_filters_match_scipy_for_every_size_origin_axis_and_edge_mode() -> None:
    """The doubling filters stand in for scipy's everywhere in the rules stage, so they must
    give the very same pixels, edges included (a reflected edge differs from a False one)."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        h, w = (int(v) for v in rng.integers(1, 40, 2))
        m = rng.random((h, w)) > rng.random()
        m = m.T if rng.random() < 0.3 else m  # strided views too (the vertical pass)
        size = int(rng.integers(1, 20))
        origin = int(rng.integers(-(size // 2), (size - 1) // 2 + 1))
        axis = int(rng.integers(-1, 2))
        for mode in ("reflect", "constant"):
            want = ndi.maximum_filter1d(m, size, axis=axis, origin=origin, mode=mode)
            got = max_filter1d(m, size, axis=axis, origin=origin, mode=mode)
            assert (got == want).all(), (m.shape, size, origin, axis, mode)
        want = ndi.minimum_filter1d(m, size, axis=axis, origin=origin)
        assert (min_filter1d(m, size, axis=axis, origin=origin) == want).all()


def test_grow_is_a_square_maximum_filter() -> None:
    m = np.random.default_rng(1).random((60, 80)) > 0.97
    for r in (1, 2, 3):
        assert (grow(m, r) == ndi.maximum_filter(m, 2 * r + 1)).all()


def test_lined_paper_rules_go_and_a_letter_crossing_one_stays_whole() -> None:
    img, d = canvas()
    for y in (60, 150):  # two rules tilted about one degree, 2 px thick
        d.line([(0, y), (899, y + 15)], fill=255, width=2)
    # An H whose legs cross the first rule, and an L standing on the second.
    d.line([(200, 35), (200, 95)], fill=255, width=4)
    d.line([(222, 35), (222, 95)], fill=255, width=4)
    d.line([(200, 65), (222, 65)], fill=255, width=4)
    d.line([(500, 118), (500, 157)], fill=255, width=4)
    d.line([(500, 157), (520, 157)], fill=255, width=4)
    ink, mask = as_mask(img)
    out = remove_rules(ink, mask, SCALE)
    assert out.horizontal == 2 and out.vertical == 0 and out.found
    # Far from any letter the rules are gone...
    assert not out.mask[:, 700:].any()
    # ...and the H is one component, as tall as it was drawn (its legs cross the rule).
    h_parts = [s for s in components(out.mask[:, 150:260])]
    assert len(h_parts) == 1
    ys = h_parts[0][0]
    assert ys.start <= 35 and ys.stop >= 96
    # No component left is longer than a letter.
    assert all(s[1].stop - s[1].start < 2 * CH for s in components(out.mask))
    # The L's stem is kept down to the rule.
    assert out.mask[118:150, 499:502].all()
    assert np.array_equal(out.ink > 0, out.mask)


def test_grid_paper_lines_go_both_ways() -> None:
    img, d = canvas(300, 600)
    for v in range(10, 600, 16):
        d.line([(v, 0), (v + 4, 299)], fill=255, width=1)
    for v in range(10, 300, 16):
        d.line([(0, v), (599, v - 3)], fill=255, width=1)
    d.line([(300, 100), (330, 160)], fill=255, width=5)  # a stroke of a letter across cells
    d.line([(330, 160), (360, 100)], fill=255, width=5)
    ink, mask = as_mask(img)
    out = remove_rules(ink, mask, SCALE)
    assert out.horizontal > 10 and out.vertical > 20
    left = out.mask[:, :250]
    assert left.sum() < 0.02 * mask[:, :250].sum()  # almost nothing of the grid is left
    parts = components(out.mask[80:180, 280:380])
    biggest = max(parts, key=lambda s: (s[0].stop - s[0].start) * (s[1].stop - s[1].start))
    assert biggest[0].stop - biggest[0].start >= 50  # the V is still there, mostly in one piece


def test_stem_written_along_a_grid_line_stays_whole_across_the_crossing_rules() -> None:
    img, d = canvas(300, 600)
    for v in range(10, 600, 20):
        d.line([(v, 0), (v, 299)], fill=255, width=2)
    for v in range(10, 300, 20):
        d.line([(0, v), (599, v)], fill=255, width=2)
    d.line([(291, 95), (291, 165)], fill=255, width=5)  # an I right on the grid line x = 290
    ink, mask = as_mask(img)
    out = remove_rules(ink, mask, SCALE)
    assert out.horizontal > 10 and out.vertical > 20
    parts = components(out.mask[80:180, 270:310])
    tallest = max(s[0].stop - s[0].start for s in parts)
    assert tallest >= 65  # not cut at the three horizontal rules it crosses


def test_bar_written_along_a_grid_line_comes_back_where_it_darkens_the_line() -> None:
    """A grey grid, and the E's bars written right on grid lines: where pen lies over print
    the pair is darker than either (ink and print both absorb), and that is the pen, though
    the ink map (at its ceiling on print and pen alike) cannot tell them apart."""
    gimg = grid_of(24)
    pimg, p = canvas(300, 600)
    p.line([(310, 106), (310, 154)], fill=255, width=4)  # the E's stem, between lines
    for y in (106, 130, 154):  # its bars, each right on a horizontal grid line
        p.line([(310, y), (334, y)], fill=255, width=2)
    grid, pen = as_mask(gimg)[1], as_mask(pimg)[1]
    mask = grid | pen
    print_dark, pen_dark = 0.25, 0.5  # each alone; together 1 - 0.75 * 0.5
    dark = np.where(grid, print_dark, 0.0) + np.where(pen, pen_dark, 0.0)
    dark = np.where(grid & pen, 1 - (1 - print_dark) * (1 - pen_dark), dark).astype(np.float32)
    ink = np.minimum(dark / print_dark, 1.0).astype(np.float32)  # the ink map: at its ceiling
    out = remove_rules(ink, mask, SCALE, dark=dark)
    assert out.horizontal > 5 and out.vertical > 10
    for y in (106, 154):  # top and bottom bars are back (the middle one crosses a v line)
        assert out.mask[y, 314:332].all()
    blind = remove_rules(ink, mask, SCALE)  # without the darkness the bars are print
    assert not blind.mask[106, 314:332].any()
    assert not out.mask[:, :250].any()  # and no grid line came back away from the E


def test_of_several_darkness_maps_the_one_where_the_pen_stands_out_is_used() -> None:
    """Given as a function (asked only when rules are found), the maps of the darkest and
    the brightest channel: a black pen on blue rules is told apart in the second only."""
    pimg, p = canvas(300, 600)
    p.line([(310, 106), (310, 154)], fill=255, width=4)
    for y in (106, 130, 154):
        p.line([(310, y), (334, y)], fill=255, width=2)
    grid, pen = as_mask(grid_of(24))[1], as_mask(pimg)[1]
    mask = grid | pen
    darkest = np.where(mask, 0.8, 0.0).astype(np.float32)  # blue print and black pen alike
    brightest = np.where(pen, 0.8, np.where(grid, 0.1, 0.0)).astype(np.float32)
    asked: list[int] = []

    def maps() -> list[np.ndarray]:
        asked.append(1)
        return [darkest, brightest]

    out = remove_rules(darkest, mask, SCALE, dark=maps)
    assert asked == [1]
    assert out.mask[106, 314:332].all() and out.mask[154, 314:332].all()
    alone = remove_rules(darkest, mask, SCALE, dark=darkest)
    assert not alone.mask[106, 314:332].any()
    clean = as_mask(pimg)[1]
    remove_rules(clean.astype(np.float32), clean, SCALE, dark=maps)
    assert asked == [1]  # no rules: no maps computed


def test_a_blue_pen_as_dark_as_a_grey_grid_is_told_from_it_by_colour() -> None:
    """A 1 written along a vertical grid line and an E's bars along horizontal ones, in a
    blue pen exactly as dark as the grey grid (darkest channel) and lighter than it in the
    brightest: no darkness map parts them, their colours do."""
    pimg, p = canvas(300, 600)
    p.line([(310, 106), (310, 154)], fill=255, width=4)
    for y in (106, 130, 154):
        p.line([(310, y), (334, y)], fill=255, width=2)
    p.line([(390, 110), (397, 140)], fill=255, width=3)  # a slanted 1 along the line x = 394
    grid, pen = as_mask(grid_of(24))[1], as_mask(pimg)[1]
    mask = grid | pen
    channels = np.zeros((*mask.shape, 3), np.float32)
    channels[grid] = (0.6, 0.6, 0.6)  # grey print
    channels[pen] = (0.6, 0.5, 0.1)  # blue pen: dark in red and green, light in blue
    darkest = channels.max(axis=2)
    brightest = channels.min(axis=2)
    asked: list[int] = []

    def colours() -> np.ndarray:
        asked.append(1)
        return channels

    def maps() -> list[np.ndarray]:
        return [darkest, brightest]

    out = remove_rules(darkest, mask, SCALE, dark=maps, colours=colours)
    assert asked == [1]
    assert out.mask[106, 314:332].all() and out.mask[154, 314:332].all()
    assert out.mask[110:141, 388:400].any(axis=1).all()  # the 1 whole
    assert not out.mask[:, :250].any()  # no grid line came back away from the writing
    blind = remove_rules(darkest, mask, SCALE, dark=maps)
    assert not blind.mask[106, 314:332].any()
    grey = np.repeat(darkest[..., None], 3, axis=2)  # a grey page: no colour to part them
    same = remove_rules(darkest, mask, SCALE, dark=maps, colours=lambda: grey)
    assert np.array_equal(same.mask, blind.mask)


def test_a_grid_line_beside_a_stem_is_not_given_back_when_darkness_says_print() -> None:
    """A stem written a few pixels beside a grid line makes the ink there as thick as a
    stroke lying along the line, and shape alone gives the line back beside the stem (a D
    with a line down its bowl read O). The darkness map says it is print: it goes again."""
    pimg, p = canvas(300, 600)
    p.line([(401, 112), (401, 150)], fill=255, width=4)  # beside the grid line x = 394
    p.line([(401, 112), (420, 112)], fill=255, width=4)
    grid, pen = as_mask(grid_of(24))[1], as_mask(pimg)[1]
    mask = grid | pen
    dark = np.where(pen, 0.8, np.where(grid, 0.3, 0.0)).astype(np.float32)
    by_shape = remove_rules(dark, mask, SCALE)
    assert by_shape.mask[112:151, 393:397].any(axis=1).all()  # the line came back
    out = remove_rules(dark, mask, SCALE, dark=dark)
    assert not out.mask[112:151, 393:397].any()
    assert out.mask[112:151, 399:404].any(axis=1).all()  # the stem stays whole
    assert not out.mask[:, :250].any()


def test_a_stroke_darkens_its_own_line_and_an_unevenly_sampled_line_does_not() -> None:
    """The line-by-line comparison alone (page-wide pen and print alike dark): a stem written
    along one stretch of a vertical line is found, a 2 px line whose two columns differ
    1.5 times in darkness (sampled off-centre) is not, nor are the crossings of the lines."""
    h, w = 300, 400
    removed = np.zeros((h, w), bool)
    dark = np.zeros((h, w), np.float32)
    for x in (100, 200, 300):  # vertical lines, 2 px, columns 0.1 / 0.15 dark
        removed[:, x : x + 2] = True
        dark[:, x], dark[:, x + 1] = 0.1, 0.15
    for y in (50, 150, 250):  # horizontal lines crossing them (doubled print there)
        removed[y : y + 2] = True
        dark[y : y + 2] = np.maximum(dark[y : y + 2], 0.12)
        dark[y : y + 2, [100, 101, 200, 201, 300, 301]] = 0.22
    dark[170:200, 200:202] = 1 - (1 - 0.15) * (1 - 0.3)  # pen (0.3) over the line at x=200
    found = darker_than_nearby_rule(dark, removed, SCALE, RuleParams())
    assert found[172:198, 200:202].all()
    assert not found[:160].any() and not found[210:].any()
    assert not found[:, :190].any() and not found[:, 210:].any()


def test_the_line_by_line_comparison_on_rule_rows_only_equals_the_whole_page_one() -> None:
    """The comparison filters only the rows (columns) holding rules and their neighbours;
    on a page of grid and stray rules with pen on them, the result is the same as filtering
    the whole page, written out here the plain way."""
    rng = np.random.default_rng(3)
    h, w = 260, 380
    removed = np.zeros((h, w), bool)
    for y in (30, 31, 90, 91, 92, 200):
        removed[y, 20:360] = True
    for x in (50, 51, 170, 300):
        removed[10:250, x] = True
    dark = np.where(removed, rng.uniform(0.1, 0.2, (h, w)), 0).astype(np.float32)
    dark[90:93, 100:130] = 0.6  # pen along a rule
    dark[130:150, 170] = 0.6  # and along a vertical one
    p = RuleParams()
    run = max(3, round(p.core_run_sw * SW))
    long, short, across = round(p.nearby_along_ch * CH), 5, 2 * int(np.ceil(SW)) + 1
    expect = np.zeros_like(removed)
    for axis in (1, 0):
        rem = removed if axis == 1 else removed.T
        on = runs_at_least(rem, run)
        wgt = np.where(on & rem, dark if axis == 1 else dark.T, np.float32(0))
        n = on.astype(np.float32)
        ref = ndi.uniform_filter(wgt, (across, long)) / np.maximum(
            ndi.uniform_filter(n, (across, long)), 1e-6
        )
        local = ndi.uniform_filter1d(wgt, short, axis=1) / np.maximum(
            ndi.uniform_filter1d(n, short, axis=1), 1e-6
        )
        hit = on & (local >= p.nearby_ratio * ref)
        expect |= hit if axis == 1 else hit.T
    labels, n_found = ndi.label(expect, structure=np.ones((3, 3), bool))
    sides = [max(s[0].stop - s[0].start, s[1].stop - s[1].start) for s in ndi.find_objects(labels)]
    keep = np.array([False] + [side >= p.nearby_min_sw * SW for side in sides])
    expect = ndi.maximum_filter(keep[labels], size=3) & removed
    found = darker_than_nearby_rule(dark, removed, SCALE, p)
    assert n_found > 0 and found[91, 105:125].all() and found[132:148, 170].all()
    np.testing.assert_array_equal(found, expect)


def test_rules_stripped_from_a_mask_alone_by_shape_lose_nothing_to_the_darkness_judgement() -> None:
    """On a bare mask every pixel is as dark as any other: the pen-or-print judgement would
    give nothing back, so ``without_rules`` leaves it out and gets the same mask."""
    pimg, p = canvas(300, 600)
    p.line([(310, 100), (310, 160)], fill=255, width=4)
    p.line([(310, 130), (340, 130)], fill=255, width=4)
    mask = as_mask(grid_of(24))[1] | as_mask(pimg)[1]
    full = remove_rules(mask.astype(np.float32), mask, SCALE).mask
    np.testing.assert_array_equal(without_rules(mask, SCALE), full)
    assert full[100:160, 310].any() and not full[:, :250].any()


def test_a_pen_dot_on_a_grid_line_stays() -> None:
    """A full stop written on a grid line lies wholly by the removed line, as the line's
    leftover dashes do; darker than the print, it is the pen's."""
    gimg = grid_of(24)
    pimg, p = canvas(300, 600)
    p.ellipse([(200, 127), (205, 132)], fill=255)  # the dot on the line y = 130
    for x in range(250, 400, 30):  # a line of writing beside it, to know the pen by
        p.line([(x, 100), (x, 125)], fill=255, width=4)
    grid, pen = as_mask(gimg)[1], as_mask(pimg)[1]
    mask = grid | pen
    dark = np.where(pen, 0.6, np.where(grid, 0.25, 0.0)).astype(np.float32)
    out = remove_rules(np.minimum(dark / 0.25, 1.0).astype(np.float32), mask, SCALE, dark=dark)
    assert out.mask[128:132, 201:205].any()  # the dot
    blind = remove_rules(np.minimum(dark / 0.25, 1.0).astype(np.float32), mask, SCALE)
    assert not blind.mask[128:132, 201:205].any()  # by shape alone the dot is a leftover


def test_rule_crossed_by_a_dense_line_of_writing_is_still_a_rule() -> None:
    """Letters crossing a rule in a third of its columns make it thick on average; in most
    columns it is a hairline, and it must go (else the line of writing is one component
    with the rule and is lost)."""
    img, d = canvas(200, 900)
    d.line([(0, 100), (899, 100)], fill=255, width=2)
    for x in range(100, 800, 22):  # stems and bars crossing it, a letter every 22 px
        d.line([(x, 80), (x, 120)], fill=255, width=4)
        d.line([(x, 96), (x + 8, 96)], fill=255, width=4)
        d.line([(x, 104), (x + 8, 104)], fill=255, width=4)
    ink, mask = as_mask(img)
    out = remove_rules(ink, mask, SCALE)
    assert out.horizontal == 1
    assert not out.mask[95:106, 20:90].any() and not out.mask[95:106, 820:].any()


def test_faint_grid_rules_in_pieces_go() -> None:
    """A faint printed line binarizes as pieces shorter than a rule, with gaps wider than
    the bridge; on one line they are one rule all the same."""
    img, d = canvas(300, 900)
    for v in range(10, 900, 24):
        d.line([(v, 0), (v, 299)], fill=255, width=2)
    for y in (60, 120, 180, 240):
        x = 0
        while x < 900:  # pieces of 3 ch with 12 px gaps, and dashes inside them
            d.line([(x, y), (x + 96, y)], fill=255, width=2)
            for k in range(x + 10, x + 90, 10):
                d.line([(k + 6, y), (k + 8, y)], fill=0, width=2)
            x += 108
    d.line([(303, 80), (303, 160)], fill=255, width=4)  # an I across one of them
    ink, mask = as_mask(img)
    out = remove_rules(ink, mask, SCALE)
    assert out.horizontal >= 4 and out.vertical > 20
    # No piece of a rule is left (but the stub past the last gap at the right edge, shorter
    # than the probe, which is left like any short dash).
    parts = components(out.mask[:, :850])
    assert max(s[1].stop - s[1].start for s in parts) < CH / 2
    assert max(s[0].stop - s[0].start for s in parts) >= 78  # the I is whole


def test_touching_top_bars_of_a_word_are_no_rule() -> None:
    """TTTTT written with bars that touch: a straight-looking run of five ch on the cap
    line, above a real rule. Hand-drawn bars wander up and down; printed lines do not."""
    img, d = canvas()
    d.line([(0, 150), (899, 150)], fill=255, width=2)  # the rule the word stands on
    for k, dy in enumerate((0, 3, -2, 2, -3)):
        x = 200 + 30 * k
        d.line([(x - 2, 100 + dy), (x + 30, 100 - dy)], fill=255, width=3)  # bar
        d.line([(x + 14, 100), (x + 14, 149)], fill=255, width=4)  # stem down to the rule
    ink, mask = as_mask(img)
    out = remove_rules(ink, mask, SCALE)
    assert out.horizontal >= 1
    bars = mask[90:110, 200:350]
    assert out.mask[90:110, 200:350].sum() > 0.9 * bars.sum()


@pytest.mark.parametrize("sideways", [False, True])
def test_printed_boxes_go_and_the_letters_in_them_stay(sideways: bool) -> None:
    """A comb field: one row of 8 boxes of 1.5 ch, hairlines, an I in each box. Stored
    sideways its long sides are vertical rules and the box edges joining them run across
    (once the page was turned, they were read as 1s)."""
    img, d = canvas(600, 200) if sideways else canvas(200, 600)

    def at(x: float, y: float) -> tuple[float, float]:
        return (y, x) if sideways else (x, y)

    for k in range(8):
        x = 20 + k * 48
        d.rectangle([*at(x, 50), *at(x + 48, 98)], outline=255, width=2)
        d.line([at(x + 24, 58), at(x + 24, 90)], fill=255, width=5)
    ink, mask = as_mask(img)
    out = remove_rules(ink, mask, SCALE)
    assert (out.vertical if sideways else out.horizontal) >= 2 and out.box_edges >= 8
    parts = components(out.mask)
    long, across = (1, 0) if sideways else (0, 1)
    tall = [s for s in parts if s[long].stop - s[long].start >= 25]
    assert len(tall) == 8  # the eight I's, nothing else character-sized
    assert all(s[across].stop - s[across].start <= 8 for s in tall)


def test_clean_page_is_left_alone_and_its_components_handed_on() -> None:
    img, d = canvas()
    for k in range(12):
        x = 30 + 60 * k
        d.line([(x, 40), (x + 15, 72), (x + 30, 40)], fill=255, width=4)
    ink, mask = as_mask(img)
    out = remove_rules(ink, mask, SCALE)
    assert not out.found and out.ink is ink and out.mask is mask
    assert out.components is not None and len(out.components.items) == 12


def test_thick_dark_band_is_not_a_rule() -> None:
    img, d = canvas()
    d.rectangle([0, 100, 899, 130], fill=255)  # a shadow's edge region, a ch thick
    ink, mask = as_mask(img)
    out = remove_rules(ink, mask, SCALE)
    assert not out.found and out.mask[100:130].all()


def test_nested_outlines_are_drawings_and_letters_with_counters_are_not() -> None:
    from ocr.stages.segment import find_components
    from ocr.stages.shapes import remove_nested_shapes

    img, d = canvas(200, 600)
    d.ellipse([20, 40, 80, 100], outline=255, width=4)  # a target: circle in a circle
    d.ellipse([38, 58, 62, 82], outline=255, width=4)
    d.rectangle([120, 40, 180, 100], outline=255, width=4)  # a square in a square
    d.rectangle([135, 55, 165, 85], outline=255, width=4)
    d.ellipse([250, 50, 280, 82], outline=255, width=4)  # an O with a speck inside
    d.point([(265, 66)], fill=255)
    d.ellipse([320, 50, 350, 82], outline=255, width=4)  # an O and a B: counters, no shapes
    d.line([(400, 50), (400, 82)], fill=255, width=4)
    d.arc([385, 50, 415, 66], -90, 90, fill=255, width=4)
    d.arc([385, 66, 419, 82], -90, 90, fill=255, width=4)
    ink, mask = as_mask(img)
    out = remove_nested_shapes(ink, mask, SCALE, find_components(mask))
    assert out.drawings == 2
    assert not out.mask[:, :200].any()
    assert np.array_equal(out.mask[:, 200:], mask[:, 200:])


def test_a_faint_rules_piece_joined_to_a_word_goes_when_the_faint_mask_shows_the_rule() -> None:
    """A notebook's faint rule binarizes only under the words (a piece joined to the letters):
    the faint mask, where the rule runs the page's width, tells it is a rule."""
    img, d = canvas()
    d.line([(0, 200), (899, 200)], fill=255, width=2)  # a rule dark enough to binarize whole
    d.line([(300, 60), (300, 100)], fill=255, width=4)  # an L standing on a faint rule...
    d.line([(300, 100), (330, 100)], fill=255, width=4)
    d.line([(280, 101), (380, 101)], fill=255, width=2)  # ...whose piece under the word shows
    ink, mask = as_mask(img)
    faint_img = img.copy()
    ImageDraw.Draw(faint_img).line([(0, 101), (899, 101)], fill=255, width=2)
    faint = np.asarray(faint_img) > 127
    plain = remove_rules(ink, mask, SCALE)
    assert plain.mask[101, 340:380].all()  # the piece is too short for a rule on the mask
    out = remove_rules(ink, mask, SCALE, faint=lambda: faint)
    assert not out.mask[100:103, 340:380].any()
    assert out.mask[60:100, 299:302].all()  # the L's stem stays

    # A page without rules on its mask never asks for the faint one.
    def unasked() -> np.ndarray:
        raise AssertionError("the faint mask was asked for on a page without rules")

    alone = remove_rules(*as_mask(canvas()[0]), SCALE, faint=unasked)
    assert not alone.found


def test_a_frame_drawn_around_a_word_goes_and_the_word_stays() -> None:
    """A hand-drawn box around a word, one letter touching its inside (caffreyu's SPACE key):
    the frame goes, the letters stay whole but for the touching tip; a big O stays."""
    from ocr.stages.segment import find_components
    from ocr.stages.shapes import remove_nested_shapes

    img, d = canvas(200, 700)
    d.rectangle([20, 40, 300, 110], outline=255, width=4)  # 8.75 ch wide, 2.2 ch tall
    d.line([(60, 55), (60, 95)], fill=255, width=4)  # an L...
    d.line([(60, 95), (80, 95)], fill=255, width=4)
    d.line([(120, 55), (120, 108)], fill=255, width=4)  # ...and an I touching the bottom edge
    d.line([(160, 55), (160, 95)], fill=255, width=4)  # ...and an H
    d.line([(180, 55), (180, 95)], fill=255, width=4)
    d.line([(160, 75), (180, 75)], fill=255, width=4)
    d.ellipse([400, 40, 500, 130], outline=255, width=4)  # a big empty O: no frame
    d.rectangle([550, 40, 690, 110], outline=255, width=4)  # an empty box: no frame either
    d.point([(600, 70)], fill=255)
    ink, mask = as_mask(img)
    out = remove_nested_shapes(ink, mask, SCALE, find_components(mask))
    assert out.frames == 1 and out.drawings == 0 and out.changed
    assert not out.mask[40:44, 20:300].any() and not out.mask[40:110, 20:24].any()
    assert np.array_equal(out.mask[50:100, 50:200], mask[50:100, 50:200])
    assert out.mask[55:100, 119:122].all()  # the I, but for its tip in the frame's ring
    assert np.array_equal(out.mask[:, 380:], mask[:, 380:])
